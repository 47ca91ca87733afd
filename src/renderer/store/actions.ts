/**
 * Effects: the engine worker and the host (files in, exports out). Every async path ends in a message to the
 * user, never in an unhandled rejection.
 */
import { startEngineWorker } from '../engine-client';
import type { Host, HostFile, HostOpenResult } from '../host';
import type { MenuCommand } from '../../preload/contract';
import type { BackendWant, DataExportWhat, ExportWhat, FromWorker, SliceSpec } from '../worker/protocol';
import { canvasFor } from './canvases';
import {
  connect,
  currentHost,
  isConnected,
  newRequestId,
  requestExport,
  save,
  send,
  settleExport,
} from './engine-link';
import { afterResult, exploreMessage } from './explore-actions';
import { sobolMessage } from './sobol';
import { sampleMessage, watchSamples } from './sample-mode';
import { relayRange } from './range-relay';
import {
  cancelStreamExport,
  exportWholeJStreamed,
  streamExportMessage,
  streamsWholeJ,
} from './stream-export';
import { MB } from '../lib/memory-budget';
import { addMessages, newMessageGroup, setResult, useStore } from './index';
import { rememberedChoices, showPicker } from './data-picker';
import { saveKindOf } from '../lib/save-kind';
import type { VarChoice } from '../worker/protocol';

interface JobContext {
  group: number;
  anchor?: { x: number; y: number };
}
const jobs = new Map<number, JobContext>();

function onWorker(m: FromWorker): void {
  if (
    relayRange(m) ||
    streamExportMessage(m) ||
    sampleMessage(m) ||
    sobolMessage(m) ||
    settleExport(m) ||
    exploreMessage(m)
  )
    return;
  switch (m.type) {
    case 'ready':
      useStore.setState({ backend: m.backend });
      return;
    case 'loaded': {
      const ctx = jobs.get(m.id);
      if (ctx) addMessages(m.messages, ctx.group, ctx.anchor);
      if (m.backendError) useStore.setState({ backendError: m.backendError });
      if (m.pick) showPicker(m.pick);
      if (m.computing) {
        useStore.setState((s) => (s.job?.id === m.id ? { job: { ...s.job, phase: 'computing' } } : s));
      } else {
        jobs.delete(m.id);
        useStore.setState((s) => ({ job: s.job?.id === m.id ? null : s.job, staged: m.staged }));
      }
      return;
    }
    case 'progress':
      useStore.setState((s) =>
        s.job?.id === m.id ? { job: { ...s.job, done: m.done, total: m.total } } : s,
      );
      return;
    case 'result': {
      const ctx = jobs.get(m.id);
      jobs.delete(m.id);
      setResult(
        {
          meta: m.meta,
          J: m.J,
          y: m.y,
          p: m.p,
          pRanges: m.pRanges,
          summary: m.summary,
          sampleB: m.sampleB,
        },
        m.model,
        m.data,
      );
      if (ctx) addMessages(m.messages, ctx.group, ctx.anchor);
      useStore.setState((s) => ({ job: s.job?.id === m.id ? null : s.job }));
      afterResult();
      return;
    }
    case 'cancelled':
    case 'failed': {
      const ctx = jobs.get(m.id);
      jobs.delete(m.id);
      addMessages(m.messages, ctx?.group ?? newMessageGroup(), ctx?.anchor);
      useStore.setState((s) => ({ job: s.job?.id === m.id ? null : s.job }));
      return;
    }
  }
}

function onCrash(text: string): void {
  addMessages([{ file: '', level: 'error', text: `engine: ${text}` }], newMessageGroup());
  useStore.setState({ job: null });
}

/**
 * A memory budget for the whole J given in the page's address (`?jBudgetMB=64`), in bytes; null when there is
 * none. The worker's own default comes from the device's memory.
 */
export function budgetFromAddress(search: string | undefined): number | null {
  const v = new URLSearchParams(search ?? '').get('jBudgetMB');
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) && n > 0 ? n * MB : null;
}

export function startApp(h: Host): () => void {
  if (!isConnected()) connect(startEngineWorker(onWorker, onCrash), h);
  const budget = budgetFromAddress(globalThis.location?.search);
  if (budget !== null) send({ type: 'memory-budget', bytes: budget });
  const offSamples = watchSamples();
  const id = newRequestId();
  jobs.set(id, { group: newMessageGroup() });
  useStore.setState({
    job: {
      id,
      label: 'built-in demo',
      phase: 'computing',
      startedAt: performance.now(),
      done: 0,
      total: 1,
      cancelling: false,
    },
  });
  send({ type: 'demo', id });
  const offOpened = h.onFilesOpened((r) => void openResult(r, undefined, 'File › Open'));
  const offMenu = h.onMenuCommand((c) => void runMenuCommand(c));
  void refreshRecent();
  return () => {
    offOpened();
    offMenu();
    offSamples();
  };
}

