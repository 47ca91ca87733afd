/** Hand-built archives for tests: a stored zip writer and a minimal TorchScript archive. */
import { crc32 } from '../../../src/engine/io/zip';

/** A stored (uncompressed) zip archive of the given entries. */
export function buildZip(entries: Record<string, string | Uint8Array>): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = typeof content === 'string' ? enc.encode(content) : content;
    const nameBytes = enc.encode(name);
    const crc = crc32(data);
    const local = new Uint8Array(30 + nameBytes.length + data.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, data.length, true);
    lv.setUint32(22, data.length, true);
    lv.setUint16(26, nameBytes.length, true);
    local.set(nameBytes, 30);
    local.set(data, 30 + nameBytes.length);
    const central = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, data.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    central.set(nameBytes, 46);
    locals.push(local);
    centrals.push(central);
    offset += local.length;
  }
  const cdSize = centrals.reduce((n, c) => n + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, centrals.length, true);
  ev.setUint16(10, centrals.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const out = new Uint8Array(offset + cdSize + 22);
  let at = 0;
  for (const part of [...locals, ...centrals, eocd]) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A minimal TorchScript archive: `code` is the root module's code file (`code/__torch__.py`, class
 * `M`), data.pkl an object of `__torch__.M` with the given int attributes, constants.pkl an empty tuple.
 */
export function buildArchive(
  code: string | Uint8Array,
  extra: Record<string, string | Uint8Array> = {},
): Uint8Array {
  return buildZip({
    'archive/data.pkl': dataPkl('__torch__', 'M'),
    'archive/code/__torch__.py': code,
    'archive/constants.pkl': Uint8Array.of(0x80, 0x02, 0x29, 0x2e), // PROTO 2, EMPTY_TUPLE, STOP
    'archive/version': '3\n',
    ...extra,
  });
}

/** PROTO 2; GLOBAL 'module name'; EMPTY_TUPLE; NEWOBJ; EMPTY_DICT; MARK 'training' False SETITEMS; BUILD; STOP. */
export function dataPkl(module: string, name: string): Uint8Array {
  const enc = new TextEncoder();
  const key = enc.encode('training');
  return Uint8Array.from([
    0x80,
    0x02,
    0x63,
    ...enc.encode(`${module}\n${name}\n`),
    0x29,
    0x81,
    0x7d,
    0x28,
    0x58,
    key.length,
    0,
    0,
    0,
    ...key,
    0x89,
    0x75,
    0x62,
    0x2e,
  ]);
}
