/**
 * J and y as the views see them. A source hands out one sample's block at a time, so a what-if sample or the
 * difference of two samples can stand in for the loaded data without copying all of J (which can be large).
 * Used by the UI thread to draw and by the worker to export exactly what is drawn.
 */
import { axisLength, clampIndex, jStrides } from './axes';
import type { Axis, AxisIndex, Dims } from './axes';
import type { JArray } from './j-array';
import { extractSlice } from './slice';
import type { Slice2D } from './slice';

/** A run of values inside a larger array: `data[off …]`. */
export interface Block {
  data: JArray;
  off: number;
}

export interface JSource {
  dims: Dims;
  /** J[b] as [T,O,P] from `off`. */
  jBlock(b: number): Block;
  /** y[b] as [T,O] from `off`. */
  yBlock(b: number): Block;
}

/** The loaded data: J [B,T,O,P] and y [B,T,O] as they are. */
export function dataSource(J: JArray, y: Float64Array, dims: Dims): JSource {
  const jn = dims.T * dims.O * dims.P;
  const yn = dims.T * dims.O;
  return {
    dims,
    jBlock: (b) => ({ data: J, off: clampIndex(b, dims.B) * jn }),
    yBlock: (b) => ({ data: y, off: clampIndex(b, dims.B) * yn }),
  };
}

/**
 * Sample mode: one sample's J [T,O,P] and y [T,O] standing for the batch (dims keep the real B). Every sample
 * index reads that block, so the views must show the sample it holds (never b as an axis).
 */
export function oneSampleSource(J: JArray, y: Float64Array, dims: Dims): JSource {
  return { dims, jBlock: () => ({ data: J, off: 0 }), yBlock: () => ({ data: y, off: 0 }) };
}

/** `base` with sample b replaced by J1 [T,O,P] and y1 [T,O] (a what-if). */
export function overlaySource(base: JSource, b: number, J1: Float64Array, y1: Float64Array): JSource {
  return {
    dims: base.dims,
    jBlock: (i) => (clampIndex(i, base.dims.B) === b ? { data: J1, off: 0 } : base.jBlock(i)),
    yBlock: (i) => (clampIndex(i, base.dims.B) === b ? { data: y1, off: 0 } : base.yBlock(i)),
  };
}

/** J[b1] − J[b2] and y[b1] − y[b2]: one sample's worth, so B is 1. */
export function diffBlocks(src: JSource, b1: number, b2: number): { J: Float64Array; y: Float64Array } {
  const { T, O, P } = src.dims;
  const sub = (a: Block, c: Block, n: number) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = a.data[a.off + i] - c.data[c.off + i];
    return out;
  };
  return {
    J: sub(src.jBlock(b1), src.jBlock(b2), T * O * P),
    y: sub(src.yBlock(b1), src.yBlock(b2), T * O),
  };
}

/** A 2-D slice through the source (as extractSlice does through a plain J). */
export function sourceSlice(src: JSource, xAxis: Axis, yAxis: Axis, fixed: AxisIndex): Slice2D {
  if (xAxis === yAxis) throw new Error('the two axes of a slice must differ');
  const { dims } = src;
  const one: Dims = { ...dims, B: 1 };
  const n1 = dims.T * dims.O * dims.P;
  if (xAxis !== 'b' && yAxis !== 'b') {
    const blk = src.jBlock(fixed.b);
    return extractSlice(blk.data.subarray(blk.off, blk.off + n1), one, xAxis, yAxis, { ...fixed, b: 0 });
  }
  // The sample axis is shown: each sample's line along the other axis comes from that sample's block.
  const other = xAxis === 'b' ? yAxis : xAxis;
  const s = jStrides(one);
  const n = axisLength(dims, other);
  let base = 0;
  for (const a of ['t', 'o', 'k'] as const)
    if (a !== other) base += clampIndex(fixed[a], axisLength(dims, a)) * s[a];
  const nx = xAxis === 'b' ? dims.B : n;
  const ny = xAxis === 'b' ? n : dims.B;
  const data = new Float64Array(nx * ny);
  let maxAbs = 0;
  for (let b = 0; b < dims.B; b++) {
    const blk = src.jBlock(b);
    for (let i = 0; i < n; i++) {
      const v = blk.data[blk.off + base + i * s[other]];
      data[xAxis === 'b' ? i * nx + b : b * nx + i] = v;
      const a = v < 0 ? -v : v;
      if (a > maxAbs) maxAbs = a;
    }
  }
  return { xAxis, yAxis, nx, ny, data, maxAbs };
}

/** J[b, :, o, k] over time. */
export function sourceTimeSeries(src: JSource, b: number, o: number, k: number): Float64Array {
  const { T, O, P } = src.dims;
  const blk = src.jBlock(b);
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) out[t] = blk.data[blk.off + (t * O + o) * P + k];
  return out;
}

/** y[b, :, o] over time. */
export function sourceOutputSeries(src: JSource, b: number, o: number): Float64Array {
  const { T, O } = src.dims;
  const blk = src.yBlock(b);
  const out = new Float64Array(T);
  for (let t = 0; t < T; t++) out[t] = blk.data[blk.off + t * O + o];
  return out;
}
