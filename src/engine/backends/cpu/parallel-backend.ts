import type { FnoConfig } from '../../models/config';
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
import { FORWARD_CHUNK, JACOBIAN_RUN } from '../../models/graph-model';
import { CpuBackend, type CpuBackendOptions } from './cpu-backend';
import type { PoolMode, PoolReply, PoolWorker } from './pool-protocol';

type ChunkReply = Extract<PoolReply, { type: 'done' | 'failed' }>;

interface Helper {
  worker: PoolWorker;
  ready: boolean;
  /** Why the thread is gone, once it is. */
  dead?: string;
  /** Where the replies to the chunks it was sent go, oldest first (a thread answers in order). */
  pending: ((msg: ChunkReply) => void)[];
}

/**
 * Chunks a helper holds at once: the one it computes and the next. Replies are handled only
 * between the calling thread's own chunks, so with one chunk each a helper that finished waited
 * for the calling thread to come round (idle 40% of a Sobol' run); with the next one already
 * sent, it goes straight on.
 */
const HELPER_DEPTH = 2;

export interface ParallelCpuOptions extends CpuBackendOptions {
  /**
   * Told once for each helper thread that could not start or stopped (not for dispose), with the
   * reason: the call goes on without it, on fewer threads, so people should hear why it is slower.
   */
  onHelperLost?: (reason: string) => void;
  /**
   * Start the helper threads only for a call whose remaining work, timed on its first samples, is
   * predicted to take longer than this on one thread (ms; default 2000). Starting a thread costs
   * up to half a second of CPU (in Node, compiling the engine's sources), which a short call
   * would only lose: on two cores, 64 seed Jacobians (0.8 s) took 1.0 s with a helper started
   * for them, 256 (3.3 s) took 2.5 s. Once started, the helpers serve every later call.
   */
  spawnAfterMs?: number;
}

/**
 * Where a call's results go: a helper's chunk (y and/or J of samples [b0, b0+k), float64) is
 * copied in; the calling thread computes its samples straight into place.
 */
interface Sink {
  write(b0: number, k: number, y?: Float64Array, J?: Float64Array): void;
  /** Samples [b0, b0+k) on the calling thread (one run of the model). */
  local(b0: number, k: number): void;
}

/**
 * The float64 CPU engine on several threads. The calling thread and `threads − 1` helper threads
 * take whole samples from one queue, each with its own copy of the model. Helpers start with the
 * first call long enough to be worth it (`spawnAfterMs`) and join as soon as they are ready; until
 * then the calling thread computes alone.
 * The arithmetic per sample is the one-thread backend's: results are identical bit for bit.
 */
export class ParallelCpuBackend implements ComputeBackend {
  readonly kind = 'cpu' as const;
  readonly description: string;
  /** The calling thread's share (and the whole of single-sample calls). */
  readonly local: CpuBackend;
  private readonly config: FnoConfig;
  private readonly tensors: Map<string, HostTensor>;
  private helpers: Helper[] | undefined;
  /** Hands idle, ready helpers the next chunk while a call runs. */
  private kick: (() => void) | undefined;
  private nextId = 1;
  /** One call at a time: calls share the helpers. */
  private readonly serialize = serialQueue();
  private disposed = false;

