/**
 * The input distribution of each p-feature for variance-based sensitivity: independent
 * `uniform(low, high)` or `normal(mean, std)`, mapped from the unit interval by the inverse CDF.
 * JSON form: `[{"dist":"uniform","low":a,"high":b} | {"dist":"normal","mean":m,"std":s}, ...]`,
 * one entry per feature.
 */
import { ShapeError } from '../../errors';
import { inverseNormalCdf } from './inverse-normal';

export interface UniformDistribution {
  readonly dist: 'uniform';
  readonly low: number;
  readonly high: number;
}

export interface NormalDistribution {
  readonly dist: 'normal';
  readonly mean: number;
  readonly std: number;
}

export type Distribution = UniformDistribution | NormalDistribution;

/** The value of `d` at the quantile u in (0, 1). */
export function fromUnit(d: Distribution, u: number): number {
  return d.dist === 'uniform' ? d.low + u * (d.high - d.low) : d.mean + d.std * inverseNormalCdf(u);
}

/** The distribution's centre (midpoint or mean). */
export function centreOf(d: Distribution): number {
  return d.dist === 'uniform' ? d.low + (d.high - d.low) / 2 : d.mean;
}

/**
 * The Poincaré constant C of `d`: Var(f) ≤ C·E[f'²] for every f, so that the total index of a
 * feature is at most ν·C/Var(y) (Sobol' & Kucherenko 2009; Lamboni et al. 2013):
 * (b − a)²/π² for uniform(a, b), σ² for normal(μ, σ).
 */
export function poincareConstant(d: Distribution): number {
  return d.dist === 'uniform' ? (d.high - d.low) ** 2 / Math.PI ** 2 : d.std ** 2;
}

const KEYS = { uniform: ['dist', 'low', 'high'], normal: ['dist', 'mean', 'std'] } as const;

/**
 * Validate distributions given as JSON text or as parsed JSON, one per feature (P of them):
 * a ShapeError naming the first bad entry otherwise.
 */
export function parseDistributions(input: unknown, P: number): Distribution[] {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (e) {
      throw new ShapeError(`distributions: not valid JSON (${(e as Error).message})`);
    }
  }
  if (!Array.isArray(value))
    throw new ShapeError('distributions: expected a JSON array with one {"dist": ...} entry per feature');
  if (value.length !== P)
    throw new ShapeError(
      `distributions: ${value.length} entries for the model's ${P} features (one per feature)`,
    );
  return value.map((entry, i) => parseOne(entry, `distributions[${i}]`));
}

function parseOne(entry: unknown, at: string): Distribution {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    throw new ShapeError(`${at}: expected an object like {"dist":"uniform","low":0,"high":1}`);
  const o = entry as Record<string, unknown>;
  const dist = o.dist;
  if (dist !== 'uniform' && dist !== 'normal')
    throw new ShapeError(
      `${at}: unknown distribution ${JSON.stringify(dist) ?? 'undefined'} (use "uniform" or "normal")`,
    );
  for (const k of Object.keys(o))
    if (!(KEYS[dist] as readonly string[]).includes(k))
      throw new ShapeError(
        `${at}: unexpected key "${k}" for a ${dist} distribution (keys: ${KEYS[dist].join(', ')})`,
      );
  const num = (k: string): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v))
      throw new ShapeError(
        `${at}.${k} must be a finite number, got ${v === undefined ? 'nothing' : String(v)}`,
      );
    return v;
  };
  if (dist === 'uniform') {
    const low = num('low');
    const high = num('high');
    if (!(low < high)) throw new ShapeError(`${at}: low (${low}) must be below high (${high})`);
    if (!Number.isFinite(high - low)) throw new ShapeError(`${at}: the range ${low}…${high} overflows`);
    return { dist, low, high };
  }
  const mean = num('mean');
  const std = num('std');
  if (!(std > 0)) throw new ShapeError(`${at}: std (${std}) must be positive`);
  return { dist, mean, std };
}

/**
 * The default: uniform over each feature's min…max over a batch p [B, P]; where a feature does not
 * vary (or B = 1), uniform over p ± 10% (|p|·0.1, or ±0.1 where p = 0).
 */
export function defaultDistributions(p: Float64Array, B: number, P: number): Distribution[] {
  if (!(B >= 1) || p.length !== B * P)
    throw new ShapeError(
      `default distributions need p [B, ${P}] with B ≥ 1, got ${p.length} values for B = ${B}`,
    );
  const out: Distribution[] = [];
  for (let k = 0; k < P; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let b = 0; b < B; b++) {
      const v = p[b * P + k];
      if (!Number.isFinite(v))
        throw new ShapeError(`p[${b}, ${k}] is ${v}: no distribution can be built from it`);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    if (lo < hi) out.push({ dist: 'uniform', low: lo, high: hi });
    else {
      let half = Math.abs(lo) * 0.1;
      if (!(lo - half < lo + half)) half = 0.1; // p = 0 (or too small for 10% to show)
      out.push({ dist: 'uniform', low: lo - half, high: lo + half });
    }
  }
  return out;
}
