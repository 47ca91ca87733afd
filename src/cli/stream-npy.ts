/**
 * Arrays read from `.npy` and `.npz` files a few rows at a time, never the whole file: the header
 * is parsed, then rows are read with `fs.readSync` at their offsets. Inside an `.npz`, a stored
 * (np.savez) member is read the same way at its offset in the archive; a deflated
 * (np.savez_compressed) member is inflated as a stream from its start, holding only the rows
 * asked for (reading forward is cheap, going back restarts the stream).
 *
 * Only C-ordered numeric arrays stream (Fortran order would put a row's values all over the file);
 * everything else is a LoadError naming the file and what to do.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { Inflate } from 'fflate';
import { LoadError } from '../engine/errors';
import type { DataSource } from '../engine/io/data-source';
import { loadHdf5, openHdf5 } from '../engine/io/hdf5';
import { ELEMENT_KINDS, type ElementKind, decodeElements } from '../engine/io/npy';

/** Bytes [pos, pos + len) of something: a file range, or an inflated stream. */
interface ByteSource {
  readonly size: number;
  read(pos: number, len: number): Uint8Array;
}

function openFile(path: string): { fd: number; size: number } {
  try {
    const fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) {
      closeSync(fd);
      throw Object.assign(new Error('dir'), { code: 'EISDIR' });
    }
    return { fd, size: st.size };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : (e as Error).message;
    throw new LoadError(path, why);
  }
}

/** Exactly `len` bytes at `pos` of the open file (a LoadError when the file ends first). */
function readAt(fd: number, file: string, pos: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  let off = 0;
  while (off < len) {
    const n = readSync(fd, out, off, Math.min(len - off, 1 << 30), pos + off);
    if (n === 0) throw new LoadError(file, `ends early: ${len} bytes at offset ${pos} were expected`);
    off += n;
  }
  return out;
}

class FileSource implements ByteSource {
  constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly base: number,
    readonly size: number,
  ) {}
  read(pos: number, len: number): Uint8Array {
    if (pos < 0 || len < 0 || pos + len > this.size)
      throw new LoadError(
        this.file,
        `is truncated: bytes ${pos}…${pos + len} lie past its end (${this.size})`,
      );
    return readAt(this.fd, this.file, this.base + pos, len);
  }
}

/** A deflated zip member, inflated as a stream: reading forward keeps only what is still needed. */
class InflateSource implements ByteSource {
  private inflater!: Inflate;
  /** Inflated pieces not yet consumed, the first starting at `start`. */
  private pieces: Uint8Array[] = [];
  private start = 0;
  private produced = 0;
  private consumed = 0;
  private error: string | null = null;

  constructor(
    private readonly fd: number,
    private readonly file: string,
    private readonly base: number,
    private readonly compressed: number,
    readonly size: number,
  ) {
    this.reset();
  }

  private reset(): void {
    this.pieces = [];
    this.start = 0;
    this.produced = 0;
    this.consumed = 0;
    this.inflater = new Inflate((data) => {
      if (data.length === 0) return;
      this.produced += data.length;
      if (this.produced > this.size) this.error = `inflates to more than the ${this.size} bytes it declares`;
      this.pieces.push(data.slice());
    });
  }

  read(pos: number, len: number): Uint8Array {
    if (pos < 0 || len < 0 || pos + len > this.size)
      throw new LoadError(
        this.file,
        `is truncated: bytes ${pos}…${pos + len} lie past its end (${this.size})`,
      );
    if (pos < this.start) this.reset();
    // Drop what lies wholly before pos.
    const dropBefore = () => {
      while (this.pieces.length > 0 && this.start + this.pieces[0].length <= pos) {
        this.start += this.pieces[0].length;
        this.pieces.shift();
      }
    };
    dropBefore();
    while (this.produced < pos + len) {
      if (this.consumed >= this.compressed)
        throw new LoadError(this.file, 'a compressed array ends early (the archive is truncated or corrupt)');
      const n = Math.min(1 << 20, this.compressed - this.consumed);
      const chunk = readAt(this.fd, this.file, this.base + this.consumed, n);
      this.consumed += n;
      try {
        this.inflater.push(chunk, this.consumed >= this.compressed);
      } catch (e) {
        throw new LoadError(this.file, `a compressed array is corrupt (${(e as Error).message})`);
      }
      if (this.error) throw new LoadError(this.file, this.error);
      if (this.pieces.length === 0) this.start = this.produced;
      dropBefore();
    }
    const out = new Uint8Array(len);
    let at = this.start;
    let filled = 0;
    for (const piece of this.pieces) {
      if (filled >= len) break;
      const from = Math.max(0, pos + filled - at);
      const take = Math.min(piece.length - from, len - filled);
      if (take > 0) {
        out.set(piece.subarray(from, from + take), filled);
        filled += take;
      }
      at += piece.length;
    }
    return out;
  }
}

