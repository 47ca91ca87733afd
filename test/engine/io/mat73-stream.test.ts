// MATLAB v7.3 files written a chunk of samples at a time (engine/io/mat73-stream.ts), read back by the
// HDF5 C library (h5wasm) through the v7.3 reader: MATLAB's shape and order, the MATLAB_class
// attribute, the user block MATLAB reads first, chunks of any size with a padded last one.
import { beforeAll, describe, expect, it } from 'vitest';
import { hdf5Call, loadHdf5 } from '../../../src/engine/io/hdf5';
import { hdf5StreamLayout } from '../../../src/engine/io/hdf5-stream';
import { matVersion } from '../../../src/engine/io/mat';
import { openMat73 } from '../../../src/engine/io/mat73';
import { mat73ChunkBytes, mat73StreamLayout } from '../../../src/engine/io/mat73-stream';

beforeAll(async () => {
  await loadHdf5();
});

/** The file a stream writer makes of `rows` ([B, ...rest], C order), `chunkRows` samples a chunk. */
function writeMat(
  rows: Float64Array,
  shape: number[],
  chunkRows: number,
  dtype: 'float64' | 'float32' = 'float64',
): Uint8Array {
  const [B, ...rest] = shape;
  const per = rest.reduce((a, s) => a * s, 1);
  const layout = mat73StreamLayout({ name: 'J', shape, dtype, chunkRows });
  const rowsPer = Math.min(chunkRows, B);
  const parts = [layout.header];
  for (let b0 = 0; b0 < B; b0 += rowsPer) {
    const n = Math.min(rowsPer, B - b0);
    parts.push(mat73ChunkBytes(rows.subarray(b0 * per, (b0 + n) * per), n, rest, rowsPer, dtype));
  }
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  expect(out.length).toBe(layout.totalBytes);
  return out;
}

const values = (n: number) => Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 10 ** (i % 7) + i / 3);

/** Attributes and chunk shape of /J, as the HDF5 library reports them. */
function datasetFacts(file: Uint8Array): { cls: unknown; chunks: unknown; shape: unknown } {
  return hdf5Call('J.mat', file.length * 2, (M, lib) => {
    M.FS.writeFile('/mat73-test.mat', file);
    const f = new lib.File('/mat73-test.mat', 'r') as unknown as {
      get(n: string): {
        attrs: Record<string, { value: unknown }>;
        metadata: { chunks: unknown };
        shape: unknown;
      };
      close(): void;
    };
    try {
      const d = f.get('J');
      return { cls: d.attrs['MATLAB_class'].value, chunks: d.metadata.chunks, shape: d.shape };
    } finally {
      f.close();
      M.FS.unlink('/mat73-test.mat');
    }
  });
}

describe('MATLAB v7.3 written in chunks of samples', () => {
  it('reads back in MATLAB shape and order, whatever the chunk size (last chunk padded)', () => {
    const shape = [7, 3, 2, 4];
    const J = values(7 * 24);
    for (const chunkRows of [1, 2, 3, 7, 100]) {
      const file = writeMat(J, shape, chunkRows);
      const src = openMat73(file, 'J.mat');
      try {
        expect(src.variables()).toEqual([{ name: 'J', shape, dtype: 'float64' }]);
        expect(Array.from(src.read('J').data)).toEqual(Array.from(J));
        const rows = src.readRows('J', 2, 4);
        expect(rows.shape).toEqual([4, 3, 2, 4]);
        expect(Array.from(rows.data)).toEqual(Array.from(J.subarray(2 * 24, 6 * 24)));
      } finally {
        src.close();
      }
    }
  });

  it('is the file MATLAB reads: user block, class attribute, dimensions reversed, one chunk per sample group', () => {
    const file = writeMat(values(5 * 6), [5, 6], 2);
    const text = new TextDecoder().decode(file.subarray(0, 116));
    expect(text.startsWith('MATLAB 7.3 MAT-file, Platform: jacscope, Created on: ')).toBe(true);
    expect(text.trimEnd().endsWith('HDF5 schema 1.00 .')).toBe(true);
    expect(Array.from(file.subarray(124, 128))).toEqual([0x00, 0x02, 0x49, 0x4d]);
    expect(matVersion(file, 'J.mat')).toBe('mat73');
    // The HDF5 signature where the user block ends.
    expect(Array.from(file.subarray(512, 516))).toEqual([0x89, 0x48, 0x44, 0x46]);
    expect(datasetFacts(file)).toEqual({ cls: 'double', chunks: [6, 2], shape: [6, 5] });
  });

  it('float32 as MATLAB single', () => {
    const J = values(4 * 3 * 5);
    const file = writeMat(J, [4, 3, 5], 3, 'float32');
    expect(datasetFacts(file).cls).toBe('single');
    const src = openMat73(file, 'J.mat');
    try {
      expect(src.variables()[0].dtype).toBe('float32');
      expect(Array.from(src.read('J').data)).toEqual(Array.from(Float32Array.from(J)));
    } finally {
      src.close();
    }
  });

  it('refuses what MATLAB or the format cannot hold', () => {
    expect(() => mat73StreamLayout({ name: '2J', shape: [2, 3], dtype: 'float64', chunkRows: 1 })).toThrow(
      /MATLAB variable name/,
    );
    expect(() => mat73StreamLayout({ name: 'J', shape: [4], dtype: 'float64', chunkRows: 1 })).toThrow(
      /two axes/,
    );
    expect(() => mat73StreamLayout({ name: 'J', shape: [0, 3], dtype: 'float64', chunkRows: 1 })).toThrow(
      /no rows/,
    );
    expect(() => mat73ChunkBytes(new Float64Array(5), 2, [3], 2, 'float64')).toThrow(/has 5 values, not 6/);
    expect(() => mat73ChunkBytes(new Float64Array(9), 3, [3], 2, 'float64')).toThrow(/do not fit/);
    const d = { name: 'J', shape: [4, 5], dtype: 'float64' as const };
    expect(() => hdf5StreamLayout([{ ...d, chunk: [5, 5] }])).toThrow(/does not fit/);
    expect(() => hdf5StreamLayout([{ ...d, chunk: [2] }])).toThrow(/one size per axis/);
    expect(() => hdf5StreamLayout([d], { userBlock: new Uint8Array(100) })).toThrow(/512/);
    expect(() => hdf5StreamLayout([{ ...d, attributes: { 'a b': 'x' } }])).toThrow(/attribute/);
  });
});
