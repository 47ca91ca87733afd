/**
 * Saltelli's sampling design (A. Saltelli et al., "Variance based sensitivity analysis of model
 * output. Design and estimator for the total sensitivity index", Comput. Phys. Commun. 181 (2010)
 * 259-270): base row j has two independent points A_j and B_j of the input distribution — the first
 * and the last P coordinates of point j of a 2·P-dimensional unit sample — and P more, A_B^(i)_j:
 * A_j with its column i taken from B_j. So N base rows cost N·(P+2) model evaluations.
 */
import { centreOf, fromUnit } from './distributions';
import { unitSamples } from './sampler';
import type { ResolvedSobolSettings } from './settings';

/**
 * The model inputs of base rows [start, start + rows): [(P+2)·rows, P], in blocks of `rows` rows:
 * A, then B, then A_B^(1) ... A_B^(P).
 */
export function saltelliRows(s: ResolvedSobolSettings, start: number, rows: number): Float64Array {
  const { P, distributions } = s;
  const u = unitSamples(s.sampling, s.seed, 2 * P, start, rows);
  const out = new Float64Array((P + 2) * rows * P);
  for (let r = 0; r < rows; r++)
    for (let k = 0; k < P; k++) {
      const a = fromUnit(distributions[k], u[r * 2 * P + k]);
      const b = fromUnit(distributions[k], u[r * 2 * P + P + k]);
      out[r * P + k] = a;
      out[(rows + r) * P + k] = b;
      // A_B^(i): A's row with column i from B.
      for (let i = 0; i < P; i++) out[((2 + i) * rows + r) * P + k] = i === k ? b : a;
    }
  return out;
}

/** The input at the distributions' centre: the point whose output every run subtracts before summing. */
export function centrePoint(s: ResolvedSobolSettings): Float64Array {
  return Float64Array.from(s.distributions, centreOf);
}
