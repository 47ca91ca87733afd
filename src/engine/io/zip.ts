/**
 * A minimal, defensive zip reader: enough for numpy's .npz and torch.save checkpoints.
 *
 * Entries come from the central directory (found through the end-of-central-directory record, with
 * ZIP64 records and extra fields for big archives). Every offset and size is checked against the
 * buffer when the directory is read, and entries whose data overlap are refused (one compressed
 * stream listed many times is the classic zip bomb). `read()` inflates with fflate, refuses sizes no
 * deflate stream of that length could produce, and verifies the length and the CRC-32.
 *
 * What is inflated is charged to the file's OpenBudget: the sizes the directory declares are checked
 * against it before anything is read, and every read is charged before its buffer is allocated.
 */
import { inflateSync } from 'fflate';
import { LoadError } from '../errors';
import { OpenBudget } from './budget';

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. */
  method: 0 | 8;
  compressedSize: number;
  uncompressedSize: number;
  /** The entry's bytes (a view into the archive for stored entries). Throws LoadError when corrupt. */
  read(): Uint8Array;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
/** The EOCD record sits within its own 22 bytes plus a comment of at most 65535 bytes from the end. */
const EOCD_SEARCH = EOCD_SIZE + 0xffff;
/** Deflate cannot expand by more than 1032:1; anything claiming more is lying. */
const MAX_DEFLATE_RATIO = 1032;
/** The largest entry we will inflate (a typed array is limited to about this in engines anyway). */
const MAX_ENTRY = 4 * 2 ** 30;

