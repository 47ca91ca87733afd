/**
 * Standardisation over groups, the kernel under layer_norm, group_norm and training-mode
 * batch_norm: a contiguous x seen as [A, C, B] is standardised per c over the A·B entries
 * (layer and group norm: A = 1; batch norm: A = batch, C = channels):
 *   x̂ = (x − μ)·r,  r = 1/√(var + eps)  (biased variance),
 *   dx̂ = r·(dx − mean(dx) − x̂·mean(x̂·dx)).
 */

export interface Layout {
  readonly A: number;
  readonly C: number;
  readonly B: number;
}

/** x̂ and r (per group) of contiguous x laid out as [A, C, B]. */
export function standardize(
  x: Float64Array,
  { A, C, B }: Layout,
  eps: number,
): { xhat: Float64Array; rstd: Float64Array } {
  const xhat = new Float64Array(x.length);
  const rstd = new Float64Array(C);
  const count = A * B;
  for (let c = 0; c < C; c++) {
    let s = 0;
    for (let a = 0; a < A; a++) for (let b = 0, k = (a * C + c) * B; b < B; b++, k++) s += x[k];
    const mu = s / count;
    let v = 0;
    for (let a = 0; a < A; a++)
      for (let b = 0, k = (a * C + c) * B; b < B; b++, k++) {
        const d = x[k] - mu;
        v += d * d;
      }
    const r = 1 / Math.sqrt(v / count + eps);
    rstd[c] = r;
    for (let a = 0; a < A; a++)
      for (let b = 0, k = (a * C + c) * B; b < B; b++, k++) xhat[k] = (x[k] - mu) * r;
  }
  return { xhat, rstd };
}

/** dx̂ for P contiguous tangents dx laid out as [P, A, C, B]. */
export function standardizeJvp(
  dx: Float64Array,
  xhat: Float64Array,
  rstd: Float64Array,
  P: number,
  { A, C, B }: Layout,
): Float64Array {
  const size = A * C * B;
  const count = A * B;
  const out = new Float64Array(P * size);
  for (let p = 0; p < P; p++) {
    const base = p * size;
    for (let c = 0; c < C; c++) {
      let m1 = 0;
      let m2 = 0;
      for (let a = 0; a < A; a++)
        for (let b = 0, k = (a * C + c) * B; b < B; b++, k++) {
          const d = dx[base + k];
          m1 += d;
          m2 += xhat[k] * d;
        }
      m1 /= count;
      m2 /= count;
      const r = rstd[c];
      for (let a = 0; a < A; a++)
        for (let b = 0, k = (a * C + c) * B; b < B; b++, k++)
          out[base + k] = r * (dx[base + k] - m1 - xhat[k] * m2);
    }
  }
  return out;
}