/** An array whose rows (the first axis) are read on demand. */
export interface ArrayStream {
  /** The file (and member) as the user named it, for messages. */
  readonly label: string;
  readonly shape: readonly number[];
  /** shape[0] */
  readonly rows: number;
  /** Values per row. */
  readonly rowValues: number;
  readonly dtype: string;
  /** Rows [start, start + count) as float64. */
  readRows(start: number, count: number): Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** The dtype of a descr like '<f8', '|u1', '>i4', '?' (the numeric kinds jacscope reads). */
function parseDescr(descr: string, fail: (why: string) => never): { kind: ElementKind; little: boolean } {
  const m = /^([<>|=]?)([fiub?])(\d*)$/.exec(descr);
  if (!m) {
    if (/^[<>|=]?c/.test(descr)) fail(`holds complex numbers (dtype '${descr}'); p and x must be real`);
    return fail(`has dtype '${descr}', which does not stream; save plain float64 or float32 arrays`);
  }
  const little = m[1] !== '>';
  const kind = (m[2] === '?' ? 'b1' : `${m[2]}${m[3]}`) as ElementKind;
  if (!(kind in ELEMENT_KINDS) || kind === 'bf2')
    return fail(`has dtype '${descr}', which does not stream; save plain float64 or float32 arrays`);
  return { kind, little };
}

/** The header of the .npy inside `src`: where the data starts, its element kind and shape. */
function npyFromSource(src: ByteSource, label: string): ArrayStream {
  const fail = (why: string): never => {
    throw new LoadError(label, why);
  };
  if (src.size < 10) fail(src.size === 0 ? 'is empty' : 'is not a NumPy .npy array (too short)');
  const head = src.read(0, Math.min(src.size, 12));
  if (MAGIC.some((b, i) => head[i] !== b))
    fail('is not a NumPy .npy array (it does not start with the \\x93NUMPY signature)');
  const major = head[6];
  if (major < 1 || major > 3) fail(`uses .npy format version ${major}, which is not supported (1–3 are)`);
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (major > 1 && head.length < 12) fail('is truncated inside the header');
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const dataStart = headerStart + headerLen;
  if (headerLen > 1 << 20 || dataStart > src.size) fail('is truncated or corrupt inside the header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(src.read(headerStart, headerLen));
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined)
    fail('has a malformed header (descr, fortran_order and shape are needed)');
  const dims = shapeText!
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (!dims.every((d) => /^\d+L?$/.test(d))) fail(`has a malformed shape (${shapeText})`);
  const shape = dims.map((d) => Number.parseInt(d, 10));
  if (shape.some((d) => !Number.isSafeInteger(d))) fail(`has an impossible shape (${shapeText})`);
  const { kind, little } = parseDescr(descr!, fail);
  if (shape.length === 0) fail('holds a single number, not an array of samples');
  if (fortran === 'True' && shape.length > 1)
    fail(
      'is stored in Fortran order, whose rows cannot be streamed; save it with np.save(np.ascontiguousarray(a))',
    );
  const size = ELEMENT_KINDS[kind].size;
  const rowValues = shape.slice(1).reduce((a, b) => a * b, 1);
  const rows = shape[0];
  const bytes = rows * rowValues * size;
  if (!Number.isSafeInteger(bytes) || dataStart + bytes > src.size)
    fail(
      `is truncated or corrupt: shape (${shape.join(', ')}) of ${ELEMENT_KINDS[kind].dtype} needs ${bytes} bytes, but ${src.size - dataStart} follow the header`,
    );
  const rowBytes = rowValues * size;
  return {
    label,
    shape,
    rows,
    rowValues,
    dtype: ELEMENT_KINDS[kind].dtype,
    readRows(start: number, count: number): Float64Array {
      if (!(
        Number.isInteger(start) &&
        Number.isInteger(count) &&
        start >= 0 &&
        count >= 0 &&
        start + count <= rows
      ))
        throw new LoadError(label, `rows ${start}…${start + count - 1} are outside its ${rows} rows`);
      const raw = src.read(dataStart + start * rowBytes, count * rowBytes);
      return decodeElements(raw, 0, count * rowValues, kind, little).data;
    },
  };
}

/** Loads the HDF5 library when any --x/--p/--input of the command names an HDF5 file. */
export async function loadHdf5For(args: {
  options: Map<string, string>;
  lists: Map<string, string[]>;
}): Promise<void> {
  const specs = [...args.options.values(), ...[...args.lists.values()].flat()];
  if (specs.some((v) => /\.(h5|hdf5)(:.*)?$/i.test(v))) await loadHdf5();
}

/** Open files, closed together at the end of a command. */
export class StreamFiles {
  private readonly fds: number[] = [];
  private readonly sources: DataSource[] = [];

