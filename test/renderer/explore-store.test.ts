// The store's side of the explore tools, with a fake worker: what-if requests never pile up (one in flight,
// the newest values waiting), answers land in the display, resets and other samples drop what-ifs, and a
// comparison shows one sample's worth.
import { beforeEach, describe, expect, it } from 'vitest';
import type { EngineClient } from '../../src/renderer/engine-client';
import type { Host } from '../../src/renderer/host';
import { computeSummary } from '../../src/renderer/lib/summary';
import { patchState, setResult, useStore, viewActions } from '../../src/renderer/store';
import { connect } from '../../src/renderer/store/engine-link';
import {
  exploreMessage,
  resetWhatIf,
  setCompare,
  setWhatIfValue,
} from '../../src/renderer/store/explore-actions';
import { initialView } from '../../src/renderer/store/view';
import type { DataInfo, ModelInfo, ToWorker } from '../../src/renderer/worker/protocol';

const dims = { B: 3, T: 4, O: 2, P: 3 };
const TOP = dims.T * dims.O * dims.P;
const sent: ToWorker[] = [];
const fake: EngineClient = { send: (m) => void sent.push(m) };
connect(fake, {} as Host);

function load(seq = 1): void {
  const J = Float64Array.from({ length: dims.B * TOP }, (_, i) => i);
  const y = Float64Array.from({ length: dims.B * dims.T * dims.O }, (_, i) => -i);
  const p = Float64Array.from({ length: dims.B * dims.P }, (_, i) => i / 10);
  const meta = {
    ...dims,
    yShape: [dims.B, dims.T, dims.O],
    timeAxis: true,
    backend: 'cpu',
    backendKind: 'cpu' as const,
    backendWant: 'auto' as const,
    ms: 1,
    yNames: ['u', 'v'],
    pNames: ['a', 'b', 'c'],
    seq,
  };
  const pRanges = Array.from({ length: dims.P }, () => ({ lo: -1, hi: 1, spread: true }));
  setResult({ meta, J, y, p, pRanges, summary: computeSummary(J, dims) }, {} as ModelInfo, {} as DataInfo);
}

function answerWhatIf(m: ToWorker, fill: number): void {
  if (m.type !== 'whatif') throw new Error(`expected a what-if request, got ${m.type}`);
  const J = new Float64Array(TOP).fill(fill);
  exploreMessage({
    type: 'whatif-result',
    id: m.id,
    seq: m.seq,
    b: m.b,
    y: new Float64Array(dims.T * dims.O).fill(fill),
    J,
    summary: computeSummary(J, { ...dims, B: 1 }),
    ms: 1,
  });
}

beforeEach(() => {
  sent.length = 0;
  patchState(() => ({ view: initialView, whatIf: null, whatIfShown: null, compareShown: null }));
  load();
  sent.length = 0;
});

describe('what-if in the store', () => {
  it('keeps one request in flight and sends only the newest values after it', () => {
    setWhatIfValue(1, 0.5);
    setWhatIfValue(1, 0.6);
    setWhatIfValue(2, 0.7);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ type: 'whatif', b: 0, p: [0, 0.5, 0.2] });
    expect(useStore.getState().display?.kind).toBe('data');
    answerWhatIf(sent[0], 9);
    // The first answer shows at once; the newest values go out next.
    expect(useStore.getState().display?.kind).toBe('whatif');
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ type: 'whatif', p: [0, 0.6, 0.7] });
    answerWhatIf(sent[1], 7);
    const s = useStore.getState();
    expect(s.whatIfShown?.p).toEqual([0, 0.6, 0.7]);
    expect(s.whatIfStats.busy).toBe(false);
    // The shown sample is the what-if; the others are the data.
    const src = s.display!.src;
    expect(src.jBlock(0).data[0]).toBe(7);
    expect(src.jBlock(1).data[src.jBlock(1).off]).toBe(TOP);
    expect(s.display!.original!.jBlock(0).data[0]).toBe(0);
  });

  it('drops a what-if on reset, on moving back to the loaded values, and on choosing another sample', () => {
    setWhatIfValue(0, 0.9);
    answerWhatIf(sent[0], 1);
    expect(useStore.getState().display?.kind).toBe('whatif');
    resetWhatIf();
    expect(useStore.getState().display?.kind).toBe('data');
    expect(useStore.getState().whatIf).toBeNull();

    setWhatIfValue(0, 0.9);
    const inFlight = sent[sent.length - 1];
    setWhatIfValue(0, 0); // the loaded value: nothing is changed any more
    answerWhatIf(inFlight, 1); // a late answer is not shown
    expect(useStore.getState().display?.kind).toBe('data');

    setWhatIfValue(2, -0.5);
    answerWhatIf(sent[sent.length - 1], 2);
    viewActions.setFixed('b', 1);
    expect(useStore.getState().whatIf).toBeNull();
    expect(useStore.getState().display?.kind).toBe('data');
  });

  it('compares two samples: no sample axis, one sample’s worth shown, what-if off', () => {
    viewActions.setAxis('y', 'b');
    setWhatIfValue(0, 0.9);
    answerWhatIf(sent[sent.length - 1], 1);
    setCompare({ on: true, b1: 2, b2: 0 });
    let s = useStore.getState();
    expect(s.view.yAxis).not.toBe('b');
    expect(s.whatIf).toBeNull();
    const req = sent[sent.length - 1];
    expect(req).toMatchObject({ type: 'compare', b1: 2, b2: 0, seq: 1 });
    if (req.type !== 'compare') return;
    const D = new Float64Array(TOP).fill(2 * TOP);
    exploreMessage({
      type: 'compare-result',
      id: req.id,
      seq: 1,
      b1: 2,
      b2: 0,
      J: D,
      y: new Float64Array(dims.T * dims.O),
      summary: computeSummary(D, { ...dims, B: 1 }),
    });
    s = useStore.getState();
    expect(s.display?.kind).toBe('compare');
    expect(s.display?.dims.B).toBe(1);
    expect(s.display?.label).toBe('J[b=2] − J[b=0]');
    setWhatIfValue(0, 0.3); // ignored while comparing
    expect(useStore.getState().whatIf).toBeNull();
    setCompare({ on: false });
    expect(useStore.getState().display?.kind).toBe('data');
  });

  it('forgets explorations when new data arrives', () => {
    setWhatIfValue(0, 0.9);
    answerWhatIf(sent[0], 1);
    load(2);
    const s = useStore.getState();
    expect(s.whatIf).toBeNull();
    expect(s.display?.kind).toBe('data');
    expect(s.sweep.result).toBeNull();
  });
});
