/**
 * MATLAB .mat files: recognising the versions, and the Level 5 format (MATLAB v5, v6, v7: `save`
 * with -v6 or -v7, scipy.io.savemat). v7.3 files are HDF5 (mat73.ts).
 *
 * Level 5 layout: a 128-byte header (text, subsystem offset, version 0x0100, endian indicator 'IM'
 * little-endian or 'MI' big-endian), then data elements, each an 8-byte tag (type, byte count) or a
 * 4-byte "small data element" tag with up to 4 bytes of data. A variable is a miMATRIX element:
 * array flags (class, complex, logical), dimensions, name, then the real (and imaginary) data in
 * column-major order, stored as any numeric type (MATLAB stores a double array as uint8 when its
 * values fit). MATLAB v7 wraps each variable in a miCOMPRESSED element: a zlib stream holding the
 * miMATRIX.
 *
 * Read: numeric arrays (double, single, int8…uint64, logical), real or complex, as MATLAB shows
 * them (dimensions in MATLAB's order, values reordered to row-major); fields of 1×1 structs as
 * `struct.field` (nested to any depth). Listed but not read: text (char), cell arrays, struct arrays,
 * sparse matrices, objects. Refused: Level 4 files.
 *
 * Bounds: every size is checked against the bytes present before anything is allocated; a
 * miCOMPRESSED element is inflated in small steps and stopped as soon as its output passes the size
 * its own miMATRIX tag declares (a compression bomb costs at most one step), and every inflated byte
 * is charged to the file's OpenBudget, as is every decoded value.
 */
import { Unzlib } from 'fflate';
import { LoadError } from '../errors';
import type { DType, HostTensor } from '../tensor';
import { OpenBudget } from './budget';
import { type DataSource, type VariableInfo, lazyMemorySource } from './data-source';
import { type ElementKind, ELEMENT_KINDS, checkedElementCount, decodeElements, fortranToC } from './npy';

// ---------------------------------------------------------------------------------------------------
// Versions

export type MatVersion = 'mat4' | 'mat5' | 'mat73';

const textDecoder = new TextDecoder('latin1');

/** The header text of a Level 5 / v7.3 file ('MATLAB 5.0 MAT-file, Platform: ...'), if any. */
export function matHeaderText(bytes: Uint8Array): string | undefined {
  if (bytes.length < 128) return undefined;
  const text = textDecoder.decode(bytes.subarray(0, 116));
  return text.startsWith('MATLAB') ? text.replace(/[\s\0]+$/, '') : undefined;
}

/**
 * Which MATLAB format `bytes` holds, by content; null when it is none. Level 4 files have no
 * signature: a name ending in .mat whose first 20 bytes parse as a plausible Level 4 header is one.
 */
