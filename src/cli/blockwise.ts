/**
 * A batch computed and written block by block: memory holds two blocks of the result, not the whole
 * of it (a J of many samples can be larger than memory), and each block is written while the next
 * one computes. Blocks are multiples of 8 samples, on which the engine's forward chunks and Jacobian
 * runs align, so the result does not depend on the block size.
 */
import { ShapeError } from '../engine/errors';
import { sizeOf } from '../engine/tensor';
import type { OutDType } from './output';
import type { TensorSink, Values } from './tensor-sink';

/**
 * Result bytes per block. On the CPU, two blocks bound the memory of a large J and each block's
 * write overlaps the next block's computation; blocks much smaller cost more than they save (each
 * ends by waiting for the helper threads' last chunks: 16 MB blocks made the seed's B = 64 J 10%
 * slower on two threads). For WebGPU, large enough for the device's own batches.
 */
export const BLOCK_BYTES = { cpu: 64 << 20, webgpu: 256 << 20 } as const;

/** Samples per block for `perSample` result values each. */
export function blockSamples(
  B: number,
  perSample: number,
  dtype: OutDType,
  on: keyof typeof BLOCK_BYTES,
): number {
  const bytes = perSample * (dtype === 'float32' ? 4 : 8);
  const n = Math.floor(BLOCK_BYTES[on] / Math.max(bytes, 1) / 8) * 8;
  return Math.max(1, Math.min(B, Math.max(8, n)));
}

export interface BlockResult {
  values: Values;
  /** One sample's result shape (J: the output's, then P). */
  rowShape: number[];
}

export interface Blockwise {
  B: number;
  /** Samples per block (see blockSamples), given one sample's result shape once known. */
  block(rowShape: number[] | undefined): number;
  /** One sample's result shape when known before computing (else the first block's). */
  rowShape?: number[];
  /**
   * Samples [b0, b0+n): into `reuse` when given and of the right size (a buffer of two blocks
   * before, whose write has finished), else into a new array; `onProgress` counts within the block.
   */
  compute(
    b0: number,
    n: number,
    reuse: Values | undefined,
    onProgress?: (done: number, total: number) => void,
  ): Promise<BlockResult>;
  /** The file, opened once the first block gives one sample's result shape. */
  open(rowShape: number[]): Promise<TensorSink>;
  onProgress?(done: number, total: number): void;
}

/** Runs the blocks; the file is committed when every block is written, removed on any failure. */
export async function blockwise(w: Blockwise): Promise<{ rowShape: number[] }> {
  const { B } = w;
  let sink: TensorSink | undefined;
  let rowShape = w.rowShape;
  // Two result buffers take turns: one being written while the other is computed into.
  const buffers: (Values | undefined)[] = [undefined, undefined];
  let writing: Promise<void> = Promise.resolve();
  try {
    // Opened first when the shape is known: a folder that does not exist fails before any work.
    if (rowShape) sink = await w.open(rowShape);
    for (let b0 = 0, turn = 0, n = 0; b0 < B; b0 += n, turn ^= 1) {
      n = Math.min(w.block(rowShape), B - b0);
      const r = await w.compute(b0, n, buffers[turn], (d) => w.onProgress?.(b0 + d, B));
      buffers[turn] = r.values;
      rowShape ??= r.rowShape;
      // A model whose output's shape depends on the data cannot go into one array.
      if (r.rowShape.join() !== rowShape.join() || r.values.length !== n * sizeOf(rowShape))
        throw new ShapeError(
          `samples ${b0}…${b0 + n - 1} give an output of shape [${r.rowShape}] a sample, unlike the first ones' [${rowShape}]`,
        );
      sink ??= await w.open(rowShape);
      await writing;
      writing = sink.write(b0, r.values);
    }
    await writing;
    const shape = rowShape ?? [];
    sink ??= await w.open(shape);
    await sink.commit();
    return { rowShape: shape };
  } catch (e) {
    await writing.catch(() => undefined);
    await sink?.abort();
    throw e;
  }
}
