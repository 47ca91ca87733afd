/**
 * fno1d-scalar on WebGPU (float32): the model's graph — the program its builder emits
 * (models/fno1d-program.ts), the same the CPU runs — lowered to a tape and run by the graph runner
 * (graph-runner.ts). Nothing here wires the model: this adapts the engine's fixed layouts (x
 * [B,T,Xf], p [B,P] → y [B,T,O], J [B,T,O,P]) to the runner's named inputs.
 */
import type { FnoConfig } from '../../models/config';
import { Fno1dScalar } from '../../models/fno1d-scalar';
import type { LowerMode } from '../../models/lowered';
import type { HostTensor } from '../../tensor';
import {
  checkRunInputs,
  serialQueue,
  outputArray,
  throwIfAborted,
  type ComputeBackend,
  type OutputArray,
  type RunOptions,
} from '../backend';
import { WebGpuContext, WebGpuError, type WebGpuContextOptions } from './context';
import { WebGpuGraphRunner, type GraphRunnerOptions } from './graph-runner';

export type WebGpuBackendOptions = GraphRunnerOptions;

export class WebGpuBackend implements ComputeBackend {
  readonly kind = 'webgpu' as const;
  readonly description: string;
  readonly config: FnoConfig;
  readonly context: WebGpuContext;
  /** The model's graph on this device. */
  readonly runner: WebGpuGraphRunner;
  private readonly ownsContext: boolean;
  /** One call at a time: calls share the runners' buffers. */
  private readonly serialize = serialQueue();
  private disposed = false;

  private constructor(
    context: WebGpuContext,
    ownsContext: boolean,
    model: Fno1dScalar,
    opts: WebGpuBackendOptions,
  ) {
    this.context = context;
    this.ownsContext = ownsContext;
    this.config = model.config;
    this.description = context.description;
    this.runner = new WebGpuGraphRunner(context, model.graph, opts);
  }

  /** Build the model (its weights checked) on a context. Kernels compile at the first call of a shape. */
  static async create(
    context: WebGpuContext,
    config: FnoConfig,
    tensors: Map<string, HostTensor>,
    opts: WebGpuBackendOptions = {},
    ownsContext = false,
  ): Promise<WebGpuBackend> {
    context.checkAlive();
    return new WebGpuBackend(context, ownsContext, new Fno1dScalar(config, tensors), opts);
  }

  forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    return this.serialize(async () => {
      const y = outputArray(opts, B * T * this.config.out_dim_func, 'y');
      await this.run('forward', x, p, B, T, opts, { y });
      return y;
    });
  }

  jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    return this.serialize(async () => {
      const c = this.config;
      const J = outputArray(opts, B * T * c.out_dim_func * c.inp_dim_scalar, 'J');
      await this.run('jacobian', x, p, B, T, opts, { J });
      return J;
    });
  }

  /** y and J from one pass of the Jacobian's tape (which computes y anyway); J in float32. */
  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: Omit<RunOptions, 'out'> = {},
  ): Promise<{ y: Float64Array; J: Float32Array }> {
    return this.serialize(async () => {
      const c = this.config;
      const y = new Float64Array(B * T * c.out_dim_func);
      const J = new Float32Array(B * T * c.out_dim_func * c.inp_dim_scalar);
      await this.run('jacobian', x, p, B, T, opts, { y, J });
      return { y, J };
    });
  }

  /** Samples per chunk at most for a call of this shape (device limits and the workspace budget). */
  chunkCapacity(mode: LowerMode, T: number): number {
    return this.runner.capacity(this.lowered(mode, T));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.runner.dispose();
    if (this.ownsContext) this.context.destroy();
  }

  private lowered(mode: LowerMode, T: number) {
    const c = this.config;
    const shapes = new Map([
      ['x', [T, c.inp_dim_func]],
      ['p', [c.inp_dim_scalar]],
    ]);
    const r = this.runner.lowerFor(shapes, 'p', mode);
    if (!r.ok) throw new WebGpuError(`fno1d-scalar cannot run on WebGPU: ${r.reason}`);
    return r.lowered;
  }

  private async run(
    mode: LowerMode,
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: Omit<RunOptions, 'out'>,
    out: { y?: OutputArray; J?: OutputArray },
  ): Promise<void> {
    this.checkAlive();
    const c = this.config;
    checkRunInputs(c, x, p, B, T);
    throwIfAborted(opts.signal);
    if (B === 0) return;
    await this.runner.run({
      inputs: new Map([
        ['x', { shape: [B, T, c.inp_dim_func], data: x }],
        ['p', { shape: [B, c.inp_dim_scalar], data: p }],
      ]),
      wrt: 'p',
      mode,
      out,
      signal: opts.signal,
      onProgress: opts.onProgress,
    });
  }

  private checkAlive(): void {
    if (this.disposed) throw new WebGpuError('this WebGPU backend has been disposed');
    this.context.checkAlive();
  }
}

/**
 * Open a device on `gpu` and build the model on it; the backend owns the device and releases it
 * on dispose. Null when `gpu` has no adapter.
 */
export async function createWebGpuBackend(
  gpu: GPU,
  config: FnoConfig,
  tensors: Map<string, HostTensor>,
  opts: WebGpuBackendOptions & WebGpuContextOptions = {},
): Promise<WebGpuBackend | null> {
  const ctx = await WebGpuContext.create(gpu, opts);
  if (!ctx) return null;
  try {
    return await WebGpuBackend.create(ctx, config, tensors, opts, true);
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
