import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { zlibSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { OpenBudget } from '../../../src/engine/io/budget';
import { readDataFile } from '../../../src/engine/io/dataset';
import { loadHdf5 } from '../../../src/engine/io/hdf5';
import { matVersion, openMat5 } from '../../../src/engine/io/mat';
import { openMat73 } from '../../../src/engine/io/mat73';
import { cToFortran, writeMat } from '../../../src/engine/io/mat-write';
import { fortranToC } from '../../../src/engine/io/npy';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import type { HostTensor } from '../../../src/engine/tensor';
import { loadCase, loadNpy } from '../fixtures';
import { relErr } from '../helpers';
import { concat, expectLoadError, prng } from './helpers';

/** test/fixtures/data/, made by scripts/fixtures/make_data_fixtures.py (scipy, hdf5storage, by hand). */
const DATA = fileURLToPath(new URL('../../fixtures/data/', import.meta.url));
const data = (name: string) => new Uint8Array(readFileSync(DATA + name));

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

describe('MATLAB: versions', () => {
  it('tells v5, v7.3 and Level 4 apart by content', () => {
    expect(matVersion(data('deep-v5.mat'))).toBe('mat5');
    expect(matVersion(data('deep-v7.mat'))).toBe('mat5');
    expect(matVersion(data('deep-be.mat'))).toBe('mat5');
    expect(matVersion(data('deep-v73.mat'))).toBe('mat73');
    expect(matVersion(level4(), 'old.mat')).toBe('mat4');
    expect(matVersion(data('deep.h5'))).toBe(null);
  });
});

/** A MATLAB Level 4 file: a 2×3 double matrix 'a' (header: type, rows, cols, imagf, name length). */
function level4(): Uint8Array {
  const head = new Uint8Array(20);
  const dv = new DataView(head.buffer);
  [0, 2, 3, 0, 2].forEach((v, i) => dv.setUint32(4 * i, v, true));
  const body = new Uint8Array(2 + 6 * 8);
  body.set([0x61, 0]);
  return concat(head, body);
}

describe('MATLAB v5/v7: files written by scipy.io.savemat (and by hand, big-endian)', () => {
  it('deep-v5.mat (uncompressed double) holds exactly the .npy inputs, in MATLAB order', () => {
    const s = openMat5(data('deep-v5.mat'), 'deep-v5.mat');
    expect(s.variables()).toEqual([
      { name: 'x', shape: [2, 256, 5], dtype: 'float64' },
      { name: 'p', shape: [2, 6], dtype: 'float64' },
    ]);
    same(s.read('x'), X);
    same(s.read('p'), P);
    expect(Array.from(s.readRows('x', 1, 1).data)).toEqual(Array.from(X.data.subarray(256 * 5)));
  });

  it('deep-v7.mat (miCOMPRESSED): struct fields as run.x, run.p; text and cells listed, not read', () => {
    const s = openMat5(data('deep-v7.mat'), 'deep-v7.mat');
    const vars = s.variables();
    expect(vars.find((v) => v.name === 'run.x')).toEqual({
      name: 'run.x',
      shape: [2, 256, 5],
      dtype: 'float32',
    });
    expect(vars.find((v) => v.name === 'run.p')).toEqual({ name: 'run.p', shape: [2, 6], dtype: 'float64' });
    expect(vars.find((v) => v.name === 'run.T')).toEqual({ name: 'run.T', shape: [1, 1], dtype: 'int32' });
    expect(vars.find((v) => v.name === 'note')).toMatchObject({ dtype: null, note: 'text (char)' });
    expect(vars.find((v) => v.name === 'extra')).toMatchObject({ dtype: null, note: 'a cell array' });
    same(s.read('run.x'), X);
    same(s.read('run.p'), P);
    expect(Array.from(s.read('run.T').data)).toEqual([256]);
    expectLoadError(() => s.read('note'), /'note' is not a numeric array \(text \(char\)\)/);
    const d = readDataFile(data('deep-v7.mat'), 'deep-v7.mat', deep);
    same(d.x!, X);
    same(d.p!, P);
    expect(d.variables).toEqual({ x: 'run.x', p: 'run.p' });
    expect(d.format).toBe('mat5');
  });

  it('deep-be.mat: big-endian, p stored as single under class double', () => {
    const s = openMat5(data('deep-be.mat'), 'deep-be.mat');
    same(s.read('x'), X);
    const p = s.read('p');
    same(p, P);
    expect(p.dtype).toBe('float64');
  });

  it('readDataFile takes x and p by name', () => {
    for (const f of ['deep-v5.mat', 'deep-be.mat']) {
      const d = readDataFile(data(f), f, deep);
      same(d.x!, X);
      same(d.p!, P);
    }
  });
});

describe('MATLAB v7.3 (HDF5): written by hdf5storage in MATLAB layout', () => {
  it('gives MATLAB dimensions (HDF5 holds them reversed) and exactly the .npy values', () => {
    const s = openMat73(data('deep-v73.mat'), 'deep-v73.mat');
    expect(s.format).toBe('mat73');
    expect(s.variables()).toEqual([
      { name: 'p', shape: [2, 6], dtype: 'float64' },
      { name: 'run.p', shape: [2, 6], dtype: 'float64' },
      { name: 'run.x', shape: [2, 256, 5], dtype: 'float64' },
      { name: 'x', shape: [2, 256, 5], dtype: 'float64' },
    ]);
    same(s.read('x'), X);
    same(s.read('run.p'), P);
    // rows of MATLAB's first axis: a hyperslab of HDF5's last
    const r = s.readRows('x', 1, 1);
    expect(r.shape).toEqual([1, 256, 5]);
    expect(Array.from(r.data)).toEqual(Array.from(X.data.subarray(256 * 5)));
    s.close();
    const d = readDataFile(data('deep-v73.mat'), 'deep-v73.mat', deep);
    same(d.x!, X);
    same(d.p!, P);
    expect(d.variables).toEqual({ x: 'x', p: 'p' });
    expect(d.notes.join('\n')).toMatch(/ignored 'run\.p' \[2,6\], 'run\.x' \[2,256,5\]/);
  });
});

describe('MATLAB: the same J as the .npy inputs', () => {
  it.each(['deep-v7.mat', 'deep-v73.mat'])('fno1d-scalar on %s gives jacobian_f64.npy', (f) => {
    const { config, tensors } = loadCase('deep-fno1d');
    const model = new Fno1dScalar(config, tensors);
    const d = readDataFile(data(f), f, deep);
    const [B, T] = d.x!.shape;
    const J = model.jacobian(d.x!.data, d.p!.data, B, T);
    expect(relErr(J, loadNpy('deep-fno1d', 'jacobian_f64.npy').data)).toBeLessThanOrEqual(1e-12);
  });
});

describe('MATLAB: writer', () => {
  const arrays = [
    { name: 'x', tensor: X },
    { name: 'p', tensor: P },
  ];
  it('writes byte for byte what scipy.io.savemat writes (after the header text)', () => {
    const mine = writeMat(arrays);
    const scipy = data('deep-v5.mat');
    expect(mine.length).toBe(scipy.length);
    expect(Buffer.from(mine.subarray(116)).equals(Buffer.from(scipy.subarray(116)))).toBe(true);
    expect(new TextDecoder().decode(mine.subarray(0, 19))).toBe('MATLAB 5.0 MAT-file');
  });

  it('matches the files the fixture script checked with scipy (jacscope/written-v5.mat, -v7.mat)', () => {
    const v: HostTensor = { dtype: 'float64', shape: [5], data: Float64Array.from([0, 1, 2, 3, 4]) };
    const all = [...arrays, { name: 'v', tensor: v }];
    expect(Buffer.from(writeMat(all)).equals(Buffer.from(data('jacscope/written-v5.mat')))).toBe(true);
    const z = openMat5(data('jacscope/written-v7.mat'), 'written-v7.mat');
    same(z.read('x'), X);
    expect(z.read('v').shape).toEqual([1, 5]); // a vector is a row, as MATLAB and scipy write it
  });

  it('round-trips compressed and uncompressed through the reader', () => {
    for (const compress of [false, true]) {
      const s = openMat5(writeMat(arrays, { compress }), 'w.mat');
      same(s.read('x'), X);
      same(s.read('p'), P);
    }
    expect(writeMat(arrays, { compress: true }).length).toBeLessThan(writeMat(arrays).length);
  });

  it('cToFortran inverts fortranToC', () => {
    const shape = [3, 4, 5];
    const a = Float64Array.from({ length: 60 }, (_, i) => i);
    expect(Array.from(fortranToC(cToFortran(a, shape), shape))).toEqual(Array.from(a));
  });

  it('refuses names MATLAB cannot load and complex data', () => {
    expect(() => writeMat([{ name: '1x', tensor: X }])).toThrow(/not a MATLAB variable name/);
    expect(() => writeMat([{ name: 'a'.repeat(64), tensor: X }])).toThrow(/not a MATLAB variable name/);
    const c: HostTensor = {
      dtype: 'complex128',
      shape: [1],
      data: new Float64Array(1),
      imag: new Float64Array(1),
    };
    expect(() => writeMat([{ name: 'c', tensor: c }])).toThrow(/complex/);
    expect(() => writeMat([...arrays, { name: 'x', tensor: P }])).toThrow(/two arrays/);
  });
});

// ---------------------------------------------------------------------------------------------------

/** A miMATRIX element (little-endian) for a double array whose declared data size is `dataBytes`. */
function matrixHead(dims: number[], name: string, dataBytes: number, nbytesOverride?: number): Uint8Array {
  const parts: number[] = [];
  const u32 = (...v: number[]) => parts.push(...v);
  u32(6, 8, 6, 0); // flags: class double
  u32(5, 4 * dims.length, ...dims);
  if (dims.length % 2) u32(0);
  const nameBytes = Array.from(name, (c) => c.charCodeAt(0));
  const namePad = Math.ceil(nameBytes.length / 8) * 8;
  const head = new Uint8Array(8 + parts.length * 4 + 8 + namePad + 8);
  const dv = new DataView(head.buffer);
  let o = 8;
  for (const v of parts) {
    dv.setUint32(o, v, true);
    o += 4;
  }
  dv.setUint32(o, 1, true);
  dv.setUint32(o + 4, nameBytes.length, true);
  head.set(nameBytes, o + 8);
  o += 8 + namePad;
  dv.setUint32(o, 9, true); // miDOUBLE
  dv.setUint32(o + 4, dataBytes, true);
  dv.setUint32(0, 14, true);
  dv.setUint32(4, nbytesOverride ?? head.length - 8 + Math.ceil(dataBytes / 8) * 8, true);
  return head;
}

function matFile(...elements: Uint8Array[]): Uint8Array {
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, hostile test'));
  header.fill(0, 116, 124);
  header.set([0x00, 0x01, 0x49, 0x4d], 124);
  return concat(header, ...elements);
}

function compressed(inner: Uint8Array): Uint8Array {
  const z = zlibSync(inner);
  const tag = new Uint8Array(8);
  new DataView(tag.buffer).setUint32(0, 15, true);
  new DataView(tag.buffer).setUint32(4, z.length, true);
  return concat(tag, z);
}

describe('MATLAB: broken and hostile files', () => {
  const attempt = (bytes: Uint8Array, name: string): 'ok' | 'error' => {
    const t0 = performance.now();
    try {
      const s = openMat5(bytes, name);
      for (const v of s.variables()) if (v.dtype) s.read(v.name);
      return 'ok';
    } catch (e) {
      if (!(e instanceof LoadError)) throw new Error(`threw ${(e as Error).name}: ${(e as Error).message}`);
      expect(e.message.startsWith(`${name}: `)).toBe(true);
      return 'error';
    } finally {
      expect(performance.now() - t0).toBeLessThan(2000);
    }
  };

  it.each(['deep-v5.mat', 'deep-v7.mat', 'deep-be.mat'])('%s truncated anywhere: one LoadError', (f) => {
    const good = data(f);
    for (let n = 0; n < good.length - 8; n += 101) expect(attempt(good.slice(0, n), f)).toBe('error');
  });

  it.each(['deep-v5.mat', 'deep-v7.mat'])('%s with bytes flipped: loads or one LoadError', (f) => {
    const good = data(f);
    const r = prng(f.length);
    for (let i = 0; i < 500; i++) {
      const b = good.slice();
      for (let k = 0; k < 1 + Math.floor(r() * 4); k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      attempt(b, f);
    }
  });

  it('a miCOMPRESSED bomb declaring a 1×1 array stops as soon as its header is out', () => {
    // Declares 16 MB of element, dims [1,1]: refused after the first inflate step.
    const head = matrixHead([1, 1], 'x', 8, 16 * 2 ** 20);
    const bomb = matFile(compressed(concat(head, new Uint8Array(16 * 2 ** 20 - head.length + 8))));
    expect(bomb.length).toBeLessThan(200_000);
    const budget = new OpenBudget('bomb.mat');
    const t0 = performance.now();
    expectLoadError(
      () => openMat5(bomb, 'bomb.mat', budget),
      /declares \d+ bytes but its dimensions need at most \d+/,
    );
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(budget.used.maxInflated).toBeLessThan(8 * 2 ** 20);
  });

  it('a miCOMPRESSED stream that inflates past the size it declares is refused', () => {
    const head = matrixHead([1, 1], 'x', 8);
    const lying = matFile(compressed(concat(head, new Uint8Array(8 + 4 * 2 ** 20))));
    expectLoadError(
      () => openMat5(lying, 'lying.mat'),
      /inflates past the \d+ bytes it declares: a compression bomb/,
    );
  });

  it('a declared size deflate cannot produce is refused before inflating', () => {
    const head = matrixHead([1, 1], 'x', 8);
    const el = compressed(concat(head, new Uint8Array(8)));
    // The inner tag says 3 GB; the stream is a few dozen bytes.
    const inner = concat(head, new Uint8Array(8));
    new DataView(inner.buffer).setUint32(4, 3 * 2 ** 30, true);
    const el2 = compressed(inner);
    expect(el.length).toBeLessThan(100);
    expectLoadError(() => openMat5(matFile(el2), 'liar.mat'), /more than deflate can produce/);
  });

  it('dimensions beyond the budget, or beyond the data present, are refused before allocating', () => {
    const s = openMat5(data('deep-v5.mat'), 'deep-v5.mat', new OpenBudget('deep-v5.mat', { maxBytes: 1000 }));
    expectLoadError(() => s.read('x'), /exceeds a safety limit/);
    const huge = matFile(concat(matrixHead([100000, 100000], 'x', 8), new Uint8Array(8)));
    expectLoadError(() => openMat5(huge, 'huge.mat'), /needs 10000000000 values but its data holds 1/);
  });

  it('Level 4, v7.3 without HDF5, and non-MATLAB files are refused clearly', () => {
    expectLoadError(() => readDataFile(level4(), 'old.mat'), /MATLAB Level 4 .mat file.*-v7 or -v7\.3/);
    expectLoadError(() => openMat5(data('deep-v73.mat'), 'deep-v73.mat'), /v7\.3 \(HDF5\)/);
    expectLoadError(
      () => readDataFile(new Uint8Array(300).fill(7), 'data.mat'),
      /is not a MATLAB \.mat file \(no MATLAB header\)/,
    );
  });
});
