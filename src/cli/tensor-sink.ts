/**
 * A result written block by block along its first axis (samples), so that a J larger than memory
 * can be written at all, and each block's write overlaps the next block's computation (the writes
 * run on libuv's thread pool). .npy and .h5 are a header and then the values at their offsets;
 * .csv appends its long-format rows; .mat collects the blocks and is written at the end (MATLAB's
 * column order needs every sample). Everything goes to a temporary file beside the target, renamed
 * into place by `commit`, so a failure or a cancel never leaves half a file; `abort` removes it.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { renameSync, rmSync } from 'node:fs';
import { LoadError } from '../engine/errors';
import { hdf5StreamLayout } from '../engine/io/hdf5-stream';
import { npyHeader } from '../engine/io/npy';
import { sizeOf } from '../engine/tensor';
import { temporaryPathFor, writeErrorOf } from './files';
import { MAT_V5_MAX_BYTES, csvRows, writeMatlab, type OutDType } from './output';

export type Values = Float32Array | Float64Array;

export interface TensorSink {
  /** Rows [b0, b0 + values.length / rowValues) (in order for .csv); `values` may be reused once it resolves. */
  write(b0: number, values: Values): Promise<void>;
  /** Makes the file: synced, then renamed into place. */
  commit(): Promise<void>;
  /** Removes what was written (after a failure or a cancel). */
  abort(): Promise<void>;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Temporary files being written. Interrupted (Ctrl-C, a job's time limit), the process removes them
 * before it ends as the signal would have ended it: a cancelled run leaves nothing behind.
 */
const writing = new Set<string>();
const SIGNALS = { SIGINT: 2, SIGTERM: 15, SIGHUP: 1 } as const;
function onSignal(signal: keyof typeof SIGNALS) {
  for (const tmp of writing) rmSync(tmp, { force: true });
  process.exit(128 + SIGNALS[signal]);
}
function track(tmp: string, on: boolean) {
  if (on) writing.add(tmp);
  else writing.delete(tmp);
  for (const signal of Object.keys(SIGNALS) as (keyof typeof SIGNALS)[]) {
    process.removeListener(signal, onSignal);
    if (writing.size > 0) process.on(signal, onSignal);
  }
}

/** `values` as the bytes of `dtype` (little-endian): a view when they already are, else a converted copy. */
function bytesOf(values: Values, dtype: OutDType): Uint8Array {
  const same = (dtype === 'float32') === values instanceof Float32Array;
  const v = same ? values : dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

async function writeAll(file: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  // A write may take less than asked (large buffers, some file systems): write the rest.
  for (let off = 0; off < bytes.length;) {
    const { bytesWritten } = await file.write(
      bytes,
      off,
      Math.min(bytes.length - off, 1 << 30),
      position + off,
    );
    off += bytesWritten;
  }
}

/**
 * The sink for `path` (.npy, .h5/.hdf5, .csv or .mat) of a tensor of `shape`; `axes` name its axes
 * (CSV columns, the HDF5 attribute), `name` is the dataset or MATLAB variable.
 */
export async function openTensorSink(
  path: string,
  shape: readonly number[],
  axes: readonly string[],
  dtype: OutDType,
  name: string,
): Promise<TensorSink> {
  const lower = path.toLowerCase();
  const rowValues = sizeOf(shape.slice(1));
  if (lower.endsWith('.mat')) return matSink(path, shape, dtype, name);
  const binary = lower.endsWith('.npy') || lower.endsWith('.h5') || lower.endsWith('.hdf5');
  if (!binary && !lower.endsWith('.csv'))
    throw new LoadError(path, 'unknown output format: the name must end in .npy, .csv, .h5 or .mat');
  if (binary && !LITTLE_ENDIAN) throw new LoadError(path, 'binary output needs a little-endian machine');
  const tmp = temporaryPathFor(path);
  // Tracked before it exists: an interrupt at any moment finds it.
  track(tmp, true);
  let file: FileHandle;
  try {
    file = await open(tmp, 'w');
  } catch (e) {
    track(tmp, false);
    throw writeErrorOf(path, e);
  }
  const remove = async () => {
    await file.close().catch(() => undefined);
    rmSync(tmp, { force: true });
    track(tmp, false);
  };
  try {
    const header = lower.endsWith('.npy')
      ? npyHeader(shape, dtype)
      : lower.endsWith('.csv')
        ? new TextEncoder().encode(`${axes.join(',')},value\n`)
        : hdf5StreamLayout([{ name, shape: [...shape], dtype, axes: [...axes] }]).header;
    await writeAll(file, header, 0);
    const itemSize = dtype === 'float32' ? 4 : 8;
    const encoder = new TextEncoder();
    let csvAt = header.length;
    let nextRow = 0;
    return {
      async write(b0, values) {
        if (binary) return writeAll(file, bytesOf(values, dtype), header.length + b0 * rowValues * itemSize);
        if (b0 !== nextRow) throw new Error(`internal: CSV rows ${b0}… written before rows ${nextRow}…`);
        const n = values.length / rowValues;
        nextRow += n;
        // About a megabyte of text at a time.
        const step = Math.max(1, Math.floor((1 << 20) / (24 * Math.max(rowValues, 1))));
        for (let r = 0; r < n; r += step) {
          const part = values.subarray(r * rowValues, Math.min(n, r + step) * rowValues);
          const text = encoder.encode(csvRows(shape, part, b0 + r, dtype));
          await writeAll(file, text, csvAt);
          csvAt += text.length;
        }
      },
      async commit() {
        try {
          await file.sync();
          await file.close();
          renameSync(tmp, path);
          track(tmp, false);
        } catch (e) {
          await remove();
          throw writeErrorOf(path, e);
        }
      },
      abort: remove,
    };
  } catch (e) {
    await remove();
    throw writeErrorOf(path, e);
  }
}

/** MATLAB: the blocks gathered, written whole by writeMatlab at commit (v5 up to its limit, v7.3 beyond). */
function matSink(path: string, shape: readonly number[], dtype: OutDType, name: string): TensorSink {
  const rowValues = sizeOf(shape.slice(1));
  const all =
    dtype === 'float32' ? new Float32Array(shape[0] * rowValues) : new Float64Array(shape[0] * rowValues);
  return {
    async write(b0, values) {
      all.set(values, b0 * rowValues);
    },
    async commit() {
      writeMatlab(path, [...shape], all, dtype, name, MAT_V5_MAX_BYTES);
    },
    async abort() {},
  };
}
