import type { FnoConfig } from '../../models/config';
import { Fno1dScalar } from '../../models/fno1d-scalar';
import { FORWARD_CHUNK, JACOBIAN_RUN } from '../../models/graph-model';
import type { HostTensor } from '../../tensor';
import {
  checkRunInputs,
  throwIfAborted,
  yieldToEventLoop,
  outputArray,
  type ComputeBackend,
  type OutputArray,
  type RunOptions,
} from '../backend';
import { cpuKernelLabel } from '../../kernels';

export interface CpuBackendOptions {
  /**
   * Samples per forward chunk (progress and cancellation come between chunks). Default 16. A
   * multiple of the model's own runs (FORWARD_CHUNK) keeps y independent of it to the bit.
   */
  chunkSamples?: number;
  /**
   * A CPU model already built for these weights (the app's exploration tools hold one): reused
   * rather than built again. Safe to share: each of its runs completes before the next begins.
   */
  model?: Fno1dScalar;
}

/** The float64 CPU engine behind the backend interface: same model, async with progress and cancel. */
export class CpuBackend implements ComputeBackend {
  readonly kind = 'cpu' as const;
  readonly description: string;
  readonly model: Fno1dScalar;
  private readonly chunk: number;
  private disposed = false;

  constructor(config: FnoConfig, tensors: Map<string, HostTensor>, opts: CpuBackendOptions = {}) {
    this.model = opts.model ?? new Fno1dScalar(config, tensors);
    this.chunk = Math.max(1, Math.floor(opts.chunkSamples ?? 2 * FORWARD_CHUNK));
    this.description = `CPU (${cpuKernelLabel()}, float64)`;
  }

  async forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    this.checkAlive();
    const c = this.model.config;
    checkRunInputs(c, x, p, B, T);
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = c;
    const y = outputArray(opts, B * T * O, 'y');
    let last = performance.now();
    for (let b0 = 0; b0 < B; b0 += this.chunk) {
      throwIfAborted(opts.signal);
      const n = Math.min(this.chunk, B - b0);
      const xs = x.subarray(b0 * T * Xf, (b0 + n) * T * Xf);
      const ps = p.subarray(b0 * P, (b0 + n) * P);
      y.set(this.model.forward(xs, ps, n, T), b0 * T * O);
      opts.onProgress?.(b0 + n, B);
      // Yield about every 30 ms, as jacobianAsync does, so a worker stays responsive to cancel.
      if (performance.now() - last > 30) {
        await yieldToEventLoop();
        last = performance.now();
      }
    }
    throwIfAborted(opts.signal);
    return y;
  }

  async jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    this.checkAlive();
    const c = this.model.config;
    checkRunInputs(c, x, p, B, T);
    return this.model.jacobianAsync(x, p, B, T, {
      out: outputArray(opts, B * T * c.out_dim_func * c.inp_dim_scalar, 'J'),
      signal: opts.signal,
      onProgress: opts.onProgress ? (d, t) => opts.onProgress!(d, t) : undefined,
    });
  }

  async evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: Omit<RunOptions, 'out'> = {},
  ): Promise<{ y: Float64Array; J: Float64Array }> {
    this.checkAlive();
    const c = this.model.config;
    checkRunInputs(c, x, p, B, T);
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = c;
    const y = new Float64Array(B * T * O);
    const J = new Float64Array(B * T * O * P);
    let last = performance.now();
    // In the model's own runs of JACOBIAN_RUN samples, aligned as the threaded backend aligns them.
    for (let b = 0; b < B; b += JACOBIAN_RUN) {
      throwIfAborted(opts.signal);
      const k = Math.min(JACOBIAN_RUN, B - b);
      this.model.evaluate(x.subarray(b * T * Xf, (b + k) * T * Xf), p.subarray(b * P, (b + k) * P), k, T, {
        y: y.subarray(b * T * O, (b + k) * T * O),
        J: J.subarray(b * T * O * P, (b + k) * T * O * P),
      });
      opts.onProgress?.(b + k, B);
      if (performance.now() - last > 30) {
        await yieldToEventLoop();
        last = performance.now();
      }
    }
    throwIfAborted(opts.signal);
    return { y, J };
  }

  dispose(): void {
    this.disposed = true;
  }

  private checkAlive(): void {
    if (this.disposed) throw new Error('this CPU backend has been disposed');
  }
}