export function matVersion(bytes: Uint8Array, file = ''): MatVersion | null {
  const text = matHeaderText(bytes);
  if (text !== undefined) {
    const ind = String.fromCharCode(bytes[126], bytes[127]);
    const le = ind === 'IM';
    if (!le && ind !== 'MI') return null;
    const version = le ? bytes[124] | (bytes[125] << 8) : (bytes[124] << 8) | bytes[125];
    if (version === 0x0200 || /^MATLAB 7\.3/.test(text)) return 'mat73';
    return 'mat5';
  }
  if (/\.mat$/i.test(file) && bytes.length >= 20) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (const le of [true, false]) {
      const type = dv.getUint32(0, le);
      const rows = dv.getUint32(4, le);
      const cols = dv.getUint32(8, le);
      const namlen = dv.getUint32(16, le);
      if (type < 5000 && rows < 2 ** 31 && cols < 2 ** 31 && namlen > 0 && namlen < 64) return 'mat4';
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------
// Constants

const MI_KINDS: Record<number, ElementKind> = {
  1: 'i1',
  2: 'u1',
  3: 'i2',
  4: 'u2',
  5: 'i4',
  6: 'u4',
  7: 'f4',
  9: 'f8',
  12: 'i8',
  13: 'u8',
};
const MI_MATRIX = 14;
const MI_COMPRESSED = 15;

const MX_NUMERIC: Record<number, DType> = {
  6: 'float64',
  7: 'float32',
  8: 'int8',
  9: 'uint8',
  10: 'int16',
  11: 'uint16',
  12: 'int32',
  13: 'uint32',
  14: 'int64',
  15: 'uint64',
};
const MX_OTHER: Record<number, string> = {
  1: 'a cell array',
  2: 'a struct array',
  3: 'a MATLAB object',
  4: 'text (char)',
  5: 'a sparse matrix',
  16: 'a function handle',
  17: 'a MATLAB object (string, table, datetime, ...)',
};
const COMPLEX_OF: Partial<Record<DType, DType>> = { float64: 'complex128', float32: 'complex64' };

/** Deepest struct nesting read. */
const MAX_DEPTH = 32;
/** Input bytes handed to the inflater per step: the most one step can inflate is ~1032× this. */
const INFLATE_STEP = 4 * 1024;

// ---------------------------------------------------------------------------------------------------
// Reading

interface Reader {
  bytes: Uint8Array;
  dv: DataView;
  le: boolean;
  file: string;
  budget: OpenBudget;
}

interface Tag {
  type: number;
  /** Offset of the data. */
  data: number;
  nbytes: number;
  /** Offset just past the element, padding included. */
  next: number;
}

function fail(r: Reader, why: string): never {
  throw new LoadError(r.file, why);
}

/** Reads the tag at `at`, checking that the element fits within `end`. */
function readTag(r: Reader, at: number, end: number, where: string): Tag {
  if (at + 8 > end)
    fail(r, `${where}: truncated (an element tag needs 8 bytes, ${Math.max(0, end - at)} left)`);
  const first = r.dv.getUint32(at, r.le);
  const small = first >>> 16;
  if (small !== 0) {
    // Small data element: byte count in the upper half, type in the lower, data in the next 4 bytes.
    if (small > 4) fail(r, `${where}: a small data element claims ${small} bytes (at most 4 fit)`);
    return { type: first & 0xffff, data: at + 4, nbytes: small, next: at + 8 };
  }
  const nbytes = r.dv.getUint32(at + 4, r.le);
  const data = at + 8;
  if (nbytes > end - data)
    fail(
      r,
      `${where}: an element of ${nbytes} bytes runs past the end (${end - data} bytes left): the file is truncated or corrupt`,
    );
  // Elements are padded to 8 bytes, except compressed ones.
  const padded = first === MI_COMPRESSED ? nbytes : Math.ceil(nbytes / 8) * 8;
  return { type: first, data, nbytes, next: Math.min(end, data + padded) };
}

function readInts(r: Reader, tag: Tag, where: string): number[] {
  const kind = MI_KINDS[tag.type];
  if (!kind || !['i1', 'u1', 'i2', 'u2', 'i4', 'u4'].includes(kind))
    fail(r, `${where}: expected integers, found element type ${tag.type}`);
  const size = ELEMENT_KINDS[kind].size;
  if (tag.nbytes % size !== 0 || tag.nbytes / size > 64)
    fail(r, `${where}: ${tag.nbytes} bytes is not a list of dimensions`);
  return Array.from(decodeElements(r.bytes, tag.data, tag.nbytes / size, kind, r.le).data);
}

function readName(r: Reader, tag: Tag, where: string): string {
  if (tag.type !== 1 && tag.type !== 2 && tag.type !== 16)
    fail(r, `${where}: the array name has element type ${tag.type}`);
  if (tag.nbytes > 4096) fail(r, `${where}: an array name of ${tag.nbytes} bytes`);
  return textDecoder.decode(r.bytes.subarray(tag.data, tag.data + tag.nbytes)).replace(/\0+$/, '');
}

/** A variable found in the file: what it is, and how to decode it. */
interface MatVar {
  name: string;
  shape: number[];
  dtype: DType | null;
  note?: string;
  decode?: () => HostTensor;
}

/**
 * Parses one miMATRIX element's contents [start, end). `prefix` is the struct path above it.
 * Appends what it finds to `out` (a struct adds one entry per field, recursively).
 */
function parseMatrix(
  r: Reader,
  start: number,
  end: number,
  name: string | null,
  depth: number,
  out: MatVar[],
): void {
  const where = name === null ? 'a variable' : `variable '${name}'`;
  if (start === end) {
    // An empty miMATRIX (an empty cell or field).
    if (name !== null) out.push({ name, shape: [0, 0], dtype: null, note: 'empty' });
    return;
  }
  const flagsTag = readTag(r, start, end, where);
  if (flagsTag.type !== 6 || flagsTag.nbytes !== 8) fail(r, `${where}: the array flags are malformed`);
  const flags = r.dv.getUint32(flagsTag.data, r.le);
  const cls = flags & 0xff;
  const complex = (flags & 0x800) !== 0;
  const logical = (flags & 0x200) !== 0;
  const dimsTag = readTag(r, flagsTag.next, end, where);
  const dims = readInts(r, dimsTag, `${where} (dimensions)`);
  if (dims.length < 2 || dims.some((d) => d < 0))
    fail(r, `${where}: dimensions [${dims.join(',')}] are invalid`);
  const nameTag = readTag(r, dimsTag.next, end, where);
  const ownName = readName(r, nameTag, where);
  const full = name ?? ownName;
  const label = `variable '${full}'`;
  if (full === '') fail(r, 'a variable has no name');
  let at = nameTag.next;

  const numeric = MX_NUMERIC[cls];
  if (numeric) {
    const numel = checkedElementCount(dims, Number.MAX_SAFE_INTEGER);
    if (numel === null || !Number.isFinite(numel))
      fail(r, `${label}: dimensions [${dims.join(',')}] are too large`);
    const realTag = readTag(r, at, end, `${label} (data)`);
    const imagTag = complex ? readTag(r, realTag.next, end, `${label} (imaginary part)`) : undefined;
    const dtype: DType = logical ? 'bool' : complex ? (COMPLEX_OF[numeric] ?? numeric) : numeric;
    const check = (tag: Tag, part: string): ElementKind => {
      const kind = MI_KINDS[tag.type];
      if (!kind) fail(r, `${label}: its ${part} is stored as element type ${tag.type}, not a number type`);
      const have = tag.nbytes / ELEMENT_KINDS[kind].size;
      if (have !== numel)
        fail(
          r,
          `${label}: [${dims.join(',')}] needs ${numel} values but its ${part} holds ${Math.floor(have)}: the file is corrupt`,
        );
      return kind;
    };
    const kr = check(realTag, 'data');
    const ki = imagTag ? check(imagTag, 'imaginary part') : undefined;
    if (complex && dtype === numeric)
      out.push({
        name: full,
        shape: dims,
        dtype: null,
        note: `complex ${numeric} (jacscope reads complex double and single)`,
      });
    else
      out.push({
        name: full,
        shape: dims,
        dtype,
        decode: () => {
          r.budget.bytes(numel * 8 * (complex ? 2 : 1));
          const re = decodeElements(r.bytes, realTag.data, numel, kr, r.le).data;
          const t: HostTensor = { dtype, shape: [...dims], data: fortranToC(re, dims) };
          if (logical) for (let i = 0; i < t.data.length; i++) t.data[i] = t.data[i] !== 0 ? 1 : 0;
          if (imagTag && ki)
            t.imag = fortranToC(decodeElements(r.bytes, imagTag.data, numel, ki, r.le).data, dims);
          return t;
        },
      });
    return;
  }
  if (cls === 2) {
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== 1) {
      out.push({
        name: full,
        shape: dims,
        dtype: null,
        note: `a struct array [${dims.join(',')}] (only 1×1 structs are read)`,
      });
      return;
    }
    if (depth >= MAX_DEPTH) fail(r, `${label}: structs nested more than ${MAX_DEPTH} deep`);
    const lenTag = readTag(r, at, end, `${label} (field names)`);
    const [fieldLen] = readInts(r, lenTag, `${label} (field name length)`);
    const namesTag = readTag(r, lenTag.next, end, `${label} (field names)`);
    if (!(fieldLen > 0) || namesTag.nbytes % fieldLen !== 0)
      fail(r, `${label}: its field names are malformed`);
    const nf = namesTag.nbytes / fieldLen;
    r.budget.values(nf);
    at = namesTag.next;
    for (let i = 0; i < nf; i++) {
      const raw = r.bytes.subarray(namesTag.data + i * fieldLen, namesTag.data + (i + 1) * fieldLen);
      const field = textDecoder.decode(raw).replace(/\0.*$/s, '');
      const tag = readTag(r, at, end, `${label}.${field}`);
      if (tag.type !== MI_MATRIX)
        fail(r, `${label}.${field}: expected an array, found element type ${tag.type}`);
      parseMatrix(r, tag.data, tag.data + tag.nbytes, `${full}.${field}`, depth + 1, out);
      at = tag.next;
    }
    return;
  }
  out.push({ name: full, shape: dims, dtype: null, note: MX_OTHER[cls] ?? `MATLAB array class ${cls}` });
}

/**
 * Inflates a miCOMPRESSED element's zlib stream step by step, refusing output past the size its
 * inner element declares, and charging every byte to the budget.
 */
function inflateElement(r: Reader, tag: Tag, index: number): Uint8Array {
  const where = `compressed variable #${index + 1}`;
  const chunks: Uint8Array[] = [];
  let produced = 0;
  let limit = Infinity;
  let ended = false;
  let sized = false;
  let err: unknown = null;
  const inflater = new Unzlib((chunk, final) => {
    if (chunk.length) {
      produced += chunk.length;
      chunks.push(chunk);
    }
    if (final) ended = true;
  });
  const input = r.bytes.subarray(tag.data, tag.data + tag.nbytes);
  for (let off = 0; off < input.length && !ended; off += INFLATE_STEP) {
    const before = produced;
    try {
      inflater.push(
        input.subarray(off, Math.min(input.length, off + INFLATE_STEP)),
        off + INFLATE_STEP >= input.length,
      );
    } catch (e) {
      err = e;
      break;
    }
    r.budget.inflate(produced - before);
    if (limit === Infinity && produced >= 8) {
      // The inner element's tag says how big the whole stream's output is.
      const head = concat(chunks, 8);
      const dv = new DataView(head.buffer, head.byteOffset, 8);
      const type = dv.getUint32(0, r.le);
      const nbytes = dv.getUint32(4, r.le);
      if (type !== MI_MATRIX) fail(r, `${where}: holds element type ${type}, not an array`);
      limit = 8 + nbytes;
      // Deflate cannot expand more than 1032:1: a larger declared size is a lie.
      if (limit > 1032 * tag.nbytes + 4096)
        fail(
          r,
          `${where} declares ${limit} bytes from ${tag.nbytes} compressed, more than deflate can produce: a corrupt or hostile file`,
        );
      r.budget.check('maxInflated', limit - produced);
    }
    if (!sized && limit !== Infinity) {
      // Once the array header is out: a numeric array needs no more than its values' bytes.
      const bound = numericBound(r, concat(chunks, Math.min(produced, 8192)));
      if (bound !== undefined) {
        sized = true;
        if (limit > bound)
          fail(
            r,
            `${where} declares ${limit} bytes but its dimensions need at most ${bound}: a corrupt or hostile file`,
          );
        if (Number.isFinite(bound)) r.budget.check('maxBytes', bound);
      }
    }
    if (produced > limit)
      fail(r, `${where} inflates past the ${limit} bytes it declares: a compression bomb or a corrupt file`);
  }
  if (err !== null || !ended) {
    const why = err instanceof Error ? err.message : 'the stream ends early';
    fail(r, `${where} cannot be decompressed (${why}): the file is truncated or corrupt`);
  }
  if (produced < limit)
    fail(r, `${where} inflates to ${produced} bytes but declares ${limit}: the file is corrupt`);
  return concat(chunks, produced);
}

/**
 * The most bytes a miMATRIX element (tag at 0 of `head`) can take, when its header is complete in
 * `head` and it is a numeric array: its values at 8 bytes each (twice for complex), plus the header
 * and tags. Infinity for other classes (their size is their contents'); undefined while the header
 * is not complete yet.
 */
function numericBound(r: Reader, head: Uint8Array): number | undefined {
  const hr: Reader = { ...r, bytes: head, dv: new DataView(head.buffer, head.byteOffset, head.byteLength) };
  try {
    const flags = readTag(hr, 8, head.length, '');
    const dimsTag = readTag(hr, flags.next, head.length, '');
    const nameTag = readTag(hr, dimsTag.next, head.length, '');
    const cls = hr.dv.getUint32(flags.data, r.le) & 0xff;
    if (!MX_NUMERIC[cls]) return Infinity;
    const complex = (hr.dv.getUint32(flags.data, r.le) & 0x800) !== 0;
    const dims = readInts(hr, dimsTag, '');
    const numel = checkedElementCount(dims, Number.MAX_SAFE_INTEGER);
    if (numel === null || !Number.isFinite(numel)) return 0;
    return nameTag.next + 2 * 8 + numel * 8 * (complex ? 2 : 1) + 16;
  } catch {
    return head.length >= 8192 ? Infinity : undefined;
  }
}

function concat(chunks: Uint8Array[], n: number): Uint8Array {
  if (chunks.length === 1 && chunks[0].length >= n) return chunks[0].subarray(0, n);
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    if (o >= n) break;
    const take = Math.min(c.length, n - o);
    out.set(c.subarray(0, take), o);
    o += take;
  }
  return out;
}

