/**
 * A 1-D sweep of one parameter: y and J of one sample along N values of p_k (the other
 * parameters and x fixed), computed as one batch of N samples.
 */
export interface SweepResult {
  values: Float64Array;
  /** [N,T,O] */
  y: Float64Array;
  /** [N,T,O,P] */
  J: Float64Array;
}

export interface SweepModel {
  forward(x: Float64Array, p: Float64Array, B: number, T: number): Float64Array;
  jacobian(x: Float64Array, p: Float64Array, B: number, T: number): Float64Array;
}

export function linspace(lo: number, hi: number, n: number): Float64Array {
  if (n === 1) return Float64Array.of((lo + hi) / 2);
  return Float64Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** The batch for a sweep: x repeated N times, p repeated with p_k set to each value. */
export function sweepInputs(x: Float64Array, p: Float64Array, k: number, values: Float64Array) {
  const N = values.length;
  const xs = new Float64Array(N * x.length);
  const ps = new Float64Array(N * p.length);
  for (let i = 0; i < N; i++) {
    xs.set(x, i * x.length);
    ps.set(p, i * p.length);
    ps[i * p.length + k] = values[i];
  }
  return { xs, ps };
}

export function sweep(
  model: SweepModel,
  x: Float64Array,
  p: Float64Array,
  T: number,
  k: number,
  values: Float64Array,
): SweepResult {
  const { xs, ps } = sweepInputs(x, p, k, values);
  const N = values.length;
  return { values, y: model.forward(xs, ps, N, T), J: model.jacobian(xs, ps, N, T) };
}
