/**
 * The one store: what is loaded, the result, the running job, messages and the view. Components read narrow
 * selectors (`useStore((s) => s.view.fixed.k)`); effects (worker, host) live in ./actions.ts.
 */
import { create } from 'zustand';
import type { Axis, Dims, FeatureNames } from '../lib/axes';
import { dataSource, oneSampleSource, overlaySource } from '../lib/display';
import type { JSource } from '../lib/display';
import type { JArray } from '../lib/j-array';
import type { PRange } from '../lib/p-range';
import { topPairs } from '../lib/summary';
import type { Summary } from '../lib/summary';
import type {
  BackendWant,
  DataInfo,
  GsaMeasure,
  MessageLevel,
  ModelInfo,
  ResultMeta,
  SummaryPayload,
  SweepSlice,
  CheckResult,
} from '../worker/protocol';
import {
  fitView,
  initialView,
  sameDims,
  stepForKey,
  togglePair,
  withAxes,
  withFixed,
  withoutSampleAxis,
} from './view';
import type { Pair, ScaleMode, Tab, ViewState } from './view';

export interface Result {
  meta: ResultMeta;
  J: JArray;
  y: Float64Array;
  /** p [B,P] as loaded, and the what-if sliders' ranges. */
  p: Float64Array;
  pRanges: PRange[];
  /** [B,O,P]; in sample mode [1,O,P] of sample `sampleB`. */
  summary: SummaryPayload;
  /**
   * Sample mode (J for every sample over the memory budget): J [T,O,P] and y [T,O] are sample sampleB's, and
   * the worker computes another when the sample slider moves. Null or absent: J and y hold every sample.
   */
  sampleB?: number | null;
}

/** The what-if sliders' values for sample b (null while they sit at the loaded p). */
export interface WhatIf {
  b: number;
  p: number[];
}

/** A computed what-if: y [T,O], J [T,O,P] and the summary ([1,O,P]) of sample b at p. */
export interface WhatIfShown {
  id: number;
  b: number;
  p: number[];
  y: Float64Array;
  J: Float64Array;
  summary: Summary;
  ms: number;
}

/** A computed comparison: J[b1] − J[b2] as [T,O,P] (y likewise) and its summary. */
export interface CompareShown {
  seq: number;
  b1: number;
  b2: number;
  y: Float64Array;
  J: Float64Array;
  summary: Summary;
}

/** What the Jacobian views draw: the loaded data, with one sample replaced by a what-if, or a difference. */
export interface Display {
  kind: 'data' | 'whatif' | 'compare';
  src: JSource;
  /** With a what-if: the loaded data, drawn dashed beside it. */
  original: JSource | null;
  summary: Summary;
  dims: Dims;
  /** What J means here, for titles ("J", "J[b=2] − J[b=0]"). */
  label: string;
  /** The summary holds one row (a comparison, or sample mode): index it with 0, not b. */
  oneRow: boolean;
  /** Sample mode: the sample the display holds (it may lag the slider by one computation). */
  sampleB: number | null;
}

export type RunStatus = 'idle' | 'running' | 'done' | 'failed';

export interface SweepState {
  status: RunStatus;
  id: number;
  done: number;
  total: number;
  message: string | null;
  result: {
    id: number;
    seq: number;
    b: number;
    k: number;
    base: number[];
    values: Float64Array;
    ms: number;
  } | null;
  slice: SweepSlice | null;
}

export interface GsaState {
  status: RunStatus;
  message: string | null;
  /** Progress of a streamed pass (sample mode): samples counted twice (forward pre-pass, then J). */
  done?: number;
  total?: number;
  result: {
    seq: number;
    nu: Float64Array;
    nuT: Float64Array;
    index: Float64Array | null;
    elasticity: Float64Array;
    yFloor: number;
    ms: number;
    /** From one streamed pass over the samples (sample mode). */
    streamed: boolean;
    /** max |J| over every sample (the streamed pass finds it). */
    jAbsMax?: number;
  } | null;
}

export interface CheckState {
  status: RunStatus;
  message: string | null;
  result: (CheckResult & { seq: number; b: number }) | null;
}

export interface UiMessage {
  id: number;
  file: string;
  level: MessageLevel;
  text: string;
  /** Where the files were dropped (client coordinates), so the message shows next to it. */
  anchor?: { x: number; y: number };
  /** Messages of one drop/open share a group. */
  group: number;
}

