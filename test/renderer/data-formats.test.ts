// The app's worker logic (Session with the real engine, in Node) on data as scientists keep it: HDF5 (.h5 with
// gzip/shuffle, user blocks, libver=latest), MATLAB v5 (both byte orders, compressed, structs) and v7.3, and
// torch.save tensors (dict, nested dict, list). Every variant gives the PyTorch float64 reference J of the deep
// fixture; files with several candidates ask for x and p (the picker), and the answer loads them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadHdf5 } from '../../src/engine/io/hdf5';
import { writeHdf5 } from '../../src/engine/io/hdf5-write';
import { readNpy } from '../../src/engine/io/npy';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { Session } from '../../src/renderer/worker/session';
import type { LoadOutcome } from '../../src/renderer/worker/session';

const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const data = resolve(__dirname, '../fixtures/data');
const file = (name: string, dir = data) => ({
  name,
  bytes: new Uint8Array(readFileSync(resolve(dir, name))),
});
const npy = (name: string) => readNpy(new Uint8Array(readFileSync(resolve(deep, name))), name);
// The deep model is GELU: its config.json says so.
const model = () => [file('model.pt', deep), file('config.json', deep)];

function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}

function computed(o: LoadOutcome) {
  if (o.kind !== 'computed')
    throw new Error(
      `expected a result, got ${o.kind}: ${JSON.stringify(o.kind === 'pick' ? o.pick : o.messages)}`,
    );
  return o.result;
}

function asked(o: LoadOutcome) {
  if (o.kind !== 'pick') throw new Error(`expected the picker, got ${o.kind}: ${JSON.stringify(o.messages)}`);
  return o.pick;
}

let Jref: Float64Array;
beforeAll(async () => {
  await loadHdf5();
  Jref = npy('jacobian_f64.npy').data;
});

