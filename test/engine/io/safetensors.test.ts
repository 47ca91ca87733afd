import { describe, expect, it } from 'vitest';
import { readSafetensors, writeSafetensors } from '../../../src/engine/io/safetensors';
import type { HostTensor } from '../../../src/engine/tensor';
import { ascii, concat, expectLoadError, fixture, loadsOrLoadError, packed, prng } from './helpers';

/** A safetensors file from a header object (serialized in key order) and a data section. */
function build(header: Record<string, unknown> | string, data: Uint8Array, pad = true): Uint8Array {
  let json = typeof header === 'string' ? header : JSON.stringify(header);
  if (pad) json += ' '.repeat((8 - (json.length % 8)) % 8);
  const h = ascii(json);
  const len = new Uint8Array(8);
  new DataView(len.buffer).setBigUint64(0, BigInt(h.length), true);
  return concat(len, h, data);
}

describe('readSafetensors: fixture model', () => {
  const bytes = fixture('seed-fno1d/model.safetensors');
  const { tensors, metadata } = readSafetensors(bytes, 'model.safetensors');
  it('has the state_dict names, in order, with their shapes', () => {
    expect([...tensors.keys()]).toEqual([
      'linear_p.weight',
      'linear_p.bias',
      'linear_scalar.weight',
      'linear_scalar.bias',
      'spect1.weights1',
      'lin0.weight',
      'lin0.bias',
      'linear_q.weight',
      'linear_q.bias',
      'output_layer.weight',
      'output_layer.bias',
    ]);
    expect(tensors.get('linear_p.weight')!.shape).toEqual([64, 20]);
    expect(tensors.get('linear_scalar.weight')!.shape).toEqual([64, 14]);
    expect(tensors.get('spect1.weights1')!.shape).toEqual([128, 64, 16]);
    expect(tensors.get('lin0.weight')!.shape).toEqual([64, 128, 1]);
    expect(tensors.get('output_layer.bias')!.shape).toEqual([15]);
    expect(tensors.get('linear_p.weight')!.dtype).toBe('float32');
  });
  it('has the config in __metadata__', () => {
    const config = JSON.parse(new TextDecoder().decode(fixture('seed-fno1d/config.json')));
    for (const [k, v] of Object.entries(config)) expect(metadata[k]).toBe(String(v));
    expect(metadata.format).toBe('pt');
  });
  it('complex64 values match the raw interleaved float32 bytes', () => {
    const w = tensors.get('spect1.weights1')!;
    expect(w.dtype).toBe('complex64');
    expect(w.imag!.length).toBe(128 * 64 * 16);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    const dataStart = 8 + Number(dv.getBigUint64(0, true));
    const begin = dataStart + 9216; // data_offsets of spect1.weights1 in the header
    for (const i of [0, 1, 777, 128 * 64 * 16 - 1]) {
      expect(w.data[i]).toBe(dv.getFloat32(begin + 8 * i, true));
      expect(w.imag![i]).toBe(dv.getFloat32(begin + 8 * i + 4, true));
    }
    // weights are 1/(cin*w) * U[0,1) in both parts
    expect(w.data.every((v) => v >= 0 && v < 1 / (128 * 64))).toBe(true);
    expect(w.imag!.every((v) => v >= 0 && v < 1 / (128 * 64))).toBe(true);
  });
});

