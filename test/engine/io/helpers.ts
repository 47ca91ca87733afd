/** Test helpers for the io readers: fixture paths, hand-built files, a deterministic PRNG. */
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'fflate';
import { expect } from 'vitest';
import { LoadError } from '../../../src/engine/errors';

/** The committed PyTorch reference fixtures (test/fixtures/README.md). */
export const FIXTURES = new URL('../../fixtures/fno/', import.meta.url);

export function fixture(path: string): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(path, FIXTURES))));
}

export function ascii(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A .npy file with the given header dict text (padded as numpy pads) and raw data bytes. */
export function buildNpy(dict: string, payload: Uint8Array, version = 1, utf8 = false): Uint8Array {
  const headerBody = utf8 ? new TextEncoder().encode(dict) : Uint8Array.from(dict, (c) => c.charCodeAt(0));
  const prefix = version === 1 ? 10 : 12;
  const total = Math.ceil((prefix + headerBody.length + 1) / 64) * 64;
  const head = new Uint8Array(total).fill(0x20);
  head.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(head.buffer);
  if (version === 1) dv.setUint16(8, total - prefix, true);
  else dv.setUint32(8, total - prefix, true);
  head.set(headerBody, prefix);
  head[total - 1] = 0x0a;
  return concat(head, payload);
}

export function npyDict(descr: string, shape: number[], fortran = false): string {
  const s = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  return `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': ${s}, }`;
}

/** Writes numbers with a DataView setter into a fresh byte array. */
export function packed(
  values: (number | bigint)[],
  size: number,
  set: (dv: DataView, offset: number, v: never) => void,
): Uint8Array {
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => set(dv, i * size, v as never));
  return out;
}

/** Mulberry32: a small deterministic PRNG for fuzz-style tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn` and requires it to throw a LoadError (not a RangeError/TypeError); returns the error. */
export function expectLoadError(fn: () => unknown, match?: RegExp): LoadError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a LoadError').toBeInstanceOf(LoadError);
  if (match) expect((err as LoadError).message).toMatch(match);
  return err as LoadError;
}

/** Either succeeds or throws a LoadError; anything else fails the test. */
export function loadsOrLoadError(fn: () => unknown): 'ok' | 'error' {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof LoadError) return 'error';
    throw e;
  }
}

let numpyChecked: boolean | undefined;
/** Whether /usr/bin/python3 with numpy is available (used only for optional cross-checks). */
export function hasNumpy(): boolean {
  if (numpyChecked === undefined) {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import numpy'], { stdio: 'ignore', timeout: 20_000 });
      numpyChecked = true;
    } catch {
      numpyChecked = false;
    }
  }
  return numpyChecked;
}

export function python(script: string, cwd: string): string {
  return execFileSync('/usr/bin/python3', ['-c', script], { cwd, encoding: 'utf8', timeout: 60_000 });
}

export interface ZipSpec {
  name: string;
  data: Uint8Array;
  method?: 0 | 8;
  /** Put sizes and the local offset in a ZIP64 extra field (as big archives do). */
  zip64?: boolean;
}

/**
 * Builds a zip archive by hand (a test helper, independent of the reader). `zip64End` adds the ZIP64
 * end-of-central-directory record and locator with the classic fields set to their 0xFFFF.. markers.
 */
export function buildZip(
  specs: ZipSpec[],
  opts: { comment?: string; zip64End?: boolean; prefix?: Uint8Array } = {},
): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = opts.prefix?.length ?? 0;
  for (const s of specs) {
    const method = s.method ?? 0;
    const body = method === 8 ? deflateSync(s.data) : s.data;
    const name = new TextEncoder().encode(s.name);
    const crc = crc32Ref(s.data);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x800, true);
    lv.setUint16(8, method, true);
    lv.setUint32(14, crc, true);
    lv.setUint32(18, body.length, true);
    lv.setUint32(22, s.data.length, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const extra = new Uint8Array(s.zip64 ? 28 : 0);
    if (s.zip64) {
      const ev = new DataView(extra.buffer);
      ev.setUint16(0, 1, true);
      ev.setUint16(2, 24, true);
      ev.setBigUint64(4, BigInt(s.data.length), true);
      ev.setBigUint64(12, BigInt(body.length), true);
      ev.setBigUint64(20, BigInt(offset), true);
    }
    const central = new Uint8Array(46 + name.length + extra.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x800, true);
    cv.setUint16(10, method, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, s.zip64 ? 0xffffffff : body.length, true);
    cv.setUint32(24, s.zip64 ? 0xffffffff : s.data.length, true);
    cv.setUint16(28, name.length, true);
    cv.setUint16(30, extra.length, true);
    cv.setUint32(42, s.zip64 ? 0xffffffff : offset, true);
    central.set(name, 46);
    central.set(extra, 46 + name.length);
    locals.push(local, body);
    centrals.push(central);
    offset += local.length + body.length;
  }
  const cdOffset = offset;
  const cdSize = centrals.reduce((n, c) => n + c.length, 0);
  const tail: Uint8Array[] = [];
  if (opts.zip64End) {
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setUint16(12, 45, true);
    rv.setUint16(14, 45, true);
    rv.setBigUint64(24, BigInt(specs.length), true);
    rv.setBigUint64(32, BigInt(specs.length), true);
    rv.setBigUint64(40, BigInt(cdSize), true);
    rv.setBigUint64(48, BigInt(cdOffset), true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(cdOffset + cdSize), true);
    lv.setUint32(16, 1, true);
    tail.push(rec, loc);
  }
  const comment = new TextEncoder().encode(opts.comment ?? '');
  const eocd = new Uint8Array(22 + comment.length);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, opts.zip64End ? 0xffff : specs.length, true);
  ev.setUint16(10, opts.zip64End ? 0xffff : specs.length, true);
  ev.setUint32(12, opts.zip64End ? 0xffffffff : cdSize, true);
  ev.setUint32(16, opts.zip64End ? 0xffffffff : cdOffset, true);
  ev.setUint16(20, comment.length, true);
  eocd.set(comment, 22);
  return concat(opts.prefix ?? new Uint8Array(0), ...locals, ...centrals, ...tail, eocd);
}

/** Bitwise CRC-32, written independently of the reader's table version. */
export function crc32Ref(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
