/**
 * Sobol' indices against analytic values: Ishigami, Sobol's G function (two coefficient vectors)
 * and a linear model of normal inputs with a [T, O] output; every estimate within its own 95%
 * bootstrap interval of the truth at N = 8192 (fixed seed), and the DGSM bound holding.
 */
import { describe, expect, it } from 'vitest';
import { type Distribution, type SobolResult, sobol } from '../../../src/engine/analysis/sobol';

const PI = Math.PI;
const N = 8192;

/** Ishigami y = sin p0 + a sin² p1 + b p2⁴ sin p0 on U(−π, π)³, with its gradient. */
const ISH_A = 7;
const ISH_B = 0.1;
function ishigami(p: Float64Array, n: number, J?: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const [x0, x1, x2] = [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
    y[i] = Math.sin(x0) + ISH_A * Math.sin(x1) ** 2 + ISH_B * x2 ** 4 * Math.sin(x0);
    if (J) {
      J[3 * i] = Math.cos(x0) * (1 + ISH_B * x2 ** 4);
      J[3 * i + 1] = 2 * ISH_A * Math.sin(x1) * Math.cos(x1);
      J[3 * i + 2] = 4 * ISH_B * x2 ** 3 * Math.sin(x0);
    }
  }
  return y;
}

/** The G function Π (|4p_i − 2| + a_i)/(1 + a_i) on U(0, 1)^d, with its gradient. */
function gFunction(a: number[]) {
  const d = a.length;
  return (p: Float64Array, n: number, J?: Float64Array): Float64Array => {
    const y = new Float64Array(n);
    const g = new Float64Array(d);
    for (let i = 0; i < n; i++) {
      let prod = 1;
      for (let k = 0; k < d; k++) {
        g[k] = (Math.abs(4 * p[i * d + k] - 2) + a[k]) / (1 + a[k]);
        prod *= g[k];
      }
      y[i] = prod;
      if (J)
        for (let k = 0; k < d; k++) {
          let rest = 1;
          for (let j = 0; j < d; j++) if (j !== k) rest *= g[j];
          J[i * d + k] = (Math.sign(4 * p[i * d + k] - 2) * 4 * rest) / (1 + a[k]);
        }
    }
    return y;
  };
}

/** Analytic indices of the G function: V_i = 1/(3(1+a_i)²), V = Π(1+V_i) − 1. */
function gAnalytic(a: number[]) {
  const Vi = a.map((ai) => 1 / (3 * (1 + ai) ** 2));
  const V = Vi.reduce((p, v) => p * (1 + v), 1) - 1;
  const others = (i: number) => Vi.reduce((p, v, j) => (j === i ? p : p * (1 + v)), 1);
  return {
    V,
    S1: Vi.map((v) => v / V),
    ST: Vi.map((v, i) => (v * others(i)) / V),
    // ν_i = E[(∂G/∂p_i)²] = 16/(1+a_i)² · Π_{j≠i} E[g_j²], E[g_j²] = 1 + V_j
    nu: a.map((ai, i) => (16 / (1 + ai) ** 2) * others(i)),
  };
}

const evaluator = (f: (p: Float64Array, n: number, J?: Float64Array) => Float64Array, E: number, P: number) =>
  ({
    evaluate: async (p: Float64Array, n: number) => f(p, n),
    jacobian: async (p: Float64Array, n: number) => {
      const J = new Float64Array(n * E * P);
      f(p, n, J);
      return J;
    },
  }) as const;

/** Every estimate within its half-width of the truth (and the half-widths small: the test has teeth). */
function expectWithinCI(r: SobolResult, S1: number[], ST: number[], element = 0, maxConf = 0.05) {
  const P = r.P;
  for (let k = 0; k < P; k++) {
    const i = element * P + k;
    expect(
      Math.abs(r.S1[i] - S1[k]),
      `S1[${k}] = ${r.S1[i]} ± ${r.S1_conf[i]} vs ${S1[k]}`,
    ).toBeLessThanOrEqual(r.S1_conf[i]);
    expect(
      Math.abs(r.ST[i] - ST[k]),
      `ST[${k}] = ${r.ST[i]} ± ${r.ST_conf[i]} vs ${ST[k]}`,
    ).toBeLessThanOrEqual(r.ST_conf[i]);
    expect(r.S1_conf[i]).toBeLessThan(maxConf);
    expect(r.ST_conf[i]).toBeLessThan(maxConf);
  }
}