  close(): void {
    for (const s of this.sources.splice(0)) s.close();
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }

  /**
   * A dataset of an HDF5 file (`.h5`, `.hdf5`), its rows read as hyperslabs from the file as they
   * are needed: by path, or the file's only numeric dataset. loadHdf5() must have finished.
   */
  hdf5(path: string, name: string | undefined): ArrayStream {
    const { fd, size } = openFile(path);
    this.fds.push(fd);
    const src = openHdf5(new FileSource(fd, path, 0, size), path);
    this.sources.push(src);
    const numeric = src.variables().filter((v) => v.dtype !== null && v.shape.length > 0);
    let v = numeric.find((d) => name !== undefined && (d.name === name || d.name === `/${name}`));
    if (name !== undefined && !v)
      throw new LoadError(
        path,
        `holds no array '${name}' (it has: ${numeric.map((d) => d.name).join(', ')})`,
      );
    if (!v) {
      if (numeric.length !== 1)
        throw new LoadError(
          path,
          `holds ${numeric.length} arrays (${numeric.map((d) => `${d.name} [${d.shape}]`).join(', ')}); name one as ${path}:/PATH`,
        );
      v = numeric[0];
    }
    const { name: dataset, shape } = v;
    const rowValues = shape.slice(1).reduce((a, n) => a * n, 1);
    return {
      label: `${path}:${dataset}`,
      shape,
      rows: shape[0],
      rowValues,
      dtype: v.dtype!,
      readRows: (start, count) => src.readRows(dataset, start, count).data,
    };
  }

  /** A .npy file. */
  npy(path: string): ArrayStream {
    const { fd, size } = openFile(path);
    this.fds.push(fd);
    return npyFromSource(new FileSource(fd, path, 0, size), path);
  }

  /** The .npy members of an .npz file, by name (without `.npy`), each opened on demand. */
  npz(path: string): Map<string, () => ArrayStream> {
    const { fd, size } = openFile(path);
    this.fds.push(fd);
    const out = new Map<string, () => ArrayStream>();
    for (const e of zipEntries(fd, path, size)) {
      if (!e.name.endsWith('.npy')) continue;
      const key = e.name.slice(0, -4);
      const label = `${path}:${key}`;
      out.set(key, () => {
        const src = memberSource(fd, path, size, e);
        try {
          return npyFromSource(src, label);
        } catch (err) {
          if (err instanceof LoadError) throw new LoadError(path, `array '${key}' ${err.reason}`);
          throw err;
        }
      });
    }
    if (out.size === 0) throw new LoadError(path, 'holds no .npy arrays (is it really an .npz file?)');
    return out;
  }