  constructor(
    config: FnoConfig,
    tensors: Map<string, HostTensor>,
    private readonly spawn: () => PoolWorker,
    readonly threads: number,
    private readonly opts: ParallelCpuOptions = {},
  ) {
    this.config = config;
    this.tensors = tensors;
    this.local = new CpuBackend(config, tensors, opts);
    this.description = this.local.description.replace(/\)$/, `, ${threads} threads)`);
  }

  async forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    const TO = T * this.config.out_dim_func;
    checkRunInputs(this.config, x, p, B, T);
    const y = outputArray(opts, B * TO, 'y');
    await this.serialize(() => this.run('forward', x, p, B, T, opts, this.sink(x, p, T, y, undefined)));
    return y;
  }

  async jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    const TOP = T * this.config.out_dim_func * this.config.inp_dim_scalar;
    checkRunInputs(this.config, x, p, B, T);
    const J = outputArray(opts, B * TOP, 'J');
    await this.serialize(() => this.run('jacobian', x, p, B, T, opts, this.sink(x, p, T, undefined, J)));
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
    const TOP = TO * this.config.inp_dim_scalar;
    checkRunInputs(this.config, x, p, B, T);
    const y = new Float64Array(B * TO);
    const J = new Float64Array(B * TOP);
    await this.serialize(() => this.run('evaluate', x, p, B, T, opts, this.sink(x, p, T, y, J)));
    return { y, J };
  }

  dispose(): void {
    this.disposed = true;
    for (const h of this.helpers ?? []) {
      h.worker.terminate();
      // A terminated thread never answers: a call still waiting on it redoes the chunk itself.
      h.dead = 'disposed';
      for (const reply of h.pending.splice(0)) reply({ type: 'failed', id: -1, message: 'disposed' });
    }
    this.helpers = [];
  }

  private async run(
    mode: PoolMode,
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: Omit<RunOptions, 'out'>,
    sink: Sink,
  ): Promise<void> {
    if (this.disposed) throw new Error('this CPU backend has been disposed');
    throwIfAborted(opts.signal);
    const { inp_dim_func: Xf, inp_dim_scalar: P } = this.config;
    let helpers = this.helpers ?? [];
    // Whether this call may still start the helpers: decided on the third sample's time (the
    // first ones of a process run before the JIT has warmed up), or on the last one if fewer.
    let mayStart = this.helpers === undefined && B > 1 && this.threads > 1;
    const DECIDE_AT = Math.min(3, B);
    // Chunks are the model's own runs (FORWARD_CHUNK samples of a forward pass, JACOBIAN_RUN of a
    // Jacobian), aligned as it aligns them, so that results are the one-thread ones bit for bit;
    // small chunks also keep the threads' finishing times close and bound the memory in flight.
    const unit = mode === 'forward' ? FORWARD_CHUNK : JACOBIAN_RUN;
    const chunk = unit;
    let next = 0;
    let done = 0;
    let inFlight = 0;
    let failure: unknown;
    /** Chunks whose helper thread died before answering: the calling thread redoes them. */
    const redo: { b0: number; k: number }[] = [];
    let wake: (() => void) | undefined;
    const stopped = () => failure !== undefined || opts.signal?.aborted === true;
    const finished = (k: number) => {
      done += k;
      opts.onProgress?.(done, B);
    };
    const dispatch = (h: Helper) => {
      while (h.ready && !h.dead && h.pending.length < HELPER_DEPTH && next < B && !stopped()) {
        const b0 = next;
        const k = Math.min(chunk, B - b0);
        next += k;
        const xs = x.slice(b0 * T * Xf, (b0 + k) * T * Xf);
        const ps = p.slice(b0 * P, (b0 + k) * P);
        inFlight++;
        h.pending.push((msg) => {
          inFlight--;
          if (msg.type === 'done') {
            sink.write(b0, k, msg.y, msg.J);
            finished(k);
          } else if (h.dead) redo.push({ b0, k });
          // A computation that failed in a helper would fail here too: the call fails.
          else failure ??= new Error(msg.message);
          dispatch(h);
          wake?.();
        });
        h.worker.post({ type: 'run', id: this.nextId++, mode, x: xs, p: ps, B: k, T }, [
          xs.buffer as ArrayBuffer,
          ps.buffer as ArrayBuffer,
        ]);
      }
    };
    this.kick = () => helpers.forEach(dispatch);
    let lastYield = performance.now();
    try {
      this.kick();
      // The calling thread's share, one sample at a time, yielding so that replies are handled;
      // once the queue is empty it waits for the helpers (and redoes a lost chunk, if any).
      for (;;) {
        if (stopped()) break;
        let b0: number;
        let k: number;
        const lost = redo.pop();
        if (lost) ({ b0, k } = lost);
        else if (next < B) {
          [b0, k] = [next, Math.min(unit, B - next)];
          next += k;
        } else if (inFlight > 0) {
          await new Promise<void>((r) => (wake = r));
          continue;
        } else break;
        const started = performance.now();
        try {
          sink.local(b0, k);
        } catch (e) {
          failure ??= e;
          break;
        }
        finished(k);
        if (mayStart && done >= DECIDE_AT) {
          mayStart = false;
          const predicted = ((B - done) * (performance.now() - started)) / k;
          if (predicted > (this.opts.spawnAfterMs ?? 2000)) {
            helpers = this.helpers = this.startHelpers();
            this.kick();
          }
        }
        // Helpers' replies are handled in the turns between samples; alone, yield now and then
        // so that a cancel still gets through.
        if (helpers.length > 0 || performance.now() - lastYield > 30) {
          await yieldNow();
          lastYield = performance.now();
        }
      }
      // After a cancel or a failure: let the chunks in flight finish before the helpers are reused.
      while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    } finally {
      this.kick = undefined;
      wake = undefined;
    }
    if (failure !== undefined) throw failure;
    throwIfAborted(opts.signal);
  }

  private sink(
    x: Float64Array,
    p: Float64Array,
    T: number,
    y: OutputArray | undefined,
    J: OutputArray | undefined,
  ): Sink {
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = this.config;
    const TO = T * O;
    const TOP = TO * P;
    const m = this.local.model;
    // float64 scratch for what has no float64 place of its own (y of a Jacobian call, float32 outputs).
    const scratchY = new Float64Array(JACOBIAN_RUN * TO);
    const scratchJ = new Float64Array(J && !(J instanceof Float64Array) ? JACOBIAN_RUN * TOP : 0);
    /** y and J of samples [b0, b0+k), k ≤ JACOBIAN_RUN, straight into place where the outputs are float64. */
    const some = (b0: number, k: number) => {
      const xs = x.subarray(b0 * T * Xf, (b0 + k) * T * Xf);
      const ps = p.subarray(b0 * P, (b0 + k) * P);
      const sy = scratchY.subarray(0, k * TO);
      const sJ = scratchJ.subarray(0, k * TOP);
      const ys = y instanceof Float64Array ? y.subarray(b0 * TO, (b0 + k) * TO) : sy;
      const Js = J instanceof Float64Array ? J.subarray(b0 * TOP, (b0 + k) * TOP) : sJ;
      m.evaluate(xs, ps, k, T, { y: ys, J: Js });
      if (y && ys === sy) y.set(sy, b0 * TO);
      if (J && Js === sJ) J.set(sJ, b0 * TOP);
    };
    return {
      write(b0, _k, vy, vJ) {
        if (y && vy) y.set(vy, b0 * TO);
        if (J && vJ) J.set(vJ, b0 * TOP);
      },
      local(b0, k) {
        if (!J) {
          const xs = x.subarray(b0 * T * Xf, (b0 + k) * T * Xf);
          y!.set(m.forward(xs, p.subarray(b0 * P, (b0 + k) * P), k, T), b0 * TO);
          return;
        }
        some(b0, k);
      },
    };
  }

  private startHelpers(): Helper[] {
    const tensors = [...this.tensors];
    const helpers: Helper[] = [];
    for (let i = 0; i < this.threads - 1; i++) {
      let worker: PoolWorker;
      try {
        worker = this.spawn();
      } catch (e) {
        // No threads here (or no more): the calling thread computes alone.
        const why = e instanceof Error ? e.message : String(e);
        this.opts.onHelperLost?.(
          `could not start a helper thread (${why}); computing on ${helpers.length + 1} of ${this.threads} threads`,
        );
        break;
      }
      const h: Helper = { worker, ready: false, pending: [] };
      const lose = (message: string) => {
        if (h.dead) return;
        h.dead = message;
        h.ready = false;
        for (const reply of h.pending.splice(0)) reply({ type: 'failed', id: -1, message });
        if (message !== 'disposed') {
          const alive = helpers.filter((o) => !o.dead).length + 1;
          this.opts.onHelperLost?.(
            `a helper thread stopped (${message}); computing on ${alive} of ${this.threads} threads`,
          );
        }
      };
      worker.onMessage((msg) => {
        if (msg.type === 'ready') {
          h.ready = true;
          this.kick?.();
        } else if (msg.type === 'failed' && msg.id === -1) lose(msg.message);
        else h.pending.shift()?.(msg);
      });
      worker.onError(lose);
      worker.post({ type: 'init', config: this.config, tensors });
      helpers.push(h);
    }
    return helpers;
  }
}

/** A macrotask turn without the 1 ms floor of setTimeout: worker replies get handled in it. */
function yieldNow(): Promise<void> {
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