async function refreshRecent(): Promise<void> {
  const host = currentHost();
  if (!host?.recent) return;
  try {
    useStore.setState({ recent: await host.recent.list() });
  } catch {
    // The list is a convenience; failing to read it is not worth a message.
  }
}

function detachable(bytes: Uint8Array): ArrayBuffer {
  const buf = bytes.buffer as ArrayBuffer;
  return bytes.byteOffset === 0 && bytes.byteLength === buf.byteLength
    ? buf
    : (bytes.slice().buffer as ArrayBuffer);
}

/** Sends opened files to the worker; reports read failures at the drop point. */
export function loadFiles(
  files: HostFile[],
  failures: HostOpenResult['failures'],
  anchor?: { x: number; y: number },
  label?: string,
): void {
  const group = newMessageGroup();
  addMessages(
    failures.map((f) => ({ file: f.name, level: 'error' as const, text: `${f.name}: ${f.reason}` })),
    group,
    anchor,
  );
  if (!isConnected() || files.length === 0) return;
  const id = newRequestId();
  jobs.set(id, { group, anchor });
  const names = files.map((f) => f.name).join(', ');
  useStore.setState({
    job: {
      id,
      label: label ? `${label}: ${names}` : names,
      phase: 'reading',
      startedAt: performance.now(),
      done: 0,
      total: 1,
      cancelling: false,
    },
  });
  // Files opened by ranges go as a Blob (the worker reads it) or a path (main reads it, see range-relay.ts).
  const payload = files.map((f) =>
    f.blob
      ? { name: f.name, blob: f.blob }
      : f.remote
        ? { name: f.name, remote: f.remote }
        : { name: f.name, bytes: detachable(f.bytes) },
  );
  const choices = rememberedChoices(files.map((f) => f.name));
  send(
    { type: 'load', id, files: payload, choices },
    payload.flatMap((f) => (f.bytes ? [f.bytes] : [])),
  );
}

/** The variable picker's answer (null: leave the file out): the worker loads the waiting drop with it. */
export function answerPick(pickId: number, file: string, choice: VarChoice | null): void {
  if (!isConnected()) return;
  const id = newRequestId();
  jobs.set(id, { group: newMessageGroup() });
  useStore.setState({
    job: {
      id,
      label: file,
      phase: 'reading',
      startedAt: performance.now(),
      done: 0,
      total: 1,
      cancelling: false,
    },
  });
  send({ type: 'pick', id, pickId, file, choice });
}

async function openResult(
  r: HostOpenResult,
  anchor: { x: number; y: number } | undefined,
  label?: string,
): Promise<void> {
  if (r.cancelled) return;
  loadFiles(r.files, r.failures, anchor, label);
  await refreshRecent();
}

export async function dropFiles(files: File[], anchor: { x: number; y: number }): Promise<void> {
  const host = currentHost();
  if (!host) return;
  try {
    await openResult(await host.readDropped(files), anchor);
  } catch (e) {
    addMessages(
      [{ file: files.map((f) => f.name).join(', '), level: 'error', text: errorText(e) }],
      newMessageGroup(),
      anchor,
    );
  }
}

export async function openDialog(): Promise<void> {
  const host = currentHost();
  if (!host) return;
  try {
    await openResult(await host.openDialog(), undefined, 'open');
  } catch (e) {
    addMessages([{ file: '', level: 'error', text: `open: ${errorText(e)}` }], newMessageGroup());
  }
}

export async function openRecent(path: string): Promise<void> {
  const host = currentHost();
  if (!host?.recent) return;
  try {
    await openResult(await host.recent.open(path), undefined, 'recent');
  } catch (e) {
    addMessages([{ file: path, level: 'error', text: `${path}: ${errorText(e)}` }], newMessageGroup());
  }
}

const BACKEND_LABEL: Record<BackendWant, string> = { auto: 'auto', cpu: 'CPU', webgpu: 'WebGPU' };

/** Chooses where the batch is computed and recomputes the current result there (the worker queues it). */
export function chooseBackend(want: BackendWant): void {
  if (useStore.getState().backendChoice === want) return;
  useStore.setState({ backendChoice: want, backendError: null });
  if (!isConnected()) return;
  const id = newRequestId();
  jobs.set(id, { group: newMessageGroup() });
  useStore.setState({
    job: {
      id,
      label: `computing on ${BACKEND_LABEL[want]}`,
      phase: 'computing',
      startedAt: performance.now(),
      done: 0,
      total: 1,
      cancelling: false,
    },
  });
  send({ type: 'set-backend', id, want });
}

