import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../../src/engine/errors';
import { checkDataset, readDataFile } from '../../../src/engine/io/dataset';
import { writeNpy } from '../../../src/engine/io/npy';
import type { HostTensor } from '../../../src/engine/tensor';
import { ascii, buildZip, expectLoadError, fixture } from './helpers';

const npy = (shape: number[], fill = (i: number) => i) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return writeNpy({ shape, data: Float64Array.from({ length: n }, (_, i) => fill(i)) }, 'float64');
};
const seed = { Xf: 20, P: 14 };
const real = (shape: number[], data?: number[]): HostTensor => ({
  dtype: 'float64',
  shape,
  data: data ? Float64Array.from(data) : new Float64Array(shape.reduce((a, b) => a * b, 1)),
});

describe('readDataFile: .npy', () => {
  it('reads the fixture x (3-D → x) and p (2-D → p)', () => {
    const x = readDataFile(fixture('seed-fno1d/x.npy'), 'x.npy', seed);
    expect(x.x!.shape).toEqual([1, 601, 20]);
    expect(x.p).toBeUndefined();
    expect(x.notes.join()).toMatch(/read as x \[1,601,20\]/);
    const p = readDataFile(fixture('seed-fno1d/p4.npy'), 'p4.npy', seed);
    expect(p.p!.shape).toEqual([4, 14]);
  });
  it('1-D p of length P becomes [1,P]; a 2-D array with Xf columns is one sample of x', () => {
    const p = readDataFile(npy([14]), 'p.npy', seed);
    expect(p.p!.shape).toEqual([1, 14]);
    expect(p.notes.join()).toMatch(/1-D array of 14 values/);
    const x = readDataFile(npy([601, 20]), 'x.npy', seed);
    expect(x.x!.shape).toEqual([1, 601, 20]);
    expect(readDataFile(npy([601, 20]), 'x.npy', seed, 'p').p!.shape).toEqual([601, 20]);
    expect(readDataFile(npy([3, 14]), 'p.npy', seed, 'x').x!.shape).toEqual([1, 3, 14]);
  });
  it('refuses shapes that cannot be x or p', () => {
    expectLoadError(() => readDataFile(npy([2, 3, 4]), 'a.npy', seed, 'p'), /3-D \[2,3,4\]; p must be/);
    expectLoadError(() => readDataFile(npy([2, 3, 4, 5]), 'a.npy', seed), /4 dimensions/);
    expectLoadError(() => readDataFile(npy([]), 'a.npy', seed), /single number/);
    expectLoadError(() => readDataFile(npy([5]), 'a.npy', seed, 'x'), /1-D \[5\]; x must be/);
  });
  it('recognises files by content, and says what a misnamed file is', () => {
    expect(readDataFile(npy([2, 14]), 'data.bin', seed).p!.shape).toEqual([2, 14]);
    expectLoadError(() => readDataFile(ascii('a,b\n1,2\n'), 'p.npy', seed), /not a NumPy \.npy file/);
    expectLoadError(
      () => readDataFile(fixture('seed-fno1d/model.safetensors'), 'model.safetensors'),
      /model file/,
    );
    expectLoadError(() => readDataFile(Uint8Array.of(1, 0, 2, 0, 3), 'blob.dat'), /not a data file/);
  });
});

describe('readDataFile: .npz', () => {
  it('uses arrays named x/p or func_inp/scalar_inp', () => {
    for (const [xn, pn] of [
      ['x', 'p'],
      ['func_inp', 'scalar_inp'],
    ]) {
      const z = buildZip([
        { name: `${pn}.npy`, data: npy([2, 14]) },
        { name: `${xn}.npy`, data: npy([2, 7, 20]), method: 8 },
        { name: 'y.npy', data: npy([2, 7, 15]) },
      ]);
      const d = readDataFile(z, 'd.npz', seed);
      expect(d.x!.shape).toEqual([2, 7, 20]);
      expect(d.p!.shape).toEqual([2, 14]);
      expect(d.notes.join()).toMatch(/ignored 'y' \[2,7,15\]/);
    }
  });
  it('chooses by shape against the model when names do not say, and notes the choice', () => {
    const z = buildZip([
      { name: 'inputs.npy', data: npy([3, 5, 20]) },
      { name: 'outputs.npy', data: npy([3, 5, 15]) },
      { name: 'params.npy', data: npy([3, 14]) },
      { name: 'other.npy', data: npy([2, 2]) },
    ]);
    const d = readDataFile(z, 'd.npz', seed);
    expect(d.x!.shape).toEqual([3, 5, 20]);
    expect(d.p!.shape).toEqual([3, 14]);
    expect(d.notes.join('\n')).toMatch(/x = array 'inputs' \[3,5,20\] \(chosen by shape\)/);
    expect(d.notes.join('\n')).toMatch(/p = array 'params' \[3,14\] \(chosen by shape\)/);
  });
  it('refuses ambiguous or unusable archives, listing the arrays', () => {
    const two = buildZip([
      { name: 'a.npy', data: npy([1, 5, 20]) },
      { name: 'b.npy', data: npy([1, 6, 20]) },
    ]);
    expectLoadError(
      () => readDataFile(two, 'd.npz', seed),
      /several arrays could be x: 'a' \[1,5,20\], 'b' \[1,6,20\]/,
    );
    const none = buildZip([{ name: 'a.npy', data: npy([]) }]);
    expectLoadError(() => readDataFile(none, 'd.npz', seed), /none shaped like.*'a' \[\]/);
    const onlyP = buildZip([{ name: 'p.npy', data: npy([1, 14]) }]);
    expectLoadError(() => readDataFile(onlyP, 'd.npz', seed, 'x'), /holds no x array/);
    expect(readDataFile(onlyP, 'd.npz', seed).p!.shape).toEqual([1, 14]);
  });
});

