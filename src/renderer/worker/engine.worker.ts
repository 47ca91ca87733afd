/**
 * The engine worker: the only place the app runs the engine (readers, model, Jacobian). The UI thread sends
 * file bytes and view specs; this worker answers with results (J as a transferable Float64Array) and export bytes.
 */
import { analysisFns, createEngineAdapter, writeNpy } from './engine-adapter';
import { Explorer, StaleError } from './explore';
import { exploreExportBytes } from './explore-exports';
import { dataExportBytes } from './data-exports';
import { exportBytes } from './exports';
import { Session } from './session';
import { PendingPick, loadWithPicks } from './pick-pending';
import { arrayFormatOf, prepareArrayFormat, writeArrays } from './array-files';
import { hdf5Loaded } from '../../engine/io/hdf5';
import { SobolHandler } from './sobol-handler';
import { StreamExports } from './stream-export-handler';
import { RangeRequests } from './input-files';
import { withRows } from './row-requests';
import { webPoolWorker, webThreads } from './web-pool';
import type { LoadOutcome } from './session';
import type { FileMessage, FromWorker, ToWorker } from './protocol';
import { deviceBudget, isOutOfMemory, outOfMemoryText } from '../lib/memory-budget';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

// Helper threads for CPU batches: the cores the browser reports (Web Workers started on demand).
const engine = createEngineAdapter({ threads: { spawn: webPoolWorker, count: webThreads() } });
// The memory budget for the whole J: from the device's memory where the browser says (the UI may set another).
const deviceMemory = (self as unknown as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory;
const session = new Session(engine, { jBudgetBytes: deviceBudget(deviceMemory) });
const explorer = new Explorer(session, analysisFns);
/** A drop waiting for the variable picker's answer. */
const pendingPick = new PendingPick();
let running: AbortController | null = null;
/** Running sweeps by request id (a new sweep cancels the one before). */
const analyses = new Map<number, AbortController>();
let queue: Promise<void> = Promise.resolve();

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

/** Files read by ranges: Blobs, or ranges main reads (through the UI thread). */
const ranges = new RangeRequests(post);

/** The variance-based tab's runs, cancels and exports. */
const sobol = new SobolHandler(session, post, engine);

function progressReporter(id: number): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done === total || now - last > 50) {
      last = now;
      post({ type: 'progress', id, done, total });
    }
  };
}

/** Exports of the whole J written in parts (desktop app, sample mode). */
const streamExports = new StreamExports(session, post, progressReporter, (e) => engine.describeError(e));

function report(id: number, outcome: LoadOutcome): void {
  if (outcome.kind === 'computed') {
    const r = outcome.result;
    const J = r.J.slice();
    const y = r.y.slice();
    const p = r.p.slice();
    const summary = {
      l2: r.summary.l2.slice(),
      maxAbs: r.summary.maxAbs.slice(),
      argT: r.summary.argT.slice(),
      globalMaxAbs: r.summary.globalMaxAbs,
    };
    post(
      {
        type: 'result',
        id,
        model: r.model,
        data: r.data,
        meta: r.meta,
        J,
        y,
        p,
        pRanges: r.pRanges,
        summary,
        sampleB: r.sampleB,
        messages: outcome.messages,
      },
      [J.buffer, y.buffer, p.buffer, summary.l2.buffer, summary.maxAbs.buffer, summary.argT.buffer],
    );
  } else if (outcome.kind === 'cancelled') post({ type: 'cancelled', id, messages: outcome.messages });
  else if (outcome.kind === 'pick')
    post({
      type: 'loaded',
      id,
      messages: outcome.messages,
      computing: false,
      staged: outcome.staged,
      pick: { ...outcome.pick, pickId: id },
    });
  else
    post({
      type: 'loaded',
      id,
      messages: outcome.messages,
      computing: false,
      staged: outcome.staged,
      backendError: outcome.backendError,
    });
}

async function run(
  msg: Extract<ToWorker, { type: 'demo' | 'load' | 'pick' | 'set-backend' | 'set-wrt' }>,
): Promise<void> {
  const controller = new AbortController();
  running = controller;
  const hooks = {
    signal: controller.signal,
    onProgress: progressReporter(msg.id),
    onComputing: (messages: FileMessage[]) =>
      post({ type: 'loaded', id: msg.id, messages, computing: true, staged: [] }),
  };
  try {
    const outcome =
      msg.type === 'demo'
        ? await session.demo(hooks)
        : msg.type === 'set-backend'
          ? await session.setBackend(msg.want, hooks)
          : msg.type === 'set-wrt'
            ? await session.setWrt(msg.wrt, hooks)
            : await loadWithPicks(session, pendingPick, msg, hooks, (f) => ranges.readerOf(f));
    report(msg.id, outcome);
  } catch (e) {
    post({
      type: 'failed',
      id: msg.id,
      messages: [{ file: '', level: 'error', text: engine.describeError(e) }],
    });
  } finally {
    if (running === controller) running = null;
  }
}

