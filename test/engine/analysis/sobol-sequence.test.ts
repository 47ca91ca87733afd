/**
 * The sampling under Sobol' indices: Joe–Kuo direction numbers, the Sobol' sequence against
 * published and independently generated points, its stratification (raw and Owen-scrambled),
 * Philox against Random123's known answers, and the inverse normal CDF against reference values.
 */
import { describe, expect, it } from 'vitest';
import {
  SOBOL_MAX_DIMS,
  directionNumbers,
  directionTable,
} from '../../../src/engine/analysis/sobol/direction-numbers';
import { inverseNormalCdf } from '../../../src/engine/analysis/sobol/inverse-normal';
import { philox } from '../../../src/engine/analysis/sobol/philox';
import { unitSamples } from '../../../src/engine/analysis/sobol/sampler';
import { owenScramble } from '../../../src/engine/analysis/sobol/scramble';
import { sobolIntegers, sobolPoints } from '../../../src/engine/analysis/sobol/sequence';

/** x^e mod the polynomial f over GF(2) (bits; f of degree s). */
function powMod(e: number, f: number, s: number): number {
  let result = 1;
  let base = 2;
  const reduce = (a: number) => {
    for (let b = 2 * s; b >= s; b--) if ((a >>> b) & 1) a ^= f << (b - s);
    return a;
  };
  const mul = (a: number, b: number) => {
    let r = 0;
    for (let i = 0; i < s; i++) if ((b >>> i) & 1) r ^= a << i;
    return reduce(r);
  };
  base = reduce(base);
  while (e > 0) {
    if (e & 1) result = mul(result, base);
    base = mul(base, base);
    e = Math.floor(e / 2);
  }
  return result;
}

/** f of degree s is primitive iff x has order exactly 2^s − 1 modulo f. */
function isPrimitive(f: number, s: number): boolean {
  const order = 2 ** s - 1;
  if (powMod(order, f, s) !== 1) return false;
  for (let q = 2; q <= order; q++) {
    if (order % q !== 0) continue;
    let prime = true;
    for (let d = 2; d * d <= q; d++) if (q % d === 0) prime = false;
    if (prime && powMod(order / q, f, s) === 1) return false;
  }
  return true;
}

describe('Joe–Kuo direction numbers', () => {
  const table = directionTable();
  it(`has ${SOBOL_MAX_DIMS} dimensions: enough for 2·P with P up to 128`, () => {
    expect(table.length).toBe(256);
    expect(SOBOL_MAX_DIMS / 2).toBeGreaterThanOrEqual(64);
  });
  it('every polynomial is primitive, in order of degree, distinct; every m_k odd and below 2^k', () => {
    const seen = new Set<number>();
    let lastDegree = 0;
    for (const { poly, m } of table.slice(1)) {
      const s = m.length;
      expect(Math.floor(Math.log2(poly))).toBe(s);
      expect(s).toBeGreaterThanOrEqual(lastDegree);
      lastDegree = s;
      expect(poly & 1).toBe(1);
      expect(isPrimitive(poly, s)).toBe(true);
      expect(seen.has(poly)).toBe(false);
      seen.add(poly);
      m.forEach((mk, k) => {
        expect(mk % 2).toBe(1);
        expect(mk).toBeLessThan(2 ** (k + 1));
      });
    }
    // The number of primitive polynomials of degree s is φ(2^s − 1)/s: 1, 1, 2, 2, 6, 6, 18, 16, 48, 60.
    const perDegree = [0, 1, 1, 2, 2, 6, 6, 18, 16, 48, 60];
    for (let s = 1; s <= 10; s++) expect(table.filter((r) => r.m.length === s).length).toBe(perDegree[s]);
  });
  it('the first rows are those of the published table', () => {
    // new-joe-kuo-6.21201: "d s a m_i": 2 1 0 1 / 3 2 1 1 3 / 4 3 1 1 3 1 / 5 3 2 1 1 1 / 6 4 1 1 1 3 3 / 7 4 4 1 3 5 13
    const rows = [
      [1, 0, [1]],
      [2, 1, [1, 3]],
      [3, 1, [1, 3, 1]],
      [3, 2, [1, 1, 1]],
      [4, 1, [1, 1, 3, 3]],
      [4, 4, [1, 3, 5, 13]],
    ] as const;
    rows.forEach(([s, a, m], i) => {
      const { poly, m: got } = table[i + 1];
      expect(poly).toBe((1 << s) | (a << 1) | 1);
      expect(got).toEqual(m);
    });
    expect(directionNumbers(1)[0]).toBe(2 ** 31);
  });
});

