/**
 * "Check derivatives": the Jacobian of one sample against float64 central finite differences of
 * the model's own forward pass, in every parameter direction — a check a user can run and read.
 * Smooth activations use Richardson extrapolation (4·D(h/2) − D(h))/3, whose error is O(h⁴);
 * ReLU uses one small step, since a larger one may cross a kink.
 */
export interface DerivativeCheck {
  /** max|J − FD| / max|FD| over the sample */
  maxRelError: number;
  /** [O,P]: max over t of |J − FD|, divided by max|FD| */
  errorMap: Float64Array;
  /** the step used (relative to max(1, |p_k|)) */
  h: number;
}

export interface ForwardFn {
  (x: Float64Array, p: Float64Array, B: number, T: number): Float64Array;
}

export function checkDerivatives(
  forward: ForwardFn,
  J: Float64Array | Float32Array /* [T,O,P] of this sample */,
  x: Float64Array /* [T,Xf] */,
  p: Float64Array /* [P] */,
  T: number,
  O: number,
  kinked: boolean,
): DerivativeCheck {
  const P = p.length;
  const h = kinked ? 1e-7 : 1e-3;
  // All 2P (or 4P) perturbed copies go through one batched forward pass.
  const steps = kinked ? [h] : [h, h / 2];
  const rows = steps.length * 2 * P;
  const xs = new Float64Array(rows * x.length);
  const ps = new Float64Array(rows * P);
  let r = 0;
  for (const s of steps)
    for (let k = 0; k < P; k++)
      for (const sign of [1, -1]) {
        xs.set(x, r * x.length);
        ps.set(p, r * P);
        ps[r * P + k] += sign * s * Math.max(1, Math.abs(p[k]));
        r++;
      }
  const ys = forward(xs, ps, rows, T);
  const TO = T * O;
  const fd = new Float64Array(TO * P);
  for (let k = 0; k < P; k++) {
    const scale = Math.max(1, Math.abs(p[k]));
    const central = (si: number, i: number) => {
      const up = (si * P + k) * 2 * TO;
      const dn = up + TO;
      return (ys[up + i] - ys[dn + i]) / (2 * steps[si] * scale);
    };
    for (let i = 0; i < TO; i++)
      fd[i * P + k] = kinked ? central(0, i) : (4 * central(1, i) - central(0, i)) / 3;
  }
  let maxFd = 0;
  for (const v of fd) maxFd = Math.max(maxFd, Math.abs(v));
  const errorMap = new Float64Array(O * P);
  let maxErr = 0;
  for (let t = 0; t < T; t++)
    for (let i = 0; i < O * P; i++) {
      const e = Math.abs(J[t * O * P + i] - fd[t * O * P + i]);
      errorMap[i] = Math.max(errorMap[i], e);
      maxErr = Math.max(maxErr, e);
    }
  const den = maxFd > 0 ? maxFd : 1;
  for (let i = 0; i < errorMap.length; i++) errorMap[i] /= den;
  return { maxRelError: maxErr / den, errorMap, h };
}
