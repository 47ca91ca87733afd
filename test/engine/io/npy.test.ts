import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fortranToC, halfToNumber, readNpy, writeNpy } from '../../../src/engine/io/npy';
import {
  buildNpy,
  expectLoadError,
  fixture,
  hasNumpy,
  loadsOrLoadError,
  npyDict,
  packed,
  prng,
  python,
} from './helpers';

const f32 = (v: number[], le = true) => packed(v, 4, (dv, o, x: number) => dv.setFloat32(o, x, le));
const f64 = (v: number[], le = true) => packed(v, 8, (dv, o, x: number) => dv.setFloat64(o, x, le));

describe('readNpy: fixtures', () => {
  const meta = JSON.parse(new TextDecoder().decode(fixture('seed-fno1d/meta.json')));
  it.each(['x.npy', 'p.npy', 'y_f64.npy', 'jacobian_f64.npy', 'p4.npy', 'x4.npy'])(
    '%s has the shape and dtype numpy wrote',
    (name) => {
      const bytes = fixture(`seed-fno1d/${name}`);
      const t = readNpy(bytes, name);
      expect(t.dtype).toBe(name.includes('f64') ? 'float64' : 'float32');
      expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
      // The data follows a 128-byte header in these files; spot-check the first and last values.
      const dv = new DataView(bytes.buffer, bytes.byteOffset);
      const item = t.dtype === 'float64' ? 8 : 4;
      const get = (i: number) =>
        item === 8 ? dv.getFloat64(128 + 8 * i, true) : dv.getFloat32(128 + 4 * i, true);
      expect(bytes.length).toBe(128 + t.data.length * item);
      expect(t.data[0]).toBe(get(0));
      expect(t.data[t.data.length - 1]).toBe(get(t.data.length - 1));
      // meta.json records what numpy wrote.
      expect(meta.files[name]).toEqual({ shape: t.shape, dtype: t.dtype });
    },
  );
  it('x is [1,601,20], p is [1,14], jacobian is [1,601,15,14]', () => {
    expect(readNpy(fixture('seed-fno1d/x.npy'), 'x.npy').shape).toEqual([1, 601, 20]);
    expect(readNpy(fixture('seed-fno1d/p.npy'), 'p.npy').shape).toEqual([1, 14]);
    expect(readNpy(fixture('seed-fno1d/p4.npy'), 'p4.npy').shape).toEqual([4, 14]);
    expect(readNpy(fixture('seed-fno1d/jacobian_f64.npy'), 'j.npy').shape).toEqual([1, 601, 15, 14]);
  });
  it('reads a view into a larger buffer at an odd offset', () => {
    const src = fixture('seed-fno1d/p.npy');
    const big = new Uint8Array(src.length + 3);
    big.set(src, 3);
    const t = readNpy(big.subarray(3), 'p.npy');
    expect(Array.from(t.data)).toEqual(Array.from(readNpy(src, 'p.npy').data));
  });
});