describe("the Sobol' sequence", () => {
  it('first points of dimensions 1 and 2 are the published ones', () => {
    const want = [
      0, 0, 0.5, 0.5, 0.75, 0.25, 0.25, 0.75, 0.375, 0.375, 0.875, 0.875, 0.625, 0.125, 0.125, 0.625,
    ];
    expect(Array.from(sobolPoints(2, 0, 8))).toEqual(want);
  });
  it('matches an independent generator (SciPy 1.17, scramble=False, bits=32) up to dimension 256', () => {
    // x·2^32 at points i of dimensions 1, 2, 3, 10, 50, 100, 128, 200, 256.
    const dims = [1, 2, 3, 10, 50, 100, 128, 200, 256];
    const ref: Record<number, number[]> = {
      1: [
        2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648, 2147483648,
        2147483648,
      ],
      2: [
        3221225472, 1073741824, 1073741824, 3221225472, 3221225472, 3221225472, 1073741824, 1073741824,
        3221225472,
      ],
      5: [
        3758096384, 3758096384, 536870912, 536870912, 3758096384, 1610612736, 536870912, 1610612736,
        3758096384,
      ],
      100: [
        1778384896, 1107296256, 3321888768, 2986344448, 2852126720, 3791650816, 1979711488, 570425344,
        2449473536,
      ],
      1000: [
        943718400, 415236096, 2227175424, 297795584, 2059403264, 801112064, 2336227328, 3619684352,
        1069547520,
      ],
      4095: [
        1048576, 4042260480, 1435500544, 1058013184, 2609905664, 4134535168, 1123024896, 3566206976,
        2632974336,
      ],
    };
    const x = sobolIntegers(256, 0, 4096);
    for (const [i, row] of Object.entries(ref))
      expect(dims.map((d) => x[Number(i) * 256 + d - 1])).toEqual(row);
  });
  it('starts at any index: a stretch equals the same rows of one long run', () => {
    const all = sobolIntegers(40, 0, 3000);
    for (const [start, count] of [
      [1, 5],
      [1023, 2],
      [1777, 600],
    ])
      expect(sobolIntegers(40, start, count)).toEqual(all.subarray(start * 40, (start + count) * 40));
  });
  it('every 1-D projection of the first 2^m points is stratified: one point per interval of 2^-m', () => {
    const dims = 256;
    for (const m of [4, 8, 10]) {
      const x = sobolIntegers(dims, 0, 2 ** m);
      for (let d = 0; d < dims; d++) {
        const cells = new Uint8Array(2 ** m);
        for (let i = 0; i < 2 ** m; i++) cells[x[i * dims + d] >>> (32 - m)]++;
        expect(cells.every((c) => c === 1)).toBe(true);
      }
    }
  });
  it('the first two dimensions form a (0,m,2)-net: one point in every elementary box of area 2^-m', () => {
    const m = 8;
    const x = sobolIntegers(2, 0, 2 ** m);
    for (let a = 0; a <= m; a++) {
      // Boxes [i·2^-a, (i+1)·2^-a) × [j·2^-(m-a), (j+1)·2^-(m-a)).
      const top = (v: number, bits: number) => Math.floor(v / 2 ** (32 - bits));
      const counts = new Uint16Array(2 ** m);
      for (let i = 0; i < 2 ** m; i++) counts[top(x[2 * i], a) * 2 ** (m - a) + top(x[2 * i + 1], m - a)]++;
      expect(counts.every((c) => c === 1)).toBe(true);
    }
  });
});

