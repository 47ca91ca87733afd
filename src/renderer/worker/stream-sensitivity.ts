/**
 * The batch views in sample mode: one streamed pass over every sample, J computed a chunk at a time, summed
 * into the engine's streaming accumulator (ν per (t,o,k), the normalised index, the elasticity) and dropped.
 * A forward pre-pass finds max |y| per output first (the elasticity's floor is relative to it over the whole
 * dataset). Work runs in steps of about 40 ms with a yield between, so a cancel, a sample the slider asks for
 * or a what-if gets through while it runs.
 */
import { CancelledError } from '../../engine/errors';
import { StreamingSensitivity, absMaxOfOutputs } from '../../engine/analysis/streaming';
import type { SampleSource } from './sample-source';

const STEP_MS = 40;
const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

export interface StreamedSensitivity {
  nu: Float64Array;
  nuT: Float64Array;
  index: Float64Array | null;
  elasticity: Float64Array;
  yFloor: number;
  /** Samples summed. */
  B: number;
  /** max |J| over every sample. */
  jAbsMax: number;
}

export interface StreamHooks {
  signal?: AbortSignal;
  /** done / total counts samples twice: the forward pre-pass, then the Jacobians. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Runs `step(b0, b1)` over [0, B) in chunks sized to take about STEP_MS each, yielding between them.
 */
async function chunked(
  src: SampleSource,
  B: number,
  step: (b0: number, b1: number) => void,
  hooks: StreamHooks,
  progress: (done: number) => void,
): Promise<void> {
  let n = 1;
  for (let b0 = 0; b0 < B;) {
    if (hooks.signal?.aborted) throw new CancelledError();
    const b1 = Math.min(B, b0 + n);
    // x read lazily: this chunk's rows from disk first (not timed: the chunk size follows the computing).
    await src.ensure(b0, b1);
    if (hooks.signal?.aborted) throw new CancelledError();
    const t0 = performance.now();
    step(b0, b1);
    const ms = performance.now() - t0;
    // Aim the next chunk at STEP_MS (at most doubling, so one slow sample does not make a huge chunk).
    n = Math.max(1, Math.min(2 * n, Math.round(((b1 - b0) * STEP_MS) / Math.max(ms, 0.01))));
    b0 = b1;
    progress(b0);
    await nextTask();
  }
}

export async function streamSensitivity(
  src: SampleSource,
  hooks: StreamHooks = {},
  relFloor = 1e-2,
): Promise<StreamedSensitivity> {
  const { B, T, O, P } = src.dims;
  const total = 2 * B;
  const report = (done: number) => hooks.onProgress?.(done, total);

  let yAbsMax: Float64Array = new Float64Array(O);
  await chunked(
    src,
    B,
    (b0, b1) => {
      const { x, p } = src.inputs(b0, b1);
      yAbsMax = absMaxOfOutputs(src.net.forward(x, p, b1 - b0, T), O, yAbsMax);
    },
    hooks,
    report,
  );

  const acc = new StreamingSensitivity({ T, O, P }, { relFloor, yAbsMax });
  let jAbsMax = 0;
  await chunked(
    src,
    B,
    (b0, b1) => {
      const { x, p } = src.inputs(b0, b1);
      const { y, J } = src.net.evaluate(x, p, b1 - b0, T);
      acc.add(x.length ? x : null, p, J, y);
      for (let i = 0; i < J.length; i++) {
        const a = Math.abs(J[i]);
        if (a > jAbsMax) jAbsMax = a;
      }
    },
    hooks,
    (done) => report(B + done),
  );
  const r = acc.result();
  return {
    nu: r.nu,
    nuT: r.nuT,
    index: r.index,
    elasticity: r.elasticity!,
    yFloor: r.yFloor,
    B: r.B,
    jAbsMax,
  };
}
