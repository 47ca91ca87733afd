/**
 * Effects of the explore tools: live what-if, comparison of two samples, sweeps, global sensitivity and the
 * derivative check. All computing happens in the worker; this file sends requests, keeps stale ones from
 * piling up and files the answers in the store.
 */
import type { SaveKind } from '../../preload/contract';
import type { ExploreExportWhat, FromWorker } from '../worker/protocol';
import { newRequestId, requestExport, save, send } from './engine-link';
import { addMessages, newMessageGroup, patchState, sampleP, useStore, viewActions } from './index';
import type { State } from './index';

function report(text: string): void {
  addMessages([{ file: '', level: 'error', text }], newMessageGroup());
}

// ---- what-if ----

/**
 * One what-if request in flight at a time, and at most one waiting: slider moves that arrive while the
 * worker computes only update the values, and the newest values are sent when the answer comes back. So the
 * worker never works through a backlog of positions the slider has already left.
 */
let whatIfInFlight: number | null = null;
let whatIfWaiting = false;
/** The values each request carried (the store's values may have moved on by the time it is answered). */
const lastSent = new Map<number, number[]>();

function sendWhatIf(): void {
  const s = useStore.getState();
  if (!s.whatIf || !s.result) return;
  const id = newRequestId();
  whatIfInFlight = id;
  whatIfWaiting = false;
  lastSent.set(id, s.whatIf.p.slice());
  send({ type: 'whatif', id, seq: s.result.meta.seq, b: s.whatIf.b, p: s.whatIf.p });
  useStore.setState((st) => ({
    whatIfStats: { ...st.whatIfStats, sent: st.whatIfStats.sent + 1, busy: true },
  }));
}

function scheduleWhatIf(): void {
  if (whatIfInFlight !== null) whatIfWaiting = true;
  else sendWhatIf();
}

function whatIfAnswered(): void {
  whatIfInFlight = null;
  if (whatIfWaiting && useStore.getState().whatIf) sendWhatIf();
  else {
    whatIfWaiting = false;
    useStore.setState((st) => ({ whatIfStats: { ...st.whatIfStats, busy: false } }));
  }
}