describe('data formats in the app: every variant gives the reference J', () => {
  const direct: [string, RegExp][] = [
    ['deep.h5', /HDF5; x = '\/x', p = '\/p'/],
    ['deep-chunked.h5', /HDF5; x = '\/inputs\/x', p = '\/inputs\/p'/],
    ['deep-latest.h5', /HDF5; x = '\/x', p = '\/p'/],
    ['deep-userblock.h5', /HDF5; x = '\/func_inp', p = '\/scalar_inp'/],
    ['deep-v5.mat', /MATLAB v5\/v7 \.mat; x = 'x', p = 'p'/],
    ['deep-be.mat', /MATLAB v5\/v7 \.mat/],
    ['deep-v7.mat', /x = 'run\.x', p = 'run\.p'/],
    ['deep-v73.mat', /MATLAB v7\.3 \.mat \(HDF5\); x = 'x', p = 'p'/],
    ['deep-dict.pt', /torch\.save tensors \(a dict of 2 entries\), read as data, not a model/],
    ['deep-nested.pt', /x = 'data\.func_inp', p = 'data\.scalar_inp'/],
  ];
  for (const [name, note] of direct)
    it(`${name}: x and p by name, loaded directly; J within 1e-10 of PyTorch`, async () => {
      const s = new Session(createEngineAdapter({ gpu: null }));
      const r = computed(await s.load([...model(), file(name)]));
      expect(r.model.file).toBe('model.pt'); // a state_dict .pt beside a data .pt: still the model
      expect([r.meta.B, r.meta.T, r.meta.O, r.meta.P]).toEqual([2, 256, 3, 6]);
      expect(r.data.xFile).toBe(name);
      expect(r.data.pFile).toBe(name);
      expect(r.data.notes.join('\n')).toMatch(note);
      expect(relErr(r.J, Jref)).toBeLessThan(1e-10);
    });

  it('a torch.save list [x, p] asks for x and p; the answer loads it', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }));
    const pick = asked(await s.load([...model(), file('deep-list.pt')]));
    expect(pick.file).toBe('deep-list.pt');
    expect(pick.format).toBe('torch.save data');
    expect(pick.variables.map((v) => [v.name, v.shape, v.dtype])).toEqual([
      ['0', [2, 256, 5], 'float32'],
      ['1', [2, 6], 'float32'],
    ]);
    expect(pick.suggested).toEqual({ x: '0', p: '1' });
    expect(s.result).toBeNull(); // nothing applied while the question is open
    const r = computed(
      await s.load([...model(), file('deep-list.pt')], {}, { 'deep-list.pt': { x: '0', p: '1' } }),
    );
    expect(r.data.notes.join('\n')).toMatch(/x = '0', p = '1' \(chosen in the picker\)/);
    expect(relErr(r.J, Jref)).toBeLessThan(1e-10);
  });

  it('a multi-variable HDF5 file: a tree of groups with shapes and dtypes; a remembered choice that no longer fits asks again', async () => {
    const x = npy('x.npy');
    const p = npy('p.npy');
    const y = npy('y_f64.npy');
    const h5 = writeHdf5([
      { name: 'run/forcing', tensor: x, axes: ['B', 'T', 'Xf'] },
      { name: 'run/params', tensor: p, axes: ['B', 'P'] },
      { name: 'run/target', tensor: y, axes: ['B', 'T', 'O'] },
      { name: 'grid', tensor: { dtype: 'float64', shape: [256], data: new Float64Array(256) } },
    ]);
    const multi = { name: 'multi.h5', bytes: h5 };
    const s = new Session(createEngineAdapter({ gpu: null }));
    const pick = asked(await s.load([...model(), multi]));
    expect(pick.separator).toBe('/');
    expect(pick.variables.map((v) => `${v.name} ${v.shape.join('x')} ${v.dtype}`)).toEqual([
      '/grid 256 float64',
      '/run/forcing 2x256x5 float64',
      '/run/params 2x6 float64',
      '/run/target 2x256x3 float64',
    ]);
    expect(pick.reason).toMatch(/4 numeric arrays/);
    const stale = asked(
      await s.load([...model(), multi], {}, { 'multi.h5': { x: '/gone', p: '/run/params' } }),
    );
    expect(stale.reason).toMatch(/no longer fits: it has no variable '\/gone'/);
    const r = computed(
      await s.load([...model(), multi], {}, { 'multi.h5': { x: '/run/forcing', p: '/run/params' } }),
    );
    expect(relErr(r.J, Jref)).toBeLessThan(1e-10);
    // x from this file, p from another: the choice may leave a role out.
    const only = asked(await s.load([multi]));
    expect(only.file).toBe('multi.h5');
    const r2 = computed(
      await s.load([multi, file('p.npy', deep)], {}, { 'multi.h5': { x: '/run/forcing' } }),
    );
    expect(r2.data.xFile).toBe('multi.h5');
    expect(r2.data.pFile).toBe('p.npy');
    expect(relErr(r2.J, Jref)).toBeLessThan(1e-10);
  });

  it('a 2-D x [B,T] chosen beside p [B,P] is read as x [B,T,1] (Xf = 1), and the note says so', async () => {
    const h5 = writeHdf5([
      {
        name: 'u',
        tensor: { dtype: 'float64', shape: [3, 7], data: Float64Array.from({ length: 21 }, (_, i) => i) },
      },
      { name: 'theta', tensor: { dtype: 'float64', shape: [3, 2], data: new Float64Array(6) } },
    ]);
    const engine = createEngineAdapter({ gpu: null });
    const listing = (await engine.dataListing(h5, 'u.h5'))!;
    expect(listing.needsPick).toBe(true);
    const parts = await engine.readData(
      h5,
      'u.h5',
      {},
      { choice: { x: '/u', p: '/theta' }, variables: listing.variables },
    );
    expect(parts.x?.shape).toEqual([3, 7, 1]);
    expect(parts.xAsFiled?.shape).toEqual([3, 7]);
    expect(parts.p?.shape).toEqual([3, 2]);
    expect(parts.notes.join('\n')).toMatch(/read as x \[3,7,1\].*\(Xf = 1\)/);
  });

  it('a broken HDF5 file: one message naming it, and what was loaded stays', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }));
    const first = computed(await s.load([...model(), file('deep.h5')]));
    const good = file('deep-chunked.h5');
    const o = await s.load([{ name: 'deep-chunked.h5', bytes: good.bytes.subarray(0, 20000) }]);
    expect(o.kind).toBe('unchanged');
    const errors = o.messages.filter((m) => m.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].text).toMatch(/^deep-chunked\.h5: /);
    expect(s.result).toBe(first);
  });
});
