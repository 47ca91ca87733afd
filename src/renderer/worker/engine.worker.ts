/**
 * The engine worker: the only place the app runs the engine (readers, model, Jacobian). The UI thread sends
 * file bytes and view specs; this worker answers with results (J as a transferable Float64Array) and export bytes.
 */
import { createEngineAdapter, writeNpy } from './engine-adapter';
import { exportBytes } from './exports';
import { Session } from './session';
import type { LoadOutcome } from './session';
import type { FileMessage, FromWorker, ToWorker } from './protocol';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<ToWorker>) => void) | null;
}
const scope = self as unknown as WorkerScope;

const engine = createEngineAdapter();
const session = new Session(engine);
let running: AbortController | null = null;
let queue: Promise<void> = Promise.resolve();

function post(message: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(message, transfer);
}

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

function report(id: number, outcome: LoadOutcome): void {
  if (outcome.kind === 'computed') {
    const r = outcome.result;
    const J = r.J.slice();
    const y = r.y.slice();
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
        summary,
        messages: outcome.messages,
      },
      [J.buffer, y.buffer, summary.l2.buffer, summary.maxAbs.buffer, summary.argT.buffer],
    );
  } else if (outcome.kind === 'cancelled') post({ type: 'cancelled', id, messages: outcome.messages });
  else post({ type: 'loaded', id, messages: outcome.messages, computing: false, staged: outcome.staged });
}

async function run(msg: Extract<ToWorker, { type: 'demo' | 'load' }>): Promise<void> {
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
        : await session.load(
            msg.files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.bytes) })),
            hooks,
          );
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

scope.onmessage = (ev) => {
  const msg = ev.data;
  switch (msg.type) {
    case 'cancel':
      running?.abort();
      return;
    case 'demo':
    case 'load':
      queue = queue.then(() => run(msg));
      return;
    case 'export': {
      try {
        const out = exportBytes(session.result, msg, { writeNpy });
        post({ type: 'exported', id: msg.id, name: out.name, bytes: out.bytes }, [
          out.bytes.buffer as ArrayBuffer,
        ]);
      } catch (e) {
        post({ type: 'export-failed', id: msg.id, message: engine.describeError(e) });
      }
      return;
    }
  }
};

post({ type: 'ready', backend: engine.backend });
