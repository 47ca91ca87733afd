/**
 * The variance-based tab's state and effects, in a store of its own: the distribution table (defaults from
 * the worker, edits, D.json in and out), N and the seed, the running job with progress and cancel, the
 * result, and which output and time step the bars show. Everything is computed in the worker.
 */
import { create } from 'zustand';
import { distProblem, distsJson } from '../lib/sobol-view';
import type { FromWorker } from '../worker/protocol';
import type { SobolDist, SobolExportWhat, SobolShown } from '../worker/sobol-protocol';
import { newRequestId, requestExport, save, send } from './engine-link';
import { addMessages, newMessageGroup, useStore } from './index';

export const DEFAULT_N = 1024;

export interface SobolState {
  /** The result (seq) and feature count the table is for. */
  seq: number | null;
  P: number;
  dists: SobolDist[] | null;
  /** Where the table came from ("Default: …", "From D.json."), with "edited" once changed by hand. */
  distNote: string;
  edited: boolean;
  /** Why a D.json was refused (the table stays as it was). */
  distError: string | null;
  N: number;
  seed: number;
  status: 'idle' | 'running' | 'done' | 'failed';
  id: number;
  done: number;
  total: number;
  startedAt: number;
  message: string | null;
  result: SobolShown | null;
  /** The output the bars and heatmap show, and the time step of the bars (−1: mean over time). */
  o: number;
  t: number;
}

const initial: SobolState = {
  seq: null,
  P: 0,
  dists: null,
  distNote: '',
  edited: false,
  distError: null,
  N: DEFAULT_N,
  seed: 0,
  status: 'idle',
  id: 0,
  done: 0,
  total: 0,
  startedAt: 0,
  message: null,
  result: null,
  o: 0,
  t: -1,
};

export const useSobol = create<SobolState>()(() => ({ ...initial }));

let distsId = 0;

/** Asks the worker for the default table of the current result, unless the table is for it already. */
export function ensureSobolDists(): void {
  const r = useStore.getState().result;
  const s = useSobol.getState();
  if (!r || (s.seq === r.meta.seq && s.dists)) return;
  distsId = newRequestId();
  send({ type: 'sobol-dists', id: distsId, seq: r.meta.seq });
}

/** A new result: what was computed is about the old one; the table stays if it was edited and still fits. */
function onNewResult(): void {
  const r = useStore.getState().result;
  const s = useSobol.getState();
  if (s.status === 'running') send({ type: 'sobol-cancel', id: s.id });
  const P = r?.meta.P ?? 0;
  const keep = s.edited && s.dists !== null && s.P === P;
  const O = r?.meta.O ?? 1;
  useSobol.setState({
    seq: keep ? (r?.meta.seq ?? null) : null,
    dists: keep ? s.dists : null,
    P,
    edited: keep,
    distError: null,
    status: 'idle',
    message: null,
    result: null,
    o: Math.min(s.o, O - 1),
    t: -1,
  });
  if (r && useStore.getState().view.tab === 'variance') ensureSobolDists();
}

useStore.subscribe((s, prev) => {
  if (s.result?.meta.seq !== prev.result?.meta.seq) onNewResult();
});

export function setSobolDist(k: number, d: SobolDist): void {
  const s = useSobol.getState();
  if (!s.dists || k < 0 || k >= s.dists.length) return;
  const dists = s.dists.slice();
  dists[k] = d;
  useSobol.setState({ dists, edited: true, distError: null });
}

/** Back to the defaults (uniform over the batch's range). */
export function resetSobolDists(): void {
  useSobol.setState({ seq: null, dists: null, edited: false, distError: null });
  ensureSobolDists();
}

/** A D.json's text (one entry per feature, checked in the worker); a refusal is one message in the tab. */
export function loadSobolDists(text: string, file: string): void {
  const r = useStore.getState().result;
  if (!r) return;
  distsId = newRequestId();
  send({ type: 'sobol-dists', id: distsId, seq: r.meta.seq, text, file });
}

export async function saveSobolDists(): Promise<void> {
  const d = useSobol.getState().dists;
  if (!d) return;
  try {
    await save('distributions.json', 'json', new TextEncoder().encode(distsJson(d)));
  } catch (e) {
    report(`save distributions: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The first problem of the table ("p3: low must be below high"), or null. */
export function tableProblem(dists: readonly SobolDist[] | null, names: readonly string[]): string | null {
  if (!dists) return 'the distributions are not ready';
  for (let k = 0; k < dists.length; k++) {
    const p = distProblem(dists[k]);
    if (p) return `${names[k] ?? `p${k}`}: ${p}`;
  }
  return null;
}

export function setSobolForm(patch: Partial<Pick<SobolState, 'N' | 'seed' | 'o' | 't'>>): void {
  useSobol.setState(patch);
}

export function runSobol(): void {
  const st = useStore.getState();
  const s = useSobol.getState();
  if (!st.result || !s.dists || s.status === 'running') return;
  if (tableProblem(s.dists, st.result.meta.pNames)) return;
  const id = newRequestId();
  useSobol.setState({
    status: 'running',
    id,
    done: 0,
    total: 0,
    startedAt: performance.now(),
    message: null,
  });
  send({
    type: 'sobol',
    id,
    seq: st.result.meta.seq,
    b: st.view.fixed.b,
    N: s.N,
    seed: s.seed,
    distributions: s.dists,
  });
}

export function cancelSobol(): void {
  const s = useSobol.getState();
  if (s.status === 'running') send({ type: 'sobol-cancel', id: s.id });
}

function report(text: string): void {
  addMessages([{ file: '', level: 'error', text }], newMessageGroup());
}

export async function exportSobol(what: SobolExportWhat): Promise<void> {
  try {
    const out = await requestExport({ type: 'export-sobol', what });
    await save(out.name, out.name.endsWith('.json') ? 'json' : 'csv', out.bytes);
  } catch (e) {
    report(`export: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Files the tab's answers from the worker; false for any other message. */
export function sobolMessage(m: FromWorker): boolean {
  switch (m.type) {
    case 'sobol-dists-result': {
      if (m.id !== distsId) return true;
      if (!m.distributions) {
        useSobol.setState({ distError: m.error ?? 'the distributions were refused' });
        return true;
      }
      const fromFile = !/^Default/.test(m.note);
      useSobol.setState({
        seq: m.seq,
        P: m.distributions.length,
        dists: m.distributions,
        distNote: m.note,
        edited: fromFile,
        distError: null,
      });
      return true;
    }
    case 'progress': {
      const s = useSobol.getState();
      if (s.status !== 'running' || s.id !== m.id) return false;
      useSobol.setState({ done: m.done, total: m.total });
      return true;
    }
    case 'sobol-result': {
      const s = useSobol.getState();
      if (m.id !== s.id || useStore.getState().result?.meta.seq !== m.seq) return true;
      const { type: _t, id: _i, ...result } = m;
      useSobol.setState({ status: 'done', result, message: null, o: Math.min(s.o, m.O - 1) });
      return true;
    }
    case 'sobol-failed': {
      const s = useSobol.getState();
      if (m.id !== s.id) return true;
      useSobol.setState({ status: 'failed', message: m.cancelled ? 'cancelled' : m.message });
      return true;
    }
    default:
      return false;
  }
}