describe('readNpy: dtypes', () => {
  const vals = [0, 1, -2.5, 3.25, 1e10, -1e-10];
  it('float32 and float64, little and big endian', () => {
    for (const le of [true, false]) {
      const o = le ? '<' : '>';
      const a = readNpy(buildNpy(npyDict(`${o}f4`, [2, 3]), f32(vals, le)), 'a.npy');
      expect(a.dtype).toBe('float32');
      expect(a.shape).toEqual([2, 3]);
      expect(Array.from(a.data)).toEqual(vals.map(Math.fround));
      const b = readNpy(buildNpy(npyDict(`${o}f8`, [6]), f64(vals, le)), 'b.npy');
      expect(b.dtype).toBe('float64');
      expect(Array.from(b.data)).toEqual(vals);
    }
  });
  it("'=' and '|' byte orders read as little-endian", () => {
    expect(Array.from(readNpy(buildNpy(npyDict('=f8', [2]), f64([1, 2])), 'a').data)).toEqual([1, 2]);
    expect(Array.from(readNpy(buildNpy(npyDict('|u1', [2]), Uint8Array.of(7, 255)), 'a').data)).toEqual([
      7, 255,
    ]);
  });
  it('float16, including subnormals, infinities and NaN', () => {
    const bits = [0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x7e00, 0x8000, 0x3555];
    const expected = [1, -2, 0.5, 65504, 2 ** -24, Infinity, -Infinity, NaN, -0, 0.333251953125];
    for (const le of [true, false]) {
      const t = readNpy(
        buildNpy(
          npyDict(le ? '<f2' : '>f2', [10]),
          packed(bits, 2, (dv, o, x: number) => dv.setUint16(o, x, le)),
        ),
        'h.npy',
      );
      expect(t.dtype).toBe('float16');
      expect(Array.from(t.data)).toEqual(expected);
    }
    expect(halfToNumber(0x0400)).toBe(2 ** -14);
  });
  const ints: [string, number, number[], (dv: DataView, o: number, v: number, le: boolean) => void][] = [
    ['i1', 1, [-128, 0, 127], (dv, o, v) => dv.setInt8(o, v)],
    ['u1', 1, [0, 200, 255], (dv, o, v) => dv.setUint8(o, v)],
    ['i2', 2, [-32768, -1, 32767], (dv, o, v, le) => dv.setInt16(o, v, le)],
    ['u2', 2, [0, 40000, 65535], (dv, o, v, le) => dv.setUint16(o, v, le)],
    ['i4', 4, [-(2 ** 31), -5, 2 ** 31 - 1], (dv, o, v, le) => dv.setInt32(o, v, le)],
    ['u4', 4, [0, 3e9, 2 ** 32 - 1], (dv, o, v, le) => dv.setUint32(o, v, le)],
    ['i8', 8, [-(2 ** 53), -7, 2 ** 53], (dv, o, v, le) => dv.setBigInt64(o, BigInt(v), le)],
    ['u8', 8, [0, 2 ** 40, 2 ** 53], (dv, o, v, le) => dv.setBigUint64(o, BigInt(v), le)],
  ];
  it.each(ints)('%s in both byte orders', (code, size, values, set) => {
    for (const le of [true, false]) {
      const order = size === 1 ? '|' : le ? '<' : '>';
      const payload = packed(values, size, (dv, o, v: number) => set(dv, o, v, le));
      const t = readNpy(buildNpy(npyDict(order + code, [3]), payload), 'i.npy');
      expect(Array.from(t.data)).toEqual(values);
    }
  });
  it('int64 beyond 2^53 rounds like numpy astype(float)', () => {
    const payload = packed([2n ** 63n - 1n], 8, (dv, o, v: bigint) => dv.setBigInt64(o, v, true));
    expect(readNpy(buildNpy(npyDict('<i8', [1]), payload), 'a').data[0]).toBe(2 ** 63);
  });
  it('bool (b1 and ?)', () => {
    const t = readNpy(buildNpy(npyDict('|b1', [4]), Uint8Array.of(0, 1, 1, 0)), 'b.npy');
    expect(t.dtype).toBe('bool');
    expect(Array.from(t.data)).toEqual([0, 1, 1, 0]);
    expect(Array.from(readNpy(buildNpy(npyDict('?', [2]), Uint8Array.of(1, 0)), 'b').data)).toEqual([1, 0]);
  });
  it('complex64 and complex128, both byte orders', () => {
    for (const le of [true, false]) {
      const o = le ? '<' : '>';
      const c8 = readNpy(buildNpy(npyDict(`${o}c8`, [2]), f32([1, 2, -3, 0.5], le)), 'c.npy');
      expect(c8.dtype).toBe('complex64');
      expect(Array.from(c8.data)).toEqual([1, -3]);
      expect(Array.from(c8.imag!)).toEqual([2, 0.5]);
      const c16 = readNpy(buildNpy(npyDict(`${o}c16`, [1, 2]), f64([0.1, 0.2, 0.3, 0.4], le)), 'c.npy');
      expect(c16.dtype).toBe('complex128');
      expect(c16.shape).toEqual([1, 2]);
      expect(Array.from(c16.data)).toEqual([0.1, 0.3]);
      expect(Array.from(c16.imag!)).toEqual([0.2, 0.4]);
    }
  });
  it('a 0-d array (shape ()) is a scalar', () => {
    const t = readNpy(buildNpy(npyDict('<f8', []), f64([42])), 's.npy');
    expect(t.shape).toEqual([]);
    expect(Array.from(t.data)).toEqual([42]);
  });
  it('empty arrays, including ones with a huge dimension next to a zero', () => {
    expect(readNpy(buildNpy(npyDict('<f4', [0, 5]), new Uint8Array(0)), 'e').shape).toEqual([0, 5]);
    const t = readNpy(
      buildNpy(
        `{'descr': '<f8', 'fortran_order': False, 'shape': (0, 9007199254740991), }`,
        new Uint8Array(0),
      ),
      'e',
    );
    expect(t.data.length).toBe(0);
  });
});

