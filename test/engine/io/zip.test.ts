import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpz } from '../../../src/engine/io/npz';
import { readZip, crc32 } from '../../../src/engine/io/zip';
import {
  ascii,
  buildNpy,
  buildZip,
  crc32Ref,
  expectLoadError,
  fixture,
  hasNumpy,
  loadsOrLoadError,
  npyDict,
  packed,
  prng,
  python,
} from './helpers';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const readAll = (bytes: Uint8Array, file = 'a.zip') =>
  readZip(bytes, file).map((e) => [e.name, e.read()] as const);

describe('readZip', () => {
  it('reads the torch.save fixture checkpoint (stored entries, CRCs checked)', () => {
    const entries = readZip(fixture('seed-fno1d/model.pt'), 'model.pt');
    expect(entries.map((e) => e.name)).toEqual([
      'model/data.pkl',
      ...[0, 1, 10, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `model/data/${i}`),
      'model/version',
    ]);
    for (const e of entries) {
      expect(e.method).toBe(0);
      expect(e.read().length).toBe(e.uncompressedSize);
    }
    expect(entries.find((e) => e.name === 'model/data/4')!.uncompressedSize).toBe(128 * 64 * 16 * 8);
    expect(text(entries.find((e) => e.name === 'model/version')!.read()).trim()).toBe('3');
    expect(entries[0].read()[0]).toBe(0x80); // pickle protocol opcode
  });
  it('reads stored and deflated entries, empty ones, and UTF-8 names', () => {
    const big = ascii('abcabcabc'.repeat(1000));
    const zip = buildZip([
      { name: 'a.txt', data: ascii('hello') },
      { name: 'b/ü.bin', data: big, method: 8 },
      { name: 'empty', data: new Uint8Array(0) },
      { name: 'empty-deflated', data: new Uint8Array(0), method: 8 },
    ]);
    const entries = readZip(zip, 'a.zip');
    expect(entries.map((e) => [e.name, e.method])).toEqual([
      ['a.txt', 0],
      ['b/ü.bin', 8],
      ['empty', 0],
      ['empty-deflated', 8],
    ]);
    expect(text(entries[0].read())).toBe('hello');
    expect(entries[1].compressedSize).toBeLessThan(200);
    expect(entries[1].uncompressedSize).toBe(9000);
    expect(entries[1].read()).toEqual(big);
    expect(entries[2].read().length).toBe(0);
    expect(entries[3].read().length).toBe(0);
  });
  it('reads ZIP64 extra fields and ZIP64 end records', () => {
    const zip = buildZip(
      [
        { name: 'x', data: ascii('stored64'), zip64: true },
        { name: 'y', data: ascii('deflated64 deflated64'), method: 8, zip64: true },
        { name: 'z', data: ascii('plain') },
      ],
      { zip64End: true },
    );
    expect(readAll(zip).map(([n, d]) => `${n}=${text(d)}`)).toEqual([
      'x=stored64',
      'y=deflated64 deflated64',
      'z=plain',
    ]);
  });
  it('finds the real end record past a comment that contains a fake one', () => {
    const zip = buildZip([{ name: 'a', data: ascii('1') }], { comment: 'PK\x05\x06 not a record' });
    expect(readAll(zip).map(([n]) => n)).toEqual(['a']);
  });
  it('reads an archive with no entries', () => {
    expect(readZip(buildZip([]), 'e.zip')).toEqual([]);
  });
  it('crc32 matches the reference', () => {
    expect(crc32(ascii('123456789'))).toBe(0xcbf43926);
    const r = prng(5);
    const d = Uint8Array.from({ length: 1000 }, () => Math.floor(r() * 256));
    expect(crc32(d)).toBe(crc32Ref(d));
  });
});

