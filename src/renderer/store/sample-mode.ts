/**
 * Sample mode on the UI side: the result holds one sample's J; when the sample slider moves, the worker
 * computes the new sample's J (about as long as one what-if) and the views switch to it. One request in flight
 * at a time; moves that arrive meanwhile are folded into the next request, so a dragged slider never queues
 * samples it has already left.
 */
import type { FromWorker } from '../worker/protocol';
import { newRequestId, send } from './engine-link';
import { addMessages, newMessageGroup, setSample, useStore } from './index';
import type { State } from './index';

let inFlight: { id: number; seq: number; b: number } | null = null;

/** The sample the views should show, when it is not the one the result holds. */
function wanted(s: State): number | null {
  const r = s.result;
  if (!r || r.sampleB == null) return null;
  const b = s.view.fixed.b;
  return b === r.sampleB ? null : b;
}

function request(): void {
  const s = useStore.getState();
  const b = wanted(s);
  if (b === null || !s.result) return;
  if (inFlight) return;
  inFlight = { id: newRequestId(), seq: s.result.meta.seq, b };
  send({ type: 'sample', id: inFlight.id, seq: inFlight.seq, b });
}

/** Starts following the sample slider; returns the unsubscribe function. */
export function watchSamples(): () => void {
  return useStore.subscribe((s, prev) => {
    if (s.view.fixed.b !== prev.view.fixed.b || s.result !== prev.result) request();
  });
}

/** Files a sample answer in the store; false for other messages. */
export function sampleMessage(m: FromWorker): boolean {
  if (m.type === 'sample-result') {
    if (inFlight?.id !== m.id) return true;
    inFlight = null;
    const s = useStore.getState();
    if (s.result?.meta.seq === m.seq && s.result.sampleB != null) setSample(m.b, m.J, m.y, m.summary);
    request();
    return true;
  }
  if (m.type === 'analysis-failed' && inFlight?.id === m.id) {
    const b = inFlight.b;
    inFlight = null;
    if (!m.cancelled)
      addMessages([{ file: '', level: 'error', text: `sample ${b}: ${m.message}` }], newMessageGroup());
    return true;
  }
  return false;
}
