/**
 * The one store: what is loaded, the result, the running job, messages and the view. Components read narrow
 * selectors (`useStore((s) => s.view.fixed.k)`); effects (worker, host) live in ./actions.ts.
 */
import { create } from 'zustand';
import type { Axis, Dims, FeatureNames } from '../lib/axes';
import { topPairs } from '../lib/summary';
import type { DataInfo, MessageLevel, ModelInfo, ResultMeta, SummaryPayload } from '../worker/protocol';
import { fitView, initialView, sameDims, stepForKey, togglePair, withAxes, withFixed } from './view';
import type { Pair, ScaleMode, ViewState } from './view';

export interface Result {
  meta: ResultMeta;
  J: Float64Array;
  y: Float64Array;
  summary: SummaryPayload;
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
  phase: 'reading' | 'computing';
  startedAt: number;
  done: number;
  total: number;
  cancelling: boolean;
}

export interface State {
  backend: string | null;
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
}

let nextMessageId = 1;
let nextGroup = 1;
export function newMessageGroup(): number {
  return nextGroup++;
}

export const useStore = create<State>()(() => ({
  backend: null,
  model: null,
  data: null,
  result: null,
  job: null,
  staged: [],
  messages: [],
  recent: [],
  view: initialView,
  lastExport: null,
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

/** Stable selectors. */
export const select = {
  dims: (s: State): Dims | null => dimsOf(s.result?.meta),
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
  useStore.setState((s) => {
    const dims = dimsOf(result.meta)!;
    const prevDims = dimsOf(s.result?.meta);
    let view = fitView(s.view, dims);
    const newModel = s.model?.file !== model.file || s.model?.format !== model.format;
    if (!sameDims(prevDims, dims) || newModel || view.pairs.length === 0) {
      // New shapes: show the most influential parameters first.
      const top = topPairs(result.summary, dims, 0, 3);
      view = { ...view, pairs: top, fixed: { ...view.fixed, k: top[0]?.k ?? 0, o: top[0]?.o ?? 0 } };
    }
    return { result, model, data, view, staged: [] };
  });
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
  const next = f(s.view, dims);
  if (next && next !== s.view) useStore.setState({ view: next });
}

export const viewActions = {
  setAxis: (which: 'x' | 'y', axis: Axis) => updateView((v) => withAxes(v, which, axis)),
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
  /** Show (o,k) in the heatmap's fixed indices and the line plot. */
  focusPair: (pair: Pair) =>
    updateView((v, d) => {
      let n = withFixed(v, d, 'o', pair.o);
      n = withFixed(n, d, 'k', pair.k);
      if (!n.pairs.some((p) => p.o === pair.o && p.k === pair.k)) n = togglePair(n, pair);
      return n;
    }),
};
