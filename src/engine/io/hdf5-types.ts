/**
 * HDF5 datatypes as jacscope reads them: which of h5wasm's type descriptions are numbers (integers,
 * floats, h5py's bool enum, complex compounds) and how the library's output decodes to float64; what
 * anything else is, in words, for the message that refuses it.
 */
import type { DType, HostTensor } from '../tensor';
import { type ElementKind, decodeElements } from './npy';

/** A dataset's metadata as h5wasm reports it (the parts used here). */
export interface H5Metadata {
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  shape: number[] | null;
  total_size: number;
  chunks: number[] | null;
  vlen: boolean;
  enum_type?: { members: Record<string, number> };
  compound_type?: { members: (H5Metadata & { name: string; offset: number })[] };
}
/** A dataset's element type as jacscope decodes it. */
export interface ElementType {
  dtype: DType;
  /** Bytes per element in the library's output (native little-endian). */
  size: number;
  kind?: ElementKind;
  /** Complex: offsets of the real and imaginary parts and their kind. */
  complex?: { re: number; im: number; kind: ElementKind };
}

export interface Hdf5Dataset {
  path: string;
  shape: number[];
  type: ElementType | null;
  /** What it is when it is not numeric. */
  note?: string;
  chunks: number[] | null;
}

const INT_KINDS: Record<string, ElementKind> = {
  '1s': 'i1',
  '2s': 'i2',
  '4s': 'i4',
  '8s': 'i8',
  '1u': 'u1',
  '2u': 'u2',
  '4u': 'u4',
  '8u': 'u8',
};
const FLOAT_KINDS: Record<number, ElementKind> = { 2: 'f2', 4: 'f4', 8: 'f8' };
const KIND_DTYPE: Record<string, DType> = {
  i1: 'int8',
  i2: 'int16',
  i4: 'int32',
  i8: 'int64',
  u1: 'uint8',
  u2: 'uint16',
  u4: 'uint32',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
  b1: 'bool',
};
const CLASS_NAMES: Record<number, string> = {
  2: 'a time type',
  3: 'strings',
  4: 'a bit field',
  5: 'opaque bytes',
  6: 'a compound type',
  7: 'object references',
  9: 'variable-length sequences',
  10: 'an array type',
};

function elementKind(md: H5Metadata): ElementKind | undefined {
  if (md.type === 0) return INT_KINDS[`${md.size}${md.signed ? 's' : 'u'}`];
  if (md.type === 1) return FLOAT_KINDS[md.size];
  return undefined;
}

export function describeDataset(path: string, md: H5Metadata): Hdf5Dataset {
  const shape = md.shape ? [...md.shape] : [];
  const base = { path, shape, chunks: md.chunks ? [...md.chunks] : null };
  if (md.shape === null) return { ...base, type: null, note: 'an empty (null) dataspace' };
  const kind = elementKind(md);
  if (kind) return { ...base, type: { dtype: KIND_DTYPE[kind], size: md.size, kind } };
  if (md.type === 8 && md.enum_type) {
    // h5py stores bool as an enum {FALSE: 0, TRUE: 1} over int8.
    const names = Object.keys(md.enum_type.members).sort().join(',');
    const k = INT_KINDS[`${md.size}${md.signed ? 's' : 'u'}`];
    if (names === 'FALSE,TRUE' && md.size === 1)
      return { ...base, type: { dtype: 'bool', size: 1, kind: 'b1' } };
    if (k) return { ...base, type: { dtype: KIND_DTYPE[k], size: md.size, kind: k } };
  }
  if (md.type === 6 && md.compound_type) {
    // Complex numbers: h5py writes {r, i}, MATLAB {real, imag}.
    const m = md.compound_type.members;
    if (m.length === 2) {
      const [a, b] = m;
      const re = /^(r|re|real)$/i.test(a.name) && /^(i|im|imag)$/i.test(b.name);
      if (re && a.type === 1 && b.type === 1 && a.size === b.size && (a.size === 4 || a.size === 8)) {
        const kind = FLOAT_KINDS[a.size];
        return {
          ...base,
          type: {
            dtype: a.size === 4 ? 'complex64' : 'complex128',
            size: md.size,
            complex: { re: a.offset, im: b.offset, kind },
          },
        };
      }
    }
  }
  const what =
    md.type === 1
      ? `floats of ${md.size} bytes`
      : md.type === 0
        ? `integers of ${md.size} bytes`
        : (CLASS_NAMES[md.type] ?? `HDF5 type class ${md.type}`);
  return { ...base, type: null, note: what };
}

export function emptyTensor(dtype: DType, shape: number[]): HostTensor {
  const t: HostTensor = { dtype, shape, data: new Float64Array(0) };
  if (dtype === 'complex64' || dtype === 'complex128') t.imag = new Float64Array(0);
  return t;
}

/** The library's output (native = little-endian) → float64 values. */
export function decode(raw: Uint8Array, type: ElementType, numel: number, shape: number[]): HostTensor {
  if (type.kind) {
    const { data } = decodeElements(raw, 0, numel, type.kind, true);
    return { dtype: type.dtype, shape, data };
  }
  const c = type.complex!;
  const data = new Float64Array(numel);
  const imag = new Float64Array(numel);
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const get = c.kind === 'f4' ? (o: number) => dv.getFloat32(o, true) : (o: number) => dv.getFloat64(o, true);
  for (let i = 0; i < numel; i++) {
    data[i] = get(i * type.size + c.re);
    imag[i] = get(i * type.size + c.im);
  }
  return { dtype: type.dtype, shape, data, imag };
}