describe('Ishigami (a = 7, b = 0.1, U(−π, π)³)', () => {
  const U: Distribution = { dist: 'uniform', low: -PI, high: PI };
  // V = a²/8 + bπ⁴/5 + b²π⁸/18 + 1/2; V1 = (1 + bπ⁴/5)²/2; V2 = a²/8; V13 = 8b²π⁸/225.
  const V = ISH_A ** 2 / 8 + (ISH_B * PI ** 4) / 5 + (ISH_B ** 2 * PI ** 8) / 18 + 0.5;
  const V1 = (1 + (ISH_B * PI ** 4) / 5) ** 2 / 2;
  const V2 = ISH_A ** 2 / 8;
  const V13 = (8 * ISH_B ** 2 * PI ** 8) / 225;
  const S1 = [V1 / V, V2 / V, 0];
  const ST = [(V1 + V13) / V, V2 / V, V13 / V];

  it('the analytic values are the published ones', () => {
    expect(S1.map((v) => +v.toFixed(4))).toEqual([0.3139, 0.4424, 0]);
    expect(ST.map((v) => +v.toFixed(4))).toEqual([0.5576, 0.4424, 0.2437]);
  });

  it("S1 and ST within their 95% intervals at N = 8192 (scrambled Sobol'), the DGSM bound holding", async () => {
    const r = await sobol({ N, distributions: [U, U, U], seed: 2024 }, evaluator(ishigami, 1, 3));
    expectWithinCI(r, S1, ST);
    expect(r.n).toBe(N);
    expect(r.evaluations).toBe(N * 5);
    expect(r.variance[0]).toBeCloseTo(V, 1);
    expect(r.mean[0]).toBeCloseTo(ISH_A / 2, 1);
    // ν: E[cos²]·E[(1 + b p2⁴)²], a²/2, 16b²·E[p2⁶]·E[sin²] = 8b²π⁶/7.
    const nu = [
      0.5 * (1 + (2 * ISH_B * PI ** 4) / 5 + (ISH_B ** 2 * PI ** 8) / 9),
      ISH_A ** 2 / 2,
      (8 * ISH_B ** 2 * PI ** 6) / 7,
    ];
    const d = r.dgsm!;
    for (let k = 0; k < 3; k++) {
      expect(Math.abs(d.nu[k] - nu[k]) / nu[k]).toBeLessThan(0.02);
      const bound = (nu[k] * 4) / V; // (b − a)²/π² = 4
      expect(Math.abs(d.bound[k] - bound)).toBeLessThanOrEqual(d.bound_conf[k]);
      expect(ST[k]).toBeLessThanOrEqual(bound);
      expect(r.ST[k]).toBeLessThanOrEqual(d.bound[k]);
      expect(d.exceeds[k]).toBe(0);
    }
  });

  it('plain random sampling is unbiased too (within twice its Monte Carlo interval)', async () => {
    const r = await sobol(
      { N, distributions: [U, U, U], seed: 5, sampling: 'random' },
      evaluator(ishigami, 1, 3),
    );
    for (let k = 0; k < 3; k++) {
      expect(Math.abs(r.S1[k] - S1[k])).toBeLessThanOrEqual(2 * r.S1_conf[k]);
      expect(Math.abs(r.ST[k] - ST[k])).toBeLessThanOrEqual(2 * r.ST_conf[k]);
    }
    expect(r.dgsm!.exceeds.every((x) => x === 0)).toBe(true);
  });
});

