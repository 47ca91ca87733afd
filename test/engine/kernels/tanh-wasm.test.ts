import { afterEach, describe, expect, it, vi } from 'vitest';
import { tanh } from '../../../src/engine/kernels/tanh';
import { tanhInto } from '../../../src/engine/kernels/tanh-wasm';
import { wasmKernels } from '../../../src/engine/kernels/wasm-module';

/** Deterministic uniform [0, 1) stream, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 12;
    return (s >>> 0) / 2 ** 32;
  };
}

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);

/** The double `k` ulps from x (toward +∞ for k > 0 when x ≥ 0, away from zero in magnitude). */
function ulps(x: number, k: number): number {
  f64[0] = x;
  u64[0] += BigInt(k);
  return f64[0];
}

function fromBits(bits: bigint): number {
  u64[0] = bits;
  return f64[0];
}

const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));

/** x and its neighbours up to `k` ulps either side, both signs. */
function around(x: number, k = 4): number[] {
  const out: number[] = [];
  for (let i = -k; i <= k; i++) out.push(ulps(x, i), -ulps(x, i));
  return out;
}

/**
 * tanhInto over `xs` against the scalar tanh, bit for bit; returns the first mismatches (at most 5) as
 * readable strings so a failure says where.
 */
function mismatches(xs: ArrayLike<number>): string[] {
  const src = Float64Array.from(xs);
  const got = new Float64Array(src.length);
  tanhInto(src, 0, got, 0, src.length);
  const want = src.map(tanh);
  const g = new BigUint64Array(got.buffer);
  const w = new BigUint64Array(want.buffer);
  const bad: string[] = [];
  for (let i = 0; i < src.length && bad.length < 5; i++) {
    // NaN compares by Object.is: the scalar tanh returns its argument, but a NaN's payload need not
    // survive a trip through a JS number.
    if (g[i] !== w[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i])))
      bad.push(`tanh(${show(src[i])}): wasm ${show(got[i])}, scalar ${show(want[i])}`);
  }
  return bad;
}

describe('tanhInto (WebAssembly SIMD)', () => {
  it('runs in WebAssembly here, so the comparisons below test the module', () => {
    expect(wasmKernels()).not.toBeNull();
  });

  it('equals the scalar tanh on a dense sweep of [−25, 25]', () => {
    const step = 2 ** -16;
    const xs = new Float64Array(50 / step + 1);
    for (let i = 0; i < xs.length; i++) xs[i] = -25 + i * step;
    expect(mismatches(xs)).toEqual([]);
  });

  it('equals it at the branch cut-offs and where exp’s exponent n steps', () => {
    const xs = [...around(0.625), ...around(19.1)];
    // n = floor(LOG2E·2|x| + 0.5) steps at |x| = (n − ½)·ln2/2, for every n the exp path reaches
    for (let n = 1; n <= 57; n++) xs.push(...around(((n - 0.5) * Math.LN2) / 2, 2));
    expect(mismatches(xs)).toEqual([]);
  });

  it('equals it on zeros, tiny and huge values, ±Infinity and NaN', () => {
    const xs = [
      0,
      -0,
      5e-324,
      -5e-324,
      1e-300,
      -1e-300,
      1e-160,
      2.2250738585072014e-308,
      1e-8,
      ...around(2.2250738585072014e-308, 2),
      1e300,
      -1e300,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      Infinity,
      -Infinity,
      NaN,
      fromBits(0xfff8000000000000n), // NaN with the sign bit
      fromBits(0x7ff0000000000001n), // signalling NaN
      fromBits(0x7ff8dead0000beefn), // NaN with a payload
    ];
    expect(mismatches(xs)).toEqual([]);
    // the properties the list is there for, checked directly too
    const out = new Float64Array(4);
    tanhInto(Float64Array.of(-0, 0, -Infinity, NaN), 0, out, 0, 4);
    expect(Object.is(out[0], -0)).toBe(true);
    expect(Object.is(out[1], 0)).toBe(true);
    expect(out[2]).toBe(-1);
    expect(out[3]).toBeNaN();
  });

  it('equals it on millions of random values of every magnitude', () => {
    const rand = rng(20240611);
    const n = 3_000_000;
    const xs = new Float64Array(n);
    for (let i = 0; i < n; i += 3) {
      xs[i] = (rand() - 0.5) * 50; // uniform on [−25, 25]
      xs[i + 1] = (rand() < 0.5 ? -1 : 1) * 2 ** (rand() * 1100 - 1070); // log-uniform, 1e-322 … 1e9
      // any bit pattern: every exponent, subnormals, infinities and NaNs included
      xs[i + 2] = fromBits(
        (BigInt(Math.floor(rand() * 2 ** 32)) << 32n) | BigInt(Math.floor(rand() * 2 ** 32)),
      );
    }
    expect(mismatches(xs)).toEqual([]);
  });

  it('handles every length and offset, and writes nothing outside the range', () => {
    const rand = rng(7);
    for (const n of [0, 1, 2, 3, 4, 5, 63, 64, 65, 4095, 4096, 4097, 8193]) {
      for (const [srcOff, dstOff] of [
        [0, 0],
        [1, 0],
        [0, 3],
        [5, 2],
      ]) {
        const src = Float64Array.from({ length: srcOff + n + 3 }, () => (rand() - 0.5) * 8);
        const dst = Float64Array.from({ length: dstOff + n + 3 }, () => rand());
        const before = dst.slice();
        tanhInto(src, srcOff, dst, dstOff, n);
        for (let i = 0; i < dst.length; i++) {
          const j = i - dstOff;
          const want = j >= 0 && j < n ? tanh(src[srcOff + j]) : before[i];
          if (!Object.is(dst[i], want))
            expect.fail(`n=${n} srcOff=${srcOff} dstOff=${dstOff}: dst[${i}] = ${dst[i]}, want ${want}`);
        }
      }
    }
  });

  it('works in place', () => {
    const rand = rng(3);
    const a = Float64Array.from({ length: 9000 }, () => (rand() - 0.5) * 10);
    const want = a.map(tanh);
    tanhInto(a, 0, a, 0, a.length);
    expect(a).toEqual(want);
  });

  it('refuses ranges that do not fit the arrays', () => {
    const a = new Float64Array(10);
    expect(() => tanhInto(a, 5, a, 0, 6)).toThrow(RangeError);
    expect(() => tanhInto(a, 0, a, 5, 6)).toThrow(RangeError);
  });
});

describe('tanhInto without WebAssembly', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.resetModules();
  });

  it('falls back to the scalar loop', async () => {
    vi.resetModules();
    vi.stubGlobal('WebAssembly', undefined);
    const mod = await import('../../../src/engine/kernels/wasm-module');
    const { tanhInto: fallback } = await import('../../../src/engine/kernels/tanh-wasm');
    expect(mod.wasmKernels()).toBeNull();
    const src = Float64Array.of(-0, 0.3, -0.7, 2, -20, Infinity, NaN);
    const out = new Float64Array(src.length + 1);
    fallback(src, 0, out, 1, src.length);
    expect(out[0]).toBe(0);
    for (let i = 0; i < src.length; i++) expect(Object.is(out[i + 1], tanh(src[i]))).toBe(true);
  });
});
