/**
 * Decoding the tensors of a torch.save checkpoint: storages read lazily from the archive, views
 * (offset, size, strides) gathered into C-contiguous host tensors, with every extent checked
 * against its storage and the total output bounded by the data in the file.
 */
import { LoadError } from '../errors';
import { type DType, type HostTensor, isComplex, shapeString } from '../tensor';
import type { OpenBudget } from './budget';
import { halfToNumber } from './npy';
import type { ZipEntry } from './zip';

/** Bytes per element, for the dtypes the reader can decode. */
const ELEMENT_SIZE: Partial<Record<DType, number>> = {
  float16: 2,
  bfloat16: 2,
  float32: 4,
  float64: 8,
  complex64: 8,
  complex128: 16,
  int8: 1,
  int16: 2,
  int32: 4,
  int64: 8,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
};

/** Legacy typed storage classes (`torch.FloatStorage`, ...) and what they hold. */
export class StorageRef {
  constructor(
    readonly key: string,
    /** Element type; null for untyped storages, whose numel counts bytes. */
    readonly dtype: DType | null,
    readonly location: string,
    readonly numel: number,
    /** Set when the storage cannot be decoded; reported only if a needed tensor uses it. */
    readonly problem?: string,
  ) {}
}

export class TensorRef {
  constructor(
    readonly storage: StorageRef | null,
    readonly offset: number,
    readonly size: readonly number[],
    readonly stride: readonly number[],
    readonly dtype: DType | null,
    readonly problem?: string,
  ) {}
}

/** Expanded (stride-0 or overlapping) views may be bigger than their storage, but only this much. */
const MAX_EXPANDED_ELEMENTS = 1 << 22;

export class Materializer {
  private readonly cache = new Map<string, Uint8Array>();
  private storageElements = 0;
  private produced = 0;

  constructor(
    private readonly file: string,
    private readonly entries: Map<string, ZipEntry>,
    private readonly prefix: string,
    private readonly little: boolean,
    /** Charged with the bytes of every decoded tensor (its storages' inflation is charged by the zip). */
    private readonly budget: OpenBudget,
  ) {}

  materialize(name: string, t: TensorRef): HostTensor {
    const fail = (why: string): never => {
      throw new LoadError(this.file, `tensor '${name}': ${why}`);
    };
    if (t.problem || !t.storage || !t.dtype) return fail(t.problem ?? 'it cannot be read');
    const dtype = t.dtype;
    const elem = ELEMENT_SIZE[dtype];
    if (!elem) return fail(`dtype ${dtype} is not supported`);
    const { size, stride, offset, storage } = t;
    if (size.length > 64) fail(`${size.length} dimensions`);

    let numel = 1;
    for (const d of size) numel *= d;
    if (!Number.isSafeInteger(numel)) fail(`shape ${shapeString(size)} has too many elements`);

    const bytes = this.storageBytes(storage, fail);
    const available = Math.floor(bytes.length / elem);
    const shape = [...size];
    if (numel === 0) return emptyTensor(dtype, shape);

    // The last element the view touches must lie inside the storage.
    let last = offset;
    for (let i = 0; i < size.length; i++) last += (size[i] - 1) * stride[i];
    if (!Number.isSafeInteger(last) || last >= available) {
      fail(
        `its view (offset ${offset}, shape ${shapeString(size)}, strides ${shapeString(stride)}) reaches ` +
          `element ${last} but its storage data/${storage.key} holds ${available} ${dtype} elements`,
      );
    }
    if (numel > available && numel > MAX_EXPANDED_ELEMENTS) {
      fail(`an expanded view of ${numel} elements over a storage of ${available}; too large to read`);
    }
    this.produced += numel;
    if (this.produced > 4 * this.storageElements + MAX_EXPANDED_ELEMENTS) {
      fail(
        'the tensors together are many times larger than the data in the file (repeated views of one storage)',
      );
    }
    this.budget.bytes(numel * 8 * (isComplex(dtype) ? 2 : 1));
    // Everything that can fail has been checked: the values are decoded when first read, so that
    // `jacscope info` and recognition, which need only shapes, never convert the weights.
    const little = this.little;
    return lazyTensor(dtype, shape, () => gather(bytes, dtype, elem, little, shape, stride, offset, numel));
  }

  private storageBytes(s: StorageRef, fail: (why: string) => never): Uint8Array {
    const hit = this.cache.get(s.key);
    if (hit) return hit;
    const path = `${this.prefix}data/${s.key}`;
    const entry = this.entries.get(path);
    if (!entry) return fail(`its data (${path}) is missing from the archive`);
    const elem = s.dtype ? ELEMENT_SIZE[s.dtype] : 1;
    if (!elem) return fail(`storage dtype ${s.dtype} is not supported`);
    const declared = s.numel * elem;
    // Check the declared size before inflating anything.
    if (!Number.isSafeInteger(declared) || entry.uncompressedSize < declared) {
      fail(
        `data.pkl says its storage holds ${s.numel} elements (${declared} bytes) but ${path} has ` +
          `${entry.uncompressedSize} bytes: the file is truncated or corrupt`,
      );
    }
    const data = entry.read();
    if (data.length < declared) fail(`${path} holds ${data.length} bytes, expected ${declared}`);
    this.cache.set(s.key, data);
    this.storageElements += s.numel;
    return data;
  }
}