describe('readZip: broken and hostile archives', () => {
  const good = buildZip([
    { name: 'a.npy', data: ascii('stored data'), method: 0 },
    { name: 'b.npy', data: ascii('deflated data '.repeat(5)), method: 8 },
  ]);
  const patch = (b: Uint8Array, at: number, set: (dv: DataView, o: number) => void) => {
    const c = b.slice();
    set(new DataView(c.buffer), at);
    return c;
  };
  /** Offset of the n-th central directory entry of `b`. */
  const central = (b: Uint8Array, n: number) => {
    let found = -1;
    for (let i = 0, k = 0; i + 4 <= b.length; i++)
      if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 1 && b[i + 3] === 2 && k++ === n) {
        found = i;
        break;
      }
    return found;
  };

  it('throws LoadError at every truncation', () => {
    for (let n = 0; n < good.length; n++) expectLoadError(() => readAll(good.slice(0, n)));
  });
  it('never throws anything but LoadError on corrupted bytes', () => {
    const rnd = prng(3);
    let errors = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const b = good.slice();
      for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++)
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      if (loadsOrLoadError(() => readAll(b)) === 'error') errors++;
    }
    expect(errors).toBeGreaterThan(100);
  });
  it('detects a bad CRC', () => {
    const bad = patch(good, central(good, 0) + 16, (dv, o) => dv.setUint32(o, 12345, true));
    expectLoadError(() => readAll(bad), /entry 'a\.npy' is corrupt \(its CRC-32/);
  });
  it('refuses a deflate bomb before inflating', () => {
    const bad = patch(good, central(good, 1) + 24, (dv, o) => dv.setUint32(o, 0xfffffff0, true));
    expectLoadError(() => readAll(bad), /deflate cannot produce .*zip bomb/);
  });
  it('detects an entry that inflates to more or fewer bytes than declared', () => {
    const c = central(good, 1);
    const size = new DataView(good.buffer).getUint32(c + 24, true);
    expectLoadError(
      () => readAll(patch(good, c + 24, (dv, o) => dv.setUint32(o, size - 1, true))),
      /more than/,
    );
    expectLoadError(
      () => readAll(patch(good, c + 24, (dv, o) => dv.setUint32(o, size + 1, true))),
      /inflates to 70 bytes/,
    );
  });
  it('checks local header offsets and sizes against the file', () => {
    const c = central(good, 1);
    expectLoadError(
      () =>
        readZip(
          patch(good, c + 42, (dv, o) => dv.setUint32(o, 3, true)),
          'a.zip',
        ),
      /local header/,
    );
    expectLoadError(
      () =>
        readZip(
          patch(good, c + 42, (dv, o) => dv.setUint32(o, 1e9, true)),
          'a.zip',
        ),
      /local header/,
    );
    expectLoadError(
      () =>
        readZip(
          patch(good, c + 20, (dv, o) => dv.setUint32(o, 1e9, true)),
          'a.zip',
        ),
      /beyond the end/,
    );
    expectLoadError(
      () =>
        readZip(
          patch(good, central(good, 0) + 24, (dv, o) => dv.setUint32(o, 3, true)),
          'a.zip',
        ),
      /two different sizes/,
    );
  });
  it('rejects an entry count that cannot fit the directory', () => {
    const eocd = good.length - 22;
    expectLoadError(
      () =>
        readZip(
          patch(good, eocd + 10, (dv, o) => dv.setUint16(o, 60000, true)),
          'a.zip',
        ),
      /cannot fit/,
    );
  });
  it('rejects ZIP64 markers without ZIP64 records', () => {
    const eocd = good.length - 22;
    expectLoadError(
      () =>
        readZip(
          patch(good, eocd + 16, (dv, o) => dv.setUint32(o, 0xffffffff, true)),
          'a.zip',
        ),
      /ZIP64/,
    );
    const c = central(good, 0);
    expectLoadError(
      () =>
        readZip(
          patch(good, c + 20, (dv, o) => dv.setUint32(o, 0xffffffff, true)),
          'a.zip',
        ),
      /ZIP64 field/,
    );
  });
  it('names unsupported compression, encryption and split archives', () => {
    const c = central(good, 0);
    expectLoadError(
      () =>
        readZip(
          patch(good, c + 10, (dv, o) => dv.setUint16(o, 12, true)),
          'a.zip',
        ),
      /bzip2; only stored and deflated/,
    );
    expectLoadError(
      () =>
        readZip(
          patch(good, c + 8, (dv, o) => dv.setUint16(o, 1, true)),
          'a.zip',
        ),
      /encrypted/,
    );
    expectLoadError(
      () =>
        readZip(
          patch(good, good.length - 22 + 4, (dv, o) => dv.setUint16(o, 1, true)),
          'a.zip',
        ),
      /split/,
    );
  });
  it('says what a non-zip file is', () => {
    expectLoadError(() => readZip(new Uint8Array(0), 'e.npz'), /is empty/);
    expectLoadError(() => readZip(ascii('x,y\n1,2\n'.repeat(10)), 'e.npz'), /not a zip archive/);
    expectLoadError(() => readZip(good.slice(0, good.length - 30), 'e.npz'), /truncated zip archive/);
  });
});

