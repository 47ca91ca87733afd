/** The view state: plain data (serialisable), and pure functions that keep it consistent with the result's shape. */
import { availableAxes, clampIndex, fixedAxes } from '../lib/axes';
import type { Axis, AxisIndex, Dims } from '../lib/axes';
import type { SummarySortKey } from '../lib/summary';
import type { GsaMeasure } from '../worker/protocol';

/** The main area's views: the Jacobian (heatmap, lines, summary) and the explore tools. */
export type Tab = 'jacobian' | 'sweep' | 'sensitivity' | 'variance' | 'check';

export type ScaleMode = 'slice' | 'all' | 'fixed';

export interface Pair {
  o: number;
  k: number;
}

export interface ViewState {
  /** Heatmap axes: horizontal and vertical. */
  xAxis: Axis;
  yAxis: Axis;
  /** Indices of the axes not shown (all four kept so switching axes remembers them). */
  fixed: AxisIndex;
  /** Colour scale: symmetric about 0 over the slice, over all of J, or a fixed ±limit. */
  scale: { mode: ScaleMode; limit: number };
  /** (o,k) pairs drawn in the line plot. */
  pairs: Pair[];
  /** Draw the forward output y[b,:,o] beside the Jacobian lines. */
  showOutput: boolean;
  summarySort: { key: SummarySortKey; desc: boolean };
  tab: Tab;
  /** Show J[b1] − J[b2] instead of J (needs two samples). */
  compare: { on: boolean; b1: number; b2: number };
  /** The sweep's form (lo/hi null: the what-if slider's range) and which picture of it is shown. */
  sweep: { k: number; lo: number | null; hi: number | null; n: number; o: number; j: number };
  /** Global sensitivity: which measure, and which output the ranking is for (-1: mean over outputs). */
  gsa: { measure: GsaMeasure; o: number };
}

export const initialView: ViewState = {
  xAxis: 't',
  yAxis: 'o',
  fixed: { b: 0, t: 0, o: 0, k: 0 },
  scale: { mode: 'slice', limit: 1 },
  pairs: [],
  showOutput: true,
  summarySort: { key: 'l2', desc: true },
  tab: 'jacobian',
  compare: { on: false, b1: 1, b2: 0 },
  sweep: { k: 0, lo: null, hi: null, n: 50, o: 0, j: 0 },
  gsa: { measure: 'nu', o: -1 },
};

/** Makes the view valid for dims: indices in range, axes available, pairs in range. */
export function fitView(view: ViewState, dims: Dims): ViewState {
  const avail = availableAxes(dims);
  let { xAxis, yAxis } = view;
  // Time across and outputs down where there is time; else parameters across (O × P).
  const pick = (order: Axis[], other: Axis) => order.find((a) => a !== other && avail.includes(a));
  if (!avail.includes(xAxis)) xAxis = pick(['t', 'o', 'k', 'b'], yAxis) ?? 't';
  if (!avail.includes(yAxis) || yAxis === xAxis) yAxis = pick(['o', 't', 'k', 'b'], xAxis) ?? 'o';
  const fixed: AxisIndex = {
    b: clampIndex(view.fixed.b, dims.B),
    t: clampIndex(view.fixed.t, dims.T),
    o: clampIndex(view.fixed.o, dims.O),
    k: clampIndex(view.fixed.k, dims.P),
  };
  const pairs = view.pairs.filter((p) => p.o < dims.O && p.k < dims.P);
  const compare =
    dims.B < 2
      ? { ...view.compare, on: false }
      : {
          on: view.compare.on,
          b1: clampIndex(view.compare.b1, dims.B),
          b2: clampIndex(view.compare.b2, dims.B),
        };
  const sweep = {
    ...view.sweep,
    k: clampIndex(view.sweep.k, dims.P),
    o: clampIndex(view.sweep.o, dims.O),
    j: clampIndex(view.sweep.j, dims.P),
  };
  const gsa = { ...view.gsa, o: view.gsa.o < 0 ? -1 : clampIndex(view.gsa.o, dims.O) };
  let v: ViewState = { ...view, xAxis, yAxis, fixed, pairs, compare, sweep, gsa };
  if (compare.on) v = withoutSampleAxis(v, dims);
  return v;
}

/** Comparing shows one sample's worth (B = 1): an axis showing b gives way to one that is not shown. */
export function withoutSampleAxis(view: ViewState, dims?: Dims): ViewState {
  if (view.xAxis !== 'b' && view.yAxis !== 'b') return view;
  const free = (['t', 'o', 'k'] as const).find(
    (a) => a !== view.xAxis && a !== view.yAxis && (a !== 't' || !dims || dims.T > 1),
  )!;
  return view.xAxis === 'b' ? { ...view, xAxis: free } : { ...view, yAxis: free };
}

/** Chooses axes; picking the axis already on the other side swaps them. */
export function withAxes(view: ViewState, which: 'x' | 'y', axis: Axis): ViewState {
  if (which === 'x')
    return axis === view.yAxis ? { ...view, xAxis: axis, yAxis: view.xAxis } : { ...view, xAxis: axis };
  return axis === view.xAxis ? { ...view, yAxis: axis, xAxis: view.yAxis } : { ...view, yAxis: axis };
}

export function withFixed(view: ViewState, dims: Dims, axis: Axis, index: number): ViewState {
  const n = { b: dims.B, t: dims.T, o: dims.O, k: dims.P }[axis];
  const i = clampIndex(index, n);
  if (view.fixed[axis] === i) return view;
  return { ...view, fixed: { ...view.fixed, [axis]: i } };
}

/** The keyboard: ←/→ step the first fixed axis, ↑/↓ the second (Shift: ×10). */
export function stepForKey(view: ViewState, dims: Dims, key: string, shift: boolean): ViewState | null {
  const axes = fixedAxes(dims, view.xAxis, view.yAxis);
  let axis: Axis | undefined;
  let delta = 0;
  if (key === 'ArrowRight' || key === 'ArrowLeft') {
    axis = axes[0];
    delta = key === 'ArrowRight' ? 1 : -1;
  } else if (key === 'ArrowUp' || key === 'ArrowDown') {
    axis = axes[1];
    delta = key === 'ArrowUp' ? 1 : -1;
  }
  if (!axis) return null;
  if (shift) delta *= 10;
  return withFixed(view, dims, axis, view.fixed[axis] + delta);
}

export function togglePair(view: ViewState, pair: Pair, max = 8): ViewState {
  const has = view.pairs.some((p) => p.o === pair.o && p.k === pair.k);
  if (has) return { ...view, pairs: view.pairs.filter((p) => !(p.o === pair.o && p.k === pair.k)) };
  return { ...view, pairs: [...view.pairs, pair].slice(-max) };
}

export function sameDims(a: Dims | null, b: Dims): boolean {
  return !!a && a.B === b.B && a.T === b.T && a.O === b.O && a.P === b.P;
}
