/**
 * Derivative-based global sensitivity measures (DGSM) from exact Jacobians over a batch of samples:
 * what matters across the whole data set, not just at one point. With exact derivatives these are
 * a few passes over J instead of thousands of model runs.
 */

export interface Dims {
  B: number;
  T: number;
  O: number;
  P: number;
}

export interface GlobalSensitivity {
  /** ν[o,k] = mean over b,t of J[b,t,o,k]²  — [O,P] */
  nu: Float64Array;
  /** ν[t,o,k] = mean over b of J[b,t,o,k]²  — [T,O,P] */
  nuT: Float64Array;
  /** ν[o,k]·Var(p_k)/Var(y_o) — [O,P]; null when p does not vary over the batch (B = 1). */
  index: Float64Array | null;
  /** mean over (b,t) of |J·p/y| where |y| > yFloor, NaN where no such (b,t) — [O,P] */
  elasticity: Float64Array;
  /** |y| below this (a fraction of max|y_o|) is "near 0": elasticities there are skipped. */
  yFloor: number;
}

/** Population variance of each column of a [rows, cols] array. */
function columnVariance(a: Float64Array, rows: number, cols: number): Float64Array {
  const mean = new Float64Array(cols);
  const v = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += a[r * cols + c] / rows;
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const d = a[r * cols + c] - mean[c];
      v[c] += (d * d) / rows;
    }
  return v;
}

/**
 * J [B,T,O,P], p [B,P], y [B,T,O]. `relFloor` sets which outputs count as far from 0 for the
 * elasticity: |y[b,t,o]| > relFloor · max_{b,t}|y[·,·,o]|.
 */
export function globalSensitivity(
  J: Float64Array | Float32Array,
  p: Float64Array,
  y: Float64Array,
  d: Dims,
  relFloor = 1e-2,
): GlobalSensitivity {
  const { B, T, O, P } = d;
  const nu = new Float64Array(O * P);
  const nuT = new Float64Array(T * O * P);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let i = 0; i < O * P; i++) {
        const v = J[(b * T + t) * O * P + i];
        nuT[t * O * P + i] += (v * v) / B;
      }
  for (let t = 0; t < T; t++) for (let i = 0; i < O * P; i++) nu[i] += nuT[t * O * P + i] / T;

  let index: Float64Array | null = null;
  const varP = columnVariance(p, B, P);
  if (B > 1 && varP.some((v) => v > 0)) {
    const varY = columnVariance(y, B * T, O);
    index = new Float64Array(O * P);
    for (let o = 0; o < O; o++)
      for (let k = 0; k < P; k++) index[o * P + k] = varY[o] > 0 ? (nu[o * P + k] * varP[k]) / varY[o] : NaN;
  }

  const maxY = new Float64Array(O);
  for (let i = 0; i < B * T; i++)
    for (let o = 0; o < O; o++) maxY[o] = Math.max(maxY[o], Math.abs(y[i * O + o]));
  const elasticity = new Float64Array(O * P);
  const count = new Float64Array(O);
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++)
      for (let o = 0; o < O; o++) {
        const yv = y[(b * T + t) * O + o];
        if (!(Math.abs(yv) > relFloor * maxY[o])) continue;
        count[o]++;
        for (let k = 0; k < P; k++) {
          elasticity[o * P + k] += Math.abs((J[((b * T + t) * O + o) * P + k] * p[b * P + k]) / yv);
        }
      }
  for (let o = 0; o < O; o++)
    for (let k = 0; k < P; k++) elasticity[o * P + k] = count[o] > 0 ? elasticity[o * P + k] / count[o] : NaN;
  return { nu, nuT, index, elasticity, yFloor: relFloor };
}
