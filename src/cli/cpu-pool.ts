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

/** Defined (true) by scripts/build-cli.mjs in the bundled CLI; undefined when run from the sources. */
declare const __JACSCOPE_BUNDLE__: boolean | undefined;
/**
 * Defined by bundles other than the CLI's (bench/run.mjs): the helper's source file, which
 * `import.meta.url` of the bundle cannot locate.
 */
declare const __JACSCOPE_POOL_THREAD_SOURCE__: string | undefined;

let entry: Promise<URL> | undefined;

/**
 * The helper thread's code as one plain-JavaScript file. The bundled CLI has it beside itself
 * (scripts/build-cli.mjs builds both); run from the sources (tests, benchmarks), it is bundled by
 * esbuild once per process into a temporary folder: a thread then starts in about 50 ms, where
 * compiling the TypeScript in every thread would take about 500 ms of CPU each.
 */
function helperEntry(): Promise<URL> {
  entry ??= (async () => {
    if (typeof __JACSCOPE_BUNDLE__ !== 'undefined')
      return pathToFileURL(join(__dirname, 'cpu-pool-thread.cjs'));
    const { build } = await import('esbuild');
    const dir = mkdtempSync(join(tmpdir(), 'jacscope-threads-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const outfile = join(dir, 'cpu-pool-thread.mjs');
    await build({
      entryPoints: [
        typeof __JACSCOPE_POOL_THREAD_SOURCE__ !== 'undefined'
          ? __JACSCOPE_POOL_THREAD_SOURCE__
          : fileURLToPath(new URL('./cpu-pool-thread.ts', import.meta.url)),
      ],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outfile,
      logLevel: 'silent',
    });
    return pathToFileURL(outfile);
  })();
  return entry;
}

/** A helper thread; messages posted before it exists (the model's init) wait for it. */
export function nodePoolWorker(): PoolWorker {
  const waiting: [PoolRequest, ArrayBuffer[] | undefined][] = [];
  const onMessage: ((m: PoolReply) => void)[] = [];
  const onError: ((m: string) => void)[] = [];
  let worker: Worker | undefined;
  let terminated = false;
  const fail = (why: string) => onError.forEach((cb) => cb(why));
  helperEntry().then(
    (url) => {
      if (terminated) return;
      try {
        worker = new Worker(url);
      } catch (e) {
        fail(e instanceof Error ? e.message : String(e));
        return;
      }
      worker.on('message', (m: PoolReply) => onMessage.forEach((cb) => cb(m)));
      worker.on('error', (e) => fail(e.message));
      worker.on('exit', (code) => terminated || fail(`the thread exited (code ${code})`));
      for (const [m, t] of waiting.splice(0)) worker.postMessage(m, t);
    },
    (e: unknown) => {
      if (!terminated) fail(`the helper thread's code could not be bundled: ${(e as Error)?.message ?? e}`);
    },
  );
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
