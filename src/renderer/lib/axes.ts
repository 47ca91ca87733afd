/** The four axes of J[b,t,o,k] and how they are labelled. Pure data helpers, shared by the UI and the worker. */

export type Axis = 'b' | 't' | 'o' | 'k';
export const AXES: readonly Axis[] = ['b', 't', 'o', 'k'];

export interface Dims {
  B: number;
  T: number;
  O: number;
  P: number;
}

export type AxisIndex = Record<Axis, number>;

export interface FeatureNames {
  /** Names of the outputs o (y features). */
  y: string[];
  /** Names of the scalar parameters k (p features). */
  p: string[];
}

export const AXIS_LABEL: Record<Axis, string> = {
  b: 'b (sample)',
  t: 't (step)',
  o: 'o (output)',
  k: 'k (parameter)',
};

export const AXIS_SHORT: Record<Axis, string> = { b: 'B', t: 'T', o: 'O', k: 'P' };

export function axisLength(dims: Dims, axis: Axis): number {
  switch (axis) {
    case 'b':
      return dims.B;
    case 't':
      return dims.T;
    case 'o':
      return dims.O;
    case 'k':
      return dims.P;
  }
}

/** Row-major strides of J [B,T,O,P]. */
export function jStrides(dims: Dims): AxisIndex {
  return { b: dims.T * dims.O * dims.P, t: dims.O * dims.P, o: dims.P, k: 1 };
}

/** The name of index i on an axis: a feature name for o and k, `axis=i` otherwise. */
export function indexName(axis: Axis, i: number, names: FeatureNames): string {
  if (axis === 'o') return names.y[i] ?? `y${i}`;
  if (axis === 'k') return names.p[i] ?? `p${i}`;
  return `${axis}=${i}`;
}

/** Whether an axis has more than one index (B and T may have one: one sample, or y without a time axis). */
function spans(dims: Dims, a: Axis): boolean {
  return a === 'b' ? dims.B > 1 : a === 't' ? dims.T > 1 : true;
}

/** Axes that can be shown: B only when there is more than one sample, T only when there is more than one step. */
export function availableAxes(dims: Dims): Axis[] {
  return AXES.filter((a) => spans(dims, a));
}

/** The axes not shown, in the order the keyboard steps them: ←/→ the first, ↑/↓ the second. */
export function fixedAxes(dims: Dims, xAxis: Axis, yAxis: Axis): Axis[] {
  const order: Axis[] = ['k', 'o', 't', 'b'];
  return order.filter((a) => a !== xAxis && a !== yAxis && spans(dims, a));
}

export function defaultNames(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`);
}

export function clampIndex(i: number, n: number): number {
  if (!Number.isFinite(i) || n <= 0) return 0;
  return Math.min(n - 1, Math.max(0, Math.round(i)));
}
