/**
 * Standardisation over groups, the kernel under layer_norm, group_norm and training-mode
 * batch_norm: a contiguous x seen as [A, C, B] is standardised per c over the A·B entries
 * (layer and group norm: A = 1; batch norm: A = batch, C = channels):
 *   x̂ = (x − μ)·r,  r = 1/√(var + eps)  (biased variance),
 *   dx̂ = r·(dx − mean(dx) − x̂·mean(x̂·dx)).
 */
import { E } from '../lower/expr';
import { recorder, type Recorder, type StridedArray } from '../lower/record';
import { recordSum } from '../lower/record-reduce';

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
  const rec = recorder();
  if (rec) recordStandardize(rec, x, xhat, rstd, { A, C, B }, eps);
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

const view = (arr: Float64Array, strides: number[]): StridedArray => ({ arr, strides, offset: 0 });

/** standardize as records: mean, centred values, variance, r, x̂ (the same formulas). */
function recordStandardize(
  rec: Recorder,
  x: Float64Array,
  xhat: Float64Array,
  rstd: Float64Array,
  { A, C, B }: Layout,
  eps: number,
): void {
  const shape = [A, C, B];
  const full = [C * B, B, 1];
  const perC = [0, 1, 0];
  const count = A * B;
  const mu = view(new Float64Array(C), perC);
  const d = view(new Float64Array(x.length), full);
  const v = view(new Float64Array(C), perC);
  recordSum(rec, shape, view(x, full), mu, 1 / count);
  rec.ewise(shape, [view(x, full), mu], [d], [E.sub(E.in(0), E.in(1))]);
  recordSum(rec, shape, d, v, 1 / count, d);
  rec.ewise([C], [view(v.arr, [1])], [view(rstd, [1])], [E.un('rsqrt', E.add(E.in(0), E.c(eps)))]);
  rec.ewise(shape, [d, view(rstd, perC)], [view(xhat, full)], [E.mul(E.in(0), E.in(1))]);
}

/** standardizeJvp as records: the two means over each group, then the combination. */
function recordStandardizeJvp(
  rec: Recorder,
  dx: Float64Array,
  xhat: Float64Array,
  rstd: Float64Array,
  out: Float64Array,
  P: number,
  { A, C, B }: Layout,
): void {
  const shape = [P, A, C, B];
  const full = [A * C * B, C * B, B, 1];
  const perPC = [C, 0, 1, 0];
  const count = A * B;
  const m1 = view(new Float64Array(P * C), perPC);
  const m2 = view(new Float64Array(P * C), perPC);
  const xh = view(xhat, [0, C * B, B, 1]);
  recordSum(rec, shape, view(dx, full), m1, 1 / count);
  recordSum(rec, shape, view(dx, full), m2, 1 / count, xh);
  const [D, M1, X, M2, R] = [0, 1, 2, 3, 4].map(E.in);
  rec.ewise(
    shape,
    [view(dx, full), m1, xh, m2, view(rstd, [0, 0, 1, 0])],
    [view(out, full)],
    [E.mul(R, E.sub(E.sub(D, M1), E.mul(X, M2)))],
  );
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
  const rec = recorder();
  if (rec) recordStandardizeJvp(rec, dx, xhat, rstd, out, P, { A, C, B });
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
