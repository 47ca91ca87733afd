/**
 * Where the rows of an array lie in a file that is read a range at a time: a `.npy` (C order, real numeric
 * dtype), or a member of an `.npz` stored without compression. Only the header (and, for an .npz, the zip's
 * central directory) is read; every size in them is checked against the file before it is used. A file that
 * cannot be read by rows comes back as a reason, so the caller can read it whole instead or say why not.
 */
import { ELEMENT_KINDS } from '../../engine/io/npy';
import type { ElementKind } from '../../engine/io/npy';
import type { RangeReader } from './byte-reader';

export interface ArrayLayout {
  /** The file, and the member for an .npz. */
  file: string;
  member?: string;
  kind: ElementKind;
  littleEndian: boolean;
  dtype: string;
  shape: number[];
  /** Where the values start in the file. */
  dataOffset: number;
}

export type Layout<T> = { ok: T } | { reason: string };

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
const REAL_KINDS: Record<string, ElementKind> = {
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
};

/** The layout of the .npy that starts at `base` and takes `length` bytes of the file. */
export async function npyLayout(
  r: RangeReader,
  base = 0,
  length = r.size - base,
  member?: string,
): Promise<Layout<ArrayLayout>> {
  const what = member ? `${r.name}: ${member}` : r.name;
  if (length < 12) return { reason: `${what} is too short to be a .npy array` };
  const head = await r.read(base, 12);
  if (MAGIC.some((b, i) => head[i] !== b)) return { reason: `${what} is not a .npy array` };
  const major = head[6];
  if (major < 1 || major > 3) return { reason: `${what} uses .npy version ${major}` };
  const view = new DataView(head.buffer, head.byteOffset, 12);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > length || headerLen > 1 << 20) return { reason: `${what}: truncated .npy header` };
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    await r.read(base + start, headerLen),
  );
  const descr = /['"]descr['"]\s*:\s*['"]([<>|=]?)([a-z?])(\d*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr || !fortran || !shapeText) return { reason: `${what}: a .npy header jacscope reads only whole` };
  const key = descr[2] === '?' ? 'b1' : `${descr[2]}${descr[3]}`;
  const kind = REAL_KINDS[key];
  if (!kind) return { reason: `${what}: dtype '${descr[1]}${descr[2]}${descr[3]}' is read only whole` };
  if (fortran[1] === 'True') return { reason: `${what} is in Fortran order: its rows are not contiguous` };
  const dims = shapeText[1]
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s.length > 0);
  if (!dims.every((s) => /^\d+$/.test(s))) return { reason: `${what}: a shape jacscope cannot read` };
  const shape = dims.map(Number);
  if (shape.length < 1 || !shape.every(Number.isSafeInteger))
    return { reason: `${what}: a shape jacscope cannot read by rows` };
  const dataOffset = base + start + headerLen;
  const info = ELEMENT_KINDS[kind];
  let need = info.size;
  for (const d of shape) need *= d;
  if (!Number.isSafeInteger(need) || need > base + length - dataOffset)
    return {
      reason: `${what} is truncated: shape (${shape.join(', ')}) of ${info.dtype} needs ${need} bytes, ${base + length - dataOffset} follow the header`,
    };
  return {
    ok: {
      file: r.name,
      member,
      kind,
      littleEndian: descr[1] !== '>',
      dtype: info.dtype,
      shape,
      dataOffset,
    },
  };
}

interface ZipMember {
  name: string;
  method: number;
  compressed: number;
  size: number;
  local: number;
}

const u16 = (v: DataView, o: number) => v.getUint16(o, true);
const u32 = (v: DataView, o: number) => v.getUint32(o, true);
function u64(v: DataView, o: number): number {
  return u32(v, o) + u32(v, o + 4) * 2 ** 32;
}