describe('readNpy: layout and header variants', () => {
  it('Fortran order is returned in C order', () => {
    const shape = [2, 3, 4];
    const c = (i: number, j: number, k: number) => 100 * i + 10 * j + k;
    const fvals: number[] = [];
    for (let k = 0; k < 4; k++)
      for (let j = 0; j < 3; j++) for (let i = 0; i < 2; i++) fvals.push(c(i, j, k));
    const t = readNpy(buildNpy(npyDict('<f8', shape, true), f64(fvals)), 'f.npy');
    expect(t.shape).toEqual(shape);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) expected.push(c(i, j, k));
    expect(Array.from(t.data)).toEqual(expected);
    // complex Fortran: both parts reordered
    const cf = readNpy(buildNpy(npyDict('<c16', [2, 2], true), f64([1, -1, 2, -2, 3, -3, 4, -4])), 'cf');
    expect(Array.from(cf.data)).toEqual([1, 3, 2, 4]);
    expect(Array.from(cf.imag!)).toEqual([-1, -3, -2, -4]);
  });
  it('fortranToC leaves 1-D data alone and transposes 2-D', () => {
    expect(Array.from(fortranToC(Float64Array.of(1, 2, 3), [3]))).toEqual([1, 2, 3]);
    expect(Array.from(fortranToC(Float64Array.of(1, 2, 3, 4, 5, 6), [2, 3]))).toEqual([1, 3, 5, 2, 4, 6]);
  });
  it('versions 2.0 and 3.0', () => {
    const v2 = readNpy(buildNpy(npyDict('<f4', [2]), f32([1, 2]), 2), 'v2.npy');
    expect(Array.from(v2.data)).toEqual([1, 2]);
    const v3 = readNpy(buildNpy(npyDict('<f4', [2]), f32([1, 2]), 3, true), 'v3.npy');
    expect(Array.from(v3.data)).toEqual([1, 2]);
    // A 3.0 header with a non-ASCII character, written as UTF-8 (inside an ignorable string escape form).
    const v3u = buildNpy(`{'descr': u'<f4', 'fortran_order': False, 'shape': (2,), }`, f32([5, 6]), 3, true);
    expect(Array.from(readNpy(v3u, 'v3u').data)).toEqual([5, 6]);
    const badUtf8 = buildNpy(npyDict('<f4', [2]), f32([1, 2]), 3);
    badUtf8[20] = 0xff;
    expectLoadError(() => readNpy(badUtf8, 'bad.npy'), /not valid text/);
  });
  it('accepts header spellings numpy has used: double quotes, key order, Python 2 longs, no trailing comma', () => {
    const h = `{"shape": (2L, 1L), "fortran_order": False, "descr": "<f8"}`;
    expect(readNpy(buildNpy(h, f64([1, 2])), 'a').shape).toEqual([2, 1]);
  });
  it('trailing bytes after the data are ignored (np.load does the same)', () => {
    const t = readNpy(buildNpy(npyDict('<f8', [1]), f64([1, 99])), 'a');
    expect(Array.from(t.data)).toEqual([1]);
  });
});

