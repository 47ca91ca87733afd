import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { readDataFile } from '../../../src/engine/io/dataset';
import { loadHdf5 } from '../../../src/engine/io/hdf5';
import { writeHdf5 } from '../../../src/engine/io/hdf5-write';
import { writeNpy } from '../../../src/engine/io/npy';
import {
  detectDataFormat,
  listVariables,
  listVariablesAsync,
  openDataSourceAsync,
  parseVarSpec,
} from '../../../src/engine/io/variables';
import type { HostTensor } from '../../../src/engine/tensor';
import { loadNpy } from '../fixtures';
import { ascii, buildZip, expectLoadError } from './helpers';

const DATA = fileURLToPath(new URL('../../fixtures/data/', import.meta.url));
const FNO = fileURLToPath(new URL('../../fixtures/fno/deep-fno1d/', import.meta.url));
const data = (name: string) => new Uint8Array(readFileSync(DATA + name));

const X = loadNpy('deep-fno1d', 'x.npy');
const P = loadNpy('deep-fno1d', 'p.npy');
const deep = { Xf: 5, P: 6 };
const f64 = (shape: number[], fill = (i: number) => i): HostTensor => ({
  dtype: 'float64',
  shape,
  data: Float64Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => fill(i)),
});

beforeAll(async () => {
  await loadHdf5();
});

describe('parseVarSpec: FILE:NAME', () => {
  it.each([
    ['data.h5', { file: 'data.h5' }],
    ['data.h5:/group/x', { file: 'data.h5', name: '/group/x' }],
    ['data.h5:', { file: 'data.h5' }],
    ['runs/2024.npz:p', { file: 'runs/2024.npz', name: 'p' }],
    ['C:\\data\\x.h5', { file: 'C:\\data\\x.h5' }],
    ['C:\\data\\x.h5:/g/x', { file: 'C:\\data\\x.h5', name: '/g/x' }],
    ['D:/runs/p.npy', { file: 'D:/runs/p.npy' }],
    ['d.h5:/a:b', { file: 'd.h5', name: '/a:b' }],
    ['model.mat:run.x', { file: 'model.mat', name: 'run.x' }],
    ['weights.pt:data.x', { file: 'weights.pt', name: 'data.x' }],
    ['C:\\data\\blob', { file: 'C:\\data\\blob' }],
    ['blob:x', { file: 'blob', name: 'x' }],
    ['my.data.H5:x', { file: 'my.data.H5', name: 'x' }],
  ])('%s', (spec, want) => {
    expect(parseVarSpec(spec)).toEqual(want);
  });
  it('an existing file wins over a split', () => {
    const files = new Set(['odd:name', 'blob']);
    expect(parseVarSpec('odd:name', (p) => files.has(p))).toEqual({ file: 'odd:name' });
    expect(parseVarSpec('blob:x', (p) => files.has(p))).toEqual({ file: 'blob', name: 'x' });
    expect(parseVarSpec('nothing:x', (p) => files.has(p))).toEqual({ file: 'nothing:x' });
  });
});

describe('listVariables: every format', () => {
  const npz = buildZip([
    { name: 'x.npy', data: writeNpy(X, 'float64') },
    { name: 'p.npy', data: writeNpy(P, 'float32'), method: 8 },
  ]);
  it.each([
    ['x.npy', () => new Uint8Array(readFileSync(FNO + 'x.npy')), 'npy', [['', [2, 256, 5], 'float32']]],
    [
      'd.npz',
      () => npz,
      'npz',
      [
        ['x', [2, 256, 5], 'float64'],
        ['p', [2, 6], 'float32'],
      ],
    ],
    ['p.csv', () => ascii('a,b,c\n1,2,3\n4,5,6\n'), 'csv', [['', [2, 3], 'float64']]],
    [
      'deep-chunked.h5',
      () => data('deep-chunked.h5'),
      'hdf5',
      [
        ['/inputs/p', [2, 6], 'float32'],
        ['/inputs/x', [2, 256, 5], 'float32'],
        ['/outputs/y', [2, 256, 3], 'float64'],
      ],
    ],
    [
      'deep-v5.mat',
      () => data('deep-v5.mat'),
      'mat5',
      [
        ['x', [2, 256, 5], 'float64'],
        ['p', [2, 6], 'float64'],
      ],
    ],
    [
      'deep-v73.mat',
      () => data('deep-v73.mat'),
      'mat73',
      [
        ['p', [2, 6], 'float64'],
        ['run.p', [2, 6], 'float64'],
        ['run.x', [2, 256, 5], 'float64'],
        ['x', [2, 256, 5], 'float64'],
      ],
    ],
    [
      'deep-nested.pt',
      () => data('deep-nested.pt'),
      'torch',
      [
        ['data.func_inp', [2, 256, 5], 'float64'],
        ['data.scalar_inp', [2, 6], 'float64'],
      ],
    ],
  ] as const)('%s', async (file, bytes, format, want) => {
    expect(detectDataFormat(bytes(), file)).toBe(format);
    const got = await listVariablesAsync(bytes(), file);
    expect(got.map((v) => [v.name, v.shape, v.dtype])).toEqual(want);
    expect(listVariables(bytes(), file)).toEqual(got);
  });
  it('non-numeric arrays are listed with what they are', () => {
    const v = listVariables(data('deep-v7.mat'), 'deep-v7.mat');
    expect(v.filter((x) => x.dtype === null).map((x) => [x.name, x.note])).toEqual([
      ['note', 'text (char)'],
      ['extra', 'a cell array'],
    ]);
  });
  it('refuses what is not data', async () => {
    expectLoadError(
      () => listVariables(Uint8Array.of(1, 0, 3), 'blob.bin'),
      /not a data file jacscope reads/,
    );
    expectLoadError(() => listVariables(new Uint8Array(0), 'empty.h5'), /empty/);
    const s = await openDataSourceAsync(data('deep-v73.mat'), 'deep-v73.mat');
    expectLoadError(() => s.read('nope'), /has no variable 'nope'; it holds 'p' \[2,6\] float64/);
    s.close();
  });
});

