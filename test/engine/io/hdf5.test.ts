import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { zlibSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { OpenBudget } from '../../../src/engine/io/budget';
import { type ByteSource, bytesSource } from '../../../src/engine/io/data-source';
import { readDataFile, readDataFileAsync } from '../../../src/engine/io/dataset';
import { hdf5Call, hdf5Loaded, isHdf5, loadHdf5, openHdf5 } from '../../../src/engine/io/hdf5';
import { writeHdf5 } from '../../../src/engine/io/hdf5-write';
import { readNpy } from '../../../src/engine/io/npy';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import type { HostTensor } from '../../../src/engine/tensor';
import { loadCase, loadNpy } from '../fixtures';
import { relErr } from '../helpers';
import { expectLoadError, prng } from './helpers';

/** test/fixtures/data/, made by scripts/fixtures/make_data_fixtures.py (h5py, scipy, torch). */
const DATA = fileURLToPath(new URL('../../fixtures/data/', import.meta.url));
const data = (name: string) => new Uint8Array(readFileSync(DATA + name));
const expected = JSON.parse(readFileSync(DATA + 'expected.json', 'utf8'))['dtypes.h5'] as Record<
  string,
  { dtype: string | null; values?: number[]; imag?: number[]; shape?: number[] }
>;

// The deep-fno1d inputs every data fixture holds: x [2,256,5], p [2,6] (float32 values).
const X = loadNpy('deep-fno1d', 'x.npy');
const P = loadNpy('deep-fno1d', 'p.npy');
const deep = { Xf: 5, P: 6 };

function same(t: HostTensor, ref: HostTensor): void {
  expect(t.shape).toEqual(ref.shape);
  expect(Array.from(t.data)).toEqual(Array.from(ref.data));
}

beforeAll(async () => {
  await loadHdf5();
});

describe('HDF5: the library', () => {
  it('loads once, and recognises HDF5 by its signature (also after a user block)', async () => {
    expect(hdf5Loaded()).toBe(true);
    await loadHdf5(); // a second call returns at once
    expect(isHdf5(data('deep.h5'))).toBe(true);
    expect(isHdf5(data('deep-userblock.h5'))).toBe(true);
    expect(isHdf5(data('deep-v73.mat'))).toBe(true);
    expect(isHdf5(data('deep-v5.mat'))).toBe(false);
  });
});

describe('HDF5: files written by h5py hold exactly the .npy inputs', () => {
  it.each([
    ['deep.h5', '/x', '/p', 'contiguous float64'],
    ['deep-chunked.h5', '/inputs/x', '/inputs/p', 'chunked, gzip + shuffle, big-endian float32, in groups'],
    ['deep-latest.h5', '/x', '/p', 'libver=latest: layout v4, extensible-array index, fletcher32'],
    ['deep-userblock.h5', '/func_inp', '/scalar_inp', 'a 512-byte user block'],
  ])('%s (%s, %s: %s)', (file, xp, pp) => {
    const s = openHdf5(data(file), file);
    try {
      same(s.read(xp), X);
      same(s.read(pp), P);
      // rows of the first axis as hyperslabs
      const r = s.readRows(xp, 1, 1);
      expect(r.shape).toEqual([1, 256, 5]);
      expect(Array.from(r.data)).toEqual(Array.from(X.data.subarray(256 * 5)));
      expect(Array.from(s.readRows(pp, 0, 2).data)).toEqual(Array.from(P.data));
    } finally {
      s.close();
    }
    // readDataFile chooses x and p by name (also the last part of a path: /inputs/x)
    const d = readDataFile(data(file), file, deep);
    same(d.x!, X);
    same(d.p!, P);
    expect(d.format).toBe('hdf5');
    expect(d.variables).toEqual({ x: xp, p: pp });
  });

  it('lists every dataset with its path, shape and dtype; /outputs/y is noted as ignored', () => {
    const s = openHdf5(data('deep-chunked.h5'), 'deep-chunked.h5');
    expect(s.variables()).toEqual([
      { name: '/inputs/p', shape: [2, 6], dtype: 'float32' },
      { name: '/inputs/x', shape: [2, 256, 5], dtype: 'float32' },
      { name: '/outputs/y', shape: [2, 256, 3], dtype: 'float64' },
    ]);
    s.close();
    const d = readDataFile(data('deep-chunked.h5'), 'deep-chunked.h5', deep);
    expect(d.notes.join('\n')).toMatch(/ignored '\/outputs\/y' \[2,256,3\]/);
  });

  it('float16 and big-endian int64, compact storage (deep-latest.h5)', () => {
    const s = openHdf5(data('deep-latest.h5'), 'deep-latest.h5');
    same(s.read('/x_f16'), readNpy(data('expected-x-f16.npy'), 'expected-x-f16.npy'));
    expect(s.read('sample_id')).toEqual({ dtype: 'int64', shape: [2], data: Float64Array.from([0, 1]) });
    s.close();
  });

  it('every dtype and byte order reads to the values h5py wrote (dtypes.h5, expected.json)', () => {
    const s = openHdf5(data('dtypes.h5'), 'dtypes.h5');
    const vars = new Map(s.variables().map((v) => [v.name, v]));
    expect([...vars.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, e] of Object.entries(expected)) {
      const v = vars.get(name)!;
      expect(v.dtype, name).toBe(e.dtype);
      if (e.dtype === null) {
        expect(v.note, name).toBe('strings');
        expectLoadError(() => s.read(name), /not a numeric array \(strings\)/);
        continue;
      }
      const t = s.read(name);
      expect(t.shape, name).toEqual(e.shape);
      expect(Array.from(t.data), name).toEqual(e.values);
      if (e.imag) expect(Array.from(t.imag!), name).toEqual(e.imag);
    }
    s.close();
  });
});

describe('HDF5: lazy reading through a ByteSource', () => {
  it('reading one sample of a 4 MB contiguous dataset reads a small part of the file', () => {
    const B = 200;
    const big: HostTensor = { dtype: 'float64', shape: [B, 256, 5], data: new Float64Array(B * 256 * 5) };
    for (let b = 0; b < B; b++) big.data.set(X.data.subarray(0, 256 * 5), b * 256 * 5);
    big.data[150 * 256 * 5] = 42;
    const bytes = writeHdf5([{ name: 'x', tensor: big }]);
    let read = 0;
    const inner = bytesSource(bytes);
    const counting: ByteSource = {
      size: inner.size,
      read: (o, n) => {
        read += n;
        return inner.read(o, n);
      },
    };
    const s = openHdf5(counting, 'big.h5');
    const row = s.readRows('/x', 150, 1);
    expect(row.data[0]).toBe(42);
    expect(Array.from(row.data.subarray(1))).toEqual(Array.from(X.data.subarray(1, 256 * 5)));
    expect(read).toBeLessThan(bytes.length / 20);
    s.close();
  });
});

describe('HDF5: writer', () => {
  it('round-trips float64 arrays with groups, axis names and gzip', () => {
    const J = loadNpy('deep-fno1d', 'jacobian_f64.npy');
    for (const gzip of [undefined, 6]) {
      const bytes = writeHdf5(
        [
          { name: 'x', tensor: X, axes: ['B', 'T', 'Xf'] },
          { name: 'group/J', tensor: J, axes: ['B', 'T', 'O', 'P'] },
        ],
        { gzip },
      );
      const s = openHdf5(bytes, 'w.h5');
      expect(s.variables().map((v) => v.name)).toEqual(['/group/J', '/x']);
      same(s.read('/group/J'), J);
      same(s.read('x'), X);
      s.close();
    }
  });

  it('the files it wrote for the fixture script (checked there with h5py) read back', () => {
    const s = openHdf5(data('jacscope/written.h5'), 'written.h5');
    same(s.read('/x'), X);
    same(s.read('/group/p'), P);
    const z = openHdf5(data('jacscope/written-gzip.h5'), 'written-gzip.h5');
    same(z.read('/J'), s.read('/J'));
    s.close();
    z.close();
  });

  it('refuses what it cannot write', () => {
    const c: HostTensor = {
      dtype: 'complex128',
      shape: [1],
      data: new Float64Array(1),
      imag: new Float64Array(1),
    };
    expect(() => writeHdf5([{ name: 'c', tensor: c }])).toThrow(/complex/);
    expect(() => writeHdf5([{ name: 'x', tensor: X, axes: ['B'] }])).toThrow(/3 axes but 1 axis names/);
    expect(() => writeHdf5([{ name: 'a/../b', tensor: X }])).toThrow(/not a dataset name/);
    expect(() =>
      writeHdf5([
        { name: 'x', tensor: X },
        { name: '/x', tensor: X },
      ]),
    ).toThrow(/two arrays/);
  });
});

describe('HDF5: the same J as the .npy inputs', () => {
  it('fno1d-scalar on x and p from deep-chunked.h5 gives jacobian_f64.npy', () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const model = new Fno1dScalar(config, tensors);
    const d = readDataFile(data('deep-chunked.h5'), 'deep-chunked.h5', deep);
    const [B, T] = d.x!.shape;
    const J = model.jacobian(d.x!.data, d.p!.data, B, T);
    expect(relErr(J, loadNpy('deep-fno1d', 'jacobian_f64.npy').data)).toBeLessThanOrEqual(1e-12);
    expect(Array.from(J)).toEqual(Array.from(model.jacobian(X.data, P.data, B, T)));
  });
});