/** Differentiates the graph model with respect to another tensor argument and recomputes (the worker queues it). */
export function chooseWrt(wrt: string): void {
  const graph = useStore.getState().model?.graph;
  if (!graph || graph.wrt === wrt || !isConnected()) return;
  const id = newRequestId();
  jobs.set(id, { group: newMessageGroup() });
  useStore.setState({
    job: {
      id,
      label: `p = ${wrt}`,
      phase: 'computing',
      startedAt: performance.now(),
      done: 0,
      total: 1,
      cancelling: false,
    },
  });
  send({ type: 'set-wrt', id, wrt });
}

export function cancelJob(): void {
  const job = useStore.getState().job;
  if (!job || !isConnected()) return;
  useStore.setState({ job: { ...job, cancelling: true } });
  if (job.phase === 'exporting') cancelStreamExport(job.id);
  else send({ type: 'cancel' });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Exports J (the visible slice or all of it); the worker formats the bytes. A slice is what the heatmap
 * shows: with a what-if or a comparison on screen, the export carries it.
 */
export async function exportJ(what: ExportWhat): Promise<void> {
  const { view, result, display, whatIfShown, compareShown } = useStore.getState();
  if (!result) return;
  try {
    // Sample mode in the desktop app: the whole J is computed a chunk at a time and written to disk in parts.
    if (result.sampleB != null && what.startsWith('full-') && streamsWholeJ()) {
      if (what === 'full-npy' || what === 'full-csv' || what === 'full-h5' || what === 'full-mat') {
        await exportWholeJStreamed(what, result.meta.seq, result.meta.B);
        return;
      }
    }
    const slice: SliceSpec = { xAxis: view.xAxis, yAxis: view.yAxis, fixed: view.fixed };
    if (display?.kind === 'whatif' && whatIfShown) slice.whatIf = { b: whatIfShown.b, p: whatIfShown.p };
    if (display?.kind === 'compare' && compareShown)
      slice.compare = { b1: compareShown.b1, b2: compareShown.b2 };
    const out = await requestExport({ type: 'export', what, slice });
    await save(out.name, saveKindOf(out.name), out.bytes);
  } catch (e) {
    addMessages([{ file: '', level: 'error', text: `export: ${errorText(e)}` }], newMessageGroup());
  }
}

/** Exports y, x or p (see DataExportWhat): the current sample's, with y at the what-if values when shown. */
export async function exportData(what: DataExportWhat): Promise<void> {
  const { view, result, display, whatIfShown } = useStore.getState();
  if (!result) return;
  try {
    const whatIf =
      display?.kind === 'whatif' && whatIfShown ? { b: whatIfShown.b, p: whatIfShown.p } : undefined;
    const out = await requestExport({ type: 'export-data', what, b: view.fixed.b, whatIf });
    await save(out.name, saveKindOf(out.name), out.bytes);
  } catch (e) {
    addMessages([{ file: '', level: 'error', text: `export: ${errorText(e)}` }], newMessageGroup());
  }
}

/** Exports a drawn canvas ('heatmap', 'plot', 'summary') to PNG. */
export async function exportPng(which: string, name: string): Promise<void> {
  const canvas = canvasFor(which);
  if (!canvas) return;
  try {
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error('the picture could not be encoded');
    await save(name, 'png', new Uint8Array(await blob.arrayBuffer()));
  } catch (e) {
    addMessages([{ file: '', level: 'error', text: `export: ${errorText(e)}` }], newMessageGroup());
  }
}

export async function runMenuCommand(c: MenuCommand): Promise<void> {
  switch (c) {
    case 'export-slice-csv':
      return exportJ('slice-csv');
    case 'export-slice-npy':
      return exportJ('slice-npy');
    case 'export-full-npy':
      return exportJ('full-npy');
    case 'export-full-csv':
      return exportJ('full-csv');
    case 'export-slice-h5':
      return exportJ('slice-h5');
    case 'export-slice-mat':
      return exportJ('slice-mat');
    case 'export-full-h5':
      return exportJ('full-h5');
    case 'export-full-mat':
      return exportJ('full-mat');
    case 'export-heatmap-png':
      return exportPng('heatmap', 'heatmap.png');
    case 'export-plot-png':
      return exportPng('plot', 'line-plot.png');
  }
}
