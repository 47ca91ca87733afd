/**
 * MATLAB v7.3 .mat files written a chunk of rows at a time: the desktop app's export of a whole J
 * too large for memory. A v7.3 file is HDF5 behind a 512-byte user block whose text starts
 * 'MATLAB 7.3 MAT-file'; each variable is a dataset with a `MATLAB_class` attribute, its dimensions
 * reversed (HDF5 is row-major, MATLAB column-major).
 *
 * MATLAB's order puts the first axis (the sample, b) fastest, so no contiguous layout can be
 * written one chunk of samples after another. Chunked storage can: with chunks of `chunkRows`
 * samples spanning every other axis, chunk i holds exactly samples [i·chunkRows, (i+1)·chunkRows),
 * and the chunks follow one another (hdf5-stream.ts, implicit chunk index). Each chunk is its rows
 * in column-major order, padded to `chunkRows`. Readers need HDF5 1.10 or later.
 */
import { cToFortran } from './mat-write';
import { type StreamDtype, type StreamLayout, hdf5StreamLayout } from './hdf5-stream';

export interface Mat73StreamVariable {
  /** A MATLAB variable name: a letter, then letters, digits and underscores, at most 63. */
  name: string;
  /** MATLAB's shape, rows (samples) first: J is [B,T,O,P]. At least two axes. */
  shape: readonly number[];
  dtype: StreamDtype;
  /**
   * Rows per chunk (1…shape[0]); every chunk but the last is written whole. Null: one contiguous
   * dataset, all of it in MATLAB's order at once (readable by HDF5 1.8 too).
   */
  chunkRows: number | null;
}

/** The 512-byte user block MATLAB writes before the HDF5 data of a v7.3 file. */
export function mat73UserBlock(created: Date = new Date()): Uint8Array {
  const text = `MATLAB 7.3 MAT-file, Platform: jacscope, Created on: ${created.toUTCString()} HDF5 schema 1.00 .`;
  const out = new Uint8Array(512);
  out.fill(0x20, 0, 116);
  for (let i = 0; i < Math.min(116, text.length); i++) out[i] = text.charCodeAt(i) & 0x7f;
  // Bytes 116–123: subsystem data offset (none); 124–125: version 0x0200; 126–127: 'IM' (little-endian).
  out[124] = 0x00;
  out[125] = 0x02;
  out[126] = 0x49;
  out[127] = 0x4d;
  return out;
}

/** The file's header (user block, HDF5 superblock and headers) and where the chunks go. */
export function mat73StreamLayout(v: Mat73StreamVariable, created?: Date): StreamLayout {
  if (!/^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(v.name))
    throw new Error(`'${v.name}' is not a MATLAB variable name`);
  if (v.shape.length < 2) throw new Error(`'${v.name}': a MATLAB array has at least two axes`);
  if (!(v.shape[0] >= 1)) throw new Error(`'${v.name}': no rows to write`);
  const rows = v.chunkRows === null ? null : Math.min(v.shape[0], Math.max(1, Math.floor(v.chunkRows)));
  const hdf5Shape = [...v.shape].reverse();
  return hdf5StreamLayout(
    [
      {
        name: v.name,
        shape: hdf5Shape,
        dtype: v.dtype,
        attributes: { MATLAB_class: v.dtype === 'float64' ? 'double' : 'single' },
        ...(rows === null ? {} : { chunk: [...v.shape.slice(1)].reverse().concat(rows) }),
      },
    ],
    { userBlock: mat73UserBlock(created) },
  );
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One chunk's bytes: `rows` ([n, ...rest] in C order, n ≤ chunkRows) in MATLAB's column-major order
 * of [chunkRows, ...rest], the rows past n zero.
 */
export function mat73ChunkBytes(
  rows: ArrayLike<number>,
  n: number,
  rest: readonly number[],
  chunkRows: number,
  dtype: StreamDtype,
): Uint8Array {
  const per = rest.reduce((a, s) => a * s, 1);
  if (rows.length !== n * per)
    throw new Error(`a chunk of ${n} rows has ${rows.length} values, not ${n * per}`);
  if (n > chunkRows) throw new Error(`${n} rows do not fit a chunk of ${chunkRows}`);
  const padded = new Float64Array(chunkRows * per);
  for (let i = 0; i < n * per; i++) padded[i] = rows[i];
  const col = cToFortran(padded, [chunkRows, ...rest]);
  const wide = dtype === 'float64';
  if (LITTLE_ENDIAN) {
    const typed = wide ? col : Float32Array.from(col);
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  const out = new Uint8Array(col.length * (wide ? 8 : 4));
  const view = new DataView(out.buffer);
  for (let i = 0; i < col.length; i++)
    if (wide) view.setFloat64(8 * i, col[i], true);
    else view.setFloat32(4 * i, col[i], true);
  return out;
}