export interface Job {
  id: number;
  label: string;
  /** exporting: the whole J written to disk a chunk of samples at a time (desktop app, sample mode). */
  phase: 'reading' | 'computing' | 'exporting';
  startedAt: number;
  done: number;
  total: number;
  cancelling: boolean;
}

export interface State {
  backend: string | null;
  /** Where the batch is computed: the user's choice, sent to the worker (auto by default). */
  backendChoice: BackendWant;
  /** Why the chosen backend could not be used the last time (the previous result stays displayed). */
  backendError: string | null;
  model: ModelInfo | null;
  data: DataInfo | null;
  result: Result | null;
  job: Job | null;
  staged: string[];
  messages: UiMessage[];
  recent: string[];
  view: ViewState;
  /** A short note of the last export ("saved J_k3.csv"). */
  lastExport: string | null;
  whatIf: WhatIf | null;
  whatIfShown: WhatIfShown | null;
  /** Requests sent / answered, and whether one is on its way (read by the tests and the panel). */
  whatIfStats: { sent: number; shown: number; busy: boolean };
  compareShown: CompareShown | null;
  display: Display | null;
  sweep: SweepState;
  gsa: GsaState;
  check: CheckState;
}

let nextMessageId = 1;
let nextGroup = 1;
export function newMessageGroup(): number {
  return nextGroup++;
}

export const useStore = create<State>()(() => ({
  backend: null,
  backendChoice: 'auto',
  backendError: null,
  model: null,
  data: null,
  result: null,
  job: null,
  staged: [],
  messages: [],
  recent: [],
  view: initialView,
  lastExport: null,
  whatIf: null,
  whatIfShown: null,
  whatIfStats: { sent: 0, shown: 0, busy: false },
  compareShown: null,
  display: null,
  sweep: { status: 'idle', id: 0, done: 0, total: 0, message: null, result: null, slice: null },
  gsa: { status: 'idle', message: null, result: null },
  check: { status: 'idle', message: null, result: null },
}));

const dimsCache = new WeakMap<ResultMeta, Dims>();
const namesCache = new WeakMap<ResultMeta, FeatureNames>();

/** The shape of J; the same object for the same result (selectors must return stable values). */
export function dimsOf(meta: ResultMeta | undefined | null): Dims | null {
  if (!meta) return null;
  let d = dimsCache.get(meta);
  if (!d) dimsCache.set(meta, (d = { B: meta.B, T: meta.T, O: meta.O, P: meta.P }));
  return d;
}

/** The loaded p of sample b. */
export function sampleP(result: Result, b: number): number[] {
  const P = result.meta.P;
  return Array.from(result.p.subarray(b * P, (b + 1) * P));
}

/** The summary of the batch with sample b's rows replaced by a what-if's ([1,O,P]). */
function patchSummary(base: SummaryPayload, dims: Dims, b: number, one: Summary): Summary {
  const OP = dims.O * dims.P;
  const l2 = base.l2.slice();
  const maxAbs = base.maxAbs.slice();
  const argT = base.argT.slice();
  l2.set(one.l2, b * OP);
  maxAbs.set(one.maxAbs, b * OP);
  argT.set(one.argT, b * OP);
  let globalMaxAbs = 0;
  for (const v of maxAbs) if (v > globalMaxAbs) globalMaxAbs = v;
  return { l2, maxAbs, argT, globalMaxAbs };
}

/** The display for a state: recomputed whenever the result, a what-if or a comparison changes. */
function deriveDisplay(s: State): Display | null {
  const r = s.result;
  const dims = dimsOf(r?.meta);
  if (!r || !dims) return null;
  const sampled = r.sampleB != null;
  const data = sampled ? oneSampleSource(r.J, r.y, dims) : dataSource(r.J, r.y, dims);
  const c = s.compareShown;
  if (
    s.view.compare.on &&
    c &&
    c.seq === r.meta.seq &&
    c.b1 === s.view.compare.b1 &&
    c.b2 === s.view.compare.b2
  ) {
    const one = { ...dims, B: 1 };
    return {
      kind: 'compare',
      src: dataSource(c.J, c.y, one),
      original: null,
      summary: c.summary,
      dims: one,
      label: `J[b=${c.b1}] − J[b=${c.b2}]`,
      oneRow: true,
      sampleB: null,
    };
  }
  const w = s.whatIfShown;
  if (!s.view.compare.on && s.whatIf && w && w.b === s.whatIf.b && (!sampled || w.b === r.sampleB)) {
    return {
      kind: 'whatif',
      src: overlaySource(data, w.b, w.J, w.y),
      original: data,
      summary: sampled ? w.summary : patchSummary(r.summary, dims, w.b, w.summary),
      dims,
      label: 'J (what-if)',
      oneRow: sampled,
      sampleB: r.sampleB ?? null,
    };
  }
  return {
    kind: 'data',
    src: data,
    original: null,
    summary: r.summary,
    dims,
    label: 'J',
    oneRow: sampled,
    sampleB: r.sampleB ?? null,
  };
}

