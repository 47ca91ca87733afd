/**
 * Helper threads for the CPU engine, and the loop that shares a call's samples between them and
 * the calling thread. What a call computes is its `PoolJob`; the parallel runners (fno1d-scalar's
 * ParallelCpuBackend, any graph model's ParallelGraphModel) only say how samples are cut, computed
 * here and written back.
 */
import { ShapeError } from '../../errors';
import { serialQueue, throwIfAborted } from '../backend';
import type { PoolMode, PoolModel, PoolReply, PoolRequest, PoolWorker } from './pool-protocol';

type ChunkReply = Extract<PoolReply, { type: 'done' | 'failed' }>;
export type DoneReply = Extract<PoolReply, { type: 'done' }>;
type RunRequest = Extract<PoolRequest, { type: 'run' }>;

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

export interface HelperPoolOptions {
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

/** One call's work: B samples, cut into chunks of `unit` (aligned at its multiples). */
export interface PoolJob {
  readonly mode: PoolMode;
  readonly B: number;
  /**
   * Samples per chunk: the model's own runs (FORWARD_CHUNK of a forward pass, JACOBIAN_RUN of a
   * Jacobian), aligned as it aligns them, so that results are the one-thread ones bit for bit;
   * small chunks also keep the threads' finishing times close and bound the memory in flight.
   */
  readonly unit: number;
  /** A helper's request for samples [b0, b0+k) (without its id), and the buffers it may take. */
  request(b0: number, k: number): { msg: Omit<RunRequest, 'type' | 'id'>; transfer: ArrayBuffer[] };
  /** Samples [b0, b0+k) on the calling thread, straight into place. */
  local(b0: number, k: number): void;
  /** A helper's results for samples [b0, b0+k). */
  write(b0: number, k: number, reply: DoneReply): void;
}

export interface PoolCallOptions {
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  /** Samples later calls of the same piece of work will bring: they count when deciding to start helpers. */
  samplesAfter?: number;
}

/**
 * The calling thread and `threads − 1` helper threads take chunks of samples from one queue, each
 * with its own copy of the model. Helpers start with the first call long enough to be worth it
 * (`spawnAfterMs`) and join as soon as they are ready; until then the calling thread computes
 * alone. A helper that dies leaves its chunks to the calling thread.
 */
export class HelperPool {
  private helpers: Helper[] | undefined;
  /** Hands idle, ready helpers the next chunk while a call runs. */
  private kick: (() => void) | undefined;
  private nextId = 1;
  /** One call at a time: calls share the helpers. */
  private readonly serialize = serialQueue();
  private disposed = false;
  /** Threads that computed part of the last call: the calling thread and the helpers that answered. */
  threadsUsed = 1;

  /** `model` is asked for once, when the helpers start (it may copy every weight). */
  constructor(
    private readonly spawn: () => PoolWorker,
    readonly threads: number,
    private readonly model: () => PoolModel,
    private readonly opts: HelperPoolOptions = {},
  ) {}

  run(job: PoolJob, opts: PoolCallOptions = {}): Promise<void> {
    return this.serialize(() => this.share(job, opts));
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

  private async share(job: PoolJob, opts: PoolCallOptions): Promise<void> {
    if (this.disposed) throw new Error('this CPU backend has been disposed');
    throwIfAborted(opts.signal);
    const { B, unit } = job;
    let helpers = this.helpers ?? [];
    // Whether this call may still start the helpers: decided on the third sample's time (the
    // first ones of a process run before the JIT has warmed up), or on the last one if fewer.
    let mayStart = this.helpers === undefined && B + (opts.samplesAfter ?? 0) > 1 && this.threads > 1;
    const DECIDE_AT = Math.min(3, B);
    let next = 0;
    let done = 0;
    let inFlight = 0;
    let failure: unknown;
    /** Chunks whose helper thread died before answering: the calling thread redoes them. */
    const redo: { b0: number; k: number }[] = [];
    let wake: (() => void) | undefined;
    const stopped = () => failure !== undefined || opts.signal?.aborted === true;
    const answered = new Set<Helper>();
    this.threadsUsed = 1;
    const finished = (k: number) => {
      done += k;
      opts.onProgress?.(done, B);
    };
    const dispatch = (h: Helper) => {
      while (h.ready && !h.dead && h.pending.length < HELPER_DEPTH && next < B && !stopped()) {
        const b0 = next;
        const k = Math.min(unit, B - b0);
        next += k;
        const { msg, transfer } = job.request(b0, k);
        inFlight++;
        h.pending.push((reply) => {
          inFlight--;
          if (reply.type === 'done') {
            try {
              job.write(b0, k, reply);
              finished(k);
              answered.add(h);
              this.threadsUsed = 1 + answered.size;
            } catch (e) {
              failure ??= e;
            }
          } else if (h.dead) redo.push({ b0, k });
          // A computation that failed in a helper would fail here too: the call fails.
          else failure ??= reply.shape ? new ShapeError(reply.message) : new Error(reply.message);
          dispatch(h);
          wake?.();
        });
        h.worker.post({ type: 'run', id: this.nextId++, ...msg }, transfer);
      }
    };
    this.kick = () => helpers.forEach(dispatch);
    let lastYield = performance.now();
    try {
      this.kick();
      // The calling thread's share, one chunk at a time, yielding so that replies are handled;
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
          job.local(b0, k);
        } catch (e) {
          failure ??= e;
          break;
        }
        finished(k);
        if (mayStart && done >= DECIDE_AT) {
          mayStart = false;
          const predicted = ((B - done + (opts.samplesAfter ?? 0)) * (performance.now() - started)) / k;
          if (predicted > (this.opts.spawnAfterMs ?? 2000)) {
            helpers = this.helpers = this.startHelpers();
            this.kick();
          }
        }
        // Helpers' replies are handled in the turns between chunks; alone, yield now and then
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

  private startHelpers(): Helper[] {
    const model = this.model();
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
      worker.post({ type: 'init', model });
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