const f32 = (v: number[]) => packed(v, 4, (dv, o, x: number) => dv.setFloat32(o, x, true));

describe('readNpz', () => {
  const x = buildNpy(npyDict('<f4', [1, 2, 3]), f32([1, 2, 3, 4, 5, 6]));
  const p = buildNpy(npyDict('<f4', [1, 2]), f32([7, 8]));
  it.each([0, 8] as const)('reads arrays (method %i) keyed without .npy', (method) => {
    const npz = buildZip([
      { name: 'x.npy', data: x, method },
      { name: 'scalar_inp.npy', data: p, method, zip64: true },
    ]);
    const arrays = readNpz(npz, 'd.npz');
    expect([...arrays.keys()]).toEqual(['x', 'scalar_inp']);
    expect(arrays.get('x')!.shape).toEqual([1, 2, 3]);
    expect(Array.from(arrays.get('scalar_inp')!.data)).toEqual([7, 8]);
  });
  it('ignores non-.npy members and names a broken array', () => {
    const npz = buildZip([
      { name: 'README', data: ascii('hi') },
      { name: 'x.npy', data: x },
    ]);
    expect([...readNpz(npz, 'd.npz').keys()]).toEqual(['x']);
    const broken = buildZip([{ name: 'x.npy', data: x.slice(0, x.length - 3) }]);
    expectLoadError(() => readNpz(broken, 'd.npz'), /^d\.npz: array 'x' is truncated/);
  });
  it('refuses an archive with no arrays or with a repeated name', () => {
    expectLoadError(
      () => readNpz(buildZip([{ name: 'a.txt', data: ascii('x') }]), 'd.npz'),
      /holds no \.npy arrays/,
    );
    expectLoadError(() => readNpz(buildZip([]), 'd.npz'), /holds no arrays/);
    expectLoadError(
      () =>
        readNpz(
          buildZip([
            { name: 'x.npy', data: x },
            { name: 'x.npy', data: x },
          ]),
          'd.npz',
        ),
      /two arrays named 'x'/,
    );
  });
  it('throws LoadError for every truncation of a deflated npz', () => {
    const npz = buildZip([{ name: 'x.npy', data: x, method: 8 }]);
    for (let n = 0; n < npz.length; n++) expectLoadError(() => readNpz(npz.slice(0, n), 'cut.npz'));
  });
});

describe.skipIf(!hasNumpy())('readNpz vs numpy (python3 + numpy present)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-npz-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads np.savez and np.savez_compressed output', () => {
    python(
      `
import numpy as np
x = np.arange(60, dtype=np.float32).reshape(1, 20, 3)
p = np.linspace(0, 1, 14)[None]
np.savez('s.npz', func_inp=x, scalar_inp=p)
np.savez_compressed('c.npz', x=x, p=p.astype(np.float32), extra=np.zeros((3, 3), order='F'))
`,
      dir,
    );
    for (const f of ['s.npz', 'c.npz']) {
      const a = readNpz(readFileSync(join(dir, f)), f);
      const xs = a.get('func_inp') ?? a.get('x')!;
      const ps = a.get('scalar_inp') ?? a.get('p')!;
      expect(xs.shape).toEqual([1, 20, 3]);
      expect(xs.data[59]).toBe(59);
      expect(ps.shape).toEqual([1, 14]);
      expect(ps.data[13]).toBe(1);
    }
    expect(readZip(readFileSync(join(dir, 'c.npz')), 'c.npz').every((e) => e.method === 8)).toBe(true);
  });
});