/** Parses a Level 5 file: every variable, not yet decoded. */
function parseMat5(bytes: Uint8Array, file: string, budget: OpenBudget): MatVar[] {
  if (bytes.length < 128)
    throw new LoadError(file, `is ${bytes.length} bytes long; a MATLAB file's header alone is 128`);
  const ind = String.fromCharCode(bytes[126], bytes[127]);
  if (ind !== 'IM' && ind !== 'MI')
    throw new LoadError(file, `has a MATLAB header with an unknown endian indicator '${ind}'`);
  const le = ind === 'IM';
  const top: Reader = {
    bytes,
    dv: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    le,
    file,
    budget,
  };
  const out: MatVar[] = [];
  let at = 128;
  let index = 0;
  while (at < bytes.length) {
    // Trailing padding (fewer than 8 bytes, or zeros) after the last variable.
    if (bytes.length - at < 8 || (top.dv.getUint32(at, le) === 0 && top.dv.getUint32(at + 4, le) === 0))
      break;
    const tag = readTag(top, at, bytes.length, `variable #${index + 1}`);
    budget.values(1);
    if (tag.type === MI_MATRIX) parseMatrix(top, tag.data, tag.data + tag.nbytes, null, 0, out);
    else if (tag.type === MI_COMPRESSED) {
      const inner = inflateElement(top, tag, index);
      const r: Reader = {
        ...top,
        bytes: inner,
        dv: new DataView(inner.buffer, inner.byteOffset, inner.byteLength),
      };
      const innerTag = readTag(r, 0, inner.length, `compressed variable #${index + 1}`);
      parseMatrix(r, innerTag.data, innerTag.data + innerTag.nbytes, null, 0, out);
    } else
      throw new LoadError(
        file,
        `variable #${index + 1} is element type ${tag.type}, not an array: the file is corrupt`,
      );
    at = tag.next;
    index++;
  }
  return out;
}

