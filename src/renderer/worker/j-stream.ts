/**
 * The whole J written as a stream of bytes, a chunk of samples at a time, for a save in parts (the desktop
 * app's exports of a J over the memory budget): `.npy` (the header with the full shape [B,…,P] first, then the
 * values in C order, float32 or float64), `.h5`, `.mat` (MATLAB v7.3, chunks of samples in MATLAB's
 * column-major order) or the long CSV (`b,t,o,k,value`, as lib/export-format.ts longCsv
 * writes it). One chunk is computed while the previous one is being written; nothing else of J is kept.
 */
import { CancelledError } from '../../engine/errors';
import { LIMITS } from '../../preload/contract';
import { encodeChunks } from '../lib/export-format';
import type { JArray } from '../lib/j-array';
import { npyHeader } from '../../engine/io/npy';
import { hdf5StreamLayout } from '../../engine/io/hdf5-stream';
import { mat73ChunkBytes, mat73StreamLayout } from '../../engine/io/mat73-stream';
import { yAxes } from './array-files';
import { chunked } from './batch-chunks';

export type StreamedJWhat = 'full-npy' | 'full-csv' | 'full-h5' | 'full-mat';

/** J of every sample, a chunk at a time. */
export interface JChunks {
  /** y's shape [B, …]; J's is y's followed by P. */
  yShape: number[];
  T: number;
  O: number;
  P: number;
  timeAxis: boolean;
  /** How long a chunk should take (see batch-chunks.ts). */
  stepMs: number;
  /** Makes samples [b0, b1) ready (x read from disk) before `chunk`. */
  ensure(b0: number, b1: number): Promise<void>;
  /** J [b1-b0, T, O, P] of samples [b0, b1). */
  chunk(b0: number, b1: number, signal?: AbortSignal): Promise<JArray>;
}

/** Where the bytes go: `write` resolves once they are written (main's temporary file). */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
}

export interface JStreamOptions {
  /** The .npy's values; default: the precision J was computed in. */
  dtype?: 'float32' | 'float64';
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** The most bytes one write carries (default: what main accepts in one append). */
  partBytes?: number;
  /** J of one chunk stays within this many bytes (a long CSV's text is about four times that). */
  chunkBytes?: number;
}