/** .npy, and .h5/.mat (array-files.ts) for the exports of J, its slices and y. */
const writers = { writeNpy, writeArrays };

/**
 * Builds an export and posts its bytes (or why it failed). An .h5 export waits for the HDF5 library the first
 * time; every other export is built at once from the current result.
 */
function answerExport(id: number, what: string, build: () => { name: string; bytes: Uint8Array }): void {
  const go = () => {
    try {
      const out = build();
      post({ type: 'exported', id, name: out.name, bytes: out.bytes }, [out.bytes.buffer as ArrayBuffer]);
    } catch (e) {
      post({ type: 'export-failed', id, message: engine.describeError(e) });
    }
  };
  if (arrayFormatOf(what) !== 'h5' || hdf5Loaded()) return go();
  prepareArrayFormat(what).then(go, (e: unknown) =>
    post({ type: 'export-failed', id, message: `the HDF5 library did not load: ${engine.describeError(e)}` }),
  );
}

function failed(id: number, e: unknown, what = 'this'): void {
  // A question about data that has since been replaced is moot, not an error to show.
  const cancelled = engine.isCancelled(e) || e instanceof StaleError;
  post({
    type: 'analysis-failed',
    id,
    cancelled,
    message: cancelled
      ? 'cancelled'
      : isOutOfMemory(e)
        ? `${outOfMemoryText(what)}; the loaded data stays`
        : engine.describeError(e),
  });
}

function summaryPayload(s: {
  l2: Float64Array;
  maxAbs: Float64Array;
  argT: Int32Array;
  globalMaxAbs: number;
}) {
  return { l2: s.l2, maxAbs: s.maxAbs, argT: s.argT, globalMaxAbs: s.globalMaxAbs };
}

/**
 * What-if requests: only the newest waiting one is computed. The UI keeps one in flight, so this matters
 * only when messages pile up behind other work (a sweep's chunk); a superseded request is answered as such.
 */
let pendingWhatIf: Extract<ToWorker, { type: 'whatif' }> | null = null;
const drainChannel = new MessageChannel();
drainChannel.port1.onmessage = () => {
  const m = pendingWhatIf;
  pendingWhatIf = null;
  if (!m) return;
  try {
    const r = explorer.whatIf(m.seq, m.b, m.p);
    const summary = summaryPayload(r.summary);
    // y and J are the explorer's reused buffers: copied out and the copies transferred. The explorer recomputes
    // the rare export or check at a what-if point instead of keeping a copy.
    const J = r.J.slice();
    const y = r.y.slice();
    post({ type: 'whatif-result', id: m.id, seq: m.seq, b: m.b, y, J, summary, ms: r.ms }, [
      J.buffer,
      y.buffer,
      summary.l2.buffer,
      summary.maxAbs.buffer,
      summary.argT.buffer,
    ]);
  } catch (e) {
    failed(m.id, e);
  }
};

/** The running sweeps' ids (a new sweep cancels them; a streamed sensitivity runs on). */
const sweeps = new Set<number>();

async function runSweep(m: Extract<ToWorker, { type: 'sweep' }>): Promise<void> {
  for (const id of sweeps) analyses.get(id)?.abort();
  const controller = new AbortController();
  analyses.set(m.id, controller);
  sweeps.add(m.id);
  try {
    const r = await explorer.sweep(m, { signal: controller.signal, onProgress: progressReporter(m.id) });
    post(
      {
        type: 'sweep-result',
        id: m.id,
        seq: m.seq,
        b: m.b,
        k: m.k,
        base: m.base,
        values: r.values.slice(),
        ms: r.ms,
        slice: r.slice,
      },
      [r.slice.y.buffer, r.slice.J.buffer],
    );
  } catch (e) {
    if (controller.signal.aborted)
      post({ type: 'analysis-failed', id: m.id, cancelled: true, message: 'cancelled' });
    else failed(m.id, e);
  } finally {
    analyses.delete(m.id);
    sweeps.delete(m.id);
  }
}

/** Global sensitivity: from the whole J at once, or streamed over the samples (progress, cancel) in sample mode. */
async function runSensitivity(m: Extract<ToWorker, { type: 'sensitivity' }>): Promise<void> {
  const controller = new AbortController();
  analyses.set(m.id, controller);
  try {
    const t0 = performance.now();
    const g = await explorer.sensitivityOf(m.seq, {
      signal: controller.signal,
      onProgress: progressReporter(m.id),
    });
    // Copies: the worker keeps its own for exports.
    const nu = g.nu.slice();
    const nuT = g.nuT.slice();
    const index = g.index ? g.index.slice() : null;
    const elasticity = g.elasticity.slice();
    const transfer = [nu.buffer, nuT.buffer, elasticity.buffer, ...(index ? [index.buffer] : [])];
    post(
      {
        type: 'sensitivity-result',
        id: m.id,
        seq: m.seq,
        nu,
        nuT,
        index,
        elasticity,
        yFloor: g.yFloor,
        ms: performance.now() - t0,
        streamed: g.streamed,
        jAbsMax: 'jAbsMax' in g && typeof g.jAbsMax === 'number' ? g.jAbsMax : undefined,
      },
      transfer,
    );
  } catch (e) {
    if (controller.signal.aborted)
      post({ type: 'analysis-failed', id: m.id, cancelled: true, message: 'cancelled' });
    else failed(m.id, e, 'the global sensitivity');
  } finally {
    analyses.delete(m.id);
  }
}

