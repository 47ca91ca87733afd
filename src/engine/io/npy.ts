/**
 * NumPy `.npy` reader and writer (format versions 1.0, 2.0 and 3.0).
 *
 * Layout: magic `\x93NUMPY`, major, minor, header length (u16 LE for 1.x, u32 LE for 2.x/3.x), then a
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces
 * and ending in '\n', then the raw array data. The header is parsed by a strict literal parser (never
 * evaluated), and every size it claims is checked against the bytes actually present before anything
 * is allocated.
 *
 * The element decoding helpers at the bottom are shared with the safetensors reader.
 */
import { LoadError } from '../errors';
import { type DType, type HostTensor, shapeString, sizeOf } from '../tensor';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

// ---------------------------------------------------------------------------------------------------
// Element kinds (shared with safetensors.ts)

/** On-disk element encodings the readers understand. */
export type ElementKind =
  'f2' | 'bf2' | 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1' | 'c8' | 'c16';

interface KindInfo {
  /** Bytes per element (a complex element counts both parts). */
  size: number;
  /** Bytes per byte-swapped unit (a complex element is two units). */
  unit: number;
  dtype: DType;
}

export const ELEMENT_KINDS: Record<ElementKind, KindInfo> = {
  f2: { size: 2, unit: 2, dtype: 'float16' },
  bf2: { size: 2, unit: 2, dtype: 'bfloat16' },
  f4: { size: 4, unit: 4, dtype: 'float32' },
  f8: { size: 8, unit: 8, dtype: 'float64' },
  i1: { size: 1, unit: 1, dtype: 'int8' },
  i2: { size: 2, unit: 2, dtype: 'int16' },
  i4: { size: 4, unit: 4, dtype: 'int32' },
  i8: { size: 8, unit: 8, dtype: 'int64' },
  u1: { size: 1, unit: 1, dtype: 'uint8' },
  u2: { size: 2, unit: 2, dtype: 'uint16' },
  u4: { size: 4, unit: 4, dtype: 'uint32' },
  u8: { size: 8, unit: 8, dtype: 'uint64' },
  b1: { size: 1, unit: 1, dtype: 'bool' },
  c8: { size: 8, unit: 4, dtype: 'complex64' },
  c16: { size: 16, unit: 8, dtype: 'complex128' },
};

const PLATFORM_LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Number of elements of `shape`, or null when the shape is not a list of non-negative safe integers.
 * Stops multiplying as soon as the product exceeds `limit`, returning Infinity, so no huge or
 * overflowing product is ever formed (a zero anywhere makes the product 0 regardless of the others).
 */
export function checkedElementCount(shape: readonly number[], limit: number): number | null {
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) return null;
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > limit) return Infinity;
  }
  return n;
}

/** IEEE half precision → number (exact). */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes `n` elements of `kind` starting at `offset` (the caller has checked the range). Works for
 * any alignment: the bytes are copied into a fresh buffer, byte-swapped there if the file's byte order
 * differs from the platform's, and then viewed through the matching typed array.
 */
