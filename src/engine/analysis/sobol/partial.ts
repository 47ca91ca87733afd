/**
 * A partial Sobol' result: the sums a run (or a shard of one: a contiguous range of base rows)
 * accumulated, mergeable with the other shards' into exactly what the single run accumulates. It
 * never holds model outputs, only sums: O(E·(4+3P)) for the totals (each with its compensation term)
 * plus as much per bootstrap block, where E is the number of output elements.
 *
 * Sums per output element (the "stats"), of g = y − y(centre), the output less its value at the
 * distributions' centre (the same constant in every shard, so sums stay small and mergeable):
 *   0: Σ g(A)    1: Σ g(B)    2: Σ g(A)²    3: Σ g(B)²
 *   4+3i: Σ g(B)·D_i    5+3i: Σ D_i    6+3i: Σ D_i²     with D_i = y(A_B^(i)) − y(A)
 *   4+3P+k: Σ (∂y/∂p_k)² at A    (only with the DGSM bound)
 */
import { ShapeError } from '../../errors';
import type { ResolvedSobolSettings } from './settings';

export interface SobolPartial {
  readonly settings: ResolvedSobolSettings;
  /** The shape of one sample's output ([O] or [T, O] ...). */
  readonly outShape: readonly number[];
  readonly fingerprint: string;
  /** Base rows covered: sorted, disjoint [start, end) ranges. */
  readonly ranges: readonly (readonly [number, number])[];
  /** y at the distributions' centre [E]. */
  readonly centre: Float64Array;
  /** Totals [E, S] and their compensation terms (the total is sums + comp). */
  readonly sums: Float64Array;
  readonly comp: Float64Array;
  /** Plain sums per bootstrap block for blocks blockLo, blockLo+1, ...: [blocks, E, S]. */
  readonly blockLo: number;
  readonly blockSums: Float64Array;
  /** Model evaluations of the design (N·(P+2) for all rows) and of the centre, and Jacobians. */
  readonly evaluations: number;
  readonly centreEvaluations: number;
  readonly jacobians: number;
}

/** Stats per output element (see above). */
export function statCount(P: number, dgsm: boolean): number {
  return 4 + 3 * P + (dgsm ? P : 0);
}

/** Elements of one sample's output. */
export function elementsOf(outShape: readonly number[]): number {
  return outShape.reduce((a, b) => a * b, 1);
}

/** x added to s[j] with its compensation c[j] (Neumaier's variant of Kahan summation). */
export function addCompensated(s: Float64Array, c: Float64Array, j: number, x: number): void {
  const a = s[j];
  const t = a + x;
  c[j] += Math.abs(a) >= Math.abs(x) ? a - t + x : x - t + a;
  s[j] = t;
}

const SETTING_KEYS = [
  'N',
  'P',
  'distributions',
  'seed',
  'sampling',
  'blocks',
  'resamples',
  'model',
  'dgsm',
] as const;

/** Why partial b (number `nb`) cannot join partial a: the first setting that differs, or null. */
export function settingsMismatch(a: SobolPartial, b: SobolPartial, nb: number): string | null {
  for (const k of SETTING_KEYS) {
    const x = JSON.stringify(a.settings[k]);
    const y = JSON.stringify(b.settings[k]);
    if (x !== y) return `part ${nb} has ${k} ${y} where part 1 has ${x}`;
  }
  if (JSON.stringify(a.outShape) !== JSON.stringify(b.outShape))
    return `part ${nb} has outputs of shape [${b.outShape}] where part 1 has [${a.outShape}]`;
  if (a.fingerprint !== b.fingerprint)
    return `part ${nb} has fingerprint ${b.fingerprint} where part 1 has ${a.fingerprint}`;
  return null;
}

/**
 * Merge partial results of one run (any subset of its shards, in any order) into one partial:
 * the totals added with compensation in the order of their first rows, blocks added.
 */
export function mergeSobolPartials(parts: readonly SobolPartial[]): SobolPartial {
  if (parts.length === 0) throw new ShapeError('nothing to merge: no partial results');
  const first = parts[0];
  parts.forEach((p, i) => {
    const why = settingsMismatch(first, p, i + 1);
    if (why) throw new ShapeError(`cannot merge Sobol' parts of different runs: ${why}`);
    for (let e = 0; e < first.centre.length; e++)
      if (!Object.is(p.centre[e], first.centre[e]))
        throw new ShapeError(
          `cannot merge Sobol' parts: part ${i + 1}'s model gave y = ${p.centre[e]} at the distributions' centre (element ${e}) where part 1's gave ${first.centre[e]} — a different model, backend or precision`,
        );
  });
  const order = parts
    .map((p, i) => ({ p, i }))
    .sort((a, b) => (a.p.ranges[0]?.[0] ?? 0) - (b.p.ranges[0]?.[0] ?? 0));
  const ranges: { r: readonly [number, number]; part: number }[] = [];
  for (const { p, i } of order) for (const r of p.ranges) ranges.push({ r, part: i + 1 });
  ranges.sort((a, b) => a.r[0] - b.r[0]);
  for (let k = 1; k < ranges.length; k++)
    if (ranges[k].r[0] < ranges[k - 1].r[1])
      throw new ShapeError(
        `cannot merge Sobol' parts: parts ${ranges[k - 1].part} and ${ranges[k].part} both cover base rows from ${ranges[k].r[0]} (the same shard twice?)`,
      );
  const sums = new Float64Array(first.sums.length);
  const comp = new Float64Array(first.sums.length);
  let lo = Infinity;
  let hi = -Infinity;
  const width = first.sums.length;
  for (const { p } of order) {
    for (let j = 0; j < width; j++) {
      addCompensated(sums, comp, j, p.sums[j]);
      comp[j] += p.comp[j];
    }
    if (p.blockSums.length > 0) {
      lo = Math.min(lo, p.blockLo);
      hi = Math.max(hi, p.blockLo + p.blockSums.length / width);
    }
  }
  const blockLo = lo === Infinity ? 0 : lo;
  const blockSums = new Float64Array(lo === Infinity ? 0 : (hi - lo) * width);
  for (const { p } of order) {
    const off = (p.blockLo - blockLo) * width;
    for (let j = 0; j < p.blockSums.length; j++) blockSums[off + j] += p.blockSums[j];
  }
  const merged: [number, number][] = [];
  for (const { r } of ranges) {
    const last = merged[merged.length - 1];
    if (last && last[1] === r[0]) last[1] = r[1];
    else merged.push([r[0], r[1]]);
  }
  return {
    settings: first.settings,
    outShape: first.outShape,
    fingerprint: first.fingerprint,
    ranges: merged,
    centre: first.centre,
    sums,
    comp,
    blockLo,
    blockSums,
    evaluations: order.reduce((a, { p }) => a + p.evaluations, 0),
    centreEvaluations: order.reduce((a, { p }) => a + p.centreEvaluations, 0),
    jacobians: order.reduce((a, { p }) => a + p.jacobians, 0),
  };
}

/** The rows of 0..N a partial lacks, as "a–b" ranges; empty when it covers them all. */
export function missingRows(p: SobolPartial): string[] {
  const out: string[] = [];
  let next = 0;
  for (const [a, b] of p.ranges) {
    if (a > next) out.push(`${next}–${a - 1}`);
    next = b;
  }
  if (next < p.settings.N) out.push(`${next}–${p.settings.N - 1}`);
  return out;
}