/** The inputs a display is derived from; the same inputs give the same display object. */
function displayKey(s: State): unknown[] {
  const c = s.view.compare;
  // Whether a computed what-if applies, not the slider values: moving a slider redraws when its answer comes.
  const w = s.whatIf !== null && s.whatIfShown !== null && s.whatIfShown.b === s.whatIf.b;
  return [s.result, w && s.whatIfShown, s.compareShown, c.on, c.b1, c.b2];
}

/**
 * Applies a patch and keeps the display in step with it. The display object changes only when what it shows
 * changes, so views that read it do not redraw when, say, a fixed index moves.
 */
export function patchState(f: (s: State) => Partial<State>): void {
  useStore.setState((s) => {
    const patch = f(s);
    const next = { ...s, ...patch };
    const prev = displayKey(s);
    const key = displayKey(next);
    if (s.display && key.every((v, i) => v === prev[i])) return patch;
    return { ...patch, display: deriveDisplay(next) };
  });
}

/** Stable selectors. */
export const select = {
  dims: (s: State): Dims | null => dimsOf(s.result?.meta),
  /** The shape the Jacobian views show: B = 1 when comparing two samples. */
  viewDims: (s: State): Dims | null => s.display?.dims ?? dimsOf(s.result?.meta),
  names: (s: State): FeatureNames | null => {
    const meta = s.result?.meta;
    if (!meta) return null;
    let n = namesCache.get(meta);
    if (!n) namesCache.set(meta, (n = { y: meta.yNames, p: meta.pNames }));
    return n;
  },
};

// ---- pure state updates (no effects) ----

export function setResult(result: Result, model: ModelInfo, data: DataInfo): void {
  patchState((s) => {
    const dims = dimsOf(result.meta)!;
    const prevDims = dimsOf(s.result?.meta);
    let view = fitView(s.view, dims);
    // Sample mode holds one sample's J: b is a slider, never an axis.
    if (result.sampleB != null) view = withoutSampleAxis(view, dims);
    const newModel = s.model?.file !== model.file || s.model?.format !== model.format;
    if (!sameDims(prevDims, dims) || newModel || view.pairs.length === 0) {
      // New shapes: show the most influential parameters first.
      const top = topPairs(result.summary, dims, 0, 3);
      view = { ...view, pairs: top, fixed: { ...view.fixed, k: top[0]?.k ?? 0, o: top[0]?.o ?? 0 } };
    }
    if (!sameDims(prevDims, dims) || newModel)
      view = { ...view, sweep: { ...view.sweep, lo: null, hi: null } };
    // Everything explored was about the previous data: what-if values, sweeps, sensitivities, checks.
    return {
      result,
      model,
      data,
      view,
      staged: [],
      backendError: null,
      whatIf: null,
      whatIfShown: null,
      compareShown: null,
      sweep: { ...s.sweep, status: 'idle', message: null, result: null, slice: null },
      gsa: { status: 'idle', message: null, result: null },
      check: { status: 'idle', message: null, result: null },
    };
  });
}

/** Sample mode: the worker's answer for sample b becomes what the views show. */
export function setSample(b: number, J: Float64Array, y: Float64Array, summary: SummaryPayload): void {
  patchState((s) => (s.result ? { result: { ...s.result, J, y, summary, sampleB: b } } : {}));
}

export function addMessages(
  list: { file: string; level: MessageLevel; text: string }[],
  group: number,
  anchor?: { x: number; y: number },
): void {
  if (list.length === 0) return;
  const add = list.map((m) => ({ ...m, id: nextMessageId++, group, anchor }));
  useStore.setState((s) => ({ messages: [...s.messages, ...add].slice(-50) }));
}