describe('readNpy: hostile and broken input', () => {
  const good = buildNpy(npyDict('<f4', [2, 3]), f32([1, 2, 3, 4, 5, 6]));
  it('throws LoadError at every truncation', () => {
    for (let n = 0; n < good.length; n++) expectLoadError(() => readNpy(good.slice(0, n), 'cut.npy'));
  });
  it('never throws anything but LoadError on corrupted bytes', () => {
    const rnd = prng(1);
    for (let trial = 0; trial < 3000; trial++) {
      const b = good.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      loadsOrLoadError(() => readNpy(b, 'fuzz.npy'));
    }
  });
  it('rejects a header claiming 10^12 elements before allocating', () => {
    const h = buildNpy(npyDict('<f8', [1000000, 1000000]), f64([1, 2]));
    expectLoadError(() => readNpy(h, 'huge.npy'), /truncated or corrupt.*\[1000000,1000000\]/);
    const h2 = buildNpy(npyDict('<f8', [2 ** 52, 2 ** 52, 2 ** 52]), f64([1]));
    expectLoadError(() => readNpy(h2, 'huge.npy'), /truncated or corrupt/);
    // a shape field past 2^53 (written as the literal digits numpy would read)
    // eslint-disable-next-line no-loss-of-precision
    const h3 = buildNpy(npyDict('<f8', [99999999999999999999]), f64([1]));
    expectLoadError(() => readNpy(h3, 'huge.npy'), /invalid shape/);
  });
  it('rejects object arrays (pickles) with an explanation', () => {
    const e = expectLoadError(() => readNpy(buildNpy(npyDict('|O', [2]), new Uint8Array(16)), 'obj.npy'));
    expect(e.message).toMatch(/^obj\.npy: holds Python objects.*pickle/);
  });
  it.each([
    [npyDict('<U5', [1]), /strings/],
    [`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`, /structured/],
    [npyDict('<M8', [1]), /dates/],
    [npyDict('<f16', [1]), /extended-precision/],
    [npyDict('<q9', [1]), /unknown dtype|unsupported dtype/],
    [`{'descr': '<f4', 'fortran_order': False}`, /expected exactly descr, fortran_order and shape/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}`, /keys/],
    [`{'descr': '<f4', 'fortran_order': 0, 'shape': (1,), }`, /fortran_order/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': [1], }`, /shape.*tuple/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (1.5,), }`, /malformed/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }`, /invalid shape/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': ('a',), }`, /integers/],
    [`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), } junk`, /malformed/],
    [`__import__('os').system('echo')`, /malformed/],
    [`{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}`, /twice/],
    ['('.repeat(100) + ')'.repeat(100), /nesting too deep/],
  ])('rejects header %s', (dict, msg) => {
    expectLoadError(() => readNpy(buildNpy(dict, new Uint8Array(64)), 'bad.npy'), msg);
  });
  it('names the problem for non-npy files and unknown versions', () => {
    expectLoadError(() => readNpy(new Uint8Array(0), 'e.npy'), /empty/);
    expectLoadError(() => readNpy(new TextEncoder().encode('a,b\n1,2\n'), 'x.npy'), /not a NumPy \.npy file/);
    const v9 = buildNpy(npyDict('<f4', [1]), f32([1]));
    v9[6] = 9;
    expectLoadError(() => readNpy(v9, 'v9.npy'), /version 9\.0/);
  });
});

