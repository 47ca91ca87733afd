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
import { relErr } from '../engine/helpers';

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

  it('a file whose datasets are not x and p is read whole where it can be; without synchronous reads too', async () => {
    const dtypes = bytes(data, 'dtypes.h5');
    const o = await openLazy(syncReader(dtypes, 'dtypes.h5').reader, {});
    expect('bytes' in o && o.bytes.length).toBe(dtypes.length);
    const file = bytes(data, 'deep.h5');
    const { reader } = syncReader(file, 'deep.h5');
    const remote: RangeReader = { name: reader.name, size: reader.size, read: reader.read };
    const w = await openLazy(remote, {});
    expect('bytes' in w && w.bytes.length).toBe(file.length);
  });

  it('a session on it computes PyTorch’s J for every sample', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: 2 ** 30 });
    const model = ['model.pt', 'config.json'].map((name) => ({ name, bytes: bytes(deep, name) }));
    const { reader } = syncReader(bytes(data, 'deep.h5'), 'deep.h5');
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