describe('readSafetensors: dtypes', () => {
  it('reads every supported dtype', () => {
    const parts: Uint8Array[] = [];
    const header: Record<string, unknown> = { __metadata__: { note: 'hi', n: 3 } };
    let off = 0;
    const add = (name: string, dtype: string, shape: number[], b: Uint8Array) => {
      header[name] = { dtype, shape, data_offsets: [off, off + b.length] };
      parts.push(b);
      off += b.length;
    };
    add(
      'f16',
      'F16',
      [3],
      packed([0x3c00, 0xc000, 0x7c00], 2, (dv, o, v: number) => dv.setUint16(o, v, true)),
    );
    add(
      'bf16',
      'BF16',
      [2],
      packed([0x3f80, 0xc0a0], 2, (dv, o, v: number) => dv.setUint16(o, v, true)),
    );
    add(
      'f32',
      'F32',
      [2, 1],
      packed([1.5, -2], 4, (dv, o, v: number) => dv.setFloat32(o, v, true)),
    );
    add(
      'f64',
      'F64',
      [1],
      packed([0.1], 8, (dv, o, v: number) => dv.setFloat64(o, v, true)),
    );
    add(
      'c64',
      'C64',
      [2],
      packed([1, 2, 3, 4], 4, (dv, o, v: number) => dv.setFloat32(o, v, true)),
    );
    add('i8', 'I8', [2], Uint8Array.of(0xff, 5));
    add(
      'i16',
      'I16',
      [1],
      packed([-300], 2, (dv, o, v: number) => dv.setInt16(o, v, true)),
    );
    add(
      'i32',
      'I32',
      [1],
      packed([-70000], 4, (dv, o, v: number) => dv.setInt32(o, v, true)),
    );
    add(
      'i64',
      'I64',
      [1],
      packed([-(2n ** 40n)], 8, (dv, o, v: bigint) => dv.setBigInt64(o, v, true)),
    );
    add('u8', 'U8', [2], Uint8Array.of(0, 255));
    add('bool', 'BOOL', [3], Uint8Array.of(1, 0, 1));
    add('empty', 'F32', [0, 4], new Uint8Array(0));
    add(
      'scalar',
      'F64',
      [],
      packed([7], 8, (dv, o, v: number) => dv.setFloat64(o, v, true)),
    );
    const { tensors, metadata } = readSafetensors(build(header, concat(...parts)), 'all.safetensors');
    const vals = (n: string) => Array.from(tensors.get(n)!.data);
    expect(vals('f16')).toEqual([1, -2, Infinity]);
    expect(vals('bf16')).toEqual([1, -5]);
    expect(tensors.get('bf16')!.dtype).toBe('bfloat16');
    expect(vals('f32')).toEqual([1.5, -2]);
    expect(tensors.get('f32')!.shape).toEqual([2, 1]);
    expect(vals('f64')).toEqual([0.1]);
    expect(vals('c64')).toEqual([1, 3]);
    expect(Array.from(tensors.get('c64')!.imag!)).toEqual([2, 4]);
    expect(vals('i8')).toEqual([-1, 5]);
    expect(vals('i16')).toEqual([-300]);
    expect(vals('i32')).toEqual([-70000]);
    expect(vals('i64')).toEqual([-(2 ** 40)]);
    expect(vals('u8')).toEqual([0, 255]);
    expect(vals('bool')).toEqual([1, 0, 1]);
    expect(vals('empty')).toEqual([]);
    expect(vals('scalar')).toEqual([7]);
    expect(metadata).toEqual({ note: 'hi', n: '3' });
  });
  it('keeps header order even for integer-like names (which JSON.parse would move first)', () => {
    const f = (o: number) => ({ dtype: 'F32', shape: [], data_offsets: [o, o + 4] });
    const text = `{"b": ${JSON.stringify(f(0))}, "10": ${JSON.stringify(f(4))}, "a": ${JSON.stringify(f(8))}, "2": ${JSON.stringify(f(12))}}`;
    const { tensors } = readSafetensors(build(text, new Uint8Array(16)), 'o.safetensors');
    expect([...tensors.keys()]).toEqual(['b', '10', 'a', '2']);
  });
  it('accepts an unpadded header, unicode names and offsets that share data', () => {
    const h = {
      wé: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      v: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    };
    const { tensors } = readSafetensors(
      build(
        h,
        packed([2], 4, (dv, o, v: number) => dv.setFloat32(o, v, true)),
        false,
      ),
      'u',
    );
    expect(tensors.get('wé')!.data[0]).toBe(2);
    expect(tensors.get('v')!.data[0]).toBe(2);
  });
  it('keeps a "__proto__" metadata key as plain data', () => {
    const { metadata } = readSafetensors(
      build('{"__metadata__": {"__proto__": "x"}}', new Uint8Array(0)),
      'p',
    );
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.keys(metadata)).toEqual(['__proto__']);
  });
});

