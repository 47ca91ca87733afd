/**
 * What the variance-based tab draws of a Sobol' result ([T,O,P] arrays): the ranked S1/ST bars of one output
 * at one time step or averaged over time, and the ST matrix for the heatmap. Pure.
 */
import type { SobolDist, SobolShown } from '../worker/sobol-protocol';

export interface SobolBar {
  k: number;
  s1: number;
  s1Conf: number;
  st: number;
  stConf: number;
  /** The DGSM upper bound of ST and its half-width. */
  bound: number;
  boundConf: number;
  /** Steps (of those averaged) where ST − ST_conf is above bound + bound_conf; 0 or 1 at one step. */
  exceeds: number;
  /** Steps averaged (those where y varies). */
  steps: number;
}

/**
 * The bars of output o at step t, or the mean over steps (t < 0; steps where Var y = 0, whose indices are
 * NaN, left out). The mean's whisker is the mean of the half-widths, which is at least the half-width of the
 * mean (the steps' estimates are not independent). Ranked by ST, largest first.
 */
export function sobolBars(r: SobolShown, o: number, t: number): SobolBar[] {
  const { T, O, P } = r;
  const steps = t >= 0 ? [Math.min(t, T - 1)] : Array.from({ length: T }, (_, i) => i);
  const bars: SobolBar[] = [];
  for (let k = 0; k < P; k++) {
    const sum = { s1: 0, s1Conf: 0, st: 0, stConf: 0, bound: 0, boundConf: 0 };
    let n = 0;
    let exceeds = 0;
    for (const s of steps) {
      const i = (s * O + o) * P + k;
      if (!Number.isFinite(r.ST[i]) || !Number.isFinite(r.S1[i])) continue;
      n++;
      sum.s1 += r.S1[i];
      sum.s1Conf += r.S1_conf[i];
      sum.st += r.ST[i];
      sum.stConf += r.ST_conf[i];
      sum.bound += r.bound[i];
      sum.boundConf += r.bound_conf[i];
      exceeds += r.exceeds[i];
    }
    const avg = (v: number) => (n > 0 ? v / n : NaN);
    bars.push({
      k,
      s1: avg(sum.s1),
      s1Conf: avg(sum.s1Conf),
      st: avg(sum.st),
      stConf: avg(sum.stConf),
      bound: avg(sum.bound),
      boundConf: avg(sum.boundConf),
      exceeds,
      steps: n,
    });
  }
  const key = (b: SobolBar) => (Number.isFinite(b.st) ? b.st : -Infinity);
  return bars.sort((a, b) => key(b) - key(a) || a.k - b.k);
}

/**
 * ST for the heatmap: with a time axis, output o's ST over time × feature (rows k, columns t: [P,T]);
 * without one, ST over output × feature (rows o, columns k: [O,P]).
 */
export function stMatrix(r: SobolShown, o: number): { data: Float64Array; nx: number; ny: number } {
  const { T, O, P } = r;
  if (!r.timeAxis) return { data: r.ST.slice(0, O * P), nx: P, ny: O };
  const data = new Float64Array(P * T);
  for (let t = 0; t < T; t++) for (let k = 0; k < P; k++) data[k * T + t] = r.ST[(t * O + o) * P + k];
  return { data, nx: T, ny: P };
}

/** The smallest and largest value an axis of the bars must show: [0, 1] widened to the whiskers. */
export function barDomain(bars: readonly SobolBar[]): [number, number] {
  let lo = 0;
  let hi = 1;
  for (const b of bars) {
    if (Number.isFinite(b.s1)) lo = Math.min(lo, b.s1 - b.s1Conf);
    if (Number.isFinite(b.st)) {
      lo = Math.min(lo, b.st - b.stConf);
      hi = Math.max(hi, b.st + b.stConf, b.s1 + b.s1Conf);
    }
  }
  return [Math.max(-0.5, lo), Math.min(1.5, hi)];
}

/** A distribution as a short text: U(a, b) or N(μ, σ). */
export function distText(d: SobolDist): string {
  return d.dist === 'uniform' ? `U(${d.low}, ${d.high})` : `N(${d.mean}, ${d.std})`;
}

/** Why a distribution cannot be used (null when it can): the same rules as the engine's. */
export function distProblem(d: SobolDist): string | null {
  if (d.dist === 'uniform') {
    if (!Number.isFinite(d.low) || !Number.isFinite(d.high)) return 'low and high must be numbers';
    if (!(d.low < d.high)) return 'low must be below high';
    return null;
  }
  if (!Number.isFinite(d.mean) || !Number.isFinite(d.std)) return 'mean and std must be numbers';
  if (!(d.std > 0)) return 'std must be positive';
  return null;
}

/** The distributions as the CLI's D.json. */
export function distsJson(dists: readonly SobolDist[]): string {
  return (
    '[\n' +
    dists
      .map((d) =>
        d.dist === 'uniform'
          ? `  {"dist": "uniform", "low": ${d.low}, "high": ${d.high}}`
          : `  {"dist": "normal", "mean": ${d.mean}, "std": ${d.std}}`,
      )
      .join(',\n') +
    '\n]\n'
  );
}
