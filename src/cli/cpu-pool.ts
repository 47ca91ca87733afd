/**
 * Helper threads for the parallel CPU backend in Node (worker_threads). Kept out of src/engine,
 * which stays free of Node APIs; the engine gets them as PoolWorkers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PoolReply, PoolRequest, PoolWorker } from '../engine/backends/cpu/pool-protocol';

let bundle: Promise<URL | null> | undefined;

/**
 * The helper thread's code as one plain-JavaScript file, bundled by esbuild once per process into
 * a temporary folder: a thread then starts in about 50 ms, where compiling the sources through
 * tsx (the fallback, cpu-pool-worker.mjs) takes about 500 ms of CPU per thread.
 */
function helperBundle(): Promise<URL | null> {
  bundle ??= (async () => {
    try {
      const { build } = await import('esbuild');
      const dir = mkdtempSync(join(tmpdir(), 'jacscope-threads-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      const outfile = join(dir, 'cpu-pool-thread.mjs');
      await build({
        entryPoints: [fileURLToPath(new URL('./cpu-pool-thread.ts', import.meta.url))],
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        outfile,
        logLevel: 'silent',
      });
      return pathToFileURL(outfile);
    } catch {
      return null;
    }
  })();
  return bundle;
}

/** A helper thread; messages posted before it exists (the model's init) wait for it. */
export function nodePoolWorker(): PoolWorker {
  const waiting: [PoolRequest, ArrayBuffer[] | undefined][] = [];
  const onMessage: ((m: PoolReply) => void)[] = [];
  const onError: ((m: string) => void)[] = [];
  let worker: Worker | undefined;
  let terminated = false;
  void helperBundle().then((url) => {
    if (terminated) return;
    try {
      worker = new Worker(url ?? new URL('./cpu-pool-worker.mjs', import.meta.url));
    } catch (e) {
      for (const cb of onError) cb(e instanceof Error ? e.message : String(e));
      return;
    }
    worker.on('message', (m: PoolReply) => onMessage.forEach((cb) => cb(m)));
    worker.on('error', (e) => onError.forEach((cb) => cb(e.message)));
    worker.on(
      'exit',
      (code) => terminated || onError.forEach((cb) => cb(`the thread exited (code ${code})`)),
    );
    for (const [m, t] of waiting.splice(0)) worker.postMessage(m, t);
  });
  return {
    post: (msg, transfer) => (worker ? worker.postMessage(msg, transfer) : waiting.push([msg, transfer])),
    onMessage: (cb) => onMessage.push(cb),
    onError: (cb) => onError.push(cb),
    terminate: () => {
      terminated = true;
      void worker?.terminate();
    },
  };
}

/** Every core the process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}