export function decodeElements(
  bytes: Uint8Array,
  offset: number,
  n: number,
  kind: ElementKind,
  littleEndian: boolean,
): { data: Float64Array; imag?: Float64Array } {
  const info = ELEMENT_KINDS[kind];
  // Copy explicitly: a Node Buffer is a Uint8Array whose slice() returns a view, not a copy.
  const raw = new Uint8Array(n * info.size);
  raw.set(bytes.subarray(offset, offset + n * info.size));
  if (info.unit > 1 && littleEndian !== PLATFORM_LITTLE) swapBytes(raw, info.unit);
  const buf = raw.buffer;
  switch (kind) {
    case 'f4':
      return { data: new Float64Array(new Float32Array(buf, 0, n)) };
    case 'f8':
      return { data: new Float64Array(buf, 0, n) };
    case 'i1':
      return { data: new Float64Array(new Int8Array(buf, 0, n)) };
    case 'i2':
      return { data: new Float64Array(new Int16Array(buf, 0, n)) };
    case 'i4':
      return { data: new Float64Array(new Int32Array(buf, 0, n)) };
    case 'u1':
      return { data: new Float64Array(raw) };
    case 'u2':
      return { data: new Float64Array(new Uint16Array(buf, 0, n)) };
    case 'u4':
      return { data: new Float64Array(new Uint32Array(buf, 0, n)) };
    case 'i8':
    case 'u8': {
      // Values beyond 2^53 are rounded to the nearest double, as numpy's astype(float) does.
      const src = kind === 'i8' ? new BigInt64Array(buf, 0, n) : new BigUint64Array(buf, 0, n);
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = Number(src[i]);
      return { data };
    }
    case 'b1': {
      const data = new Float64Array(n);
      for (let i = 0; i < n; i++) data[i] = raw[i] !== 0 ? 1 : 0;
      return { data };
    }
    case 'f2':
    case 'bf2': {
      const src = new Uint16Array(buf, 0, n);
      const data = new Float64Array(n);
      if (kind === 'f2') for (let i = 0; i < n; i++) data[i] = halfToNumber(src[i]);
      else {
        // bfloat16 is the top half of a float32.
        const f = new Float32Array(1);
        const u = new Uint32Array(f.buffer);
        for (let i = 0; i < n; i++) {
          u[0] = src[i] << 16;
          data[i] = f[0];
        }
      }
      return { data };
    }
    case 'c8':
    case 'c16': {
      const src = kind === 'c8' ? new Float32Array(buf, 0, 2 * n) : new Float64Array(buf, 0, 2 * n);
      const data = new Float64Array(n);
      const imag = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        data[i] = src[2 * i];
        imag[i] = src[2 * i + 1];
      }
      return { data, imag };
    }
  }
}

function swapBytes(a: Uint8Array, unit: number): void {
  for (let i = 0; i + unit <= a.length; i += unit) {
    for (let j = 0, k = unit - 1; j < k; j++, k--) {
      const t = a[i + j];
      a[i + j] = a[i + k];
      a[i + k] = t;
    }
  }
}

