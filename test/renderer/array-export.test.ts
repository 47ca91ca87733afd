// The app's HDF5 (.h5) and MATLAB v5 (.mat) exports of the J slice, y and the whole J, built by the worker-side
// functions from a real result of the deep fixture, read back with jacscope's own readers: every value exactly
// what the app holds (and so within 1e-10 of PyTorch's float64 reference), the axis names on each HDF5 dataset.
// (h5py / scipy.io.loadmat read the same files: checked by hand, see the report; CI needs no Python.)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../src/engine/tensor';
import { openMat5 } from '../../src/engine/io/mat';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { openDataSourceAsync } from '../../src/engine/io/variables';
import { prepareArrayFormat, writeArrays, yAxes } from '../../src/renderer/worker/array-files';
import { dataExportBytes } from '../../src/renderer/worker/data-exports';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { exportBytes } from '../../src/renderer/worker/exports';
import type { ExportWhat } from '../../src/renderer/worker/protocol';
import { Session } from '../../src/renderer/worker/session';
import type { ComputedResult } from '../../src/renderer/worker/session';

const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const file = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(resolve(deep, name))) });
const ref = (name: string) => readNpy(file(name).bytes, name);
const writers = { writeNpy, writeArrays };

function relErr(a: ArrayLike<number>, r: ArrayLike<number>): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < r.length; i++) {
    e = Math.max(e, Math.abs(a[i] - r[i]));
    m = Math.max(m, Math.abs(r[i]));
  }
  return e / m;
}

/** The one array of an exported file, read with the engine's readers (HDF5 or MATLAB v5). */
async function readBack(out: { name: string; bytes: Uint8Array }, variable: string): Promise<HostTensor> {
  const s = out.name.endsWith('.mat')
    ? openMat5(out.bytes, out.name)
    : await openDataSourceAsync(out.bytes, out.name);
  try {
    expect(s.format).toBe(out.name.endsWith('.mat') ? 'mat5' : 'hdf5');
    expect(s.variables().map((v) => v.name)).toEqual([s.format === 'hdf5' ? `/${variable}` : variable]);
    return s.read(variable);
  } finally {
    s.close();
  }
}

/** The `axes` attribute of a dataset, read with the HDF5 library itself. */
async function axesOf(bytes: Uint8Array, dataset: string): Promise<string[]> {
  const h5 = await import('h5wasm');
  await h5.ready;
  const path = `/axes-check-${Math.random().toString(36).slice(2)}.h5`;
  h5.FS!.writeFile(path, bytes);
  const f = new h5.File(path, 'r');
  try {
    const ds = f.get(dataset) as { attrs: Record<string, { value: unknown }> };
    return Array.from(ds.attrs.axes.value as string[]);
  } finally {
    f.close();
    h5.FS!.unlink(path);
  }
}

let result: ComputedResult;
beforeAll(async () => {
  const s = new Session(createEngineAdapter({ gpu: null }));
  const o = await s.load([file('model.pt'), file('config.json'), file('x.npy'), file('p.npy')]);
  if (o.kind !== 'computed') throw new Error(JSON.stringify(o.messages));
  result = o.result;
  await prepareArrayFormat('full-h5');
});

describe('HDF5 and MATLAB exports of J, its slice and y round-trip through the readers', () => {
  const J = () => ref('jacobian_f64.npy');
  const slice = { xAxis: 't' as const, yAxis: 'o' as const, fixed: { b: 1, t: 0, o: 0, k: 4 } };
  const exp = (what: ExportWhat) => exportBytes(result, { type: 'export', id: 1, what, slice }, writers);

  for (const format of ['h5', 'mat'] as const) {
    it(`the whole J as .${format}: [B,T,O,P] exactly the app's J (within 1e-10 of PyTorch)`, async () => {
      const out = exp(`full-${format}`);
      expect(out.name).toBe(`J.${format}`);
      const back = await readBack(out, 'J');
      expect(back.shape).toEqual([2, 256, 3, 6]);
      expect(back.dtype).toBe('float64');
      expect(Array.from(back.data)).toEqual(Array.from(result.J));
      expect(relErr(back.data, J().data)).toBeLessThan(1e-10);
      if (format === 'h5') expect(await axesOf(out.bytes, 'J')).toEqual(['B', 'T', 'O', 'P']);
    });

    it(`the visible slice as .${format}: rows t, columns o, as in the CSV and .npy`, async () => {
      const out = exp(`slice-${format}`);
      expect(out.name).toBe(`J_b1_k4-p4_t-by-o.${format}`);
      const back = await readBack(out, 'J_slice');
      expect(back.shape).toEqual([256, 3]);
      const want = exp('slice-npy');
      expect(Array.from(back.data)).toEqual(Array.from(readNpy(want.bytes, want.name).data));
      const Jr = J().data;
      for (const [t, o] of [
        [0, 0],
        [100, 2],
        [255, 1],
      ])
        expect(back.data[t * 3 + o]).toBeCloseTo(Jr[((1 * 256 + t) * 3 + o) * 6 + 4], 10);
      if (format === 'h5') expect(await axesOf(out.bytes, 'J_slice')).toEqual(['T', 'O']);
    });

    it(`y of the batch as .${format}: [B,T,O] (PyTorch's y within 1e-10)`, async () => {
      const out = dataExportBytes(
        result,
        null,
        { type: 'export-data', id: 1, what: `y-all-${format}`, b: 0 },
        writers,
      );
      expect(out.name).toBe(`y.${format}`);
      const back = await readBack(out, 'y');
      expect(back.shape).toEqual([2, 256, 3]);
      expect(Array.from(back.data)).toEqual(Array.from(result.y));
      expect(relErr(back.data, ref('y_f64.npy').data)).toBeLessThan(1e-10);
      if (format === 'h5') expect(await axesOf(out.bytes, 'y')).toEqual(['B', 'T', 'O']);
    });
  }

  it('axis names follow y: no time axis, several output axes', () => {
    expect(yAxes([4, 3], false)).toEqual(['B', 'O']);
    expect(yAxes([4, 10, 2, 3], true)).toEqual(['B', 'T', 'O1', 'O2']);
    expect(yAxes([4], false)).toEqual(['B']);
  });

  it('without the HDF5/MATLAB writer the export says so', () => {
    expect(() => exportBytes(result, { type: 'export', id: 1, what: 'full-h5' }, { writeNpy })).toThrow(
      /HDF5 and MATLAB exports are not available/,
    );
  });
});