function samePoint(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Sets the what-if value of p_k for the current sample and recomputes it in the worker. */
export function setWhatIfValue(k: number, value: number): void {
  if (!Number.isFinite(value)) return;
  const s = useStore.getState();
  if (!s.result || s.view.compare.on) return;
  const b = s.view.fixed.b;
  const loaded = sampleP(s.result, b);
  const p = (s.whatIf?.b === b ? s.whatIf.p : loaded).slice();
  p[k] = value;
  if (samePoint(p, loaded)) return resetWhatIf();
  patchState(() => ({ whatIf: { b, p } }));
  scheduleWhatIf();
}

/** Back to the loaded p: one feature (k) or all of them. */
export function resetWhatIf(k?: number): void {
  const s = useStore.getState();
  if (!s.result || !s.whatIf) return;
  if (k !== undefined) {
    const loaded = sampleP(s.result, s.whatIf.b);
    const p = s.whatIf.p.slice();
    p[k] = loaded[k];
    if (!samePoint(p, loaded)) {
      patchState(() => ({ whatIf: { b: s.whatIf!.b, p } }));
      scheduleWhatIf();
      return;
    }
  }
  whatIfWaiting = false;
  patchState(() => ({ whatIf: null, whatIfShown: null }));
}

// ---- comparison ----

let compareId = 0;

function requestCompare(): void {
  const s = useStore.getState();
  const c = s.view.compare;
  if (!s.result || !c.on) return;
  const have = s.compareShown;
  if (have && have.seq === s.result.meta.seq && have.b1 === c.b1 && have.b2 === c.b2) return;
  compareId = newRequestId();
  send({ type: 'compare', id: compareId, seq: s.result.meta.seq, b1: c.b1, b2: c.b2 });
}

/** Turns the comparison on/off or picks its two samples. */
export function setCompare(patch: Partial<State['view']['compare']>): void {
  viewActions.setCompare(patch);
  requestCompare();
}

// ---- sweep ----

/** The sweep's range: the form's, or the what-if slider's range of that feature. */
export function sweepRange(s: State): { lo: number; hi: number } | null {
  if (!s.result) return null;
  const f = s.view.sweep;
  const r = s.result.pRanges[f.k];
  return { lo: f.lo ?? r?.lo ?? -1, hi: f.hi ?? r?.hi ?? 1 };
}

/** The p the sweep starts from: the what-if values of the current sample, or its loaded p. */
export function sweepBase(s: State): number[] | null {
  if (!s.result) return null;
  const b = s.view.fixed.b;
  return s.whatIf?.b === b && !s.view.compare.on ? s.whatIf.p.slice() : sampleP(s.result, b);
}

export function runSweep(): void {
  const s = useStore.getState();
  const range = sweepRange(s);
  const base = sweepBase(s);
  if (!s.result || !range || !base) return;
  const f = s.view.sweep;
  const id = newRequestId();
  useStore.setState({ sweep: { ...s.sweep, status: 'running', id, done: 0, total: f.n, message: null } });
  send({
    type: 'sweep',
    id,
    seq: s.result.meta.seq,
    b: s.view.fixed.b,
    base,
    k: f.k,
    lo: range.lo,
    hi: range.hi,
    n: f.n,
    o: f.o,
    j: f.j,
  });
}

export function cancelSweep(): void {
  const s = useStore.getState();
  if (s.sweep.status === 'running') send({ type: 'cancel-analysis', id: s.sweep.id });
}

/** Which output and parameter the sweep pictures show; asks the worker for that picture. */
export function setSweepPicture(patch: { o?: number; j?: number }): void {
  viewActions.setSweepForm(patch);
  const s = useStore.getState();
  const r = s.sweep.result;
  if (!r) return;
  const { o, j } = s.view.sweep;
  if (s.sweep.slice?.o === o && s.sweep.slice.j === j) return;
  send({ type: 'sweep-slice', id: newRequestId(), sweepId: r.id, o, j });
}

// ---- global sensitivity and the derivative check ----

let gsaId = 0;
let checkId = 0;

/** Computes the global sensitivity of the current result unless it is there or on its way. */
export function ensureSensitivity(): void {
  const s = useStore.getState();
  if (!s.result) return;
  const seq = s.result.meta.seq;
  if (s.gsa.result?.seq === seq || s.gsa.status === 'running') return;
  gsaId = newRequestId();
  useStore.setState({ gsa: { ...s.gsa, status: 'running', message: null, done: 0, total: 0 } });
  send({ type: 'sensitivity', id: gsaId, seq });
}

/** Stops a streamed global sensitivity (sample mode). */
export function cancelSensitivity(): void {
  if (useStore.getState().gsa.status === 'running') send({ type: 'cancel-analysis', id: gsaId });
}

/** Finite differences on the current sample, at the what-if values when the sliders have moved. */
export function runCheck(): void {
  const s = useStore.getState();
  if (!s.result) return;
  const b = s.view.fixed.b;
  checkId = newRequestId();
  useStore.setState({ check: { ...s.check, status: 'running', message: null } });
  const p = s.whatIf?.b === b && !s.view.compare.on ? s.whatIf.p : undefined;
  send({ type: 'check', id: checkId, seq: s.result.meta.seq, b, p });
}

/** After a new result: what was on screen is asked for again about the new data. */
export function afterResult(): void {
  whatIfWaiting = false;
  requestCompare();
  if (useStore.getState().view.tab === 'sensitivity') ensureSensitivity();
}

// ---- exports ----

export async function exportExplore(
  what: ExploreExportWhat,
  o: number,
  j: number,
  measure?: State['view']['gsa']['measure'],
): Promise<void> {
  try {
    const out = await requestExport({ type: 'export-explore', what, o, j, measure });
    const kind: SaveKind = out.name.endsWith('.csv') ? 'csv' : 'npy';
    await save(out.name, kind, out.bytes);
  } catch (e) {
    report(`export: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---- answers from the worker ----

/** Files an explore answer in the store; false for messages that are not one. */
export function exploreMessage(m: FromWorker): boolean {
  switch (m.type) {
    case 'whatif-result': {
      const s = useStore.getState();
      // Shown only while the what-if is still about this sample of this result (not reset meanwhile).
      if (s.whatIf && s.whatIf.b === m.b && s.result?.meta.seq === m.seq && m.id === whatIfInFlight) {
        const p = lastSent.get(m.id) ?? s.whatIf.p;
        patchState((st) => ({
          whatIfShown: { id: m.id, b: m.b, p, y: m.y, J: m.J, summary: m.summary, ms: m.ms },
          whatIfStats: { ...st.whatIfStats, shown: st.whatIfStats.shown + 1 },
        }));
      }
      lastSent.delete(m.id);
      if (m.id === whatIfInFlight) whatIfAnswered();
      return true;
    }
    case 'compare-result': {
      const s = useStore.getState();
      if (m.id !== compareId || s.result?.meta.seq !== m.seq) return true;
      patchState(() => ({
        compareShown: { seq: m.seq, b1: m.b1, b2: m.b2, y: m.y, J: m.J, summary: m.summary },
      }));
      return true;
    }
    case 'progress': {
      const s = useStore.getState();
      if (m.id === gsaId && s.gsa.status === 'running') {
        useStore.setState({ gsa: { ...s.gsa, done: m.done, total: m.total } });
        return true;
      }
      if (s.sweep.status !== 'running' || s.sweep.id !== m.id) return false;
      useStore.setState({ sweep: { ...s.sweep, done: m.done, total: m.total } });
      return true;
    }
    case 'sweep-result': {
      const s = useStore.getState();
      if (s.sweep.id !== m.id || s.result?.meta.seq !== m.seq) return true;
      const { values, ms, b, k, base, seq } = m;
      useStore.setState({
        sweep: {
          ...s.sweep,
          status: 'done',
          result: { id: m.id, seq, b, k, base, values, ms },
          slice: m.slice,
        },
      });
      return true;
    }
    case 'sweep-slice-result': {
      const s = useStore.getState();
      if (s.sweep.result?.id !== m.sweepId) return true;
      useStore.setState({ sweep: { ...s.sweep, slice: m.slice } });
      return true;
    }
    case 'sensitivity-result': {
      if (m.id !== gsaId) return true;
      const { seq, nu, nuT, index, elasticity, yFloor, ms, streamed, jAbsMax } = m;
      useStore.setState({
        gsa: {
          status: 'done',
          message: null,
          result: { seq, nu, nuT, index, elasticity, yFloor, ms, streamed, jAbsMax },
        },
      });
      return true;
    }
    case 'check-result': {
      if (m.id !== checkId) return true;
      const { type: _t, id: _i, ...result } = m;
      useStore.setState({ check: { status: 'done', message: null, result } });
      return true;
    }
    case 'analysis-failed':
      failedAnalysis(m.id, m.message, m.cancelled);
      return true;
    default:
      return false;
  }
}

function failedAnalysis(id: number, message: string, cancelled: boolean): void {
  const s = useStore.getState();
  if (id === whatIfInFlight) {
    lastSent.delete(id);
    if (!cancelled) report(`what-if: ${message}`);
    whatIfAnswered();
  } else if (id === s.sweep.id && s.sweep.status === 'running') {
    useStore.setState({
      sweep: { ...s.sweep, status: 'failed', message: cancelled ? 'sweep cancelled' : message },
    });
  } else if (id === gsaId) {
    useStore.setState({ gsa: { ...s.gsa, status: 'failed', message } });
  } else if (id === checkId) {
    useStore.setState({ check: { ...s.check, status: 'failed', message } });
  } else if (id === compareId && !cancelled) {
    report(`compare: ${message}`);
  }
}
