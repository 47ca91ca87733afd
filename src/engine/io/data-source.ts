/**
 * What a data file holds, and how to read parts of it: the contract between the format readers
 * (npy, npz, csv, HDF5, MATLAB .mat, torch.save data) and their callers (readDataFile, the variable
 * listing, and later dataset-scale streaming).
 *
 * A `DataSource` lists the file's candidate arrays and reads a variable whole or a block of its
 * leading axis (rows [start, start+count), the sample axis B of x [B,T,Xf] and p [B,P]). Formats that
 * allow it (HDF5 and MATLAB v7.3, through hyperslabs) read only the bytes those rows need; the others
 * decode the variable once and slice it.
 *
 * Bytes reach a reader either as the whole file (`Uint8Array`, what the engine gets today) or as a
 * `ByteSource`: a synchronous random-access reader that a Node caller can implement over a file
 * descriptor (`fs.readSync`) and a worker over a `File` (`FileReaderSync`), so that a 50 GB HDF5 file
 * never has to be in memory to read one sample of it.
 */
import { LoadError } from '../errors';
import { type DType, type HostTensor, isComplex, shapeString, sizeOf } from '../tensor';

/** Random access to a file's bytes. `read` returns exactly `length` bytes unless it reaches the end. */
export interface ByteSource {
  readonly size: number;
  read(offset: number, length: number): Uint8Array;
}

/**
 * Thrown by a ByteSource whose bytes are fetched asynchronously (the desktop app's worker reads a file through
 * main) for a range it has not fetched yet: the read fails cleanly (the HDF5 library sees an I/O error and
 * unwinds its own state), the source notes the range, and the caller fetches it and calls again.
 */
export class BytesNotReady extends Error {
  constructor() {
    super('bytes not fetched yet');
    this.name = 'BytesNotReady';
  }
}

/** A `ByteSource` over bytes already in memory (no copy: `read` returns views). */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    read: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

export function isByteSource(v: Uint8Array | ByteSource): v is ByteSource {
  return !ArrayBuffer.isView(v);
}

/** The format a data file was recognised as. */
export type DataFormat = 'npy' | 'npz' | 'csv' | 'hdf5' | 'mat5' | 'mat73' | 'torch';

export const FORMAT_NAMES: Record<DataFormat, string> = {
  npy: 'NumPy .npy',
  npz: 'NumPy .npz',
  csv: 'CSV',
  hdf5: 'HDF5',
  mat5: 'MATLAB v5/v7 .mat',
  mat73: 'MATLAB v7.3 .mat (HDF5)',
  torch: 'torch.save data',
};

/** One candidate array of a file. */
export interface VariableInfo {
  /**
   * How to select it (`FILE:NAME`): an .npz member name, an HDF5 path (`/group/x`), a MATLAB
   * variable (`x`, or `s.field` inside a struct), a torch.save key (`data.x`, `0` for a list item);
   * '' for a file that holds a single unnamed array (.npy, .csv, a bare saved tensor).
   */
  name: string;
  /** In the order MATLAB / NumPy / PyTorch show it (for MATLAB files that is MATLAB's, not HDF5's). */
  shape: number[];
  /** null: not a numeric array (strings, cells, references, ...); `note` says what it is. */
  dtype: DType | null;
  note?: string;
}

export interface DataSource {
  readonly file: string;
  readonly format: DataFormat;
  /** Every array of the file, numeric or not, in file order (HDF5: depth-first, sorted by name). */
  variables(): VariableInfo[];
  /** The whole variable as a row-major HostTensor (float64 values; `dtype` is the file's). */
  read(name: string): HostTensor;
  /** Rows [start, start+count) of the variable's first axis; the other axes whole. */
  readRows(name: string, start: number, count: number): HostTensor;
  /** Releases what the reader holds (the HDF5 library's handle and its view of the bytes). */
  close(): void;
}