/** Reorders column-major (Fortran) data of `shape` into row-major order. */
export function fortranToC(src: Float64Array, shape: readonly number[]): Float64Array {
  const nd = shape.length;
  if (nd <= 1 || src.length === 0) return src;
  const out = new Float64Array(src.length);
  // Fortran strides: the first axis varies fastest.
  const fstride = new Array<number>(nd);
  let acc = 1;
  for (let k = 0; k < nd; k++) {
    fstride[k] = acc;
    acc *= shape[k];
  }
  // Walk the output in C order with an odometer, keeping the Fortran offset up to date incrementally.
  const idx = new Array<number>(nd).fill(0);
  let f = 0;
  for (let c = 0; c < out.length; c++) {
    out[c] = src[f];
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

// ---------------------------------------------------------------------------------------------------
// Python literal parser (the subset that .npy headers use)

type PyValue =
  | string
  | number
  | boolean
  | null
  | { kind: 'tuple'; items: PyValue[] }
  | { kind: 'list'; items: PyValue[] }
  | { kind: 'dict'; entries: Map<string, PyValue> };

class PyLiteralParser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  parseDocument(): PyValue {
    const v = this.value();
    this.ws();
    if (this.pos !== this.s.length) this.fail(`unexpected text after the header dict`);
    return v;
  }

  private fail(msg: string): never {
    throw new SyntaxError(`${msg} (at character ${this.pos})`);
  }

  private ws(): void {
    while (this.pos < this.s.length && ' \t\r\n'.includes(this.s[this.pos])) this.pos++;
  }

  private value(): PyValue {
    this.ws();
    if (this.pos >= this.s.length) this.fail('header ends early');
    const c = this.s[this.pos];
    if (c === '{' || c === '(' || c === '[') {
      // Bounded nesting: a hostile header cannot blow the stack.
      if (++this.depth > 32) this.fail('nesting too deep');
      const v = c === '{' ? this.dict() : this.sequence(c);
      this.depth--;
      return v;
    }
    if (c === "'" || c === '"') return this.string();
    if (c === 'u' && (this.s[this.pos + 1] === "'" || this.s[this.pos + 1] === '"')) {
      this.pos++; // Python 2 unicode literal u'...'
      return this.string();
    }
    if (c === '-' || c === '+' || (c >= '0' && c <= '9')) return this.integer();
    const m = /^[A-Za-z_]+/.exec(this.s.slice(this.pos, this.pos + 16));
    if (m) {
      this.pos += m[0].length;
      if (m[0] === 'True') return true;
      if (m[0] === 'False') return false;
      if (m[0] === 'None') return null;
      this.fail(`unexpected name '${m[0]}'`);
    }
    this.fail(`unexpected character '${c}'`);
  }

  private dict(): PyValue {
    this.pos++; // {
    const entries = new Map<string, PyValue>();
    for (;;) {
      this.ws();
      if (this.s[this.pos] === '}') {
        this.pos++;
        return { kind: 'dict', entries };
      }
      const key = this.value();
      if (typeof key !== 'string') this.fail('dict keys must be strings');
      this.ws();
      if (this.s[this.pos] !== ':') this.fail("expected ':'");
      this.pos++;
      const v = this.value();
      if (entries.has(key)) this.fail(`key '${key}' appears twice`);
      entries.set(key, v);
      this.ws();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== '}') this.fail("expected ',' or '}'");
    }
  }

  private sequence(open: '(' | '['): PyValue {
    const close = open === '(' ? ')' : ']';
    this.pos++;
    const items: PyValue[] = [];
    let sawComma = false;
    for (;;) {
      this.ws();
      if (this.s[this.pos] === close) {
        this.pos++;
        // `(5)` is just 5 in Python; `(5,)` and `()` are tuples.
        if (open === '(' && items.length === 1 && !sawComma) return items[0];
        return { kind: open === '(' ? 'tuple' : 'list', items };
      }
      items.push(this.value());
      this.ws();
      if (this.s[this.pos] === ',') {
        this.pos++;
        sawComma = true;
      } else if (this.s[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  private string(): string {
    const q = this.s[this.pos++];
    let out = '';
    for (;;) {
      if (this.pos >= this.s.length) this.fail('unterminated string');
      const c = this.s[this.pos++];
      if (c === q) return out;
      if (c === '\n') this.fail('newline inside a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.pos++];
      const simple: Record<string, string> = {
        '\\': '\\',
        "'": "'",
        '"': '"',
        n: '\n',
        t: '\t',
        r: '\r',
        '0': '\0',
      };
      if (e in simple) out += simple[e];
      else if (e === 'x' || e === 'u') {
        const len = e === 'x' ? 2 : 4;
        const hex = this.s.slice(this.pos, this.pos + len);
        if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail('bad escape in string');
        out += String.fromCharCode(parseInt(hex, 16));
        this.pos += len;
      } else this.fail('unsupported escape in string');
    }
  }

  private integer(): number {
    const m = /^[+-]?\d+L?/.exec(this.s.slice(this.pos, this.pos + 40)); // L: Python 2 long
    if (!m || /^[.eE]/.test(this.s.slice(this.pos + m[0].length))) this.fail('expected an integer');
    this.pos += m[0].length;
    return Number(m[0].replace('L', ''));
  }
}

// ---------------------------------------------------------------------------------------------------
// descr

interface Descr {
  kind: ElementKind;
  littleEndian: boolean;
}

function parseDescr(descr: PyValue, fail: (reason: string) => never): Descr {
  if (typeof descr !== 'string') {
    if (descr !== null && typeof descr === 'object' && descr.kind === 'list')
      fail('holds a structured (record) array; only plain numeric arrays are supported');
    fail(`has an invalid 'descr' in its header`);
  }
  const m = /^([<>|=]?)([a-zA-Z?])(\d*)$/.exec(descr);
  if (!m) fail(`has an unknown dtype '${descr}'`);
  const [, order, code, sizeText] = m;
  if (code === 'O')
    fail(
      `holds Python objects (dtype object), which would need a pickle to read; jacscope reads numeric arrays only — save with a numeric dtype, e.g. np.save(f, a.astype(np.float64))`,
    );
  if (code === 'S' || code === 'U' || code === 'a')
    fail(`holds strings (dtype '${descr}'); jacscope reads numeric arrays only`);
  if (code === 'V')
    fail(`holds raw/structured records (dtype '${descr}'); only plain numeric arrays are supported`);
  if (code === 'M' || code === 'm')
    fail(`holds dates or time deltas (dtype '${descr}'); only numbers are supported`);
  const size = code === '?' ? 1 : Number(sizeText);
  const key = code === '?' ? 'b1' : `${code}${size}`;
  const known: Record<string, ElementKind> = {
    f2: 'f2',
    f4: 'f4',
    f8: 'f8',
    i1: 'i1',
    i2: 'i2',
    i4: 'i4',
    i8: 'i8',
    u1: 'u1',
    u2: 'u2',
    u4: 'u4',
    u8: 'u8',
    b1: 'b1',
    c8: 'c8',
    c16: 'c16',
  };
  const kind = known[key];
  if (!kind) {
    if (code === 'f' && (size === 12 || size === 16))
      fail(`holds extended-precision floats (dtype '${descr}'); convert to float64 first`);
    if (code === 'c' && (size === 24 || size === 32))
      fail(`holds extended-precision complex numbers (dtype '${descr}'); convert to complex128 first`);
    fail(`has an unsupported dtype '${descr}'`);
  }
  // '|' (not applicable) and '=' (native) are little-endian on every platform this runs on.
  return { kind, littleEndian: order !== '>' };
}

// ---------------------------------------------------------------------------------------------------
// readNpy

/** Reads a `.npy` file into a row-major HostTensor (float64 values; complex as data + imag). */
export function readNpy(bytes: Uint8Array, file: string): HostTensor {
  function fail(reason: string): never {
    throw new LoadError(file, reason);
  }
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    if (bytes.length === 0) fail('is empty');
    fail('is not a NumPy .npy file (it does not start with the \\x93NUMPY signature)');
  }
  const major = bytes[6];
  const minor = bytes[7];
  if (major < 1 || major > 3)
    fail(`uses .npy format version ${major}.${minor}, which is not supported (1.0, 2.0 and 3.0 are)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lenSize = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lenSize) fail('is truncated inside the header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lenSize;
  const dataStart = headerStart + headerLen;
  if (dataStart > bytes.length)
    fail(`is truncated: the header claims ${headerLen} bytes but only ${bytes.length - headerStart} follow`);

  let headerText: string;
  try {
    // Versions 1 and 2 store the header in latin1, version 3 in UTF-8.
    const decoder = new TextDecoder(major === 3 ? 'utf-8' : 'latin1', { fatal: true });
    headerText = decoder.decode(bytes.subarray(headerStart, dataStart));
  } catch {
    fail('has a header that is not valid text');
  }
  let header: PyValue;
  try {
    header = new PyLiteralParser(headerText).parseDocument();
  } catch (e) {
    fail(`has a malformed header: ${(e as Error).message}`);
  }
  if (header === null || typeof header !== 'object' || header.kind !== 'dict')
    fail('has a malformed header (it is not a dict)');
  const entries = header.entries;
  const keys = [...entries.keys()].sort();
  if (keys.join() !== 'descr,fortran_order,shape')
    fail(`has a header with keys {${keys.join(', ')}}; expected exactly descr, fortran_order and shape`);

  const { kind, littleEndian } = parseDescr(entries.get('descr')!, fail);
  const fortran = entries.get('fortran_order');
  if (typeof fortran !== 'boolean') fail("has a header whose 'fortran_order' is not True or False");
  const shapeValue = entries.get('shape');
  if (shapeValue === null || typeof shapeValue !== 'object' || shapeValue.kind !== 'tuple')
    fail("has a header whose 'shape' is not a tuple");
  const shape = shapeValue.items.map((d) =>
    typeof d === 'number' ? d : fail("has a header whose 'shape' contains something other than integers"),
  );

  const info = ELEMENT_KINDS[kind];
  const available = bytes.length - dataStart;
  const n = checkedElementCount(shape, Math.floor(available / info.size));
  if (n === null)
    fail(`has an invalid shape ${shapeString(shape)} (dimensions must be non-negative integers)`);
  if (n * info.size > available) {
    const claimed = n === Infinity ? 'more bytes than the file holds' : `${n * info.size} bytes`;
    fail(
      `is truncated or corrupt: shape ${shapeString(shape)} of ${info.dtype} needs ${claimed}, but only ${available} bytes of data follow the header`,
    );
  }

  const { data, imag } = decodeElements(bytes, dataStart, n, kind, littleEndian);
  const t: HostTensor = { dtype: info.dtype, shape, data };
  if (imag) t.imag = imag;
  if (fortran && shape.length > 1) {
    t.data = fortranToC(data, shape);
    if (imag) t.imag = fortranToC(imag, shape);
  }
  return t;
}

// ---------------------------------------------------------------------------------------------------
// writeNpy

/**
 * The .npy header (magic, version, padded dict) of a C-ordered little-endian float array, as `np.save`
 * writes it: version 1.0, or 2.0 when the header does not fit 1.0's u16 length (thousands of axes);
 * padded with spaces so that the data starts at a multiple of 64, ended by '\n'. Writers that stream
 * the values (the CLI, the app's J export) put it before them.
 */
export function npyHeader(shape: readonly number[], dtype: 'float32' | 'float64'): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '${dtype === 'float32' ? '<f4' : '<f8'}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let major = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    major = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = major;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (major === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  for (let i = 0; i < dict.length; i++) out[prefix + i] = dict.charCodeAt(i);
  out.fill(0x20, prefix + dict.length, total - 1);
  out[total - 1] = 0x0a;
  return out;
}

/** Writes a real tensor as a `.npy` file (version 1.0, little-endian, C order), as `np.save` does. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function writeNpy(
  t: { shape: number[]; data: Float64Array | Float32Array },
  dtype: 'float32' | 'float64',
): Uint8Array {
  const n = sizeOf(t.shape);
  if (t.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    throw new Error(`writeNpy: invalid shape ${shapeString(t.shape)}`);
  if (t.data.length !== n)
    throw new Error(`writeNpy: ${t.data.length} values for shape ${shapeString(t.shape)} (${n} expected)`);
  const header = npyHeader(t.shape, dtype);
  const total = header.length;
  const itemSize = dtype === 'float32' ? 4 : 8;
  const out = new Uint8Array(total + n * itemSize);
  out.set(header);
  const view = new DataView(out.buffer);
  const same = (dtype === 'float32') === t.data instanceof Float32Array;
  if (same && LITTLE_ENDIAN) {
    // Already the bytes .npy wants: one copy (a 0.5 GB J in a fraction of a second).
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), total);
  } else if (dtype === 'float32') for (let i = 0; i < n; i++) view.setFloat32(total + 4 * i, t.data[i], true);
  else for (let i = 0; i < n; i++) view.setFloat64(total + 8 * i, t.data[i], true);
  return out;
}
