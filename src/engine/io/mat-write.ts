/**
 * Writes MATLAB Level 5 .mat files (what MATLAB's `save -v7` and `scipy.io.savemat` write) holding
 * float64 arrays, uncompressed or with each variable in a miCOMPRESSED (zlib) element.
 *
 * The layout is byte for byte scipy.io.savemat's (only the header text differs): a 128-byte header,
 * then per variable a miMATRIX element with array flags (class double), dimensions (miINT32), the
 * name (miINT8; a small data element when it is at most 4 bytes) and the values as miDOUBLE in
 * column-major order; elements are padded to 8 bytes. Arrays of fewer than two dimensions are
 * written as MATLAB does: a scalar as [1,1], a vector of n values as the row [1,n].
 */
import { zlibSync } from 'fflate';
import { type HostTensor, isComplex, shapeString, sizeOf } from '../tensor';

export interface NamedArray {
  /** A MATLAB variable name: a letter, then letters, digits and underscores, at most 63 of them. */
  name: string;
  tensor: HostTensor;
  /** Axis names (used by the HDF5 writer; MATLAB has nowhere to put them). */
  axes?: string[];
}

export interface MatWriteOptions {
  /** miCOMPRESSED (MATLAB's default since v7); default false. */
  compress?: boolean;
  /** Header text (up to 116 ASCII characters after 'MATLAB 5.0 MAT-file'). */
  description?: string;
}

const MI_INT8 = 1;
const MI_UINT32 = 6;
const MI_INT32 = 5;
const MI_DOUBLE = 9;
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;
const MX_DOUBLE = 6;

/** Row-major data of `shape` → column-major (the inverse of npy.ts fortranToC). */
export function cToFortran(src: Float64Array, shape: readonly number[]): Float64Array {
  const nd = shape.length;
  if (nd <= 1 || src.length === 0) return src;
  const out = new Float64Array(src.length);
  const fstride = new Array<number>(nd);
  let acc = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = acc;
    acc *= shape[k];
  }
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < src.length; c++) {
    out[f] = src[c];
    for (let k = nd - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) {
        f += fstride[k];
        break;
      }
      f -= (shape[k] - 1) * fstride[k];
      idx[k] = 0;
    }
  }
  return out;
}

class ByteWriter {
  private buf = new Uint8Array(1024);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  u32(...vs: number[]): void {
    const b = new Uint8Array(4 * vs.length);
    const dv = new DataView(b.buffer);
    vs.forEach((v, i) => dv.setUint32(4 * i, v, true));
    this.bytes(b);
  }
  pad8(): void {
    const n = (8 - (this.length % 8)) % 8;
    this.bytes(new Uint8Array(n));
  }
  /** A data element: small format when its data fits in 4 bytes, else tag + data + padding. */
  element(type: number, data: Uint8Array): void {
    if (data.length <= 4) {
      this.u32((data.length << 16) | type);
      const four = new Uint8Array(4);
      four.set(data);
      this.bytes(four);
      return;
    }
    this.u32(type, data.length);
    this.bytes(data);
    this.pad8();
  }
  setU32(at: number, v: number): void {
    new DataView(this.buf.buffer).setUint32(at, v, true);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_]{0,62}$/;

/** One miMATRIX element (tag included) for a float64 array. */
function matrixElement(a: NamedArray): Uint8Array {
  const t = a.tensor;
  if (!NAME_RE.test(a.name))
    throw new Error(
      `'${a.name}' is not a MATLAB variable name (a letter, then letters, digits or _, at most 63)`,
    );
  if (isComplex(t.dtype))
    throw new Error(`'${a.name}' is complex; the .mat writer writes real float64 arrays`);
  if (t.data.length !== sizeOf(t.shape))
    throw new Error(`'${a.name}': ${t.data.length} values do not fill shape ${shapeString(t.shape)}`);
  const dims = t.shape.length === 0 ? [1, 1] : t.shape.length === 1 ? [1, t.shape[0]] : [...t.shape];
  for (const d of dims)
    if (d > 0x7fffffff) throw new Error(`'${a.name}': dimension ${d} is too large for MATLAB`);
  const w = new ByteWriter();
  w.u32(MI_MATRIX, 0); // byte count filled in below
  w.u32(MI_UINT32, 8, MX_DOUBLE, 0); // array flags: class double, real, not logical or global
  const d = new Uint8Array(4 * dims.length);
  const dv = new DataView(d.buffer);
  dims.forEach((n, i) => dv.setInt32(4 * i, n, true));
  w.element(MI_INT32, d);
  w.element(
    MI_INT8,
    Uint8Array.from(a.name, (c) => c.charCodeAt(0)),
  );
  const values = cToFortran(t.data, dims);
  const raw = new Uint8Array(values.length * 8);
  const rv = new DataView(raw.buffer);
  for (let i = 0; i < values.length; i++) rv.setFloat64(8 * i, values[i], true);
  w.element(MI_DOUBLE, raw);
  w.setU32(4, w.length - 8);
  return w.result();
}

/** A MATLAB Level 5 .mat file holding `arrays` (their values as float64). */
export function writeMat(arrays: NamedArray[], options: MatWriteOptions = {}): Uint8Array {
  const names = new Set<string>();
  for (const a of arrays) {
    if (names.has(a.name)) throw new Error(`two arrays are named '${a.name}'`);
    names.add(a.name);
  }
  const w = new ByteWriter();
  const text = `MATLAB 5.0 MAT-file, ${options.description ?? 'written by jacscope'}`.slice(0, 116);
  const header = new Uint8Array(128).fill(0x20);
  for (let i = 0; i < text.length; i++) header[i] = text.charCodeAt(i) & 0x7f;
  header.fill(0, 116, 124); // subsystem data offset: none
  header[124] = 0x00;
  header[125] = 0x01; // version 0x0100, little-endian
  header[126] = 0x49; // 'I'
  header[127] = 0x4d; // 'M': written little-endian
  w.bytes(header);
  for (const a of arrays) {
    const el = matrixElement(a);
    if (options.compress) {
      const z = zlibSync(el);
      w.u32(MI_COMPRESSED, z.length);
      w.bytes(z);
    } else w.bytes(el);
  }
  return w.result();
}
