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
}

export interface StreamLayout {
  /** The bytes before the first value. */
  header: Uint8Array;
  /** Where each dataset's values start (the first one at header.length). */
  offsets: number[];
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

/** An attribute message (version 3): a 1-D array of fixed-length strings. */
function stringsAttribute(name: string, values: readonly string[]): Uint8Array {
  const size = Math.max(1, ...values.map((v) => v.length));
  const type = stringType(size);
  const space = dataspace([values.length]);
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

/** The dataset's object header; its layout message points at `address`. */
function datasetHeader(d: StreamDataset, address: number, bytes: number): Uint8Array {
  const messages = [
    message(0x01, dataspace(d.shape)),
    message(0x03, floatType(d.dtype), true),
    // Fill value, version 3: allocated late, written never, no value (every value is written).
    message(
      0x05,
      new Bytes()
        .u8(3)
        .u8(0x02 | (1 << 2))
        .bytes(),
      true,
    ),
    // Data layout, version 3, contiguous: address and size of the values (no address when there
    // are none: the library takes a zero-size block at a real address for a corrupt size).
    message(
      0x08,
      new Bytes()
        .u8(3)
        .u8(1)
        .u64(bytes > 0 ? address : UNDEF)
        .u64(bytes)
        .bytes(),
    ),
  ];
  if (d.axes) messages.push(message(0x0c, stringsAttribute('axes', d.axes)));
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

function superblock(rootAddress: number, eof: number): Uint8Array {
  const body = new Bytes()
    .append(Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]))
    .u8(2) // superblock version
    .u8(8) // size of offsets
    .u8(8) // size of lengths
    .u8(0) // file consistency flags
    .u64(0) // base address
    .u64(UNDEF) // no superblock extension
    .u64(eof)
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
  if (d.axes) {
    if (d.axes.length !== d.shape.length)
      throw new Error(`'${d.name}' has ${d.shape.length} axes but ${d.axes.length} axis names`);
    if (!d.axes.every((a) => /^[\x20-\x7e]{0,255}$/.test(a)))
      throw new Error(`'${d.name}': axis names must be printable ASCII`);
  }
}

/** The header of a file holding `datasets`, and where each one's values go. */
export function hdf5StreamLayout(datasets: readonly StreamDataset[]): StreamLayout {
  if (datasets.length === 0) throw new Error('an HDF5 file needs at least one dataset');
  const names = new Set<string>();
  for (const d of datasets) {
    checkDataset(d);
    if (names.has(d.name)) throw new Error(`two datasets are named '${d.name}'`);
    names.add(d.name);
  }
  const bytesOf = (d: StreamDataset) => d.shape.reduce((n, s) => n * s, 1) * (d.dtype === 'float64' ? 8 : 4);
  // Headers do not depend on the addresses' values, only on their count: size them with zeros.
  const datasetSizes = datasets.map((d) => datasetHeader(d, 0, 0).length);
  const rootSize = rootHeader(
    datasets.map((d) => d.name),
    datasets.map(() => 0),
  ).length;
  const headerAt: number[] = [];
  let at = SUPERBLOCK_BYTES + rootSize;
  for (const size of datasetSizes) {
    headerAt.push(at);
    at += size;
  }
  // Values start 8-byte aligned after the headers.
  let dataAt = Math.ceil(at / 8) * 8;
  const offsets: number[] = [];
  for (const d of datasets) {
    offsets.push(dataAt);
    dataAt += bytesOf(d);
  }
  const eof = dataAt;
  const out = new Uint8Array(offsets[0]);
  out.set(superblock(SUPERBLOCK_BYTES, eof), 0);
  out.set(
    rootHeader(
      datasets.map((d) => d.name),
      headerAt,
    ),
    SUPERBLOCK_BYTES,
  );
  datasets.forEach((d, i) => out.set(datasetHeader(d, offsets[i], bytesOf(d)), headerAt[i]));
  return { header: out, offsets, totalBytes: eof };
}
