import { CancelledError } from '../errors';
import type { FnoConfig } from '../models/config';
import type { HostTensor } from '../tensor';
import type { BackendChoice, BackendKind, ComputeBackend, OutputArray, RunOptions } from './backend';
import { CpuBackend, type CpuBackendOptions } from './cpu/cpu-backend';
import { selfCheckProblem } from './self-check';
import {
  describeAdapter,
  errText,
  summarizeAdapter,
  WebGpuContext,
  type AdapterSummary,
} from './webgpu/context';
import { WebGpuBackend, type WebGpuBackendOptions } from './webgpu/webgpu-backend';

export interface SelectOptions {
  want: BackendChoice;
  /** `navigator.gpu` in a browser/worker, Dawn's `create([])` in Node; null/undefined where there is none. */
  gpu?: GPU | null;
  config: FnoConfig;
  tensors: Map<string, HostTensor>;
  /**
   * Whether `auto` may pick a software adapter (SwiftShader, llvmpipe, WARP). Default false: those
   * run on the CPU far slower than the CPU backend itself, so `auto` uses the CPU instead (and says
   * why in `note`). Asking for `webgpu` explicitly always accepts them.
   */
  allowSoftwareAdapter?: boolean;
  /**
   * Check the WebGPU backend against the CPU on a tiny input before handing it out (auto only;
   * default true): catches drivers that compile the kernels but compute garbage.
   */
  verify?: boolean;
  /** Called when a WebGPU call fails at run time and the work moves to the CPU (auto only). */
  onFallback?(reason: string): void;
  cpu?: CpuBackendOptions;
  /**
   * The CPU backend to hand out (say, a ParallelCpuBackend on the platform's threads). Default: a
   * one-thread CpuBackend. The WebGPU self-check always compares against a one-thread one.
   */
  makeCpu?: () => ComputeBackend;
  webgpu?: WebGpuBackendOptions;
}

export interface Selected {
  backend: ComputeBackend;
  /** Set when WebGPU was wanted or tried but the CPU is used: why, in one sentence. */
  fallbackReason?: string;
  /** Information that is not a failure (e.g. a software adapter skipped by auto). */
  note?: string;
  /** The adapter that was found, if any (also when it was not used). */
  adapter?: AdapterSummary;
}

/**
 * Pick the backend for one model.
 *  - `cpu`: the CPU.
 *  - `webgpu`: WebGPU or an error saying why not (no WebGPU at all, no adapter, device or kernels failed).
 *  - `auto`: WebGPU when an adapter exists, else the CPU silently; if the adapter is there but the
 *    device, the kernels or the self-check fail, the CPU with `fallbackReason`. The returned
 *    backend also moves to the CPU if a WebGPU call fails later (device lost, out of memory),
 *    reporting through `onFallback`.
 */
export async function selectBackend(opts: SelectOptions): Promise<Selected> {
  const oneThread = () => new CpuBackend(opts.config, opts.tensors, opts.cpu);
  const cpu = opts.makeCpu ?? oneThread;
  if (opts.want === 'cpu') return { backend: cpu() };
  const explicit = opts.want === 'webgpu';
  if (!opts.gpu) {
    if (explicit)
      throw new Error(
        'WebGPU is not available here (no navigator.gpu / no WebGPU module); use --backend cpu',
      );
    return { backend: cpu() };
  }

  let ctx: WebGpuContext | null;
  try {
    ctx = await WebGpuContext.create(opts.gpu);
  } catch (e) {
    if (explicit) throw e;
    return { backend: cpu(), fallbackReason: errText(e) };
  }
  if (!ctx) {
    if (explicit)
      throw new Error(
        'WebGPU is available but offers no adapter (no usable GPU or driver); use --backend cpu',
      );
    return { backend: cpu() };
  }
  const adapter = ctx.adapter;
  if (!explicit && adapter.software && !opts.allowSoftwareAdapter) {
    ctx.destroy();
    return {
      backend: cpu(),
      adapter,
      note: `${describeAdapter(adapter)} is a software renderer, slower than the CPU backend; using the CPU (choose WebGPU to use it anyway)`,
    };
  }

  let gpuBackend: WebGpuBackend;
  try {
    gpuBackend = await WebGpuBackend.create(ctx, opts.config, opts.tensors, opts.webgpu, true);
  } catch (e) {
    ctx.destroy();
    if (explicit) throw e;
    return { backend: cpu(), adapter, fallbackReason: `${ctx.description}: ${errText(e)}` };
  }
  if (explicit) return { backend: gpuBackend, adapter };

  if (opts.verify ?? true) {
    const problem = await selfCheck(gpuBackend, oneThread());
    if (problem) {
      gpuBackend.dispose();
      return { backend: cpu(), adapter, fallbackReason: `${ctx.description}: ${problem}` };
    }
  }
  return { backend: new FallbackBackend(gpuBackend, cpu, opts.onFallback), adapter };
}

/** Forward and Jacobian of a tiny batch on both backends; a message when they disagree. */
async function selfCheck(gpu: ComputeBackend, cpu: CpuBackend): Promise<string | undefined> {
  const c = cpu.model.config;
  const T = Math.max(8, 2 * c.modes);
  const B = 2;
  let s = 12345;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  const x = Float64Array.from({ length: B * T * c.inp_dim_func }, rand);
  const p = Float64Array.from({ length: B * c.inp_dim_scalar }, rand);
  try {
    const [gy, ry, gJ, rJ] = await Promise.all([
      gpu.forward(x, p, B, T),
      cpu.forward(x, p, B, T),
      gpu.jacobian(x, p, B, T),
      cpu.jacobian(x, p, B, T),
    ]);
    return selfCheckProblem({ y: gy, J: gJ }, { y: ry, J: rJ });
  } catch (e) {
    return `the self-check failed: ${errText(e)}`;
  } finally {
    cpu.dispose();
  }
}

/** WebGPU until a call fails for a reason other than cancellation, the CPU from then on. */
export class FallbackBackend implements ComputeBackend {
  private current: ComputeBackend;
  fallbackReason: string | undefined;

  constructor(
    gpu: ComputeBackend,
    private readonly makeCpu: () => ComputeBackend,
    private readonly onFallback?: (reason: string) => void,
  ) {
    this.current = gpu;
  }

  get kind(): BackendKind {
    return this.current.kind;
  }

  get description(): string {
    return this.current.description;
  }

  forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: RunOptions<A>,
  ): Promise<A> {
    return this.call((b) => b.forward(x, p, B, T, opts));
  }

  jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: RunOptions<A>,
  ): Promise<A> {
    return this.call((b) => b.jacobian(x, p, B, T, opts));
  }

  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: Omit<RunOptions, 'out'>,
  ): Promise<{ y: Float64Array; J: OutputArray }> {
    return this.call((b) => b.evaluate(x, p, B, T, opts));
  }

  dispose(): void {
    this.current.dispose();
  }

  private async call<A>(fn: (b: ComputeBackend) => Promise<A>): Promise<A> {
    const b = this.current;
    try {
      return await fn(b);
    } catch (e) {
      // Input errors and cancellation are the caller's, not the GPU's: they would fail on the CPU too.
      if (b.kind !== 'webgpu' || e instanceof CancelledError || (e as Error)?.name === 'ShapeError') throw e;
      const reason = `${b.description}: ${errText(e)}`;
      b.dispose();
      this.current = this.makeCpu();
      this.fallbackReason = reason;
      this.onFallback?.(reason);
      return fn(this.current);
    }
  }
}

export { describeAdapter, summarizeAdapter };