  /** FILE.npy, or FILE.npz:NAME, or a FILE.npz holding a single array. */
  spec(spec: string): ArrayStream {
    const h = /^(.*\.(?:h5|hdf5))(?::(.+))?$/i.exec(spec);
    if (h) return this.hdf5(h[1], h[2]);
    const m = /^(.*\.npz):([^/\\]+)$/i.exec(spec);
    const path = m ? m[1] : spec;
    if (/\.npy$/i.test(path)) return this.npy(path);
    if (/\.npz$/i.test(path)) {
      const members = this.npz(path);
      if (m) {
        const open = members.get(m[2]);
        if (!open)
          throw new LoadError(path, `holds no array '${m[2]}' (it has: ${[...members.keys()].join(', ')})`);
        return open();
      }
      if (members.size !== 1)
        throw new LoadError(
          path,
          `holds ${members.size} arrays (${[...members.keys()].join(', ')}); name one as ${path}:NAME`,
        );
      return [...members.values()][0]();
    }
    throw new LoadError(path, 'is not streamed: give .npy, .npz or HDF5 files (np.save / np.savez / h5py)');
  }
}

interface ZipMember {
  name: string;
  method: number;
  flags: number;
  compressed: number;
  uncompressed: number;
  local: number;
}

/** The members of a zip archive from its central directory (ZIP64 included), every offset checked. */
function zipEntries(fd: number, file: string, size: number): ZipMember[] {
  const fail = (why: string): never => {
    throw new LoadError(file, why);
  };
  if (size < 22) fail(size === 0 ? 'is empty' : 'is not a zip archive (.npz)');
  const tailLen = Math.min(size, 22 + 0xffff);
  const tail = readAt(fd, file, size - tailLen, tailLen);
  const tv = new DataView(tail.buffer);
  let eocd = -1;
  for (const exact of [true, false]) {
    for (let o = tailLen - 22; o >= 0 && eocd < 0; o--) {
      if (tv.getUint32(o, true) !== 0x06054b50) continue;
      const end = o + 22 + tv.getUint16(o + 20, true);
      if (exact ? end === tailLen : end <= tailLen) eocd = o;
    }
    if (eocd >= 0) break;
  }
  if (eocd < 0) fail('is not a zip archive (.npz): no end-of-central-directory record');
  let count = tv.getUint16(eocd + 10, true);
  let cdSize = tv.getUint32(eocd + 12, true);
  let cdOffset = tv.getUint32(eocd + 16, true);
  const eocdAt = size - tailLen + eocd;
  if (eocd >= 20 && tv.getUint32(eocd - 20, true) === 0x07064b50) {
    const z64 = Number(tv.getBigUint64(eocd - 20 + 8, true));
    if (!(z64 >= 0 && z64 + 56 <= eocdAt)) fail('has a corrupt ZIP64 record');
    const rec = readAt(fd, file, z64, 56);
    const rv = new DataView(rec.buffer);
    if (rv.getUint32(0, true) !== 0x06064b50) fail('has a corrupt ZIP64 record');
    count = Number(rv.getBigUint64(32, true));
    cdSize = Number(rv.getBigUint64(40, true));
    cdOffset = Number(rv.getBigUint64(48, true));
  }
  if (!(cdOffset + cdSize <= size) || cdSize > 1 << 26 || count > 1 << 20)
    fail('has a corrupt central directory');
  const cd = readAt(fd, file, cdOffset, cdSize);
  const cv = new DataView(cd.buffer);
  const out: ZipMember[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (o + 46 > cdSize || cv.getUint32(o, true) !== 0x02014b50) fail('has a corrupt central directory');
    const flags = cv.getUint16(o + 8, true);
    const method = cv.getUint16(o + 10, true);
    let compressed = cv.getUint32(o + 20, true);
    let uncompressed = cv.getUint32(o + 24, true);
    const nameLen = cv.getUint16(o + 28, true);
    const extraLen = cv.getUint16(o + 30, true);
    const commentLen = cv.getUint16(o + 32, true);
    let local = cv.getUint32(o + 42, true);
    if (o + 46 + nameLen + extraLen + commentLen > cdSize) fail('has a corrupt central directory');
    const name = new TextDecoder().decode(cd.subarray(o + 46, o + 46 + nameLen));
    // ZIP64 extra field: the 64-bit values of the fields set to 0xFFFFFFFF, in this order.
    let e = o + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cv.getUint16(e, true);
      const len = cv.getUint16(e + 2, true);
      if (id === 1) {
        let f = e + 4;
        const next = (): number => {
          if (f + 8 > e + 4 + len) return fail(`has a corrupt ZIP64 field for '${name}'`);
          const v = Number(cv.getBigUint64(f, true));
          f += 8;
          return v;
        };
        if (uncompressed === 0xffffffff) uncompressed = next();
        if (compressed === 0xffffffff) compressed = next();
        if (local === 0xffffffff) local = next();
      }
      e += 4 + len;
    }
    out.push({ name, method, flags, compressed, uncompressed, local });
    o += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

function memberSource(fd: number, file: string, size: number, e: ZipMember): ByteSource {
  const fail = (why: string): never => {
    throw new LoadError(file, `array '${e.name.slice(0, -4)}' ${why}`);
  };
  if (e.flags & 1) fail('is encrypted');
  if (!(e.local + 30 <= size)) fail('lies past the end of the archive');
  const lh = readAt(fd, file, e.local, 30);
  const lv = new DataView(lh.buffer);
  if (lv.getUint32(0, true) !== 0x04034b50) fail('has a corrupt local header');
  const data = e.local + 30 + lv.getUint16(26, true) + lv.getUint16(28, true);
  if (!(data + e.compressed <= size)) fail('lies past the end of the archive (truncated?)');
  if (e.method === 0) {
    if (e.compressed !== e.uncompressed) fail('is stored with inconsistent sizes');
    return new FileSource(fd, file, data, e.uncompressed);
  }
  if (e.method === 8) return new InflateSource(fd, file, data, e.compressed, e.uncompressed);
  return fail(
    `is compressed with method ${e.method}; save the data with np.savez (uncompressed) or np.savez_compressed`,
  );
}