/**
 * Opens a MATLAB Level 5 (v5/v6/v7) file as a DataSource. Arrays are decoded on first read; the
 * file's structure (and any compressed variables) is read at once, so errors show up here.
 */
export function openMat5(bytes: Uint8Array, file: string, budget = new OpenBudget(file)): DataSource {
  const version = matVersion(bytes, file);
  if (version === 'mat4')
    throw new LoadError(
      file,
      'is a MATLAB Level 4 .mat file, which jacscope does not read; save it with -v7 or -v7.3',
    );
  if (version === 'mat73')
    throw new LoadError(file, 'is a MATLAB v7.3 (HDF5) file; it needs the HDF5 reader');
  if (version !== 'mat5') throw new LoadError(file, 'is not a MATLAB .mat file (no MATLAB header)');
  const vars = parseMat5(bytes, file, budget);
  const byName = new Map<string, MatVar>();
  for (const v of vars) {
    if (byName.has(v.name)) throw new LoadError(file, `holds two variables named '${v.name}'`);
    byName.set(v.name, v);
  }
  const list: VariableInfo[] = vars.map((v) => ({
    name: v.name,
    shape: [...v.shape],
    dtype: v.dtype,
    ...(v.note ? { note: v.note } : {}),
  }));
  return lazyMemorySource(file, 'mat5', list, (name) => byName.get(name)!.decode!());
}
