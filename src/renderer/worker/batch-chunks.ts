/**
 * Sample mode's passes over every sample (the streamed global sensitivity, the streamed export of the whole J):
 * the samples a chunk at a time, each chunk sized to take about a set time and to stay within a set number of
 * bytes of J, with a yield between chunks so that a cancel (and any other request) gets through. y and J of a
 * chunk come from the session's batch backend where it computes in float64 (the CPU, with helper threads where
 * there are several cores), or else from the worker's CPU float64 model (a graph model on WebGPU).
 */
import { CancelledError } from '../../engine/errors';
import type { JArray } from '../lib/j-array';
import type { BatchBackend } from './engine-contract';
import type { SampleSource } from './sample-source';

const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

/** Chunks run on the worker's thread take about this long (it cannot answer anything meanwhile). */
export const STEP_MS = 40;
/** Chunks run on the batch backend: longer, so that helper threads each get a share (the worker stays free). */
export const BACKEND_STEP_MS = 250;

export interface ChunkOptions {
  signal?: AbortSignal;
  /** How long a chunk should take. */
  stepMs: number;
  /** The most samples in one chunk (at least 1). */
  maxSamples?: number;
}

/**
 * Runs `step(b0, b1)` over [0, B) in chunks that take about `stepMs` each (at most doubling from one chunk to
 * the next, so one slow sample does not make a huge chunk), reading x of the chunk from disk first when it is
 * read lazily; `progress(b1)` after each chunk.
 */
export async function chunked(
  src: { ensure(b0: number, b1: number): Promise<void> },
  B: number,
  step: (b0: number, b1: number) => void | Promise<void>,
  opts: ChunkOptions,
  progress: (done: number) => void,
): Promise<void> {
  const most = Math.max(1, Math.floor(opts.maxSamples ?? Infinity));
  let n = 1;
  for (let b0 = 0; b0 < B;) {
    if (opts.signal?.aborted) throw new CancelledError();
    const b1 = Math.min(B, b0 + n);
    // x read lazily: this chunk's rows from disk first (not timed: the chunk size follows the computing).
    await src.ensure(b0, b1);
    if (opts.signal?.aborted) throw new CancelledError();
    const t0 = performance.now();
    await step(b0, b1);
    const ms = performance.now() - t0;
    n = Math.max(1, Math.min(2 * n, most, Math.round(((b1 - b0) * opts.stepMs) / Math.max(ms, 0.01))));
    b0 = b1;
    progress(b0);
    await nextTask();
  }
}

/**
 * The session's batch backend when it computes in float64 (the CPU: the same numbers as the worker's model, on
 * helper threads), or null: WebGPU (float32), or a backend that cannot be set up.
 */
export async function float64Backend(session: {
  batchBackend(): Promise<BatchBackend | null>;
}): Promise<BatchBackend | null> {
  try {
    const b = await session.batchBackend();
    return b && b.kind === 'cpu' ? b : null;
  } catch {
    return null;
  }
}

/** How a pass computes: on `backend` (fno1d-scalar), or on the source's CPU model in the worker. */
export class ChunkRunner {
  constructor(
    readonly src: SampleSource,
    readonly backend: BatchBackend | null,
  ) {}

  get stepMs(): number {
    return this.backend ? BACKEND_STEP_MS : STEP_MS;
  }

  /** y of samples [b0, b1) (made ready with `src.ensure`). */
  async forward(b0: number, b1: number, signal?: AbortSignal): Promise<Float64Array> {
    const { x, p } = this.src.inputs(b0, b1);
    const T = this.src.dims.T;
    if (this.backend) return this.backend.forward(x, p, b1 - b0, T, { signal });
    return this.src.net.forward(x, p, b1 - b0, T);
  }

  /** x, p, y and J of samples [b0, b1) (made ready with `src.ensure`). */
  async evaluate(
    b0: number,
    b1: number,
    signal?: AbortSignal,
  ): Promise<{ x: Float64Array; p: Float64Array; y: Float64Array; J: JArray }> {
    const { x, p } = this.src.inputs(b0, b1);
    const T = this.src.dims.T;
    const r = this.backend
      ? await this.backend.evaluate(x, p, b1 - b0, T, { signal })
      : this.src.net.evaluate(x, p, b1 - b0, T);
    return { x, p, y: r.y, J: r.J };
  }
}