describe('Owen scrambling and the unit samples', () => {
  it('scrambling is a bijection that keeps the nesting: points sharing k top bits still share k top bits', () => {
    const seen = new Set<number>();
    for (let x = 0; x < 4096; x++) seen.add(owenScramble(x << 20, 0x1234, 0x5678) >>> 20);
    expect(seen.size).toBe(4096);
    const a = owenScramble(0b1011 << 28, 7, 9);
    const b = owenScramble((0b1011 << 28) | 12345, 7, 9);
    expect(a >>> 28).toBe(b >>> 28);
  });
  it('scrambled 2^m points keep one point per interval of 2^-m in every dimension, never 0 or 1', () => {
    const dims = 128;
    const n = 1024;
    const u = unitSamples('sobol', 42, dims, 0, n);
    for (let d = 0; d < dims; d++) {
      const cells = new Uint8Array(n);
      for (let i = 0; i < n; i++) cells[Math.floor(u[i * dims + d] * n)]++;
      expect(cells.every((c) => c === 1)).toBe(true);
    }
    expect(u.every((v) => v > 0 && v < 1)).toBe(true);
  });
  it('the seed changes the points; the same seed gives them again; any range is the same rows', () => {
    const a = unitSamples('sobol', 1, 6, 0, 512);
    expect(unitSamples('sobol', 1, 6, 0, 512)).toEqual(a);
    expect(unitSamples('sobol', 2, 6, 0, 512)).not.toEqual(a);
    expect(unitSamples('sobol', 1, 6, 100, 50)).toEqual(a.subarray(600, 900));
    const r = unitSamples('random', 3, 5, 0, 400);
    expect(unitSamples('random', 3, 5, 123, 77)).toEqual(r.subarray(615, 1000));
  });
  it('random samples are uniform: mean, variance and a Kolmogorov–Smirnov distance at n = 20000', () => {
    const n = 20000;
    const u = unitSamples('random', 7, 1, 0, n);
    const mean = u.reduce((a, b) => a + b, 0) / n;
    const v = u.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean - 0.5)).toBeLessThan(4 * Math.sqrt(1 / 12 / n));
    expect(Math.abs(v - 1 / 12)).toBeLessThan(0.003);
    const s = Float64Array.from(u).sort();
    let D = 0;
    for (let i = 0; i < n; i++) D = Math.max(D, Math.abs(s[i] - (i + 0.5) / n));
    expect(D).toBeLessThan(1.63 / Math.sqrt(n)); // the 1% critical value
  });
  it("Philox4x32-10 gives Random123's known answers", () => {
    const hex = (w: Uint32Array) => Array.from(w, (x) => x.toString(16).padStart(8, '0')).join(' ');
    expect(hex(philox(0, 0, 0, 0, 0, 0))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    const F = 0xffffffff;
    expect(hex(philox(F, F, F, F, F, F))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });
});

describe('the inverse normal CDF (AS 241)', () => {
  it('matches reference quantiles to 1e-15 relative in all three ranges', () => {
    // SciPy's ndtri (Cephes) at these probabilities.
    const ref: [number, number][] = [
      [0.5, 0],
      [0.975, 1.959963984540054],
      [0.841344746068543, 1],
      [0.1, -1.2815515655446004],
      [0.3, -0.5244005127080409],
      [0.925, 1.4395314709384563],
      [0.02, -2.053748910631823],
      [1e-5, -4.264890793922825],
      [1e-10, -6.361340902404056],
      [1e-20, -9.262340089798409],
      [1e-100, -21.273453560965322],
      [1e-300, -37.0470962993612],
      [1 - 1e-10, 6.361340889697422],
    ];
    for (const [u, x] of ref)
      expect(Math.abs(inverseNormalCdf(u) - x)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(x)));
  });
  it('is odd about 1/2, infinite at 0 and 1, NaN outside', () => {
    for (const u of [0.01, 0.2, 0.4, 0.49])
      expect(inverseNormalCdf(1 - u)).toBeCloseTo(-inverseNormalCdf(u), 14);
    expect(inverseNormalCdf(0)).toBe(-Infinity);
    expect(inverseNormalCdf(1)).toBe(Infinity);
    expect(inverseNormalCdf(1.5)).toBeNaN();
    expect(inverseNormalCdf(NaN)).toBeNaN();
  });
});
