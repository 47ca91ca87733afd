/**
 * Writes HDF5 files holding float64 arrays through the same library that reads them (hdf5.ts):
 * one dataset per array (little-endian float64, contiguous, or chunked and gzip-compressed), the
 * axis names as the dataset's `axes` attribute (an array of strings) and as HDF5 dimension labels
 * (what h5py shows as `ds.dims[i].label`). `loadHdf5()` must have finished.
 */
import { type HostTensor, isComplex, shapeString, sizeOf } from '../tensor';
import { hdf5Call, hdf5Loaded } from './hdf5';
import type { NamedArray } from './mat-write';

export interface Hdf5WriteOptions {
  /** gzip level 1–9, in chunks of whole rows (about 1 MiB); default none. */
  gzip?: number;
}

let outCounter = 0;

interface H5Dataset {
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
  set_dimension_label(index: number, label: string): void;
}
interface H5Group {
  keys(): string[];
  create_group(name: string): unknown;
  create_dataset(args: Record<string, unknown>): H5Dataset;
  close?(): number;
}

/** Dataset names: `x`, `/x`, `group/x`; every part is a non-empty name without '.'/'..'. */
function datasetPath(name: string): string[] {
  const parts = name.split('/').filter((p) => p !== '');
  if (parts.length === 0 || parts.some((p) => p === '.' || p === '..'))
    throw new Error(`'${name}' is not a dataset name`);
  return parts;
}

function check(a: NamedArray): HostTensor {
  const t = a.tensor;
  if (isComplex(t.dtype))
    throw new Error(`'${a.name}' is complex; the HDF5 writer writes real float64 arrays`);
  if (t.data.length !== sizeOf(t.shape))
    throw new Error(`'${a.name}': ${t.data.length} values do not fill shape ${shapeString(t.shape)}`);
  if (a.axes && a.axes.length !== t.shape.length)
    throw new Error(`'${a.name}' has ${t.shape.length} axes but ${a.axes.length} axis names`);
  return t;
}

/** An HDF5 file holding `arrays` (values as float64). */
export function writeHdf5(arrays: NamedArray[], options: Hdf5WriteOptions = {}): Uint8Array {
  if (!hdf5Loaded()) throw new Error('writeHdf5 needs the HDF5 library: await loadHdf5() first');
  const seen = new Set<string>();
  for (const a of arrays) {
    check(a);
    const key = datasetPath(a.name).join('/');
    if (seen.has(key)) throw new Error(`two arrays are named '${a.name}'`);
    seen.add(key);
  }
  const path = `/jacscope-out-${++outCounter}.h5`;
  const need = arrays.reduce((n, a) => n + 2 * a.tensor.data.length * 8, 0);
  return hdf5Call(
    'the HDF5 file being written',
    need,
    (M, lib) => {
      const f = new lib.File(path, 'w');
      try {
        for (const a of arrays) {
          const t = a.tensor;
          const parts = datasetPath(a.name);
          let g: H5Group = f as unknown as H5Group;
          for (const p of parts.slice(0, -1)) {
            if (!g.keys().includes(p)) g.create_group(p);
            g = (g as unknown as { get(n: string): H5Group }).get(p);
          }
          const args: Record<string, unknown> = {
            name: parts[parts.length - 1],
            data: t.data,
            shape: [...t.shape],
            dtype: '<d',
          };
          if (options.gzip && t.shape.length > 0 && t.data.length > 0) {
            const row = Math.max(1, sizeOf(t.shape.slice(1)));
            const rows = Math.max(1, Math.min(t.shape[0], Math.floor(2 ** 17 / row)));
            args.chunks = [rows, ...t.shape.slice(1)];
            args.compression = 'gzip';
            args.compression_opts = Math.min(9, Math.max(1, Math.round(options.gzip)));
          }
          const ds = g.create_dataset(args);
          if (a.axes) {
            ds.create_attribute('axes', a.axes, [a.axes.length], null);
            a.axes.forEach((label, i) => ds.set_dimension_label(i, label));
          }
        }
      } finally {
        f.close();
      }
      try {
        return M.FS.readFile(path);
      } finally {
        M.FS.unlink(path);
      }
    },
    'writing',
  );
}