describe('writeNpy', () => {
  it('round-trips float64 exactly and float32 to float32 precision', () => {
    const data = Float64Array.from({ length: 24 }, (_, i) => Math.sin(i) * 10 ** (i % 7));
    for (const dtype of ['float32', 'float64'] as const) {
      const bytes = writeNpy({ shape: [2, 3, 4], data }, dtype);
      expect(bytes.slice(0, 8)).toEqual(Uint8Array.of(0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0));
      const hlen = bytes[8] | (bytes[9] << 8);
      expect((10 + hlen) % 64).toBe(0);
      expect(bytes[10 + hlen - 1]).toBe(0x0a);
      const t = readNpy(bytes, 'rt.npy');
      expect(t.dtype).toBe(dtype);
      expect(t.shape).toEqual([2, 3, 4]);
      expect(Array.from(t.data)).toEqual(Array.from(data, dtype === 'float32' ? Math.fround : (x) => x));
    }
  });
  it('writes a float32 array as float32 or float64, also from a view into a larger buffer', () => {
    const whole = Float32Array.from({ length: 30 }, (_, i) => Math.fround(Math.cos(i) * 10 ** (i % 5)));
    const data = whole.subarray(3, 27); // byteOffset 12: the byte-copy path must honour it
    for (const dtype of ['float32', 'float64'] as const) {
      const t = readNpy(writeNpy({ shape: [4, 6], data }, dtype), 'f32.npy');
      expect(t.dtype).toBe(dtype);
      expect(Array.from(t.data)).toEqual(Array.from(data));
    }
    const f64 = Float64Array.from(data);
    expect(writeNpy({ shape: [24], data }, 'float32')).toEqual(
      writeNpy({ shape: [24], data: f64 }, 'float32'),
    );
  });
  it('writes numpy header text for 1-D and 0-d shapes', () => {
    const h1 = new TextDecoder().decode(
      writeNpy({ shape: [5], data: new Float64Array(5) }, 'float64').slice(10, 80),
    );
    expect(h1).toContain(`{'descr': '<f8', 'fortran_order': False, 'shape': (5,), }`);
    const s = writeNpy({ shape: [], data: Float64Array.of(3) }, 'float32');
    expect(new TextDecoder().decode(s.slice(10, 70))).toContain(`'shape': (), }`);
    expect(Array.from(readNpy(s, 's').data)).toEqual([3]);
  });
  it('keeps NaN, infinities and -0', () => {
    const t = readNpy(
      writeNpy({ shape: [4], data: Float64Array.of(NaN, Infinity, -Infinity, -0) }, 'float64'),
      'a',
    );
    expect(Array.from(t.data)).toEqual([NaN, Infinity, -Infinity, -0]);
  });
  it('rejects data that does not match the shape', () => {
    expect(() => writeNpy({ shape: [2, 2], data: new Float64Array(3) }, 'float64')).toThrow(/3 values/);
  });
});

// Optional cross-check against real numpy: skipped (visibly) where python3 + numpy are absent.
describe.skipIf(!hasNumpy())('readNpy/writeNpy vs numpy (python3 + numpy present)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-npy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('reads what numpy writes, and numpy reads what writeNpy writes', () => {
    python(
      `
import numpy as np
a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7 - 1
np.save('be.npy', a.astype('>f4'))
np.save('fo.npy', np.asfortranarray(a))
np.save('h.npy', a.astype(np.float16))
np.save('c.npy', (a + 1j * a.ravel()[::-1].reshape(a.shape)).astype(np.complex64))
np.save('i.npy', (a * 100).astype('>i8'))
np.save('b.npy', a > 0)
np.lib.format.write_array(open('v2.npy', 'wb'), a, version=(2, 0))
np.lib.format.write_array(open('v3.npy', 'wb'), a, version=(3, 0))
np.save('ref.npy', a)
`,
      dir,
    );
    const ref = readNpy(readFileSync(join(dir, 'ref.npy')), 'ref.npy');
    const read = (n: string) => readNpy(readFileSync(join(dir, n)), n);
    expect(Array.from(read('be.npy').data)).toEqual(Array.from(ref.data, Math.fround));
    expect(Array.from(read('fo.npy').data)).toEqual(Array.from(ref.data));
    expect(Array.from(read('v2.npy').data)).toEqual(Array.from(ref.data));
    expect(Array.from(read('v3.npy').data)).toEqual(Array.from(ref.data));
    read('h.npy').data.forEach((v, i) => expect(Math.abs(v - ref.data[i])).toBeLessThan(2e-3));
    const c = read('c.npy');
    expect(Array.from(c.imag!)).toEqual(Array.from(ref.data).reverse().map(Math.fround));
    expect(Array.from(read('i.npy').data)).toEqual(Array.from(ref.data, (v) => Math.trunc(v * 100)));
    expect(Array.from(read('b.npy').data)).toEqual(Array.from(ref.data, (v) => (v > 0 ? 1 : 0)));

    writeFileSync(join(dir, 'w32.npy'), writeNpy({ shape: ref.shape, data: ref.data }, 'float32'));
    writeFileSync(join(dir, 'w64.npy'), writeNpy({ shape: ref.shape, data: ref.data }, 'float64'));
    const out = python(
      `
import numpy as np
a = np.load('ref.npy')
print(np.array_equal(np.load('w64.npy'), a), np.array_equal(np.load('w32.npy'), a.astype(np.float32)), np.load('w32.npy').dtype)
`,
      dir,
    );
    expect(out.trim()).toBe('True True float32');
  });
});
