/**
 * S.json, the document `jacscope sobol --out S.json` writes and the app's Variance-based tab exports:
 * S1, ST, S1_conf, ST_conf nested like one sample's output followed by P, the run's settings and the
 * DGSM bound. One builder, so the two cannot drift apart.
 */
import type { SobolResult } from './estimate';

export const SOBOL_FORMAT = 'jacscope-sobol';

/** A flat row-major array as nested lists of `shape`; NaN (undefined estimates) becomes null. */
export function nest(flat: ArrayLike<number>, shape: readonly number[]): unknown {
  const rec = (off: number, d: number): unknown => {
    if (d === shape.length) {
      const v = flat[off];
      return Number.isFinite(v) ? v : null;
    }
    const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    return Array.from({ length: shape[d] }, (_, i) => rec(off + i * stride, d + 1));
  };
  return rec(0, 0);
}

/** Axis names of one sample's output followed by k: [T,O] → t,o,k; [O] → o,k; else d1, d2, … */
export function axesOf(outShape: readonly number[]): string[] {
  const names =
    outShape.length === 2 ? ['t', 'o'] : outShape.length === 1 ? ['o'] : outShape.map((_, i) => `d${i + 1}`);
  return [...names, 'k'];
}

/** The S.json document of a finished run; `extra` fields (names, the sample) go after the axes. */
export function sobolDocument(r: SobolResult, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const shape = [...r.outShape, r.P];
  const d = r.dgsm;
  return {
    format: SOBOL_FORMAT,
    version: 1,
    outShape: r.outShape,
    P: r.P,
    axes: axesOf(r.outShape),
    ...extra,
    S1: nest(r.S1, shape),
    ST: nest(r.ST, shape),
    S1_conf: nest(r.S1_conf, shape),
    ST_conf: nest(r.ST_conf, shape),
    mean: nest(r.mean, r.outShape),
    variance: nest(r.variance, r.outShape),
    n: r.n,
    evaluations: r.evaluations,
    seed: r.seed,
    sampling: r.sampling,
    distributions: r.distributions,
    blocks: r.blocks,
    resamples: r.resamples,
    fingerprint: r.fingerprint,
    dgsm: d
      ? {
          nu: nest(d.nu, shape),
          bound: nest(d.bound, shape),
          bound_conf: nest(d.bound_conf, shape),
          exceeds: nest(d.exceeds, shape),
        }
      : null,
  };
}
