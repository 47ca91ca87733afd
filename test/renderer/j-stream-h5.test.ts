// The whole J streamed to an HDF5 file or a MATLAB v7.3 .mat (the desktop app's .h5 and .mat exports in
// sample mode): read back by the HDF5 library through the engine, equal to PyTorch's float64 J and to J
// computed per sample.
import { beforeAll, describe, expect, it } from 'vitest';
import { hdf5Call, loadHdf5, openHdf5 } from '../../src/engine/io/hdf5';
import { openMat73 } from '../../src/engine/io/mat73';
import { streamWholeJ } from '../../src/renderer/worker/j-stream';
import { sampleChunks, wholeChunks } from '../../src/renderer/worker/stream-export-handler';
import { collector, deep, deepSession, npy, relErr } from './j-stream-helpers';

beforeAll(async () => {
  await loadHdf5();
});

const Jref = npy(deep, 'jacobian4_f64.npy');
const [B4, T, O, P] = Jref.shape;
const per = T * O * P;

/** The `axes` attribute of /J, as the HDF5 library reads it. */
function axesOf(file: Uint8Array): unknown {
  return hdf5Call('J.h5', file.length * 2, (M, lib) => {
    M.FS.writeFile('/axes-test.h5', file);
    const f = new lib.File('/axes-test.h5', 'r') as unknown as {
      get(n: string): { attrs: Record<string, { value: unknown }> };
      close(): void;
    };
    try {
      return f.get('J').attrs['axes'].value;
    } finally {
      f.close();
      M.FS.unlink('/axes-test.h5');
    }
  });
}

describe('the whole J streamed to an .h5', () => {
  it('reads back as PyTorch float64 J and as J computed per sample, with its axis names', async () => {
    const { r } = await deepSession(1000);
    expect(r.data.memory.mode).toBe('sample');
    const c = collector(1000);
    const out = await streamWholeJ('full-h5', sampleChunks(r.sample!, null, r.meta), c.sink, {
      partBytes: 1000,
      chunkBytes: 1,
    });
    expect(out).toEqual({ name: 'J.h5', bytes: c.file().length, dtype: 'float64' });
    const src = openHdf5(c.file(), 'J.h5');
    try {
      expect(src.variables()).toEqual([{ name: '/J', shape: [B4, T, O, P], dtype: 'float64' }]);
      const J = src.read('/J').data;
      expect(relErr(J, Jref.data)).toBeLessThan(1e-10);
      for (let b = 0; b < B4; b++)
        expect(Array.from(J.subarray(b * per, (b + 1) * per))).toEqual(Array.from(r.sample!.block(b).J));
    } finally {
      src.close();
    }
    expect(axesOf(c.file())).toEqual(['B', 'T', 'O', 'P']);
  });

  it('float32 when asked, and the same file from a J kept whole', async () => {
    const { r } = await deepSession(1e9);
    expect(r.data.memory.mode).not.toBe('sample');
    const c = collector();
    const out = await streamWholeJ('full-h5', wholeChunks(r), c.sink, { dtype: 'float32' });
    expect(out.dtype).toBe('float32');
    const src = openHdf5(c.file(), 'J.h5');
    try {
      expect(src.variables()[0].dtype).toBe('float32');
      expect(Array.from(src.read('/J').data)).toEqual(Array.from(Float32Array.from(r.J)));
    } finally {
      src.close();
    }
  });
});

describe('the whole J streamed to a MATLAB .mat (v7.3)', () => {
  it('reads back in MATLAB order as PyTorch float64 J and as J computed per sample, from chunks that straddle its own', async () => {
    const { r } = await deepSession(1000);
    expect(r.data.memory.mode).toBe('sample');
    // chunks of one sample computed, .mat chunks of three (4 samples: one whole, one padded)
    const c = collector(1000);
    const out = await streamWholeJ('full-mat', sampleChunks(r.sample!, null, r.meta), c.sink, {
      partBytes: 1000,
      chunkBytes: 3 * per * 8,
    });
    expect(out).toEqual({ name: 'J.mat', bytes: c.file().length, dtype: 'float64' });
    const src = openMat73(c.file(), 'J.mat');
    try {
      expect(src.variables()).toEqual([{ name: 'J', shape: [B4, T, O, P], dtype: 'float64' }]);
      const J = src.read('J').data;
      expect(relErr(J, Jref.data)).toBeLessThan(1e-10);
      // three samples computed at once may round differently from one (GEMM against loops)
      for (let b = 0; b < B4; b++)
        expect(relErr(J.subarray(b * per, (b + 1) * per), r.sample!.block(b).J)).toBeLessThan(1e-14);
    } finally {
      src.close();
    }
  });

  it('float32 as MATLAB single, the same from a J kept whole', async () => {
    const { r } = await deepSession(1e9);
    const c = collector();
    const out = await streamWholeJ('full-mat', wholeChunks(r), c.sink, { dtype: 'float32' });
    expect(out.dtype).toBe('float32');
    const src = openMat73(c.file(), 'J.mat');
    try {
      expect(src.variables()[0].dtype).toBe('float32');
      expect(Array.from(src.read('J').data)).toEqual(Array.from(Float32Array.from(r.J)));
    } finally {
      src.close();
    }
  });
});