/** Answers an analysis request; returns false for messages that are not one. */
function analysis(msg: ToWorker): boolean {
  switch (msg.type) {
    case 'whatif':
      if (pendingWhatIf)
        post({ type: 'analysis-failed', id: pendingWhatIf.id, cancelled: true, message: 'superseded' });
      pendingWhatIf = msg;
      drainChannel.port2.postMessage(null);
      return true;
    case 'compare':
      try {
        const r = explorer.compare(msg.seq, msg.b1, msg.b2);
        const J = r.J.slice();
        const y = r.y.slice();
        const summary = summaryPayload(r.summary);
        post({ type: 'compare-result', id: msg.id, seq: msg.seq, b1: msg.b1, b2: msg.b2, J, y, summary }, [
          J.buffer,
          y.buffer,
        ]);
      } catch (e) {
        failed(msg.id, e);
      }
      return true;
    case 'sweep':
      void runSweep(msg);
      return true;
    case 'sweep-slice':
      try {
        const slice = explorer.sweepSlice(msg.sweepId, msg.o, msg.j);
        post({ type: 'sweep-slice-result', id: msg.id, sweepId: msg.sweepId, slice }, [
          slice.y.buffer,
          slice.J.buffer,
        ]);
      } catch (e) {
        failed(msg.id, e);
      }
      return true;
    case 'sample':
      try {
        const r = explorer.sampleView(msg.seq, msg.b);
        const summary = summaryPayload(r.summary);
        post(
          { type: 'sample-result', id: msg.id, seq: msg.seq, b: msg.b, y: r.y, J: r.J, summary, ms: r.ms },
          [r.J.buffer, r.y.buffer, summary.l2.buffer, summary.maxAbs.buffer, summary.argT.buffer],
        );
      } catch (e) {
        failed(msg.id, e, `J of sample ${msg.b}`);
      }
      return true;
    case 'memory-budget':
      session.setJBudget(msg.bytes);
      return true;
    case 'sensitivity':
      void runSensitivity(msg);
      return true;
    case 'check':
      try {
        const r = explorer.check(msg.seq, msg.b, msg.p);
        post({ type: 'check-result', id: msg.id, seq: msg.seq, b: msg.b, ...r }, [r.errorMap.buffer]);
      } catch (e) {
        failed(msg.id, e);
      }
      return true;
    case 'cancel-analysis':
      analyses.get(msg.id)?.abort();
      return true;
    case 'export-data':
      answerExport(msg.id, msg.what, () => {
        const w = msg.whatIf ? explorer.shownSource(undefined, { whatIf: msg.whatIf }) : undefined;
        const shown = w && msg.whatIf ? { source: w.source, whatIfB: msg.whatIf.b } : undefined;
        const x = session.activeInputs()?.xRows ?? null;
        return dataExportBytes(session.result, x, msg, writers, shown);
      });
      return true;
    case 'export-explore':
      try {
        const out = exploreExportBytes(explorer, session.result, msg, { writeNpy });
        post({ type: 'exported', id: msg.id, name: out.name, bytes: out.bytes }, [
          out.bytes.buffer as ArrayBuffer,
        ]);
      } catch (e) {
        post({ type: 'export-failed', id: msg.id, message: engine.describeError(e) });
      }
      return true;
    default:
      return false;
  }
}

scope.onmessage = (ev) => {
  const msg = ev.data;
  if (ranges.handle(msg)) return;
  // x read lazily: the rows of the samples a request computes with are read from disk first.
  withRows(
    session.activeInputs()?.xRows,
    msg,
    () => dispatch(msg),
    (id, e) =>
      msg.type === 'export-data'
        ? post({ type: 'export-failed', id, message: engine.describeError(e) })
        : failed(id, e),
  );
};

function dispatch(msg: ToWorker): void {
  if (sobol.handle(msg) || streamExports.handle(msg) || analysis(msg)) return;
  switch (msg.type) {
    case 'cancel':
      running?.abort();
      return;
    case 'demo':
    case 'load':
    case 'pick':
    case 'set-backend':
    case 'set-wrt':
      queue = queue.then(() => run(msg));
      return;
    case 'export': {
      answerExport(msg.id, msg.what, () => {
        const shown = msg.slice ? explorer.shownSource(undefined, msg.slice) : undefined;
        return exportBytes(session.result, msg, writers, shown);
      });
      return;
    }
  }
}

post({ type: 'ready', backend: engine.backend });