export function dismissMessage(id: number): void {
  useStore.setState((s) => ({ messages: s.messages.filter((m) => m.id !== id) }));
}

export function dismissGroup(group: number): void {
  useStore.setState((s) => ({ messages: s.messages.filter((m) => m.group !== group) }));
}

export function clearAnchors(): void {
  useStore.setState((s) =>
    s.messages.some((m) => m.anchor) ? { messages: s.messages.map((m) => ({ ...m, anchor: undefined })) } : s,
  );
}

function updateView(f: (v: ViewState, dims: Dims) => ViewState | null): void {
  const s = useStore.getState();
  const dims = dimsOf(s.result?.meta);
  if (!dims) return;
  const next = f(s.view, s.view.compare.on ? { ...dims, B: 1 } : dims);
  if (!next || next === s.view) return;
  // What-if values belong to one sample: choosing another starts from its loaded p.
  const otherSample = next.fixed.b !== s.view.fixed.b && s.whatIf !== null;
  patchState(() => (otherSample ? { view: next, whatIf: null, whatIfShown: null } : { view: next }));
}

export const viewActions = {
  setAxis: (which: 'x' | 'y', axis: Axis) =>
    updateView((v) =>
      axis === 'b' && useStore.getState().result?.sampleB != null ? v : withAxes(v, which, axis),
    ),
  setFixed: (axis: Axis, index: number) => updateView((v, d) => withFixed(v, d, axis, index)),
  key: (key: string, shift: boolean): boolean => {
    let handled = false;
    updateView((v, d) => {
      const n = stepForKey(v, d, key, shift);
      handled = n !== null;
      return n;
    });
    return handled;
  },
  setScaleMode: (mode: ScaleMode) => updateView((v) => ({ ...v, scale: { ...v.scale, mode } })),
  setScaleLimit: (limit: number) =>
    updateView((v) => (limit > 0 && Number.isFinite(limit) ? { ...v, scale: { ...v.scale, limit } } : v)),
  togglePair: (pair: Pair) => updateView((v) => togglePair(v, pair)),
  setPairs: (pairs: Pair[]) => updateView((v) => ({ ...v, pairs })),
  setShowOutput: (showOutput: boolean) => updateView((v) => ({ ...v, showOutput })),
  sortSummary: (key: ViewState['summarySort']['key']) =>
    updateView((v) => ({
      ...v,
      summarySort: {
        key,
        desc: v.summarySort.key === key ? !v.summarySort.desc : key === 'l2' || key === 'maxAbs',
      },
    })),
  setTab: (tab: Tab) => updateView((v) => (v.tab === tab ? v : { ...v, tab })),
  setSweepForm: (patch: Partial<ViewState['sweep']>) =>
    updateView((v) => ({ ...v, sweep: { ...v.sweep, ...patch } })),
  setGsa: (patch: Partial<{ measure: GsaMeasure; o: number }>) =>
    updateView((v) => ({ ...v, gsa: { ...v.gsa, ...patch } })),
  /** Turns the comparison on/off or picks its samples; comparing hides the sample axis and any what-if. */
  setCompare: (patch: Partial<ViewState['compare']>) => {
    const s = useStore.getState();
    const dims = dimsOf(s.result?.meta);
    if (!dims) return;
    const compare = { ...s.view.compare, ...patch };
    if (dims.B < 2) compare.on = false;
    compare.b1 = Math.min(dims.B - 1, Math.max(0, Math.round(compare.b1)));
    compare.b2 = Math.min(dims.B - 1, Math.max(0, Math.round(compare.b2)));
    let view = { ...s.view, compare };
    if (compare.on) view = withoutSampleAxis(view, dims);
    patchState(() => (compare.on ? { view, whatIf: null, whatIfShown: null } : { view }));
  },
  /** Show (o,k) in the heatmap's fixed indices and the line plot. */
  focusPair: (pair: Pair) =>
    updateView((v, d) => {
      let n = withFixed(v, d, 'o', pair.o);
      n = withFixed(n, d, 'k', pair.k);
      if (!n.pairs.some((p) => p.o === pair.o && p.k === pair.k)) n = togglePair(n, pair);
      return n;
    }),
};
