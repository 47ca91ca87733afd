/**
 * MATLAB v7.3 .mat files: HDF5 behind a 512-byte user block whose text starts 'MATLAB 7.3 MAT-file'.
 *
 * MATLAB writes each variable as a dataset named after it (attribute `MATLAB_class`: 'double',
 * 'single', 'int8'…'uint64', 'logical', 'char', 'cell', 'struct', ...), a struct as a group of its
 * fields, cell contents under '#refs#', complex numbers as a compound {real, imag}. HDF5 stores
 * row-major and MATLAB column-major, so an array MATLAB shows as [B,T,Xf] is an HDF5 dataset of
 * shape [Xf,T,B]: this reader gives MATLAB's shape and order (what `load`, `scipy.io.loadmat` and
 * `mat73.loadmat` show), and reads rows of MATLAB's first axis as a hyperslab of HDF5's last.
 */
import { LoadError } from '../errors';
import type { DType, HostTensor } from '../tensor';
import { OpenBudget } from './budget';
import { type ByteSource, type DataSource, type VariableInfo, checkRows, findVariable } from './data-source';
import { Hdf5File } from './hdf5';
import { fortranToC } from './npy';

const MATLAB_NUMERIC: Record<string, DType> = {
  double: 'float64',
  single: 'float32',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  logical: 'bool',
};
const MATLAB_OTHER: Record<string, string> = {
  char: 'text (char)',
  cell: 'a cell array',
  struct: 'a struct array',
  function_handle: 'a function handle',
  string: 'a MATLAB string object',
};

interface Mat73Var {
  info: VariableInfo;
  /** The HDF5 dataset path. */
  path: string;
}

/**
 * Opens a MATLAB v7.3 file as a DataSource (`loadHdf5()` must have finished). Variables are named as
 * MATLAB names them: `x`, and `s.field` for the fields of a struct.
 */
export function openMat73(
  input: Uint8Array | ByteSource,
  file: string,
  budget = new OpenBudget(file),
): DataSource {
  const h = new Hdf5File(input, file, budget);
  let vars: Mat73Var[] | null = null;
  const list = (): Mat73Var[] => {
    if (vars) return vars;
    const out: Mat73Var[] = [];
    for (const d of h.list().values()) {
      const parts = d.path.split('/').filter((p) => p !== '');
      if (parts.some((p) => p.startsWith('#'))) continue; // #refs#, #subsystem#: MATLAB's internals
      const name = parts.join('.');
      const shape = [...d.shape].reverse();
      const cls = h.attribute(d.path, 'MATLAB_class');
      const empty = h.attribute(d.path, 'MATLAB_empty');
      let dtype: DType | null = d.type?.dtype ?? null;
      let note = d.note;
      if (typeof cls === 'string' && cls in MATLAB_NUMERIC) {
        if (dtype !== null && MATLAB_NUMERIC[cls] === 'bool') dtype = 'bool';
      } else if (typeof cls === 'string') {
        dtype = null;
        note = MATLAB_OTHER[cls] ?? `MATLAB class '${cls}'`;
      }
      if (empty !== undefined && Number(empty) !== 0) {
        dtype = null;
        note = 'an empty array';
      }
      out.push({ path: d.path, info: { name, shape, dtype, ...(note ? { note } : {}) } });
    }
    vars = out;
    return out;
  };
  const lookup = (name: string): Mat73Var => {
    const v = findVariable(source, name);
    return list().find((m) => m.info.name === v.name)!;
  };
  const finish = (m: Mat73Var, t: HostTensor, shape: number[]): HostTensor => {
    const out = matlabOrder(t, shape);
    if (m.info.dtype === 'bool') {
      out.dtype = 'bool';
      for (let i = 0; i < out.data.length; i++) out.data[i] = out.data[i] !== 0 ? 1 : 0;
    }
    return out;
  };
  const source: DataSource = {
    file,
    format: 'mat73',
    variables: () => list().map((m) => ({ ...m.info, shape: [...m.info.shape] })),
    read(name) {
      const m = lookup(name);
      const n = m.info.shape.length;
      const t = h.readSlab(m.path, 0, 0, n ? m.info.shape[n - 1] : 1);
      return finish(m, t, m.info.shape);
    },
    readRows(name, start, count) {
      const m = lookup(name);
      checkRows(file, m.info.name, m.info.shape, start, count);
      const n = m.info.shape.length;
      const t = h.readSlab(m.path, n - 1, start, count);
      return finish(m, t, [count, ...m.info.shape.slice(1)]);
    },
    close: () => h.close(),
  };
  try {
    list();
  } catch (e) {
    h.close();
    if (e instanceof LoadError) throw e;
    throw new LoadError(file, `could not be read as a MATLAB v7.3 file: ${String(e)}`);
  }
  return source;
}

/**
 * Column-major helper for MATLAB v7.3: HDF5 holds MATLAB's array with its dimensions reversed, so
 * the library's row-major output of shape reverse(S) is MATLAB's column-major data of shape S.
 */
export function matlabOrder(t: HostTensor, shape: number[]): HostTensor {
  const out: HostTensor = { dtype: t.dtype, shape, data: fortranToC(t.data, shape) };
  if (t.imag) out.imag = fortranToC(t.imag, shape);
  return out;
}
