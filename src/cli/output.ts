import { LoadError } from '../engine/errors';
import { writeNpy } from '../engine/io/npy';
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

/**
 * Write a tensor to .npy, or to long-format CSV with one column per axis (named by `axes`) and a
 * final `value` column. Anything else is refused before any file is touched.
 */
export function writeTensor(
  path: string,
  shape: number[],
  data: Float64Array | Float32Array,
  axes: string[],
  dtype: OutDType,
): void {
  const lower = path.toLowerCase();
  if (lower.endsWith('.npy')) {
    const bytes = writeNpy({ shape, data }, dtype);
    writeAtomic(path, (w) => w(bytes));
    return;
  }
  if (lower.endsWith('.csv')) {
    const fmt = formatter(dtype);
    writeAtomic(path, (w) => {
      w(`${axes.join(',')},value\n`);
      const idx = new Array<number>(shape.length).fill(0);
      let buf = '';
      for (let i = 0; i < data.length; i++) {
        buf += `${idx.join(',')},${fmt(data[i])}\n`;
        for (let a = shape.length - 1; a >= 0; a--) {
          if (++idx[a] < shape[a]) break;
          idx[a] = 0;
        }
        if (buf.length > 1 << 20) {
          w(buf);
          buf = '';
        }
      }
      w(buf);
    });
    return;
  }
  throw new LoadError(path, 'unknown output format: the name must end in .npy or .csv');
}
