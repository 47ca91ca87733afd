import { beforeAll, describe, expect, it } from 'vitest';
import { hdf5Call, loadHdf5, openHdf5 } from '../../../src/engine/io/hdf5';
import { hdf5StreamLayout, lookup3, type StreamDataset } from '../../../src/engine/io/hdf5-stream';

beforeAll(async () => {
  await loadHdf5();
});

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe('lookup3 (the checksum of HDF5 version-2 structures)', () => {
  // Bob Jenkins' own test vectors for hashlittle (lookup3.c, driver5).
  it('gives the reference values', () => {
    expect(lookup3(new Uint8Array(0), 0)).toBe(0xdeadbeef);
    expect(lookup3(new Uint8Array(0), 0xdeadbeef)).toBe(0xbd5b7dde);
    expect(lookup3(ascii('Four score and seven years ago'), 0)).toBe(0x17770551);
    expect(lookup3(ascii('Four score and seven years ago'), 1)).toBe(0xcd628161);
  });
});

/** A file made of the header and `values` (one array per dataset), as a stream writer makes it. */
function assemble(datasets: StreamDataset[], values: (Float64Array | Float32Array)[]): Uint8Array {
  const { header, offsets, totalBytes } = hdf5StreamLayout(datasets);
  const out = new Uint8Array(totalBytes);
  out.set(header, 0);
  values.forEach((v, i) => {
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    // Little-endian on disk whatever the host; this host is little-endian (checked below).
    out.set(bytes, offsets[i]);
  });
  return out;
}

/** Every dataset (values, shape, dtype) and its `axes` attribute, read by the HDF5 library. */
function readBack(bytes: Uint8Array, names: string[]) {
  return hdf5Call('stream.h5', bytes.length * 4, (M, lib) => {
    const path = '/stream-test.h5';
    M.FS.writeFile(path, bytes);
    const f = new lib.File(path, 'r') as unknown as {
      get(n: string): {
        value: unknown;
        shape: number[];
        dtype: string;
        attrs: Record<string, { value: unknown }>;
      };
      keys(): string[];
      close(): void;
    };
    try {
      return {
        keys: f.keys(),
        sets: names.map((n) => {
          const d = f.get(n);
          return { value: d.value, shape: d.shape, dtype: d.dtype, axes: d.attrs['axes']?.value };
        }),
      };
    } finally {
      f.close();
      M.FS.unlink(path);
    }
  });
}

describe('an HDF5 file written as a stream', () => {
  it('is read back by the HDF5 library: values, shapes, dtypes and axis names', () => {
    expect(new Uint8Array(new Uint16Array([1]).buffer)[0]).toBe(1);
    const J = Float64Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => Math.sin(i) * 10 ** ((i % 7) - 3));
    const y = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i / 7 - 1);
    const datasets: StreamDataset[] = [
      {
        name: 'J',
        shape: [2, 3, 4, 5],
        dtype: 'float64',
        axes: ['sample b', 'time t', 'output o', 'parameter k'],
      },
      { name: 'y', shape: [2, 3, 4], dtype: 'float32', axes: ['b', 't', 'o'] },
    ];
    const got = readBack(assemble(datasets, [J, y]), ['J', 'y']);
    expect(got.keys.sort()).toEqual(['J', 'y']);
    const [j, yy] = got.sets;
    expect(j.shape).toEqual([2, 3, 4, 5]);
    expect(j.dtype).toBe('<d');
    expect(Array.from(j.value as Float64Array)).toEqual(Array.from(J));
    expect(j.axes).toEqual(['sample b', 'time t', 'output o', 'parameter k']);
    expect(yy.shape).toEqual([2, 3, 4]);
    expect(yy.dtype).toBe('<f');
    expect(Array.from(yy.value as Float32Array)).toEqual(Array.from(y));
    expect(yy.axes).toEqual(['b', 't', 'o']);
  });

  it('is read through the engine as data, rows included', () => {
    const x = Float64Array.from({ length: 6 * 7 }, (_, i) => i - 20.5);
    const bytes = assemble([{ name: 'x', shape: [6, 7], dtype: 'float64' }], [x]);
    const src = openHdf5(bytes, 'stream.h5');
    try {
      expect(src.variables()).toEqual([{ name: '/x', shape: [6, 7], dtype: 'float64' }]);
      expect(Array.from(src.readRows('/x', 2, 3).data)).toEqual(Array.from(x.subarray(14, 35)));
    } finally {
      src.close();
    }
  });

  it('holds empty and scalar datasets', () => {
    const got = readBack(
      assemble(
        [
          { name: 'empty', shape: [0, 3], dtype: 'float64' },
          { name: 'one', shape: [], dtype: 'float64' },
        ],
        [new Float64Array(0), Float64Array.of(2.5)],
      ),
      ['empty', 'one'],
    );
    expect(got.sets[0].shape).toEqual([0, 3]);
    expect(got.sets[1].value).toBe(2.5);
  });

  it('is refused by the library when a checksum is wrong (the checksums are checked, so they are right above)', () => {
    const bytes = assemble([{ name: 'x', shape: [2], dtype: 'float64' }], [Float64Array.of(1, 2)]);
    const { header } = hdf5StreamLayout([{ name: 'x', shape: [2], dtype: 'float64' }]);
    // Flip a byte of the dataset's object header (its name is in the root's link; its dataspace follows).
    const at = header.length - 20;
    bytes[at] ^= 0xff;
    expect(() => readBack(bytes, ['x'])).toThrow();
  });

  it('refuses names, shapes and axis lists it cannot write', () => {
    expect(() => hdf5StreamLayout([])).toThrow(/at least one/);
    expect(() => hdf5StreamLayout([{ name: 'a/b', shape: [1], dtype: 'float64' }])).toThrow(
      /not a dataset name/,
    );
    expect(() => hdf5StreamLayout([{ name: 'a', shape: [1.5], dtype: 'float64' }])).toThrow(
      /not a list of sizes/,
    );
    expect(() => hdf5StreamLayout([{ name: 'a', shape: [1, 2], dtype: 'float64', axes: ['t'] }])).toThrow(
      /2 axes but 1 axis names/,
    );
    expect(() =>
      hdf5StreamLayout([
        { name: 'a', shape: [1], dtype: 'float64' },
        { name: 'a', shape: [2], dtype: 'float64' },
      ]),
    ).toThrow(/two datasets/);
  });
});
