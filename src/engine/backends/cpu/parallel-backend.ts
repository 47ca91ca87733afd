import type { FnoConfig } from '../../models/config';
import type { HostTensor } from '../../tensor';
import {
  checkRunInputs,
  outputArray,
  type ComputeBackend,
  type OutputArray,
  type RunOptions,
} from '../backend';
import { FORWARD_CHUNK, JACOBIAN_RUN } from '../../models/graph-model';
import { CpuBackend, type CpuBackendOptions } from './cpu-backend';
import { HelperPool, type HelperPoolOptions, type PoolJob } from './helper-pool';
import type { PoolMode, PoolWorker } from './pool-protocol';

export interface ParallelCpuOptions extends CpuBackendOptions, HelperPoolOptions {}

/**
 * The float64 CPU engine of an fno1d-scalar model on several threads (see HelperPool): the calling
 * thread computes its chunks straight into the outputs, helpers' chunks are copied in.
 * The arithmetic per sample is the one-thread backend's: results are identical bit for bit.
 */
export class ParallelCpuBackend implements ComputeBackend {
  readonly kind = 'cpu' as const;
  readonly description: string;
  /** The calling thread's share (and the whole of single-sample calls). */
  readonly local: CpuBackend;
  private readonly config: FnoConfig;
  private readonly pool: HelperPool;

  constructor(
    config: FnoConfig,
    tensors: Map<string, HostTensor>,
    spawn: () => PoolWorker,
    readonly threads: number,
    opts: ParallelCpuOptions = {},
  ) {
    this.config = config;
    this.local = new CpuBackend(config, tensors, opts);
    this.description = this.local.description.replace(/\)$/, `, ${threads} threads)`);
    this.pool = new HelperPool(
      spawn,
      threads,
      () => ({ kind: 'fno1d-scalar', config, tensors: [...tensors] }),
      opts,
    );
  }

  async forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    checkRunInputs(this.config, x, p, B, T);
    const y = outputArray(opts, B * T * this.config.out_dim_func, 'y');
    await this.pool.run(this.job('forward', x, p, B, T, y, undefined), opts);
    return y;
  }

  async jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    checkRunInputs(this.config, x, p, B, T);
    const J = outputArray(opts, B * T * this.config.out_dim_func * this.config.inp_dim_scalar, 'J');
    await this.pool.run(this.job('jacobian', x, p, B, T, undefined, J), opts);
    return J;
  }

  async evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: Omit<RunOptions, 'out'> = {},
  ): Promise<{ y: Float64Array; J: Float64Array }> {
    const TO = T * this.config.out_dim_func;
    checkRunInputs(this.config, x, p, B, T);
    const y = new Float64Array(B * TO);
    const J = new Float64Array(B * TO * this.config.inp_dim_scalar);
    await this.pool.run(this.job('evaluate', x, p, B, T, y, J), opts);
    return { y, J };
  }

  /** Threads that computed part of the last call (1 until helpers have joined). */
  get threadsUsed(): number {
    return this.pool.threadsUsed;
  }

  dispose(): void {
    this.pool.dispose();
  }

  private job(
    mode: PoolMode,
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    y: OutputArray | undefined,
    J: OutputArray | undefined,
  ): PoolJob {
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = this.config;
    const TO = T * O;
    const TOP = TO * P;
    const m = this.local.model;
    // float64 scratch for what has no float64 place of its own (y of a Jacobian call, float32 outputs).
    const scratchY = new Float64Array(J ? JACOBIAN_RUN * TO : 0);
    const scratchJ = new Float64Array(J && !(J instanceof Float64Array) ? JACOBIAN_RUN * TOP : 0);
    return {
      mode,
      B,
      unit: J ? JACOBIAN_RUN : FORWARD_CHUNK,
      request(b0, k) {
        const xs = x.slice(b0 * T * Xf, (b0 + k) * T * Xf);
        const ps = p.slice(b0 * P, (b0 + k) * P);
        return {
          msg: {
            mode,
            inputs: [
              ['x', { shape: [k, T, Xf], data: xs }],
              ['p', { shape: [k, P], data: ps }],
            ],
            wrt: 'p',
          },
          transfer: [xs.buffer as ArrayBuffer, ps.buffer as ArrayBuffer],
        };
      },
      write(b0, _k, reply) {
        if (y) y.set(reply.y, b0 * TO);
        if (J && reply.J) J.set(reply.J, b0 * TOP);
      },
      local(b0, k) {
        const xs = x.subarray(b0 * T * Xf, (b0 + k) * T * Xf);
        const ps = p.subarray(b0 * P, (b0 + k) * P);
        if (!J) {
          y!.set(m.forward(xs, ps, k, T), b0 * TO);
          return;
        }
        // y and J of samples [b0, b0+k), k ≤ JACOBIAN_RUN, straight into place where the outputs are float64.
        const sy = scratchY.subarray(0, k * TO);
        const sJ = scratchJ.subarray(0, k * TOP);
        const ys = y instanceof Float64Array ? y.subarray(b0 * TO, (b0 + k) * TO) : sy;
        const Js = J instanceof Float64Array ? J.subarray(b0 * TOP, (b0 + k) * TOP) : sJ;
        m.evaluate(xs, ps, k, T, { y: ys, J: Js });
        if (y && ys === sy) y.set(sy, b0 * TO);
        if (Js === sJ) J.set(sJ, b0 * TOP);
      },
    };
  }
}