describe('readSafetensors: broken and hostile input', () => {
  const t1 = { w: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } };
  const good = build(t1, new Uint8Array(16));
  it('throws LoadError at every truncation', () => {
    for (let n = 0; n < good.length; n++)
      expectLoadError(() => readSafetensors(good.slice(0, n), 'cut.safetensors'));
  });
  it('never throws anything but LoadError on corrupted bytes', () => {
    const rnd = prng(2);
    for (let trial = 0; trial < 3000; trial++) {
      const b = good.slice();
      for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++)
        b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256);
      loadsOrLoadError(() => readSafetensors(b, 'fuzz.safetensors'));
    }
  });
  it.each([
    [
      { w: { dtype: 'F32', shape: [1000000, 1000000], data_offsets: [0, 16] } },
      /needs more bytes than the file holds/,
    ],
    [
      { w: { dtype: 'F32', shape: [3], data_offsets: [0, 16] } },
      /needs 12 bytes, but its data_offsets span 16/,
    ],
    [{ w: { dtype: 'F32', shape: [4], data_offsets: [8, 24] } }, /outside the data section/],
    [{ w: { dtype: 'F32', shape: [4], data_offsets: [8, 4] } }, /outside the data section/],
    [{ w: { dtype: 'F32', shape: [4], data_offsets: [0.5, 16] } }, /data_offsets/],
    [{ w: { dtype: 'F32', shape: [-4], data_offsets: [0, 16] } }, /invalid shape/],
    [{ w: { dtype: 'F32', shape: '4', data_offsets: [0, 16] } }, /shape/],
    [{ w: { dtype: 'F8_E4M3', shape: [16], data_offsets: [0, 16] } }, /dtype F8_E4M3.*supported: F16, BF16/],
    [{ w: { shape: [4], data_offsets: [0, 16] } }, /dtype/],
    [{ w: 5 }, /not an object/],
    [{ __metadata__: { a: [1] } }, /__metadata__/],
    [{ __metadata__: 'x' }, /__metadata__/],
    ['[1, 2]', /not a JSON object/],
    ['{"w": ', /not valid JSON/],
    [
      '{"a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}, "a": {"dtype": "F32", "shape": [], "data_offsets": [0, 4]}}',
      /twice/,
    ],
  ])('rejects header %j', (header, msg) => {
    expectLoadError(
      () => readSafetensors(build(header as Record<string, unknown>, new Uint8Array(16)), 'bad.safetensors'),
      msg,
    );
  });
  it('names the likely cause for non-safetensors files', () => {
    expectLoadError(() => readSafetensors(new Uint8Array(0), 'e.safetensors'), /empty/);
    expectLoadError(() => readSafetensors(fixture('seed-fno1d/model.pt'), 'model.pt'), /zip archive/);
    expectLoadError(() => readSafetensors(ascii('hello world, this is text'), 't'), /header length field/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    expectLoadError(() => readSafetensors(huge, 'h'), /header length field/);
  });
});

describe('writeSafetensors', () => {
  it('round-trips float32, float64 and complex64 with metadata, header 8-byte aligned', () => {
    const tensors = new Map<string, HostTensor>([
      ['a', { dtype: 'float32', shape: [2, 3], data: Float64Array.from([1, 2, 3, 4, 5, 6.1]) }],
      ['b', { dtype: 'float64', shape: [3], data: Float64Array.of(0.1, NaN, -Infinity) }],
      ['c', { dtype: 'complex64', shape: [2], data: Float64Array.of(1, 2), imag: Float64Array.of(-1, 0.25) }],
      ['0', { dtype: 'float64', shape: [], data: Float64Array.of(3) }],
    ]);
    const bytes = writeSafetensors(tensors, { architecture: 'fno1d-scalar', modes: '16' });
    const hlen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(hlen % 8).toBe(0);
    const back = readSafetensors(bytes, 'rt.safetensors');
    expect([...back.tensors.keys()]).toEqual(['a', 'b', 'c', '0']);
    expect(back.metadata).toEqual({ architecture: 'fno1d-scalar', modes: '16' });
    expect(Array.from(back.tensors.get('a')!.data)).toEqual([1, 2, 3, 4, 5, Math.fround(6.1)]);
    expect(back.tensors.get('a')!.shape).toEqual([2, 3]);
    expect(Array.from(back.tensors.get('b')!.data)).toEqual([0.1, NaN, -Infinity]);
    expect(back.tensors.get('c')!.dtype).toBe('complex64');
    expect(Array.from(back.tensors.get('c')!.imag!)).toEqual([-1, 0.25]);
    expect(Array.from(back.tensors.get('0')!.data)).toEqual([3]);
  });
  it('round-trips the fixture model byte for byte', () => {
    const bytes = fixture('seed-fno1d/model.safetensors');
    const { tensors, metadata } = readSafetensors(bytes, 'model.safetensors');
    const again = writeSafetensors(tensors, metadata);
    const back = readSafetensors(again, 'again');
    for (const [k, t] of tensors) {
      const b = back.tensors.get(k)!;
      expect(b.shape).toEqual(t.shape);
      expect(b.data.every((v, i) => v === t.data[i])).toBe(true);
    }
    expect(again.length).toBe(bytes.length);
    // The data sections agree exactly.
    const a = again.subarray(again.length - 1101116);
    const o = bytes.subarray(bytes.length - 1101116);
    expect(a.every((v, i) => v === o[i])).toBe(true);
  });
  it('refuses dtypes it does not write and mismatched data', () => {
    expect(() => writeSafetensors([['i', { dtype: 'int32', shape: [1], data: Float64Array.of(1) }]])).toThrow(
      /int32/,
    );
    expect(() =>
      writeSafetensors([['a', { dtype: 'float32', shape: [2], data: Float64Array.of(1) }]]),
    ).toThrow(/shape/);
    expect(() =>
      writeSafetensors([['c', { dtype: 'complex64', shape: [1], data: Float64Array.of(1) }]]),
    ).toThrow(/shape/);
  });
});