describe('readDataFile: choosing variables', () => {
  const runs = () =>
    writeHdf5([
      { name: 'train/x', tensor: X },
      { name: 'train/p', tensor: P },
      { name: 'test/x', tensor: f64([1, 256, 5]) },
      { name: 'test/p', tensor: f64([1, 6]) },
    ]);

  it('two datasets named x: an error listing both with their shapes and how to choose', () => {
    expectLoadError(
      () => readDataFile(runs(), 'runs.h5', deep),
      /^runs\.h5: several datasets are named x: '\/test\/x' \[1,256,5\], '\/train\/x' \[2,256,5\]; choose one with FILE:NAME, e\.g\. runs\.h5:\/test\/x$/,
    );
  });

  it('FILE:NAME picks one; its role is given or taken from its shape', () => {
    const x = readDataFile(runs(), 'runs.h5', deep, 'x', { variable: '/train/x' });
    expect(x.x!.data).toEqual(X.data);
    expect(x.p).toBeUndefined();
    expect(x.variables).toEqual({ x: '/train/x' });
    const p = readDataFile(runs(), 'runs.h5', deep, undefined, { variable: 'train/p' });
    expect(p.p!.data).toEqual(P.data);
    expect(p.notes.join()).toMatch(/dataset '\/train\/p' read as p \[2,6\] \(from its shape\)/);
    expectLoadError(
      () => readDataFile(runs(), 'runs.h5', deep, 'x', { variable: '/nope' }),
      /has no variable '\/nope'; it holds '\/test\/p' \[1,6\] float64/,
    );
    const n = readDataFile(data('deep-v7.mat'), 'deep-v7.mat', deep, 'p', { variable: 'run.p' });
    expect(n.p!.data).toEqual(P.data);
    expect(
      readDataFile(new Uint8Array(readFileSync(FNO + 'p.npy')), 'p.npy', deep, 'p', { variable: '' }).p!
        .shape,
    ).toEqual([2, 6]);
    expectLoadError(
      () => readDataFile(new Uint8Array(readFileSync(FNO + 'p.npy')), 'p.npy', deep, 'p', { variable: 'p' }),
      /one unnamed array/,
    );
  });

  it('p is taken beside x when several groups hold one', () => {
    const bytes = writeHdf5([
      { name: 'run/x', tensor: X },
      { name: 'run/p', tensor: P },
      { name: 'other/p', tensor: f64([3, 6]) },
    ]);
    const d = readDataFile(bytes, 'sib.h5', deep);
    expect(d.variables).toEqual({ x: '/run/x', p: '/run/p' });
  });

  it('unnamed arrays chosen by shape; several that fit is an error naming FILE:NAME', () => {
    const one = writeHdf5([
      { name: 'inputs', tensor: X },
      { name: 'params', tensor: P },
    ]);
    const d = readDataFile(one, 'u.h5', deep);
    expect(d.notes.join('\n')).toMatch(/x = dataset '\/inputs' \[2,256,5\] \(chosen by shape\)/);
    const two = writeHdf5([
      { name: 'a', tensor: X },
      { name: 'b', tensor: X },
    ]);
    expectLoadError(
      () => readDataFile(two, 'two.h5', deep),
      /several datasets could be x: '\/a' \[2,256,5\], '\/b' \[2,256,5\]; name them x and p, or choose with FILE:NAME \(e\.g\. two\.h5:\/a\)/,
    );
  });

  it('x [B,T] beside p [B,P] is one function input per timestep (Xf = 1), with a note', () => {
    const x2: HostTensor = f64([2, 256], (i) => X.data[i * 5]);
    const npz = buildZip([
      { name: 'x.npy', data: writeNpy(x2, 'float64') },
      { name: 'p.npy', data: writeNpy(P, 'float64') },
    ]);
    for (const expect1 of [{}, { Xf: 1, P: 6 }]) {
      const d = readDataFile(npz, 'xf1.npz', expect1);
      expect(d.x!.shape).toEqual([2, 256, 1]);
      expect(d.notes.join('\n')).toMatch(
        /array 'x' \[2,256\] read as x \[2,256,1\]: 2 samples of 256 timesteps with one function input each \(Xf = 1\)/,
      );
    }
    // a model with Xf = 1 reads a 2-D x file the same way; without one it stays one sample [1,T,Xf]
    const npy = writeNpy(x2, 'float64');
    expect(readDataFile(npy, 'x.npy', { Xf: 1, P: 6 }, 'x').x!.shape).toEqual([2, 256, 1]);
    expect(readDataFile(npy, 'x.npy', { Xf: 256 }, 'x').x!.shape).toEqual([1, 2, 256]);
  });
});
