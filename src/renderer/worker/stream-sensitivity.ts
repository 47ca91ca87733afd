/**
 * The batch views in sample mode: one streamed pass over every sample, J computed a chunk at a time, summed
 * into the engine's streaming accumulator (ν per (t,o,k), the normalised index, the elasticity) and dropped.
 * A forward pre-pass finds max |y| per output first (the elasticity's floor is relative to it over the whole
 * dataset). An fno1d-scalar model runs on the session's batch backend when that computes in float64 (the CPU
 * helper threads: batch-chunks.ts), a graph model on the worker's CPU model in steps of about 40 ms; there is a
 * yield between chunks, so a cancel, a sample the slider asks for or a what-if gets through while it runs.
 */
import { StreamingSensitivity, absMaxOfOutputs } from '../../engine/analysis/streaming';
import type { BatchBackend } from './engine-contract';
import { ChunkRunner, chunked } from './batch-chunks';
import type { SampleSource } from './sample-source';

/** J of one chunk stays within this many bytes. */
const CHUNK_J_BYTES = 32 * 2 ** 20;

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

export async function streamSensitivity(
  src: SampleSource,
  hooks: StreamHooks = {},
  relFloor = 1e-2,
  /** The batch backend to compute on (float64: see float64Backend); null: the worker's CPU model. */
  backend: BatchBackend | null = null,
): Promise<StreamedSensitivity> {
  const { B, T, O, P } = src.dims;
  const total = 2 * B;
  const report = (done: number) => hooks.onProgress?.(done, total);
  const run = new ChunkRunner(src, backend);
  const opts = {
    signal: hooks.signal,
    stepMs: run.stepMs,
    maxSamples: Math.floor(CHUNK_J_BYTES / Math.max(1, T * O * P * 8)),
  };

  let yAbsMax: Float64Array = new Float64Array(O);
  await chunked(
    src,
    B,
    async (b0, b1) => {
      yAbsMax = absMaxOfOutputs(await run.forward(b0, b1, hooks.signal), O, yAbsMax);
    },
    opts,
    report,
  );

  const acc = new StreamingSensitivity({ T, O, P }, { relFloor, yAbsMax });
  let jAbsMax = 0;
  await chunked(
    src,
    B,
    async (b0, b1) => {
      const { x, p, y, J } = await run.evaluate(b0, b1, hooks.signal);
      acc.add(x.length ? x : null, p, J, y);
      for (let i = 0; i < J.length; i++) {
        const a = Math.abs(J[i]);
        if (a > jAbsMax) jAbsMax = a;
      }
    },
    opts,
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