/** The VariableInfo of `name`, or a LoadError listing the file's variables. */
export function findVariable(source: DataSource, name: string): VariableInfo {
  const vars = source.variables();
  const hit = vars.find((v) => v.name === name) ?? vars.find((v) => sameName(v.name, name));
  if (!hit)
    throw new LoadError(
      source.file,
      `has no variable '${name}'; it holds ${describeVariables(vars) || 'no arrays'}`,
    );
  if (hit.dtype === null)
    throw new LoadError(
      source.file,
      `variable '${hit.name}' is not a numeric array (${hit.note ?? 'unsupported'})`,
    );
  return hit;
}

/** HDF5 paths may be given with or without the leading '/'. */
export function sameName(a: string, b: string): boolean {
  return a.replace(/^\/+/, '') === b.replace(/^\/+/, '');
}

export function describeVariables(vars: readonly VariableInfo[], max = 20): string {
  const shown = vars.slice(0, max).map((v) => {
    const n = v.name === '' ? '(the array)' : `'${v.name}'`;
    return v.dtype === null ? `${n} (${v.note ?? 'not numeric'})` : `${n} ${shapeString(v.shape)} ${v.dtype}`;
  });
  return shown.join(', ') + (vars.length > max ? `, and ${vars.length - max} more` : '');
}

/** Checks a row range against a shape; returns the row size in elements. */
export function checkRows(
  file: string,
  name: string,
  shape: readonly number[],
  start: number,
  count: number,
): number {
  if (shape.length === 0) throw new LoadError(file, `variable '${name}' is a scalar; it has no rows`);
  if (
    !Number.isSafeInteger(start) ||
    !Number.isSafeInteger(count) ||
    start < 0 ||
    count < 0 ||
    start + count > shape[0]
  )
    throw new RangeError(`rows [${start}, ${start + count}) are outside '${name}' ${shapeString(shape)}`);
  return sizeOf(shape.slice(1));
}

/** Rows [start, start+count) of a row-major tensor (a copy). */
export function sliceRows(t: HostTensor, start: number, count: number): HostTensor {
  const row = sizeOf(t.shape.slice(1));
  const out: HostTensor = {
    dtype: t.dtype,
    shape: [count, ...t.shape.slice(1)],
    data: t.data.slice(start * row, (start + count) * row),
  };
  if (t.imag) out.imag = t.imag.slice(start * row, (start + count) * row);
  return out;
}

/**
 * A DataSource over arrays that are decoded on first use (the in-memory formats). `list` gives the
 * variables without decoding them; `decode(name)` decodes one.
 */
export function lazyMemorySource(
  file: string,
  format: DataFormat,
  list: VariableInfo[],
  decode: (name: string) => HostTensor,
): DataSource {
  const cache = new Map<string, HostTensor>();
  const source: DataSource = {
    file,
    format,
    variables: () => list.map((v) => ({ ...v, shape: [...v.shape] })),
    read(name) {
      const v = findVariable(source, name);
      let t = cache.get(v.name);
      if (!t) {
        t = decode(v.name);
        cache.set(v.name, t);
      }
      return t;
    },
    readRows(name, start, count) {
      const t = source.read(name);
      checkRows(file, name, t.shape, start, count);
      return sliceRows(t, start, count);
    },
    close: () => cache.clear(),
  };
  return source;
}

/** A DataSource over arrays already decoded. */
export function memorySource(file: string, format: DataFormat, arrays: Map<string, HostTensor>): DataSource {
  const list: VariableInfo[] = [...arrays].map(([name, t]) => ({
    name,
    shape: [...t.shape],
    dtype: t.dtype,
  }));
  return lazyMemorySource(file, format, list, (name) => arrays.get(name)!);
}

/** For messages: 'complex128 [2,3]'. */
export function tensorSummary(t: HostTensor): string {
  return `${t.dtype} ${shapeString(t.shape)}${isComplex(t.dtype) ? ' (complex)' : ''}`;
}
