import { availableParallelism } from 'node:os';
import { BACKEND_CHOICES, type BackendChoice } from '../engine/backends/backend';
import { cpuKernelLabel } from '../engine/kernels';
import type { Selected } from '../engine/backends/select';
import { LoadError } from '../engine/errors';
import type { RecognizedModel } from '../engine/models/recognize';
import type { HelperPoolOptions } from '../engine/backends/cpu/helper-pool';
import type { GraphModel, GraphResult, GraphRunOptions, InputArray } from '../engine/models/graph-model';
import type { LoadedTorchScript } from './load';
import { findGpu, loadNodeGpu, type GpuFinding } from './webgpu-node';

export function parseBackend(v: string | undefined): BackendChoice {
  if (v === undefined) return 'auto';
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new LoadError('--backend', `unknown backend '${v}': use auto, cpu or webgpu`);
}

/**
 * The backend for a CLI run. `cpu` never looks for a GPU. `auto` and `webgpu` first ask whether a
 * usable adapter exists without loading Dawn here (see findGpu: Dawn's driver warnings would go
 * straight to stderr), and load it only when one does. The engine's selection and the helper
 * threads are loaded on first use, so `info` starts without them.
 */
export async function cliBackend(
  want: BackendChoice,
  m: RecognizedModel,
  threads = 1,
  found?: GpuFinding,
): Promise<Selected> {
  const [{ selectBackend }, makeCpu] = await Promise.all([
    import('../engine/backends/select'),
    cpuMaker(m, threads),
  ]);
  if (want === 'cpu') return selectBackend({ want, config: m.config, tensors: m.tensors, makeCpu });
  found ??= await findGpu(want);
  if (!found.use) {
    if (want === 'webgpu')
      throw new LoadError('--backend webgpu', `WebGPU is not available: ${found.reason}`);
    const cpu = await selectBackend({ want: 'cpu', config: m.config, tensors: m.tensors, makeCpu });
    return { ...cpu, adapter: found.adapter, note: found.note };
  }
  const { gpu, reason } = await loadNodeGpu();
  if (!gpu && want === 'webgpu')
    throw new LoadError('--backend webgpu', `WebGPU is not available: ${reason}`);
  return selectBackend({ want, gpu, config: m.config, tensors: m.tensors, makeCpu });
}

async function cpuMaker(m: RecognizedModel, threads: number) {
  if (threads <= 1) return undefined;
  const [{ ParallelCpuBackend }, { nodePoolWorker }] = await Promise.all([
    import('../engine/backends/cpu/parallel-backend'),
    import('./cpu-pool'),
  ]);
  const opts = helperOptions();
  return () => new ParallelCpuBackend(m.config, m.tensors, nodePoolWorker, threads, opts);
}

/** When helper threads start, and what is said when one is lost (fno1d-scalar and graph models alike). */
function helperOptions(): HelperPoolOptions {
  // A helper thread starts from its prebuilt bundle in a few tens of milliseconds (the engine's
  // default waits for 2 s of predicted work, for threads that compile the engine's sources first).
  const spawnAfterMs = typeof __JACSCOPE_BUNDLE__ !== 'undefined' ? HELPERS_AFTER_MS : undefined;
  // A lost helper thread is said once per reason on stderr: the work goes on, only slower.
  const said = new Set<string>();
  const onHelperLost = (reason: string) => {
    if (said.has(reason)) return;
    said.add(reason);
    process.stderr.write(`jacscope: note: ${reason}\n`);
  };
  return { spawnAfterMs, onHelperLost };
}

/** A TorchScript model's runs on the CPU's graph engine: one thread, or helper threads too. */
export interface GraphCpu {
  forward(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions): Promise<GraphResult>;
  evaluate(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions): Promise<GraphResult>;
  /** For people: 'cpu, 2 threads (graph engine)'. */
  readonly on: string;
  /** Threads that computed part of the last call. */
  threadsUsed(): number;
  dispose(): void;
}

export async function graphCpu(model: GraphModel, m: LoadedTorchScript, threads: number): Promise<GraphCpu> {
  if (threads <= 1)
    return {
      forward: async (inputs, opts) => model.forward(inputs, opts),
      evaluate: (inputs, opts) => model.evaluateAsync(inputs, opts),
      on: 'cpu, one thread (graph engine)',
      threadsUsed: () => 1,
      dispose() {},
    };
  const [{ ParallelGraphModel }, { nodePoolWorker }] = await Promise.all([
    import('../engine/backends/cpu/parallel-graph'),
    import('./cpu-pool'),
  ]);
  const par = new ParallelGraphModel(
    model,
    { bytes: m.bytes, file: m.file },
    nodePoolWorker,
    threads,
    helperOptions(),
  );
  return {
    forward: (inputs, opts) => par.forward(inputs, opts),
    evaluate: (inputs, opts) => par.evaluate(inputs, opts),
    on: `cpu, ${threads} threads (graph engine)`,
    threadsUsed: () => par.threadsUsed,
    dispose: () => par.dispose(),
  };
}

/** Predicted one-thread work (ms) from which the bundled CLI starts its helper threads. */
export const HELPERS_AFTER_MS = 300;

/** Defined (true) by scripts/build-cli.mjs in the bundled CLI; undefined when run from the sources. */
declare const __JACSCOPE_BUNDLE__: boolean | undefined;

/**
 * The `backend:` line of `jacscope info`: what a run with this choice would compute on. When no
 * GPU is in question it is said without building a model (info stays fast); otherwise the backend
 * is selected as a run would select it, kernels and self-check included.
 */
export async function describeChoice(want: BackendChoice, m: RecognizedModel): Promise<string> {
  let found: GpuFinding | undefined;
  if (want === 'auto') found = await findGpu('auto');
  if (want === 'cpu' || (found && !found.use)) {
    return `backend: cpu — CPU (${cpuKernelLabel()}, float64)${found?.note ? ` (${found.note})` : ''}`;
  }
  const selected = await cliBackend(want, m, 1, found);
  selected.backend.dispose();
  return describeSelected(selected);
}

/** `--threads N`: CPU threads (default every core; 1 computes on the main thread alone). */
export function parseThreads(v: string | undefined): number {
  if (v === undefined) return availableParallelism();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new LoadError('--threads', `'${v}' is not a number of threads (1, 2, …)`);
  return n;
}

/** Where a run computed, for its summary line: 'webgpu', 'cpu', or 'cpu (2 threads)' when helpers took part. */
export function computedOn(b: { kind: string; threadsUsed?: number }): string {
  return b.threadsUsed !== undefined && b.threadsUsed > 1 ? `${b.kind} (${b.threadsUsed} threads)` : b.kind;
}

export function describeSelected(s: Selected): string {
  let line = `backend: ${s.backend.kind} — ${s.backend.description}`;
  if (s.fallbackReason) line += ` (WebGPU not used: ${s.fallbackReason})`;
  else if (s.note) line += ` (${s.note})`;
  return line;
}
