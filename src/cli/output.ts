import { LoadError } from '../engine/errors';
import { cToFortran, writeMat } from '../engine/io/mat-write';
import { mat73StreamLayout } from '../engine/io/mat73-stream';
import { writeAtomic } from './files';

export type OutDType = 'float32' | 'float64';

export function parseDType(v: string | undefined): OutDType {
  if (v === undefined) return 'float32';
  if (v === 'float32' || v === 'float64') return v;
  throw new LoadError('--dtype', `unknown dtype '${v}': use float32 or float64`);
}

/** Full precision for CSV: float32 values are printed as the float32 they are, float64 as doubles. */
function formatter(dtype: OutDType): (v: number) => string {
  return dtype === 'float32' ? (v) => String(Math.fround(v)) : (v) => String(v);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Long-format CSV lines (every index, then the value) of `values`: the rows of a tensor of `shape`
 * from row `b0` on.
 */
export function csvRows(
  shape: readonly number[],
  values: ArrayLike<number>,
  b0: number,
  dtype: OutDType,
): string {
  const fmt = formatter(dtype);
  const idx = new Array<number>(shape.length).fill(0);
  idx[0] = b0;
  let text = '';
  for (let i = 0; i < values.length; i++) {
    text += `${idx.join(',')},${fmt(values[i])}\n`;
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a] < shape[a] || a === 0) break;
      idx[a] = 0;
    }
  }
  return text;
}

/** The output names the CLI writes: .npy, long-format .csv, HDF5, or MATLAB .mat. */
export const OUTPUT_NAME = /\.(npy|csv|h5|hdf5|mat)$/i;

/**
 * The largest array written as MATLAB v5 (class double, what scipy.io.loadmat, Octave and every MATLAB
 * read): MATLAB's own limit for a -v7 variable. Larger ones are written as v7.3 (HDF5).
 */
export const MAT_V5_MAX_BYTES = 2 ** 31 - 1;

/**
 * `name` as a MATLAB variable of MATLAB's shape (J [B,T,O,P] stays J(b,t,o,k)): v5 class double up to
 * `v5MaxBytes` (float32 values are stored as the doubles they are), else v7.3 in the requested dtype.
 */
export function writeMatlab(
  path: string,
  shape: number[],
  data: Float64Array | Float32Array,
  dtype: OutDType,
  name: string,
  v5MaxBytes: number,
): 'v5' | 'v7.3' {
  const f64 = data instanceof Float64Array ? data : Float64Array.from(data);
  const values = dtype === 'float32' && data instanceof Float64Array ? f64.map(Math.fround) : f64;
  if (8 * values.length <= v5MaxBytes) {
    const bytes = writeMat([{ name, tensor: { dtype: 'float64', shape, data: values } }]);
    writeAtomic(path, (w) => w(bytes));
    return 'v5';
  }
  if (!LITTLE_ENDIAN) throw new LoadError(path, 'MATLAB v7.3 output needs a little-endian machine');
  const { header } = mat73StreamLayout({
    name,
    shape: shape.length >= 2 ? shape : [1, ...shape],
    dtype,
    chunkRows: null,
  });
  const col = cToFortran(values, shape);
  const out = dtype === 'float32' ? Float32Array.from(col) : col;
  writeAtomic(path, (w) => {
    w(header);
    w(new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  });
  return 'v7.3';
}
