/**
 * Helper threads for the parallel CPU backend in Node (worker_threads). Kept out of src/engine,
 * which stays free of Node APIs; the engine gets them as PoolWorkers.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PoolWorker } from '../engine/backends/cpu/pool-protocol';

export function nodePoolWorker(): PoolWorker {
  const w = new Worker(new URL('./cpu-pool-worker.mjs', import.meta.url));
  let terminated = false;
  return {
    post: (msg, transfer) => w.postMessage(msg, transfer),
    onMessage: (cb) => w.on('message', cb),
    onError: (cb) => {
      w.on('error', (e) => cb(e.message));
      w.on('exit', (code) => terminated || cb(`the thread exited (code ${code})`));
    },
    terminate: () => {
      terminated = true;
      void w.terminate();
    },
  };
}

/** Every core the process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}