export function streamedJName(what: StreamedJWhat): string {
  return what === 'full-npy'
    ? 'J.npy'
    : what === 'full-h5'
      ? 'J.h5'
      : what === 'full-mat'
        ? 'J.mat'
        : 'J_long.csv';
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The values as little-endian float32 or float64 bytes (a fresh buffer). */
export function valueBytes(J: JArray, dtype: 'float32' | 'float64'): Uint8Array {
  const wide = dtype === 'float64';
  if (LITTLE_ENDIAN) {
    const a = wide ? Float64Array.from(J) : Float32Array.from(J);
    return new Uint8Array(a.buffer);
  }
  const out = new Uint8Array(J.length * (wide ? 8 : 4));
  const view = new DataView(out.buffer);
  for (let i = 0; i < J.length; i++)
    if (wide) view.setFloat64(8 * i, J[i], true);
    else view.setFloat32(4 * i, J[i], true);
  return out;
}

/** The long CSV's header row. */
export function longCsvHeader(timeAxis: boolean): string {
  return timeAxis ? 'b,t,o,k,value\n' : 'b,o,k,value\n';
}

/** Rows of the long CSV for samples b0, b0+1, … of J (`J` holds them from its start). */
export function longCsvRows(
  J: JArray,
  b0: number,
  nB: number,
  dims: { T: number; O: number; P: number },
  timeAxis: boolean,
): Uint8Array {
  const { T, O, P } = dims;
  const chunks: string[] = [];
  let buf = '';
  let i = 0;
  for (let b = b0; b < b0 + nB; b++)
    for (let t = 0; t < T; t++) {
      const bt = timeAxis ? `${b},${t},` : `${b},`;
      for (let o = 0; o < O; o++) {
        const bto = `${bt}${o},`;
        for (let k = 0; k < P; k++) buf += `${bto}${k},${J[i++]}\n`;
      }
      if (buf.length > 1 << 20) {
        chunks.push(buf);
        buf = '';
      }
    }
  chunks.push(buf);
  return encodeChunks(chunks);
}

/**
 * Writes the whole J to `sink` in parts of at most `partBytes`, one chunk of samples at a time, one chunk
 * computed ahead of the writing. Returns the file's name, its size and (.npy) its dtype. A cancel (`signal`)
 * throws CancelledError after the write in progress has settled; the caller drops the save.
 */
export async function streamWholeJ(
  what: StreamedJWhat,
  src: JChunks,
  sink: ByteSink,
  opts: JStreamOptions = {},
): Promise<{ name: string; bytes: number; dtype?: 'float32' | 'float64' }> {
  const B = src.yShape[0];
  const { T, O, P } = src;
  const per = T * O * P;
  const partBytes = Math.max(1, opts.partBytes ?? LIMITS.maxSaveAppendBytes);
  const chunkBytes = opts.chunkBytes ?? (what === 'full-csv' ? 4 : 16) * 2 ** 20;
  let dtype = opts.dtype;
  let written = 0;
  // A .mat (MATLAB v7.3) is written in chunks of a fixed number of samples, in MATLAB's
  // column-major order (engine/io/mat73-stream.ts): the computed samples gather in `staged`.
  const rest = [...src.yShape.slice(1), P];
  const matRows = Math.max(1, Math.min(B, Math.floor(chunkBytes / Math.max(1, per * 8))));
  let staged: Float64Array | null = null;
  let stagedRows = 0;
  /** What comes before the values: the .npy header, or the HDF5 file's (one dataset, J). */
  const header = (d: 'float32' | 'float64') =>
    what === 'full-h5'
      ? hdf5StreamLayout([
          { name: 'J', shape: [...src.yShape, P], dtype: d, axes: [...yAxes(src.yShape, src.timeAxis), 'P'] },
        ]).header
      : what === 'full-mat'
        ? mat73StreamLayout({ name: 'J', shape: [...src.yShape, P], dtype: d, chunkRows: matRows }).header
        : npyHeader([...src.yShape, P], d);
  /** Sends the staged samples as one chunk of the .mat (padded when they are the last ones). */
  const flushMat = () => {
    const bytes = mat73ChunkBytes(staged!.subarray(0, stagedRows * per), stagedRows, rest, matRows, dtype!);
    stagedRows = 0;
    return send(bytes);
  };
  let writing: Promise<void> = Promise.resolve();

  const writeAll = async (bytes: Uint8Array) => {
    for (let off = 0; off < bytes.length; off += partBytes) {
      const part = bytes.subarray(off, Math.min(bytes.length, off + partBytes));
      await sink.write(part);
      written += part.length;
    }
  };
  /** Waits for the previous chunk's bytes to be written, then starts writing these. */
  const send = async (bytes: Uint8Array) => {
    await writing;
    if (opts.signal?.aborted) throw new CancelledError();
    writing = writeAll(bytes);
    // Handled where it is awaited; this only keeps an unhandled rejection from being reported meanwhile.
    writing.catch(() => {});
  };

  try {
    if (what === 'full-csv') await send(new TextEncoder().encode(longCsvHeader(src.timeAxis)));
    await chunked(
      src,
      B,
      async (b0, b1) => {
        const J = await src.chunk(b0, b1, opts.signal);
        if (J.length !== (b1 - b0) * per)
          throw new Error(`J of samples ${b0}…${b1 - 1} has ${J.length} values, not ${(b1 - b0) * per}`);
        if (what === 'full-csv') return send(longCsvRows(J, b0, b1 - b0, src, src.timeAxis));
        if (!dtype) dtype = J instanceof Float32Array ? 'float32' : 'float64';
        if (b0 === 0) await send(header(dtype));
        if (what !== 'full-mat') return send(valueBytes(J, dtype));
        staged ??= new Float64Array(matRows * per);
        for (let b = 0; b < b1 - b0;) {
          const n = Math.min(matRows - stagedRows, b1 - b0 - b);
          staged.set(J.subarray(b * per, (b + n) * per), stagedRows * per);
          stagedRows += n;
          b += n;
          if (stagedRows === matRows) await flushMat();
        }
      },
      {
        signal: opts.signal,
        stepMs: src.stepMs,
        maxSamples: Math.floor(chunkBytes / Math.max(1, per * 8)),
      },
      (done) => opts.onProgress?.(done, B),
    );
    if (what === 'full-mat' && stagedRows > 0) await flushMat();
    if (what === 'full-mat' && B === 0)
      throw new Error('there are no samples: a .mat of J needs at least one');
    if (what !== 'full-csv' && B === 0) await send(header(dtype ?? 'float64'));
    await writing;
  } catch (e) {
    // Whatever was being written settles before the caller drops the save.
    await writing.catch(() => {});
    throw e;
  }
  return { name: streamedJName(what), bytes: written, dtype: what === 'full-csv' ? undefined : dtype };
}
