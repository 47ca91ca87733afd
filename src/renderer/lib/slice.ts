/** Reading 2-D slices and 1-D lines out of J [B,T,O,P] (row-major; float64 or float32). O(size of the slice). */
import { axisLength, jStrides } from './axes';
import type { Axis, AxisIndex, Dims } from './axes';
import type { JArray } from './j-array';

export interface Slice2D {
  /** The horizontal axis (columns of the picture; rows of a CSV export). */
  xAxis: Axis;
  /** The vertical axis. */
  yAxis: Axis;
  nx: number;
  ny: number;
  /** Values at [iy * nx + ix]. */
  data: Float64Array;
  /** max |value| over the slice (0 when empty). */
  maxAbs: number;
}

export function extractSlice(J: JArray, dims: Dims, xAxis: Axis, yAxis: Axis, fixed: AxisIndex): Slice2D {
  if (xAxis === yAxis) throw new Error('the two axes of a slice must differ');
  const s = jStrides(dims);
  const nx = axisLength(dims, xAxis);
  const ny = axisLength(dims, yAxis);
  let base = 0;
  for (const a of ['b', 't', 'o', 'k'] as const) if (a !== xAxis && a !== yAxis) base += fixed[a] * s[a];
  const sx = s[xAxis];
  const sy = s[yAxis];
  const data = new Float64Array(nx * ny);
  let maxAbs = 0;
  for (let iy = 0; iy < ny; iy++) {
    const row = base + iy * sy;
    const out = iy * nx;
    for (let ix = 0; ix < nx; ix++) {
      const v = J[row + ix * sx];
      data[out + ix] = v;
      const a = v < 0 ? -v : v;
      if (a > maxAbs) maxAbs = a;
    }
  }
  return { xAxis, yAxis, nx, ny, data, maxAbs };
}

/** J[b, :, o, k] as a series over time. */
export function timeSeries(J: JArray, dims: Dims, b: number, o: number, k: number): Float64Array {
  const s = jStrides(dims);
  const out = new Float64Array(dims.T);
  const base = b * s.b + o * s.o + k;
  for (let t = 0; t < dims.T; t++) out[t] = J[base + t * s.t];
  return out;
}

/** y[b, :, o] from y [B,T,O]. */
export function outputSeries(y: Float64Array, dims: Dims, b: number, o: number): Float64Array {
  const out = new Float64Array(dims.T);
  const base = b * dims.T * dims.O + o;
  for (let t = 0; t < dims.T; t++) out[t] = y[base + t * dims.O];
  return out;
}

export function maxAbsOf(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const v = Math.abs(a[i]);
    if (v > m) m = v;
  }
  return m;
}

/** The flat index of J[b,t,o,k]. */
export function jIndex(dims: Dims, at: AxisIndex): number {
  const s = jStrides(dims);
  return at.b * s.b + at.t * s.t + at.o * s.o + at.k * s.k;
}