/**
 * A HostTensor whose data (and imag, for complex dtypes) come from `decode` at the first read. The
 * accessors are own enumerable properties, so a spread or a structured clone (a post to a worker)
 * reads the values like any other field.
 */
function lazyTensor(dtype: DType, shape: number[], decode: () => HostTensor): HostTensor {
  let done: { data: Float64Array; imag?: Float64Array } | null = null;
  const get = () => (done ??= decode());
  const t = {
    dtype,
    shape,
    get data(): Float64Array {
      return get().data;
    },
    set data(v: Float64Array) {
      get().data = v;
    },
  } as HostTensor;
  if (isComplex(dtype))
    Object.defineProperty(t, 'imag', {
      enumerable: true,
      get: () => get().imag,
      set: (v: Float64Array) => {
        get().imag = v;
      },
    });
  return t;
}

function emptyTensor(dtype: DType, shape: number[]): HostTensor {
  const t: HostTensor = { dtype, shape, data: new Float64Array(0) };
  if (isComplex(dtype)) t.imag = new Float64Array(0);
  return t;
}

type Reader = (dv: DataView, byte: number, le: boolean) => number;

const bf16 = new DataView(new ArrayBuffer(4));
function bfloat16(bits: number): number {
  bf16.setUint32(0, bits << 16);
  return bf16.getFloat32(0);
}

const READERS: Partial<Record<DType, Reader>> = {
  float32: (dv, b, le) => dv.getFloat32(b, le),
  float64: (dv, b, le) => dv.getFloat64(b, le),
  float16: (dv, b, le) => halfToNumber(dv.getUint16(b, le)),
  bfloat16: (dv, b, le) => bfloat16(dv.getUint16(b, le)),
  // Complex numbers are swapped per component, so each half reads like its real type.
  complex64: (dv, b, le) => dv.getFloat32(b, le),
  complex128: (dv, b, le) => dv.getFloat64(b, le),
  int8: (dv, b) => dv.getInt8(b),
  uint8: (dv, b) => dv.getUint8(b),
  bool: (dv, b) => (dv.getUint8(b) ? 1 : 0),
  int16: (dv, b, le) => dv.getInt16(b, le),
  uint16: (dv, b, le) => dv.getUint16(b, le),
  int32: (dv, b, le) => dv.getInt32(b, le),
  uint32: (dv, b, le) => dv.getUint32(b, le),
  // hi * 2^32 is exact and the sum rounds once, so values beyond 2^53 round correctly.
  int64: (dv, b, le) =>
    le
      ? dv.getInt32(b + 4, true) * 2 ** 32 + dv.getUint32(b, true)
      : dv.getInt32(b, false) * 2 ** 32 + dv.getUint32(b + 4, false),
  uint64: (dv, b, le) =>
    le
      ? dv.getUint32(b + 4, true) * 2 ** 32 + dv.getUint32(b, true)
      : dv.getUint32(b, false) * 2 ** 32 + dv.getUint32(b + 4, false),
};

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isContiguous(shape: readonly number[], stride: readonly number[]): boolean {
  let acc = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && stride[d] !== acc) return false;
    acc *= shape[d];
  }
  return true;
}

/** Reads a strided view into a C-contiguous tensor. */
function gather(
  bytes: Uint8Array,
  dtype: DType,
  elem: number,
  le: boolean,
  shape: number[],
  stride: readonly number[],
  offset: number,
  numel: number,
): HostTensor {
  const complex = isComplex(dtype);
  // The common case — a contiguous little-endian float32 or complex64 tensor on a little-endian
  // machine — widens through a Float32Array view in one pass instead of a DataView read each.
  if (
    le &&
    LITTLE_ENDIAN_HOST &&
    (dtype === 'float32' || dtype === 'complex64') &&
    isContiguous(shape, stride)
  ) {
    const start = bytes.byteOffset + offset * elem;
    const n = complex ? 2 * numel : numel;
    const f32 =
      start % 4 === 0
        ? new Float32Array(bytes.buffer, start, n)
        : new Float32Array(bytes.slice(offset * elem, offset * elem + 4 * n).buffer);
    if (!complex) {
      const t: HostTensor = { dtype, shape, data: Float64Array.from(f32) };
      return t;
    }
    const re = new Float64Array(numel);
    const im = new Float64Array(numel);
    for (let i = 0; i < numel; i++) {
      re[i] = f32[2 * i];
      im[i] = f32[2 * i + 1];
    }
    return { dtype, shape, data: re, imag: im };
  }
  const read = READERS[dtype]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const half = elem / 2;
  const re = new Float64Array(numel);
  const im = complex ? new Float64Array(numel) : undefined;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let at = offset;
  for (let i = 0; i < numel; i++) {
    const b = at * elem;
    re[i] = read(dv, b, le);
    if (im) im[i] = read(dv, b + half, le);
    // Odometer over the shape, moving the storage index by the strides.
    for (let d = rank - 1; d >= 0; d--) {
      at += stride[d];
      if (++idx[d] < shape[d]) break;
      at -= stride[d] * shape[d];
      idx[d] = 0;
    }
  }
  const t: HostTensor = { dtype, shape, data: re };
  if (im) t.imag = im;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Small helpers
