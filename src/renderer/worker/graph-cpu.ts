/**
 * A graph model's batch on the CPU: the engine's GraphModel in float64, on the engine worker alone or with
 * helper threads (Web Workers, each opening the same archive) for a batch worth them. The inputs are built
 * here from the session's roles (p to the differentiated argument, x to the other), for the CPU and WebGPU
 * alike.
 */
import { ParallelGraphModel } from '../../engine';
import type { GraphModel, GraphResult, GraphRunOptions, InputArray, PoolWorker } from '../../engine';
import type { BackendUsed, BatchBackend, GraphRoles, RunHooks } from './engine-contract';

export const GRAPH_CPU_DESCRIPTION = 'CPU (graph engine, float64)';

/** Helper threads for the CPU: how to start one (a Web Worker) and how many threads in all. */
export interface ThreadOptions {
  spawn?: () => PoolWorker;
  count: number;
  /** Start helpers for a batch predicted to take longer than this on one thread (ms; the engine's default). */
  spawnAfterMs?: number;
}

/**
 * The graph engine on the CPU for one backend's batches: helper threads start with the first batch long
 * enough to be worth them (the engine's rule) and stay until `dispose`.
 */
export class CpuGraph {
  private parallel: ParallelGraphModel | null = null;
  /** Why a helper thread could not start or stopped, when one did: the batch still computes, slower. */
  private lost: string | undefined;

  /** `archive`: the TorchScript file the model was opened from (helpers open it again). */
  constructor(
    readonly model: GraphModel,
    private readonly archive: { bytes: Uint8Array; file: string } | null,
    private readonly threads: ThreadOptions = { count: 1 },
  ) {}

  async evaluate(
    inputs: ReadonlyMap<string, InputArray>,
    opts: GraphRunOptions,
  ): Promise<GraphResult & { threads: number; lost?: string }> {
    const par = this.helpers();
    if (!par) return { ...(await this.model.evaluateAsync(inputs, opts)), threads: 1 };
    const r = await par.evaluate(inputs, opts);
    return { ...r, threads: par.threadsUsed, lost: this.lost };
  }

  /** y only (the analyses' forward passes). */
  async forward(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions): Promise<GraphResult> {
    const par = this.helpers();
    return par ? par.forward(inputs, opts) : this.model.forward(inputs, opts);
  }

  /**
   * The model with `roles` as a BatchBackend (x [B, ...xSample] and p [B,P] in, y and J float64
   * out), for the analyses that run many evaluations: Sobol', the streamed sensitivity and exports.
   * The graph backend that holds this CpuGraph owns its threads: this dispose does nothing.
   */
  batch(roles: GraphRoles): BatchBackend {
    const args = (x: Float64Array, p: Float64Array, B: number, o?: RunHooks) =>
      [inputsFor(roles, x, p, B), { wrt: roles.wrt, signal: o?.signal, onProgress: o?.onProgress }] as const;
    const used = () => this.parallel?.threadsUsed ?? 1;
    return {
      kind: 'cpu',
      get description() {
        const n = used();
        return n > 1 ? GRAPH_CPU_DESCRIPTION.replace(/\)$/, `, ${n} threads)`) : GRAPH_CPU_DESCRIPTION;
      },
      forward: async (x, p, B, _T, o) => (await this.forward(...args(x, p, B, o))).y,
      jacobian: async (x, p, B, _T, o) => (await this.evaluate(...args(x, p, B, o))).J!,
      evaluate: async (x, p, B, _T, o) => {
        const r = await this.evaluate(...args(x, p, B, o));
        return { y: r.y, J: r.J! };
      },
      dispose() {},
    };
  }

  /** The parallel runner, made at first use; null where there are no helper threads to have. */
  private helpers(): ParallelGraphModel | null {
    const { spawn, count, spawnAfterMs } = this.threads;
    if (!spawn || count <= 1 || !this.archive) return null;
    this.parallel ??= new ParallelGraphModel(this.model, this.archive, spawn, count, {
      spawnAfterMs,
      onHelperLost: (reason) => (this.lost = reason),
    });
    return this.parallel;
  }

  dispose(): void {
    this.parallel?.dispose();
    this.parallel = null;
  }
}

/** The model's inputs by argument name: p [B,P] and, when it takes one, x [B, ...xSample]. */
export function inputsFor(
  roles: GraphRoles,
  x: Float64Array | null,
  p: Float64Array,
  B: number,
): Map<string, InputArray> {
  const m = new Map<string, InputArray>();
  m.set(roles.wrt, { shape: [B, B > 0 ? p.length / B : 0], data: p });
  if (roles.xArg) m.set(roles.xArg, { shape: [B, ...roles.xSample], data: x ?? new Float64Array(0) });
  return m;
}

/** y and J of the batch on the CPU (cancellable between samples); `note` says why not WebGPU, if it was wanted. */
export async function evaluateOnCpu(
  cpu: CpuGraph,
  inputs: ReadonlyMap<string, InputArray>,
  wrt: string,
  hooks: RunHooks,
  note?: string,
): Promise<{ y: Float64Array; yShape: number[]; J: Float64Array; backend: BackendUsed }> {
  const r = await cpu.evaluate(inputs, { wrt, signal: hooks.signal, onProgress: hooks.onProgress });
  const description =
    r.threads > 1 ? GRAPH_CPU_DESCRIPTION.replace(/\)$/, `, ${r.threads} threads)`) : GRAPH_CPU_DESCRIPTION;
  const notes = [note, r.lost].filter((n): n is string => n !== undefined);
  return {
    y: r.y,
    yShape: r.yShape,
    J: r.J!,
    backend: { description, kind: 'cpu', note: notes.length ? notes.join('; ') : undefined },
  };
}