/** The members of a zip file from its central directory (zip64 included). */
async function zipMembers(r: RangeReader): Promise<Layout<ZipMember[]>> {
  const tailLen = Math.min(r.size, 22 + 65535 + 20);
  const tailAt = r.size - tailLen;
  const tail = await r.read(tailAt, tailLen);
  const tv = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--)
    if (u32(tv, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) return { reason: `${r.name} is not a zip (.npz) file` };
  let count = u16(tv, eocd + 10);
  let cdSize = u32(tv, eocd + 12);
  let cdAt = u32(tv, eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdAt === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(tv, loc) !== 0x07064b50)
      return { reason: `${r.name}: a zip64 file without its locator` };
    const at = u64(tv, loc + 8);
    if (at + 56 > r.size) return { reason: `${r.name}: a zip64 record past the end of the file` };
    const rec = await r.read(at, 56);
    const rv = new DataView(rec.buffer, rec.byteOffset, 56);
    if (u32(rv, 0) !== 0x06064b50) return { reason: `${r.name}: a bad zip64 record` };
    count = u64(rv, 32);
    cdSize = u64(rv, 40);
    cdAt = u64(rv, 48);
  }
  if (cdAt + cdSize > r.size || cdSize > 16 * 2 ** 20 || count > 100_000)
    return { reason: `${r.name}: a zip directory jacscope does not read by ranges` };
  const cd = await r.read(cdAt, cdSize);
  const cv = new DataView(cd.buffer, cd.byteOffset, cd.byteLength);
  const out: ZipMember[] = [];
  let o = 0;
  for (let i = 0; i < count; i++) {
    if (o + 46 > cdSize || u32(cv, o) !== 0x02014b50) return { reason: `${r.name}: a damaged zip directory` };
    const nameLen = u16(cv, o + 28);
    const extraLen = u16(cv, o + 30);
    const commentLen = u16(cv, o + 32);
    if (o + 46 + nameLen + extraLen + commentLen > cdSize)
      return { reason: `${r.name}: a damaged zip directory` };
    const name = new TextDecoder().decode(cd.subarray(o + 46, o + 46 + nameLen));
    let size = u32(cv, o + 24);
    let compressed = u32(cv, o + 20);
    let local = u32(cv, o + 42);
    // zip64: the fields that overflowed, in this order, in the extra field 0x0001.
    for (let e = o + 46 + nameLen; e + 4 <= o + 46 + nameLen + extraLen;) {
      const id = u16(cv, e);
      const len = u16(cv, e + 2);
      if (id === 0x0001) {
        let f = e + 4;
        if (size === 0xffffffff && f + 8 <= e + 4 + len) {
          size = u64(cv, f);
          f += 8;
        }
        if (compressed === 0xffffffff && f + 8 <= e + 4 + len) {
          compressed = u64(cv, f);
          f += 8;
        }
        if (local === 0xffffffff && f + 8 <= e + 4 + len) local = u64(cv, f);
      }
      e += 4 + len;
    }
    out.push({ name, method: u16(cv, o + 10), compressed, size, local });
    o += 46 + nameLen + extraLen + commentLen;
  }
  return { ok: out };
}

/** The arrays of an .npz by name (".npy" dropped), each a layout or why it must be read whole. */
export async function npzLayouts(r: RangeReader): Promise<Layout<Map<string, Layout<ArrayLayout>>>> {
  const members = await zipMembers(r);
  if ('reason' in members) return members;
  const out = new Map<string, Layout<ArrayLayout>>();
  for (const m of members.ok) {
    const name = m.name.replace(/\.npy$/, '');
    if (m.method !== 0) {
      out.set(name, { reason: `${r.name}: '${name}' is compressed; only stored members are read by rows` });
      continue;
    }
    if (m.local + 30 > r.size) return { reason: `${r.name}: a zip entry past the end of the file` };
    const lh = await r.read(m.local, 30);
    const lv = new DataView(lh.buffer, lh.byteOffset, 30);
    if (u32(lv, 0) !== 0x04034b50) return { reason: `${r.name}: a damaged zip entry '${m.name}'` };
    const start = m.local + 30 + u16(lv, 26) + u16(lv, 28);
    if (start + m.size > r.size) return { reason: `${r.name}: '${m.name}' runs past the end of the file` };
    out.set(name, await npyLayout(r, start, m.size, name));
  }
  return { ok: out };
}
