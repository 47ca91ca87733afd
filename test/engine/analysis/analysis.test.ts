import { describe, expect, it } from 'vitest';
import { checkDerivatives } from '../../../src/engine/analysis/check-derivatives';
import { globalSensitivity } from '../../../src/engine/analysis/sensitivity';
import { linspace, sweep } from '../../../src/engine/analysis/sweep';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import { BATCH4_CASE, CASES, loadCase, loadNpy } from '../fixtures';
import { relErr } from '../helpers';

describe.each([BATCH4_CASE])('global sensitivity on the %s batch-of-4 fixture', (name) => {
  // Reference: the definitions written out directly on PyTorch's float64 Jacobian, one (o,k) at a
  // time, as one would in NumPy: nu = (J**2).mean(axis=(0,1)); index = nu * p.var(0) / y.var((0,1)).
  const J = loadNpy(name, 'jacobian4_f64.npy');
  const y = loadNpy(name, 'y4_f64.npy');
  const p = loadNpy(name, 'p4.npy');
  const [B, T, O, P] = J.shape;
  const at = (b: number, t: number, o: number, k: number) => J.data[((b * T + t) * O + o) * P + k];
  const g = globalSensitivity(J.data, p.data, y.data, { B, T, O, P });
  const mean = (f: (i: number) => number, n: number) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += f(i);
    return s / n;
  };
  it('ν[o,k] and ν[t,o,k]', () => {
    for (let o = 0; o < O; o++)
      for (let k = 0; k < P; k++) {
        const want = mean((i) => at(Math.floor(i / T), i % T, o, k) ** 2, B * T);
        expect(g.nu[o * P + k]).toBeCloseTo(want, 14);
        for (const t of [0, 7, T - 1])
          expect(g.nuT[(t * O + o) * P + k]).toBeCloseTo(
            mean((b) => at(b, t, o, k) ** 2, B),
            14,
          );
      }
  });
  it('normalised index ν·Var(p_k)/Var(y_o)', () => {
    for (let o = 0; o < O; o++) {
      const my = mean((i) => y.data[i * O + o], B * T);
      const vy = mean((i) => (y.data[i * O + o] - my) ** 2, B * T);
      for (let k = 0; k < P; k++) {
        const mp = mean((b) => p.data[b * P + k], B);
        const vp = mean((b) => (p.data[b * P + k] - mp) ** 2, B);
        expect(g.index![o * P + k] / ((g.nu[o * P + k] * vp) / vy)).toBeCloseTo(1, 12);
      }
    }
  });
  it('elasticity |J·p/y| averaged where y is far from 0', () => {
    const o = O - 1;
    const k = 0;
    let maxY = 0;
    for (let i = 0; i < B * T; i++) maxY = Math.max(maxY, Math.abs(y.data[i * O + o]));
    let s = 0;
    let n = 0;
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++) {
        const yv = y.data[(b * T + t) * O + o];
        if (Math.abs(yv) <= 1e-2 * maxY) continue;
        s += Math.abs((at(b, t, o, k) * p.data[b * P + k]) / yv);
        n++;
      }
    expect(g.elasticity[o * P + k]).toBeCloseTo(s / n, 12);
  });
  it('B = 1 has no variance of p: the index is absent, not a division by zero', () => {
    const one = globalSensitivity(
      J.data.subarray(0, T * O * P),
      p.data.subarray(0, P),
      y.data.subarray(0, T * O),
      { B: 1, T, O, P },
    );
    expect(one.index).toBeNull();
  });
});

describe.each(CASES)('check derivatives and sweeps on %s', (name) => {
  const { config, tensors } = loadCase(name);
  const model = new Fno1dScalar(config, tensors);
  const x = loadNpy(name, 'x.npy');
  const p = loadNpy(name, 'p.npy');
  const [, T, Xf] = x.shape;
  const P = config.inp_dim_scalar;
  const O = config.out_dim_func;
  const xs = x.data.subarray(0, T * Xf);
  const ps = p.data.subarray(0, P);
  it('the engine Jacobian agrees with float64 central differences to ≤ 1e-6', () => {
    const J = model.jacobian(xs, ps, 1, T);
    const c = checkDerivatives(
      (a, b, n, t) => model.forward(a, b, n, t),
      J,
      xs,
      ps,
      T,
      O,
      config.activation === 'relu',
    );
    expect(c.maxRelError).toBeLessThanOrEqual(1e-6);
    expect(Math.max(...c.errorMap)).toBeCloseTo(c.maxRelError, 15);
  });
  it('reports a wrong Jacobian as wrong', () => {
    const J = model.jacobian(xs, ps, 1, T);
    J[5] *= 1.01;
    J[6] += 0.1 * Math.abs(J[6]) + 1e-3;
    const c = checkDerivatives((a, b, n, t) => model.forward(a, b, n, t), J, xs, ps, T, O, false);
    expect(c.maxRelError).toBeGreaterThan(1e-6);
  });
  it('a sweep of p_k gives y and J along it, consistent with finite differences between points', () => {
    const k = P - 1;
    const values = linspace(ps[k] - 0.01, ps[k] + 0.01, 3);
    const s = sweep(model, xs, ps, T, k, values);
    const J0 = model.jacobian(xs, ps, 1, T);
    // the middle point is the sample itself
    expect(relErr(s.J.subarray(T * O * P, 2 * T * O * P), J0)).toBeLessThanOrEqual(1e-14);
    const dy = new Float64Array(T * O);
    const Jk = new Float64Array(T * O);
    for (let i = 0; i < T * O; i++) {
      dy[i] = (s.y[2 * T * O + i] - s.y[i]) / 0.02;
      Jk[i] = J0[i * P + k];
    }
    expect(relErr(Jk, dy)).toBeLessThanOrEqual(1e-3); // plain central difference, h = 0.01
  });
});