describe('readDataFile: .csv', () => {
  const pCsv = 'a,b,c\n1,2,3\n4,5,6\n7,8,9\n10,11,12\n';
  it('uses the role given', () => {
    expect(readDataFile(ascii(pCsv), 'p.csv', {}, 'p').p!.shape).toEqual([4, 3]);
    const d = readDataFile(ascii(pCsv), 'x.csv', {}, 'x');
    expect(d.x!.shape).toEqual([1, 4, 3]);
    expect(d.xNames).toEqual(['a', 'b', 'c']);
  });
  it('guesses x from a batch column, from the model sizes, or from rows > columns', () => {
    const b = readDataFile(ascii('batch,u\n0,1\n1,2\n'), 'd.csv', {});
    expect(b.x!.shape).toEqual([2, 1, 1]);
    expect(b.notes.join()).toMatch(/read as x because it has a 'batch' column/);
    // 4 rows of 3 columns: by the model (P=3) it is p, by rows > columns it would be x.
    const byModel = readDataFile(ascii(pCsv), 'd.csv', { Xf: 2, P: 3 });
    expect(byModel.p!.shape).toEqual([4, 3]);
    expect(byModel.pNames).toEqual(['a', 'b', 'c']);
    expect(readDataFile(ascii(pCsv), 'd.csv', { Xf: 3, P: 2 }).x!.shape).toEqual([1, 4, 3]);
    expect(readDataFile(ascii(pCsv), 'd.csv', {}).x!.shape).toEqual([1, 4, 3]);
    expect(readDataFile(ascii('a,b,c\n1,2,3\n'), 'd.csv', {}).p!.shape).toEqual([1, 3]);
  });
  it('reads a UTF-16 CSV (Excel "Unicode text")', () => {
    const text = '\uFEFFa\tb\n1\t2\n';
    const bytes = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++)
      new DataView(bytes.buffer).setUint16(2 * i, text.charCodeAt(i), true);
    expect(readDataFile(bytes, 'p.txt', {}, 'p').pNames).toEqual(['a', 'b']);
  });
});

describe('checkDataset', () => {
  it('accepts matching x and p and lists all samples as finite', () => {
    const r = checkDataset(real([2, 5, 20]), real([2, 14]), seed);
    expect(r).toEqual({ B: 2, T: 5, finite: [0, 1], notes: [] });
    expect(checkDataset(undefined, real([3, 14]), seed)).toEqual({
      B: 3,
      T: undefined,
      finite: [0, 1, 2],
      notes: [],
    });
  });
  it.each([
    [
      [1, 601, 12],
      [1, 14],
      /x has shape \[1,601,12\]: 12 function features per timestep, but the model expects 20 \(inp_dim_func\)/,
    ],
    [
      [1, 601, 20],
      [1, 12],
      /p has shape \[1,12\]: 12 scalar inputs per sample, but the model expects 14 \(inp_dim_scalar\)/,
    ],
    [[4, 601, 20], [1, 14], /x has 4 samples \[4,601,20\] but p has 1 \[1,14\]/],
    [[1, 601, 14], [1, 20], /x and p look swapped/],
    [[601, 20], [1, 14], /x has shape \[601,20\] but must be \[B,T,Xf\]/],
    [[1, 601, 20], [14], /p has shape \[14\] but must be \[B,P\]/],
    [[0, 601, 20], [0, 14], /no samples/],
    [[1, 0, 20], [1, 14], /no timesteps/],
  ])('x %j, p %j', (xs, ps, msg) => {
    let err: unknown;
    try {
      checkDataset(real(xs), real(ps), seed);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ShapeError);
    expect((err as Error).message).toMatch(msg);
  });
  it('reports NaN/Inf with the first position per sample and leaves those samples out', () => {
    const x = real([3, 2, 2], [0, 0, 0, 0, 0, 0, NaN, Infinity, 0, 0, 0, 0]);
    const p = real([3, 2], [0, 0, 0, 0, 0, -Infinity]);
    const r = checkDataset(x, p, { Xf: 2, P: 2 });
    expect(r.finite).toEqual([0]);
    expect(r.notes).toEqual([
      '2 of 3 samples contain NaN or Inf and will be skipped: sample 1 (x[1,1,0] = NaN), sample 2 (p[2,1] = -Inf)',
    ]);
    const all = checkDataset(undefined, real([1, 1], [NaN]), {});
    expect(all.finite).toEqual([]);
    expect(all.notes[0]).toMatch(/no sample is left/);
  });
  it('refuses complex data and no data', () => {
    const c: HostTensor = {
      dtype: 'complex64',
      shape: [1, 2],
      data: new Float64Array(2),
      imag: new Float64Array(2),
    };
    expect(() => checkDataset(undefined, c, {})).toThrow(/complex/);
    expect(() => checkDataset(undefined, undefined, {})).toThrow(ShapeError);
  });
  it('the fixture x4/p4 fit the seed model', () => {
    const x = readDataFile(fixture('seed-fno1d/x4.npy'), 'x4.npy', seed).x;
    const p = readDataFile(fixture('seed-fno1d/p4.npy'), 'p4.npy', seed).p;
    expect(checkDataset(x, p, seed)).toEqual({ B: 4, T: 601, finite: [0, 1, 2, 3], notes: [] });
  });
});
