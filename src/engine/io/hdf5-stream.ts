/**
 * The head of an HDF5 file whose datasets' values follow it on disk, so that a J too large for
 * memory can be written as HDF5 a chunk of samples at a time (the desktop app's exports in sample
 * mode, the CLI's `--out J.h5`): write `header`, then each dataset's values in C order,
 * little-endian, dataset after dataset, and the file is complete.
 *
 * hdf5-write.ts builds files through the HDF5 library in memory, which needs every value at once.
 * This writes the few structures such a file needs by hand, as the format specification (version 3
 * of the file format, the one HDF5 1.10+ writes with the latest format bounds) lays them out:
 *   superblock version 2 → the root group's object header (version 2: a link info, a group info
 *   and one link message per dataset) → each dataset's object header (dataspace, datatype, fill
 *   value, contiguous layout pointing past the headers, an `axes` attribute of axis names).
 * Every version-2 structure ends in a Jenkins lookup3 checksum, which the library verifies.
 * Readers: h5py, MATLAB's h5read, the HDF5 library itself (the tests read it back through it).
 */

export type StreamDtype = 'float32' | 'float64';

export interface StreamDataset {
  /** A name in the root group: letters, digits, '_', '-', '.', not '.' or '..'. */
  name: string;
  shape: readonly number[];
  dtype: StreamDtype;
  /** One name per axis, stored as the dataset's `axes` attribute (fixed-length ASCII strings). */
  axes?: readonly string[];
  /** Scalar string attributes (fixed-length ASCII), e.g. MATLAB's `MATLAB_class`. */
  attributes?: Readonly<Record<string, string>>;
  /**
   * Chunked storage with these chunk sizes (each 1…the axis's size) instead of contiguous values.
   * The chunks follow one another in the row-major order of the chunk grid, each one whole and in C
   * order, those at an axis's end padded (their values past the end are never read). The index is
   * HDF5 1.10's implicit one (layout message version 4), which no older reader knows.
   */
  chunk?: readonly number[];
}

export interface StreamOptions {
  /**
   * Bytes before the HDF5 data (a user block, e.g. MATLAB v7.3's 512-byte header): 512 or a larger
   * power of two; the file's addresses are relative to its end.
   */
  userBlock?: Uint8Array;
}

export interface StreamLayout {
  /** The bytes before the first value (the user block first, when there is one). */
  header: Uint8Array;
  /** Where each dataset's values start in the file (the first one at header.length). */
  offsets: number[];
  /** Each dataset's bytes: its values, or its chunks with their padding. */
  sizes: number[];
  /** The file's length once every value is written. */
  totalBytes: number;
}

const UNDEF = 0xffffffffffffffffn;

