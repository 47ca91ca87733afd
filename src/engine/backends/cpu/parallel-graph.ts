/**
 * Any graph model (a TorchScript archive's program) on several CPU threads: the calling thread and
 * helper threads, each with its own GraphModel opened from the same archive, take chunks of samples
 * (see HelperPool). Chunks are the model's own runs, aligned as it aligns them, and whether samples
 * are independent is decided once, on the calling thread, for all: results are the one-thread
 * ones bit for bit.
 */
import { ShapeError } from '../../errors';
import {
  FORWARD_CHUNK,
  JACOBIAN_RUN,
  type GraphModel,
  type GraphResult,
  type GraphRunOptions,
  samplesOf,
  type InputArray,
} from '../../models/graph-model';
import { HelperPool, type HelperPoolOptions, type PoolJob } from './helper-pool';
import type { PoolWorker } from './pool-protocol';

/** Samples [b0, b0+k) of every input, copied: a helper takes them. */
function cut(inputs: ReadonlyMap<string, InputArray>, b0: number, k: number): [string, InputArray][] {
  return [...samplesOf(inputs, b0, k)].map(([name, a]) => [name, { shape: a.shape, data: a.data.slice() }]);
}

const buffers = (inputs: [string, InputArray][]) => inputs.map(([, a]) => a.data.buffer as ArrayBuffer);

export class ParallelGraphModel {
  private readonly pool: HelperPool;

  /** `archive`: the bytes of the TorchScript file `model` was opened from, and its name. */
  constructor(
    readonly model: GraphModel,
    archive: { bytes: Uint8Array; file: string },
    spawn: () => PoolWorker,
    readonly threads: number,
    opts: HelperPoolOptions = {},
  ) {
    this.pool = new HelperPool(spawn, threads, () => ({ kind: 'torchscript', ...archive }), opts);
  }

  /** y for every sample: as GraphModel.forward, on the threads. */
  async forward(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions = {}): Promise<GraphResult> {
    const model = this.model;
    const wrt = model.wrtArg(opts.wrt);
    const B = model.checkInputs(inputs, wrt);
    const { output } = opts;
    let y: Float64Array | null = null;
    let yShape: number[] = [B];
    const put = (b0: number, k: number, part: Float64Array, partShape: number[]) => {
      const per = part.length / k;
      if (!y) {
        yShape = [B, ...partShape.slice(1)];
        y = new Float64Array(B * per);
      } else if (y.length !== B * per)
        throw new ShapeError(
          `samples ${b0}…${b0 + k - 1} give an output of shape [${partShape}], unlike the others`,
        );
      y.set(part, b0 * per);
    };
    const job: PoolJob = {
      mode: 'forward',
      B,
      unit: FORWARD_CHUNK,
      request(b0, k) {
        const part = cut(inputs, b0, k);
        return { msg: { mode: 'forward', inputs: part, wrt, output }, transfer: buffers(part) };
      },
      local(b0, k) {
        const r = model.forward(samplesOf(inputs, b0, k), { wrt, output });
        put(b0, k, r.y, r.yShape);
      },
      write: (b0, k, reply) => put(b0, k, reply.y, reply.yShape),
    };
    await this.pool.run(job, opts);
    return { y: y ?? new Float64Array(0), yShape, J: null, jShape: null };
  }

  /** y and J for every sample: as GraphModel.evaluate, on the threads. */
  async evaluate(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions = {}): Promise<GraphResult> {
    const model = this.model;
    const { output } = opts;
    const wrt = model.wrtArg(opts.wrt);
    // Decided here, once, as a one-thread run would (a probe on samples 0 and 1), and told to every
    // helper: a helper probing its own samples might decide otherwise, and round otherwise.
    const independent = model.checkInputs(inputs, wrt) >= 2 ? model.samplesIndependent(inputs, opts) : false;
    const run = model.prepare(inputs, { wrt, output, independent });
    const { B, P } = run;
    const job: PoolJob = {
      mode: 'evaluate',
      B,
      unit: JACOBIAN_RUN,
      request(b0, k) {
        const part = cut(inputs, b0, k);
        return { msg: { mode: 'evaluate', inputs: part, wrt, output, independent }, transfer: buffers(part) };
      },
      local: (b0, k) => model.samples(run, b0, k),
      write(b0, k, reply) {
        const per = reply.y.length / k;
        if (!run.yShape) {
          run.yShape = [B, ...reply.yShape.slice(1)];
          run.y = new Float64Array(B * per);
          run.J = new Float64Array(B * per * P);
        }
        if (run.y!.length !== B * per || !reply.J || reply.J.length !== k * per * P)
          throw new ShapeError(
            `samples ${b0}…${b0 + k - 1} give an output of shape [${reply.yShape}], unlike the others`,
          );
        run.y!.set(reply.y, b0 * per);
        run.J!.set(reply.J, b0 * per * P);
      },
    };
    await this.pool.run(job, opts);
    return run.result();
  }

  /** Threads that computed part of the last call (1 until helpers have joined). */
  get threadsUsed(): number {
    return this.pool.threadsUsed;
  }

  dispose(): void {
    this.pool.dispose();
  }
}