describe('HDF5: broken and hostile files', () => {
  const file = 'deep-chunked.h5';
  const good = data(file);
  const attempt = (bytes: Uint8Array, name = file): 'ok' | 'error' => {
    const t0 = performance.now();
    try {
      readDataFile(bytes, name, deep);
      return 'ok';
    } catch (e) {
      if (!(e instanceof LoadError)) throw new Error(`threw ${(e as Error).name}: ${(e as Error).message}`);
      expect(e.file).toBe(name);
      expect(e.message.startsWith(`${name}: `)).toBe(true);
      expect(e.message).not.toMatch(/HDF5-DIAG|#0\d\d/); // one clear line, not HDF5's error stack
      return 'error';
    } finally {
      expect(performance.now() - t0).toBeLessThan(5000);
    }
  };

  it('truncated anywhere: one LoadError naming the file', () => {
    for (let n = 0; n < good.length; n += 997) expect(attempt(good.slice(0, n))).toBe('error');
    const e = expectLoadError(() => readDataFile(good.slice(0, 20000), file, deep));
    expect(e.reason).toMatch(
      /^opening it: the file is truncated: it has 20000 bytes but its header says 35351$/,
    );
  });

  it('400 files with bytes flipped: each loads or fails with one LoadError, within bounded time', () => {
    const r = prng(14);
    const counts = { ok: 0, error: 0 };
    for (let i = 0; i < 400; i++) {
      const b = good.slice();
      const n = 1 + Math.floor(r() * 6);
      for (let k = 0; k < n; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      counts[attempt(b)]++;
    }
    expect(counts.error).toBeGreaterThan(0);
  });

  it('a compression bomb in a chunk stops at the memory cap, quickly, with a clear error', () => {
    const tpl = data('bomb-template.h5');
    const marker = new TextEncoder().encode('JACSCOPE-BOMB-SLOT');
    let at = -1;
    for (let i = 0; i < tpl.length && at < 0; i++) if (marker.every((c, k) => tpl[i + k] === c)) at = i;
    expect(at).toBeGreaterThan(0);
    const bomb = zlibSync(new Uint8Array(100 * 2 ** 20), { level: 9 }); // 100 MB of zeros
    expect(bomb.length).toBeLessThan(128 * 1024);
    const bytes = tpl.slice();
    bytes.set(bomb, at);
    const s = openHdf5(bytes, 'bomb.h5');
    const heapBefore = hdf5Call('bomb.h5', 0, (M) => M.HEAPU8.length);
    const t0 = performance.now();
    const e = expectLoadError(() => s.read('/x'));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(e.message).toMatch(
      /^bomb\.h5: reading '\/x': a compressed chunk cannot be decompressed.*compression bomb/,
    );
    // The heap grew by at most the cap's margin, not by the 100 MB the chunk inflates to.
    expect(hdf5Call('bomb.h5', 0, (M) => M.HEAPU8.length) - heapBefore).toBeLessThan(64 * 2 ** 20);
    s.close();
    // and the library still reads good files afterwards
    same(readDataFile(data('deep.h5'), 'deep.h5', deep).x!, X);
  });

  it('dimensions needing more than the budget are refused before anything is read', () => {
    const s = openHdf5(data('deep.h5'), 'deep.h5', new OpenBudget('deep.h5', { maxBytes: 10_000 }));
    expectLoadError(() => s.read('/x'), /exceeds a safety limit/);
    s.close();
  });

  it('not HDF5 at all, or HDF5 needed before the library is loaded', async () => {
    expectLoadError(() => readDataFile(Uint8Array.of(1, 2, 0, 4), 'data.h5'), /not an HDF5 file/);
    expectLoadError(
      () => openHdf5(new Uint8Array(100), 'zeros.h5'),
      /zeros\.h5: opening it: the HDF5 library could not read it/,
    );
    const d = await readDataFileAsync(data('deep.h5'), 'deep.h5', deep);
    same(d.x!, X);
  });
});