/** Bob Jenkins' lookup3 hashlittle() over bytes, as HDF5's H5_checksum_lookup3. */
export function lookup3(k: Uint8Array, initval = 0): number {
  let length = k.length;
  let a = (0xdeadbeef + length + initval) >>> 0;
  let b = a;
  let c = a;
  const rot = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  let i = 0;
  while (length > 12) {
    a = (a + (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24))) >>> 0;
    b = (b + (k[i + 4] | (k[i + 5] << 8) | (k[i + 6] << 16) | (k[i + 7] << 24))) >>> 0;
    c = (c + (k[i + 8] | (k[i + 9] << 8) | (k[i + 10] << 16) | (k[i + 11] << 24))) >>> 0;
    // mix(a, b, c)
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 4)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 6)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 8)) >>> 0;
    b = (b + a) >>> 0;
    a = (a - c) >>> 0;
    a = (a ^ rot(c, 16)) >>> 0;
    c = (c + b) >>> 0;
    b = (b - a) >>> 0;
    b = (b ^ rot(a, 19)) >>> 0;
    a = (a + c) >>> 0;
    c = (c - b) >>> 0;
    c = (c ^ rot(b, 4)) >>> 0;
    b = (b + a) >>> 0;
    length -= 12;
    i += 12;
  }
  if (length === 0) return c;
  // The last 1–12 bytes, each into its lane of a, b or c (the reference's fall-through switch).
  const lanes = [0, 0, 0];
  for (let j = 0; j < length; j++) lanes[j >> 2] += k[i + j] << (8 * (j & 3));
  a = (a + (lanes[0] >>> 0)) >>> 0;
  b = (b + (lanes[1] >>> 0)) >>> 0;
  c = (c + (lanes[2] >>> 0)) >>> 0;
  // final(a, b, c)
  c = (c ^ b) >>> 0;
  c = (c - rot(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rot(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rot(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rot(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rot(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rot(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rot(b, 24)) >>> 0;
  return c;
}

/** Little-endian bytes, appended. */
class Bytes {
  private parts: number[] = [];
  get length(): number {
    return this.parts.length;
  }
  u8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    return this.u8(v).u8(v >>> 8);
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  u64(v: number | bigint): this {
    const x = BigInt(v);
    return this.u32(Number(x & 0xffffffffn)).u32(Number(x >> 32n));
  }
  ascii(s: string): this {
    for (let i = 0; i < s.length; i++) this.u8(s.charCodeAt(i));
    return this;
  }
  append(b: Uint8Array): this {
    for (const v of b) this.parts.push(v);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A message of a version-2 object header: type, size, flags (constant), body. */
function message(type: number, body: Uint8Array, constant = false): Uint8Array {
  return new Bytes()
    .u8(type)
    .u16(body.length)
    .u8(constant ? 1 : 0)
    .append(body)
    .bytes();
}

/** A version-2 object header ('OHDR') holding `messages`, with its checksum. */
function objectHeader(messages: Uint8Array[]): Uint8Array {
  const size = messages.reduce((n, m) => n + m.length, 0);
  const h = new Bytes().ascii('OHDR').u8(2);
  // Flags: bits 0–1 give the width of the "size of chunk 0" field (2: four bytes); nothing else.
  h.u8(2).u32(size);
  for (const m of messages) h.append(m);
  const body = h.bytes();
  return new Bytes().append(body).u32(lookup3(body)).bytes();
}

function dataspace(shape: readonly number[]): Uint8Array {
  // Version 2, no maximum dimensions; type 1 (simple), or 0 (scalar) for rank 0.
  const b = new Bytes()
    .u8(2)
    .u8(shape.length)
    .u8(0)
    .u8(shape.length === 0 ? 0 : 1);
  for (const d of shape) b.u64(d);
  return b.bytes();
}

/** IEEE little-endian floating point of the given width (datatype class 1, version 1). */
function floatType(dtype: StreamDtype): Uint8Array {
  const f64 = dtype === 'float64';
  return new Bytes()
    .u8(0x11) // version 1, class 1 (floating point)
    .u8(0x20) // little-endian, no padding bits, mantissa normalised with an implied leading 1
    .u8(f64 ? 63 : 31) // sign bit
    .u8(0)
    .u32(f64 ? 8 : 4)
    .u16(0) // bit offset
    .u16(f64 ? 64 : 32) // precision
    .u8(f64 ? 52 : 23) // exponent location
    .u8(f64 ? 11 : 8) // exponent size
    .u8(0) // mantissa location
    .u8(f64 ? 52 : 23) // mantissa size
    .u32(f64 ? 1023 : 127) // exponent bias
    .bytes();
}

/** Fixed-length ASCII strings of `size` bytes, null-padded (class 3, version 1). */
function stringType(size: number): Uint8Array {
  return new Bytes().u8(0x13).u8(0x01).u8(0).u8(0).u32(size).bytes();
}

/**
 * An attribute message (version 3) of fixed-length ASCII strings, null-padded to the longest: a 1-D
 * array of them (`shape` [n]), or one (`shape` []).
 */
function stringsAttribute(
  name: string,
  values: readonly string[],
  shape: number[] = [values.length],
): Uint8Array {
  const size = Math.max(1, ...values.map((v) => v.length));
  const type = stringType(size);
  const space = dataspace(shape);
  const b = new Bytes()
    .u8(3)
    .u8(0)
    .u16(name.length + 1)
    .u16(type.length)
    .u16(space.length)
    .u8(0) // ASCII name
    .ascii(name)
    .u8(0)
    .append(type)
    .append(space);
  for (const v of values) {
    b.ascii(v);
    for (let i = v.length; i < size; i++) b.u8(0);
  }
  return b.bytes();
}

function elementBytes(d: StreamDataset): number {
  return d.dtype === 'float64' ? 8 : 4;
}

/** The dataset's chunks in all, with their padding (chunked), or its values' bytes. */
function storedBytes(d: StreamDataset): number {
  if (!d.chunk) return d.shape.reduce((n, s) => n * s, 1) * elementBytes(d);
  const chunks = d.shape.reduce((n, s, i) => n * Math.ceil(s / d.chunk![i]), 1);
  return chunks * d.chunk.reduce((n, c) => n * c, elementBytes(d));
}

/** The data layout message: contiguous (version 3) or chunked with the implicit index (version 4). */
function layout(d: StreamDataset, address: number, bytes: number): Uint8Array {
  // No address when there are no values: the library takes a zero-size block at a real address
  // for a corrupt size.
  const at = bytes > 0 ? address : UNDEF;
  if (!d.chunk) return new Bytes().u8(3).u8(1).u64(at).u64(bytes).bytes();
  // Version 4, class 2 (chunked), no flags; the dimensionality counts the element size as a last
  // dimension; each size in as many bytes as the largest needs (the library checks that it is
  // exactly that many); index type 2 (implicit: chunk i lies at address + i·chunk bytes).
  const dims = [...d.chunk, elementBytes(d)];
  const width = Math.floor(Math.log2(Math.max(...dims)) / 8) + 1;
  const b = new Bytes().u8(4).u8(2).u8(0).u8(dims.length).u8(width);
  for (const c of dims) for (let k = 0; k < width; k++) b.u8(Math.floor(c / 2 ** (8 * k)) & 0xff);
  return b.u8(2).u64(at).bytes();
}

/** The dataset's object header; its layout message points at `address`. */
function datasetHeader(d: StreamDataset, address: number, bytes: number): Uint8Array {
  const messages = [
    message(0x01, dataspace(d.shape)),
    message(0x03, floatType(d.dtype), true),
    // Fill value, version 3: written never, no value (every value is written); space allocated
    // late, or early where the implicit chunk index requires it.
    message(
      0x05,
      new Bytes()
        .u8(3)
        .u8((d.chunk ? 0x01 : 0x02) | (1 << 2))
        .bytes(),
      true,
    ),
    message(0x08, layout(d, address, bytes)),
  ];
  if (d.axes) messages.push(message(0x0c, stringsAttribute('axes', d.axes)));
  for (const [name, value] of Object.entries(d.attributes ?? {}))
    messages.push(message(0x0c, stringsAttribute(name, [value], [])));
  return objectHeader(messages);
}

/** The root group's object header: compact links to the datasets at `addresses`. */
function rootHeader(names: readonly string[], addresses: readonly number[]): Uint8Array {
  const messages = [
    // Link info, version 0: no creation order, links stored compactly (no heap, no index).
    message(0x02, new Bytes().u8(0).u8(0).u64(UNDEF).u64(UNDEF).bytes()),
    // Group info, version 0: the defaults.
    message(0x0a, new Bytes().u8(0).u8(0).bytes()),
    ...names.map((name, i) =>
      // Link, version 1: a hard link, the name's length in one byte, ASCII.
      message(0x06, new Bytes().u8(1).u8(0).u8(name.length).ascii(name).u64(addresses[i]).bytes()),
    ),
  ];
  return objectHeader(messages);
}

function superblock(base: number, rootAddress: number, eof: number): Uint8Array {
  const body = new Bytes()
    .append(Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))
    .u8(2) // superblock version
    .u8(8) // size of offsets
    .u8(8) // size of lengths
    .u8(0) // file consistency flags
    .u64(base) // base address: where the superblock is; other addresses are relative to it
    .u64(UNDEF) // no superblock extension
    .u64(eof) // end of file: absolute
    .u64(rootAddress)
    .bytes();
  return new Bytes().append(body).u32(lookup3(body)).bytes();
}

const SUPERBLOCK_BYTES = 48;

function checkDataset(d: StreamDataset): void {
  if (!/^[A-Za-z0-9_.-]{1,255}$/.test(d.name) || d.name === '.' || d.name === '..')
    throw new Error(`'${d.name}' is not a dataset name this writer takes (letters, digits, _ - .)`);
  if (!d.shape.every((n) => Number.isSafeInteger(n) && n >= 0))
    throw new Error(`'${d.name}': shape [${d.shape.join(', ')}] is not a list of sizes`);
  if (d.chunk) {
    if (d.chunk.length !== d.shape.length || d.shape.length === 0)
      throw new Error(`'${d.name}': a chunk needs one size per axis`);
    if (!d.chunk.every((c, i) => Number.isSafeInteger(c) && c >= 1 && c <= d.shape[i]))
      throw new Error(
        `'${d.name}': chunk [${d.chunk.join(', ')}] does not fit shape [${d.shape.join(', ')}]`,
      );
    if (d.chunk.reduce((n, c) => n * c, elementBytes(d)) >= 2 ** 32)
      throw new Error(`'${d.name}': a chunk must hold less than 4 GiB`);
  }
  for (const [name, value] of Object.entries(d.attributes ?? {}))
    if (!/^[A-Za-z0-9_]{1,64}$/.test(name) || name === 'axes' || !/^[\x20-\x7e]{0,255}$/.test(value))
      throw new Error(
        `'${d.name}': attribute '${name}' is not a name and printable ASCII value this writer takes`,
      );
  if (d.axes) {
    if (d.axes.length !== d.shape.length)
      throw new Error(`'${d.name}' has ${d.shape.length} axes but ${d.axes.length} axis names`);
    if (!d.axes.every((a) => /^[\x20-\x7e]{0,255}$/.test(a)))
      throw new Error(`'${d.name}': axis names must be printable ASCII`);
  }
}

/** The header of a file holding `datasets`, and where each one's values go. */
export function hdf5StreamLayout(datasets: readonly StreamDataset[], opts: StreamOptions = {}): StreamLayout {
  if (datasets.length === 0) throw new Error('an HDF5 file needs at least one dataset');
  const names = new Set<string>();
  for (const d of datasets) {
    checkDataset(d);
    if (names.has(d.name)) throw new Error(`two datasets are named '${d.name}'`);
    names.add(d.name);
  }
  const ub = opts.userBlock ?? new Uint8Array(0);
  if (ub.length > 0 && (ub.length < 512 || (ub.length & (ub.length - 1)) !== 0))
    throw new Error('a user block is 512 bytes or a larger power of two');
  // Headers do not depend on the addresses' values, only on their count: size them with zeros.
  const sizes = datasets.map(storedBytes);
  const datasetSizes = datasets.map((d) => datasetHeader(d, 0, 0).length);
  const rootSize = rootHeader(
    datasets.map((d) => d.name),
    datasets.map(() => 0),
  ).length;
  // Addresses from here on are relative to the superblock (the base address).
  const headerAt: number[] = [];
  let at = SUPERBLOCK_BYTES + rootSize;
  for (const size of datasetSizes) {
    headerAt.push(at);
    at += size;
  }
  // Values start 8-byte aligned after the headers.
  let dataAt = Math.ceil(at / 8) * 8;
  const addresses: number[] = [];
  datasets.forEach((_, i) => {
    addresses.push(dataAt);
    dataAt += sizes[i];
  });
  const eof = ub.length + dataAt;
  const out = new Uint8Array(ub.length + addresses[0]);
  out.set(ub, 0);
  out.set(superblock(ub.length, SUPERBLOCK_BYTES, eof), ub.length);
  out.set(
    rootHeader(
      datasets.map((d) => d.name),
      headerAt,
    ),
    ub.length + SUPERBLOCK_BYTES,
  );
  datasets.forEach((d, i) => out.set(datasetHeader(d, addresses[i], sizes[i]), ub.length + headerAt[i]));
  return { header: out, offsets: addresses.map((a) => ub.length + a), sizes, totalBytes: eof };
}