export function readZip(bytes: Uint8Array, file: string, budget = new OpenBudget(file)): ZipEntry[] {
  function fail(reason: string): never {
    throw new LoadError(file, reason);
  }
  const len = bytes.length;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, true);
  const u32 = (o: number) => view.getUint32(o, true);
  const u64 = (o: number) => {
    const v = view.getBigUint64(o, true);
    // Beyond 2^53 cannot be a real offset or size in a buffer we hold; saturate so range checks fail.
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  };

  // --- end of central directory: scan backwards for the record whose comment reaches exactly the end
  // (so that a signature inside a comment is not taken for the record); failing that, accept one whose
  // comment merely fits, as some tools leave trailing bytes after the archive.
  const lowest = Math.max(0, len - EOCD_SEARCH);
  let eocd = -1;
  for (const exact of [true, false]) {
    for (let o = len - EOCD_SIZE; o >= lowest && eocd < 0; o--) {
      if (u32(o) !== SIG_EOCD) continue;
      const end = o + EOCD_SIZE + u16(o + 20);
      if (exact ? end === len : end <= len) eocd = o;
    }
    if (eocd >= 0) break;
  }
  if (eocd < 0) {
    if (len === 0) fail('is empty');
    if (len >= 4 && u32(0) === SIG_LOCAL)
      fail('is a truncated zip archive (its central directory at the end is missing)');
    fail('is not a zip archive (no end-of-central-directory record found)');
  }
  let diskNo = u16(eocd + 4);
  let cdDisk = u16(eocd + 6);
  let count = u16(eocd + 10);
  let cdSize = u32(eocd + 12);
  let cdOffset = u32(eocd + 16);

  // --- ZIP64: a locator just before the EOCD points at the ZIP64 EOCD record with 64-bit fields.
  if (eocd >= 20 && u32(eocd - 20) === SIG_ZIP64_LOCATOR) {
    const rec = u64(eocd - 20 + 8);
    if (rec + 56 > eocd - 20 || u32(rec) !== SIG_ZIP64_EOCD)
      fail('is a corrupt zip archive (its ZIP64 end record is missing or misplaced)');
    diskNo = u32(rec + 16);
    cdDisk = u32(rec + 20);
    count = u64(rec + 32);
    cdSize = u64(rec + 40);
    cdOffset = u64(rec + 48);
  } else if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    fail('is a corrupt zip archive (ZIP64 sizes are flagged but the ZIP64 records are missing)');
  }
  if (diskNo !== 0 || cdDisk !== 0) fail('is a multi-part (split) zip archive, which is not supported');
  const cdEnd = cdOffset + cdSize;
  if (cdEnd > eocd)
    fail('is a truncated or corrupt zip archive (its central directory lies outside the file)');
  // Each directory entry takes at least 46 bytes: a huge count cannot make us loop or allocate much.
  if (count * 46 > cdSize) fail(`is a corrupt zip archive (${count} entries cannot fit in its directory)`);

  const entries: ZipEntry[] = [];
  // Where each entry's local header and data lie, to refuse overlaps once the directory is read.
  const spans: { start: number; end: number; name: string }[] = [];
  let declaredInflated = 0;
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdEnd || u32(p) !== SIG_CENTRAL)
      fail(`is a corrupt zip archive (directory entry ${i} is damaged)`);
    const flags = u16(p + 8);
    const methodRaw = u16(p + 10);
    const crc = u32(p + 16);
    let compressedSize = u32(p + 20);
    let uncompressedSize = u32(p + 24);
    const nameLen = u16(p + 28);
    const extraLen = u16(p + 30);
    const commentLen = u16(p + 32);
    let localOffset = u32(p + 42);
    const next = p + 46 + nameLen + extraLen + commentLen;
    if (next > cdEnd) fail(`is a corrupt zip archive (directory entry ${i} runs past the directory)`);
    const nameBytes = bytes.subarray(p + 46, p + 46 + nameLen);
    // Bit 11: the name is UTF-8; otherwise it is CP437, which equals latin1 for the ASCII names here.
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes);

    // ZIP64 extra field (id 1): 64-bit values for exactly those fields that are 0xFFFFFFFF above, in
    // the order uncompressed size, compressed size, local header offset.
    const needU = uncompressedSize === 0xffffffff;
    const needC = compressedSize === 0xffffffff;
    const needO = localOffset === 0xffffffff;
    if (needU || needC || needO) {
      let found = false;
      for (let x = p + 46 + nameLen; x + 4 <= p + 46 + nameLen + extraLen;) {
        const id = u16(x);
        const size = u16(x + 2);
        const body = x + 4;
        if (body + size > p + 46 + nameLen + extraLen) break;
        if (id === 1) {
          const need = 8 * (+needU + +needC + +needO);
          if (size < need) fail(`is a corrupt zip archive (entry '${name}' has a short ZIP64 field)`);
          let q = body;
          if (needU) {
            uncompressedSize = u64(q);
            q += 8;
          }
          if (needC) {
            compressedSize = u64(q);
            q += 8;
          }
          if (needO) localOffset = u64(q);
          found = true;
          break;
        }
        x = body + size;
      }
      if (!found) fail(`is a corrupt zip archive (entry '${name}' needs a ZIP64 field it does not have)`);
    }

    if (flags & 0x1) fail(`entry '${name}' is encrypted; jacscope cannot read password-protected archives`);
    if (methodRaw !== 0 && methodRaw !== 8) {
      const known: Record<number, string> = { 12: 'bzip2', 14: 'LZMA', 93: 'zstd', 95: 'xz' };
      fail(
        `entry '${name}' uses ${known[methodRaw] ?? `compression method ${methodRaw}`}; only stored and deflated entries are supported (np.savez / np.savez_compressed / torch.save write those)`,
      );
    }
    const method = methodRaw as 0 | 8;

    // The local header repeats the name and may carry a different extra field; the data follows it.
    if (localOffset + 30 > len || u32(localOffset) !== SIG_LOCAL)
      fail(`is a corrupt zip archive (the local header of '${name}' is missing)`);
    const localNameLen = u16(localOffset + 26);
    const localExtraLen = u16(localOffset + 28);
    const dataStart = localOffset + 30 + localNameLen + localExtraLen;
    if (u16(localOffset + 8) !== methodRaw)
      fail(`is a corrupt zip archive (the headers of '${name}' disagree on its compression)`);
    if (dataStart + compressedSize > len)
      fail(
        `is truncated or corrupt: entry '${name}' needs ${compressedSize} bytes beyond the end of the file`,
      );
    if (method === 0 && compressedSize !== uncompressedSize)
      fail(`is a corrupt zip archive (stored entry '${name}' has two different sizes)`);

    entries.push(
      makeEntry(file, name, method, compressedSize, uncompressedSize, crc, bytes, dataStart, budget),
    );
    spans.push({ start: localOffset, end: dataStart + compressedSize, name });
    if (method === 8) declaredInflated += uncompressedSize;
    p = next;
  }
  spans.sort((a, b) => a.start - b.start);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].start < spans[i - 1].end)
      fail(
        `is a corrupt zip archive (entries '${spans[i - 1].name}' and '${spans[i].name}' share their data: a zip bomb or a damaged directory)`,
      );
  }
  // Every entry read once must fit: refuse before inflating anything.
  budget.check('maxInflated', declaredInflated);
  return entries;
}