describe("Sobol's G function", () => {
  for (const a of [
    [0, 1, 4.5, 9, 99, 99],
    [0, 0, 0.5, 3],
  ])
    it(`a = [${a}]: S1 and ST within their 95% intervals at N = 8192, the DGSM bound holding`, async () => {
      const U: Distribution = { dist: 'uniform', low: 0, high: 1 };
      const ref = gAnalytic(a);
      const r = await sobol(
        { N, distributions: a.map(() => U), seed: 7 },
        evaluator(gFunction(a), 1, a.length),
      );
      expectWithinCI(r, ref.S1, ref.ST);
      expect(Math.abs(r.variance[0] - ref.V) / ref.V).toBeLessThan(0.02);
      const d = r.dgsm!;
      for (let k = 0; k < a.length; k++) {
        expect(Math.abs(d.nu[k] - ref.nu[k]) / ref.nu[k]).toBeLessThan(0.02);
        const bound = ref.nu[k] / (PI ** 2 * ref.V);
        expect(ref.ST[k]).toBeLessThanOrEqual(bound);
        expect(Math.abs(d.bound[k] - bound)).toBeLessThanOrEqual(d.bound_conf[k]);
        expect(d.exceeds[k]).toBe(0);
      }
    });
});

describe('a linear model of normal inputs with a [T, O] output', () => {
  // y[t,o] = Σ_k c[t,o,k] p_k with p_k ~ N(μ_k, σ_k): S1 = ST = c²σ²/Σc²σ², and the DGSM bound
  // ν·σ²/Var y equals ST (Poincaré's inequality is an equality for linear functions of normals).
  const mu = [1, -2, 0.5];
  const sd = [0.5, 2, 1];
  const T = 2;
  const O = 3;
  const P = 3;
  const c = Float64Array.from({ length: T * O * P }, (_, i) => ((i * 7) % 5) - 1.5 + 0.25 * (i % 3));
  const linear = (p: Float64Array, n: number, J?: Float64Array) => {
    const y = new Float64Array(n * T * O);
    for (let i = 0; i < n; i++)
      for (let e = 0; e < T * O; e++) {
        let s = 10;
        for (let k = 0; k < P; k++) {
          s += c[e * P + k] * p[i * P + k];
          if (J) J[(i * T * O + e) * P + k] = c[e * P + k];
        }
        y[i * T * O + e] = s;
      }
    return y;
  };
  it('every output element: S1 = ST = bound within the intervals; the result is shaped [T, O, P]', async () => {
    const distributions: Distribution[] = mu.map((m, k) => ({ dist: 'normal', mean: m, std: sd[k] }));
    const r = await sobol(
      { N, distributions, seed: 11 },
      { ...evaluator(linear, T * O, P), outShape: [T, O] },
    );
    expect(r.outShape).toEqual([T, O]);
    expect(r.S1.length).toBe(T * O * P);
    for (let e = 0; e < T * O; e++) {
      const parts = [0, 1, 2].map((k) => (c[e * P + k] * sd[k]) ** 2);
      const V = parts.reduce((a, b) => a + b, 0);
      const S = parts.map((v) => v / V);
      expectWithinCI(r, S, S, e);
      for (let k = 0; k < P; k++) {
        expect(r.dgsm!.bound[e * P + k]).toBeCloseTo(S[k], 2);
        expect(r.dgsm!.exceeds[e * P + k]).toBe(0);
      }
    }
  });
  it('a constant output element has NaN indices, not a crash', async () => {
    const r = await sobol(
      { N: 256, distributions: [{ dist: 'normal', mean: 0, std: 1 }] },
      { evaluate: async (p, n) => Float64Array.from({ length: 2 * n }, (_, i) => (i % 2 ? 3 : p[i >> 1])) },
    );
    expect(Math.abs(r.S1[0] - 1)).toBeLessThanOrEqual(r.S1_conf[0]);
    expect(Math.abs(r.ST[0] - 1)).toBeLessThanOrEqual(r.ST_conf[0]);
    expect(r.S1[1]).toBeNaN();
    expect(r.ST[1]).toBeNaN();
    expect(r.variance[1]).toBe(0);
  });
});
