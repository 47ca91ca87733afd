/** Helper threads for the parallel CPU backend in the app: Web Workers started from the engine worker. */
import type { PoolWorker } from '../../engine';

export function webPoolWorker(): PoolWorker {
  const w = new Worker(new URL('./cpu-helper.worker.ts', import.meta.url), { type: 'module' });
  return {
    post: (msg, transfer) => w.postMessage(msg, transfer ?? []),
    onMessage: (cb) => w.addEventListener('message', (ev: MessageEvent) => cb(ev.data)),
    onError: (cb) =>
      w.addEventListener('error', (ev: ErrorEvent) => cb(ev.message || 'the helper thread failed')),
    terminate: () => w.terminate(),
  };
}

/** Threads in all (the engine worker is one): the cores the browser reports, at most 16. */
export function webThreads(): number {
  return Math.max(1, Math.min(16, globalThis.navigator?.hardwareConcurrency ?? 1));
}