function makeEntry(
  file: string,
  name: string,
  method: 0 | 8,
  compressedSize: number,
  uncompressedSize: number,
  crc: number,
  bytes: Uint8Array,
  dataStart: number,
  budget: OpenBudget,
): ZipEntry {
  function fail(reason: string): never {
    throw new LoadError(file, `entry '${name}' ${reason}`);
  }
  return {
    name,
    method,
    compressedSize,
    uncompressedSize,
    read(): Uint8Array {
      const src = bytes.subarray(dataStart, dataStart + compressedSize);
      let out: Uint8Array;
      if (method === 0) out = src;
      else {
        if (uncompressedSize > MAX_ENTRY)
          fail(`claims ${uncompressedSize} bytes uncompressed, more than the 4 GiB jacscope will inflate`);
        if (uncompressedSize > compressedSize * MAX_DEFLATE_RATIO + 64)
          fail(
            `claims ${uncompressedSize} bytes from ${compressedSize} compressed, which deflate cannot produce (corrupt or a zip bomb)`,
          );
        if (uncompressedSize === 0 && compressedSize === 0) out = new Uint8Array(0);
        else {
          budget.inflate(uncompressedSize);
          // One spare byte: fflate truncates silently to the buffer it is given, so a stream that
          // inflates to more than declared shows up as a full buffer.
          const buf = new Uint8Array(uncompressedSize + 1);
          try {
            out = inflateSync(src, { out: buf });
          } catch (e) {
            fail(`is corrupt (deflate: ${(e as Error).message})`);
          }
          if (out.length !== uncompressedSize)
            fail(
              `is corrupt: it inflates to ${out.length === buf.length ? 'more than' : out.length} bytes, not the ${uncompressedSize} its header says`,
            );
        }
      }
      if (crc32(out) !== crc) fail('is corrupt (its CRC-32 checksum does not match)');
      return out;
    },
  };
}

let crcTables: Uint32Array | undefined;

/** Eight 256-entry tables for slicing-by-8: eight bytes per step instead of one. */
function tables(): Uint32Array {
  if (crcTables) return crcTables;
  const t = new Uint32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++)
    for (let k = 1; k < 8; k++)
      t[k * 256 + n] = (t[(k - 1) * 256 + n] >>> 8) ^ t[t[(k - 1) * 256 + n] & 0xff];
  crcTables = t;
  return t;
}

/** A native CRC-32 of the host, where it has one (the command line installs Node's zlib.crc32). */
let nativeCrc32: ((data: Uint8Array) => number) | undefined;

/**
 * Use `f` (same checksum, unsigned) for entries of 64 KiB or more. A model's weights are checked
 * once, right after start, when the loop below still runs in V8's interpreter: about 15 ms per MB.
 */
export function useNativeCrc32(f: ((data: Uint8Array) => number) | undefined): void {
  nativeCrc32 = f;
}

/** CRC-32 (IEEE 802.3, as zip uses), slicing-by-8 (about 6× the byte-at-a-time loop). */
export function crc32(data: Uint8Array): number {
  if (nativeCrc32 && data.length >= 65536) return nativeCrc32(data) >>> 0;
  const t = tables();
  let c = 0xffffffff;
  let i = 0;
  const n8 = data.length - (data.length % 8);
  for (; i < n8; i += 8) {
    const a = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    const b = data[i + 4] | (data[i + 5] << 8) | (data[i + 6] << 16) | (data[i + 7] << 24);
    c =
      t[1792 + (a & 0xff)] ^
      t[1536 + ((a >>> 8) & 0xff)] ^
      t[1280 + ((a >>> 16) & 0xff)] ^
      t[1024 + (a >>> 24)] ^
      t[768 + (b & 0xff)] ^
      t[512 + ((b >>> 8) & 0xff)] ^
      t[256 + ((b >>> 16) & 0xff)] ^
      t[(b >>> 24) & 0xff];
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
