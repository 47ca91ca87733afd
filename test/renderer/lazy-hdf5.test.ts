// HDF5 opened by rows (a dropped file over the lazy threshold): the library reads the file through synchronous
// slices, x's rows as hyperslabs when a sample needs them. Checked against the engine's whole-file reader on
// the committed fixture (h5py wrote it), and a Session on it against PyTorch's float64 J.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/engine';
import { readDataFileAsync } from '../../src/engine/io/dataset';
import type { RangeReader } from '../../src/renderer/worker/byte-reader';
import { analysisFns, createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { Explorer } from '../../src/renderer/worker/explore';
import { openLazy } from '../../src/renderer/worker/lazy-open';
import { Session } from '../../src/renderer/worker/session';
import { randn, relErr, rng } from '../engine/helpers';
import { loadHdf5 } from '../../src/engine/io/hdf5';
import { writeHdf5 } from '../../src/engine/io/hdf5-write';

const data = resolve(__dirname, '../fixtures/data');
const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const bytes = (dir: string, name: string) => new Uint8Array(readFileSync(resolve(dir, name)));

/** A reader like a worker's over a dropped File (FileReaderSync), counting the bytes it hands out. */
function syncReader(b: Uint8Array, name: string) {
  const seen = { bytes: 0, largest: 0 };
  const reader: RangeReader = {
    name,
    size: b.length,
    read: async (o, n) => b.slice(o, o + n),
    readSync: (o, n) => {
      seen.bytes += n;
      seen.largest = Math.max(seen.largest, n);
      return b.slice(o, o + n);
    },
  };
  return { reader, seen };
}

/** A reader like the desktop app's over a file main reads (ranges, asynchronously), counting the bytes. */
function asyncReader(b: Uint8Array, name: string) {
  const seen = { bytes: 0 };
  const reader: RangeReader = {
    name,
    size: b.length,
    read: async (o, n) => {
      seen.bytes += n;
      return b.slice(o, o + n);
    },
  };
  return { reader, seen };
}

describe('HDF5 by rows', () => {
  it('x by rows and p whole, equal to the whole-file reader', async () => {
    const file = bytes(data, 'deep.h5');
    const ref = await readDataFileAsync(file, 'deep.h5');
    const { reader, seen } = syncReader(file, 'deep.h5');
    const opened = await openLazy(reader, {});
    if (!('parts' in opened)) throw new Error('expected lazy parts');
    const { x, p, notes } = opened.parts;
    expect(x!.shape).toEqual(ref.x!.shape);
    expect(x!.data.length).toBe(0);
    const per = x!.shape.slice(1).reduce((a, d) => a * d, 1);
    await x!.rows!.ensure(1, 2);
    expect(Array.from(x!.rows!.get(1, 2))).toEqual(Array.from(ref.x!.data.subarray(per, 2 * per)));
    expect(Array.from(p!.data)).toEqual(Array.from(ref.p!.data));
    expect(notes.join('\n')).toMatch(/deep\.h5: HDF5; x = '\/x', p = '\/p'/);
    expect(notes.join('\n')).toMatch(/opened lazily: rows of x are read from disk as needed/);
    // Never the whole file in one read.
    expect(seen.largest).toBeLessThan(file.length);
  });

  it('a file whose datasets are not x and p is read whole where it can be', async () => {
    const dtypes = bytes(data, 'dtypes.h5');
    const o = await openLazy(syncReader(dtypes, 'dtypes.h5').reader, {});
    expect('bytes' in o && o.bytes.length).toBe(dtypes.length);
    const paged = await openLazy(asyncReader(dtypes, 'dtypes.h5').reader, {});
    expect('bytes' in paged && paged.bytes.length).toBe(dtypes.length);
  });

  it('without synchronous reads (a file main reads for the desktop app), by pages fetched as the library asks', async () => {
    await loadHdf5();
    // x [160, 601, 20] float64: 15 MB in chunks of a few rows
    const [B, T, Xf, P] = [160, 601, 20, 3];
    const r = rng(5);
    const x = randn(r, B * T * Xf);
    const p = randn(r, B * P);
    const file = writeHdf5(
      [
        { name: 'x', tensor: { dtype: 'float64', shape: [B, T, Xf], data: x } },
        { name: 'p', tensor: { dtype: 'float64', shape: [B, P], data: p } },
      ],
      { gzip: 1 },
    );
    expect(file.length).toBeGreaterThan(12 * 2 ** 20);
    const { reader, seen } = asyncReader(file, 'big.h5');
    const opened = await openLazy(reader, {});
    if (!('parts' in opened)) throw new Error('expected lazy parts');
    const rows = opened.parts.x!.rows!;
    const per = T * Xf;
    expect(Array.from(opened.parts.p!.data)).toEqual(Array.from(p));
    const check = async (b0: number, b1: number) => {
      await rows.ensure(b0, b1);
      expect(Array.from(rows.get(b0, b1))).toEqual(Array.from(x.subarray(b0 * per, b1 * per)));
    };
    for (const [b0, b1] of [
      [0, 1],
      [97, 99],
      [159, 160],
    ])
      await check(b0, b1);
    // Only the pages those rows and the metadata live in were read (1 MiB pages), never the whole file.
    expect(seen.bytes).toBeLessThan(file.length / 3);
    await check(40, 72);
    expect(opened.parts.notes.join('\n')).toMatch(/opened lazily/);
  });

  it.each([
    ['a dropped file', syncReader],
    ['a file main reads', asyncReader],
  ])('MATLAB v7.3 by rows too (%s), v5 read whole', async (_what, makeReader) => {
    const file = bytes(data, 'deep-v73.mat');
    const ref = await readDataFileAsync(file, 'deep-v73.mat');
    const opened = await openLazy(makeReader(file, 'deep-v73.mat').reader, {});
    if (!('parts' in opened)) throw new Error('expected lazy parts');
    const { x, p, notes } = opened.parts;
    expect(x!.shape).toEqual(ref.x!.shape);
    const per = x!.shape.slice(1).reduce((a, d) => a * d, 1);
    await x!.rows!.ensure(1, 2);
    expect(Array.from(x!.rows!.get(1, 2))).toEqual(Array.from(ref.x!.data.subarray(per, 2 * per)));
    expect(Array.from(p!.data)).toEqual(Array.from(ref.p!.data));
    expect(notes.join('\n')).toMatch(/deep-v73\.mat: MATLAB v7\.3; x = 'x', p = 'p'/);
    const v5 = bytes(data, 'deep-v5.mat');
    const w = await openLazy(makeReader(v5, 'deep-v5.mat').reader, {});
    expect('bytes' in w && w.bytes.length).toBe(v5.length);
  });

  it('a .h5 that is not HDF5 goes to the whole-file readers, which say what it is not', async () => {
    const junk = new TextEncoder().encode('not an hdf5 file at all'.repeat(100));
    const o = await openLazy(asyncReader(junk, 'junk.h5').reader, {});
    expect('bytes' in o && o.bytes.length).toBe(junk.length);
  });

  it('a file main fails to read gives the reason, naming the file', async () => {
    const file = bytes(data, 'deep.h5');
    const reader: RangeReader = {
      name: 'deep.h5',
      size: file.length,
      read: async () => {
        throw new Error('deep.h5: the file was removed');
      },
    };
    await expect(openLazy(reader, {})).rejects.toThrow(/deep\.h5: the file was removed/);
  });

  it.each([
    ['a dropped file', syncReader],
    ['a file main reads', asyncReader],
  ])('a session on it (%s) computes PyTorch’s J for every sample', async (_what, makeReader) => {
    const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: 2 ** 30 });
    const model = ['model.pt', 'config.json'].map((name) => ({ name, bytes: bytes(deep, name) }));
    const { reader } = makeReader(bytes(data, 'deep.h5'), 'deep.h5');
    const o = await s.load([...model, { name: 'deep.h5', bytes: new Uint8Array(0), lazy: reader }]);
    if (o.kind !== 'computed') throw new Error(JSON.stringify(o.messages));
    const r = o.result;
    expect(r.data.memory.lazyX).toBe(true);
    const Jref = readNpy(bytes(deep, 'jacobian_f64.npy'), 'J');
    const [B, T, O, P] = Jref.shape;
    const per = T * O * P;
    expect(relErr(r.J, Jref.data.subarray(0, per))).toBeLessThan(1e-9);
    const ex = new Explorer(s, analysisFns);
    const a = s.activeInputs()!;
    for (let b = 1; b < B; b++) {
      await a.xRows.ensure(b, b + 1);
      expect(relErr(ex.sampleView(r.meta.seq, b).J, Jref.data.subarray(b * per, (b + 1) * per))).toBeLessThan(
        1e-9,
      );
    }
  });
});
