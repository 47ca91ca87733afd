import { describe, expect, it } from 'vitest';
import type { Act } from '../../../src/engine/ad/primitive';
import type { SpecTangent, TimeTangent } from '../../../src/engine/ad/tangent';
import { gemmJs } from '../../../src/engine/kernels/gemm';
import { fftDft } from '../../../src/engine/dft/fft-dft';
import { matrixDft } from '../../../src/engine/dft/matrix-dft';
import { activation } from '../../../src/engine/ops/activation';
import { ACTIVATION_NAMES, ACTIVATIONS } from '../../../src/engine/ops/activations';
import { add } from '../../../src/engine/ops/add';
import { broadcastTime } from '../../../src/engine/ops/broadcast-time';
import { concatChannels } from '../../../src/engine/ops/concat';
import { conv1x1, conv1x1Weights } from '../../../src/engine/ops/conv1x1';
import { dense, fromTorchLinear } from '../../../src/engine/ops/dense';
import { irfftTruncated } from '../../../src/engine/ops/irfft';
import { rfftTruncated } from '../../../src/engine/ops/rfft';
import { mixWeightsFromTorch, spectralMix } from '../../../src/engine/ops/spectral-mix';
import {
  act,
  axpy,
  randInt,
  randn,
  randomSpecTangent,
  randomTimeTangent,
  relErr,
  rng,
  spec,
  specDirection,
  timeDirection,
} from '../helpers';

// Every primitive's JVP against float64 central finite differences, direction by direction, on
// random shapes that include the awkward ones: T odd and prime, modes = T//2+1, P = 1, one channel.
// Linear primitives have no truncation error, so their tolerance is tight; nonlinear ones use
// h = 1e-5, whose O(h²) error is ~1e-10.

const TIME_KINDS: TimeTangent['kind'][] = ['zero', 'const', 'dense'];
const SPEC_KINDS: SpecTangent['kind'][] = ['zero', 'dc', 'dense'];
const TRIALS = 12;

function shapes(seed: number) {
  const r = rng(seed);
  const T = [2, 3, 5, 7, 8, 13, 16, 31, 37, 64, 101][randInt(r, 0, 10)];
  const maxModes = Math.floor(T / 2) + 1;
  const modes = r() < 0.3 ? maxModes : randInt(r, 1, maxModes);
  return {
    r,
    B: randInt(r, 1, 3),
    T,
    P: randInt(r, 1, 4),
    Cin: randInt(r, 1, 6),
    Cout: randInt(r, 1, 5),
    modes,
  };
}

/** Compare jvp direction k with (f(x+h·d_k) - f(x-h·d_k)) / 2h for every k. */
function checkTime(
  f: (x: Act) => Float64Array,
  jvpDir: (k: number) => Float64Array,
  x: Act,
  dir: (k: number) => Float64Array,
  P: number,
  h: number,
  tol: number,
) {
  for (let k = 0; k < P; k++) {
    const d = dir(k);
    const plus = f({ ...x, data: axpy(x.data, h, d) });
    const minus = f({ ...x, data: axpy(x.data, -h, d) });
    const fd = plus.map((v, i) => (v - minus[i]) / (2 * h));
    const got = jvpDir(k);
    // a zero tangent must give an exactly zero derivative
    if (fd.every((v) => v === 0)) expect(got.every((v) => v === 0)).toBe(true);
    else expect(relErr(got, fd)).toBeLessThanOrEqual(tol);
  }
}

describe('dense and conv1x1', () => {
  for (let seed = 1; seed <= TRIALS; seed++) {
    const { r, B, T, P, Cin, Cout } = shapes(seed);
    const kind = TIME_KINDS[seed % 3];
    it(`seed ${seed}: B=${B} T=${T} P=${P} ${Cin}→${Cout}, ${kind} tangent`, () => {
      const W = randn(r, Cout * Cin);
      const bias = randn(r, Cout);
      for (const prim of [
        dense(fromTorchLinear(W, Cout, Cin, bias), gemmJs),
        conv1x1(conv1x1Weights(W, Cout, Cin, bias), gemmJs),
      ]) {
        const x = act(B, T, Cin, randn(r, B * T * Cin));
        const dx = randomTimeTangent(r, kind, B, T, P, Cin);
        const y = prim.forward(x);
        const dy = prim.jvp(x, y, dx, P);
        if (kind === 'const') expect(dy.kind).toBe('const');
        checkTime(
          (v) => prim.forward(v).data,
          (k) => timeDirection(dy, k, B, T, P, Cout),
          x,
          (k) => timeDirection(dx, k, B, T, P, Cin),
          P,
          1e-3,
          1e-10,
        );
      }
    });
  }
  it('applies W as PyTorch does: y = x Wᵀ + b', () => {
    // W [2,3] = [[1,2,3],[4,5,6]], b = [10, 20], x = [1, 0, -1] → [1-3+10, 4-6+20]
    const prim = dense(
      fromTorchLinear(Float64Array.of(1, 2, 3, 4, 5, 6), 2, 3, Float64Array.of(10, 20)),
      gemmJs,
    );
    expect([...prim.forward(act(1, 1, 3, Float64Array.of(1, 0, -1))).data]).toEqual([8, 18]);
  });
});

describe('broadcastTime', () => {
  it.each([1, 2, 3])('seed %i', (seed) => {
    const { r, B, T, P, Cin } = shapes(seed);
    const prim = broadcastTime(T);
    const x = act(B, 1, Cin, randn(r, B * Cin));
    const dx = randomTimeTangent(r, 'dense', B, 1, P, Cin);
    const y = prim.forward(x);
    const dy = prim.jvp(x, y, dx, P);
    expect(dy.kind).toBe('const');
    checkTime(
      (v) => prim.forward(v).data,
      (k) => timeDirection(dy, k, B, T, P, Cin),
      x,
      (k) => timeDirection(dx, k, B, 1, P, Cin),
      P,
      1e-3,
      1e-12,
    );
  });
});

describe('concatChannels and add', () => {
  for (const ka of TIME_KINDS)
    for (const kb of TIME_KINDS) {
      it(`${ka} with ${kb}`, () => {
        const { r, B, T, P, Cin, Cout } = shapes(ka.length * 7 + kb.length);
        const a = act(B, T, Cin, randn(r, B * T * Cin));
        const da = randomTimeTangent(r, ka, B, T, P, Cin);
        // concat: perturb a and b together by stacking them into one input
        const b = act(B, T, Cout, randn(r, B * T * Cout));
        const db = randomTimeTangent(r, kb, B, T, P, Cout);
        const cat = concatChannels();
        const y = cat.forward([a, b]);
        const dy = cat.jvp([a, b], y, [da, db], P);
        if (ka !== 'dense' && kb !== 'dense') expect(dy.kind).not.toBe('dense');
        for (let k = 0; k < P; k++) {
          const h = 0.5;
          const ya = cat.forward([
            act(B, T, Cin, axpy(a.data, h, timeDirection(da, k, B, T, P, Cin))),
            act(B, T, Cout, axpy(b.data, h, timeDirection(db, k, B, T, P, Cout))),
          ]);
          const fd = ya.data.map((v, i) => (v - y.data[i]) / h);
          expect(relErr(timeDirection(dy, k, B, T, P, Cin + Cout), fd)).toBeLessThanOrEqual(1e-14);
        }
        const b2 = act(B, T, Cin, randn(r, B * T * Cin));
        const db2 = randomTimeTangent(r, kb, B, T, P, Cin);
        const sum = add();
        const s = sum.forward([a, b2]);
        const ds = sum.jvp([a, b2], s, [da, db2], P);
        for (let k = 0; k < P; k++) {
          const want = axpy(timeDirection(da, k, B, T, P, Cin), 1, timeDirection(db2, k, B, T, P, Cin));
          expect(relErr(timeDirection(ds, k, B, T, P, Cin), want)).toBeLessThanOrEqual(1e-15);
        }
      });
    }
});

describe.each(ACTIVATION_NAMES)('activation %s', (name) => {
  it.each([1, 2, 3, 4])('seed %i', (seed) => {
    const { r, B, T, P, Cin } = shapes(seed + 100);
    const prim = activation(ACTIVATIONS[name]);
    // keep away from ReLU's kink so the finite difference never straddles it
    const data = randn(r, B * T * Cin, 2).map((v) => (Math.abs(v) < 0.05 ? v + 0.1 : v));
    const x = act(B, T, Cin, data);
    for (const kind of ['const', 'dense'] as const) {
      const dx = randomTimeTangent(r, kind, B, T, P, Cin);
      const y = prim.forward(x);
      const dy = prim.jvp(x, y, dx, P);
      checkTime(
        (v) => prim.forward(v).data,
        (k) => timeDirection(dy, k, B, T, P, Cin),
        x,
        (k) => timeDirection(dx, k, B, T, P, Cin),
        P,
        1e-5,
        1e-8,
      );
    }
  });
});

describe.each(['matrix', 'fft'] as const)('truncated rfft / mix / irfft (%s DFT)', (which) => {
  for (let seed = 1; seed <= TRIALS; seed++) {
    const { r, B, T, P, Cin, Cout, modes } = shapes(seed + 200);
    const dft = which === 'matrix' ? matrixDft(T, modes, gemmJs) : fftDft(T, modes);
    it(`seed ${seed}: T=${T} modes=${modes} B=${B} P=${P} C=${Cin}→${Cout}`, () => {
      // rfft: time tangent in, spectral tangent out
      const rf = rfftTruncated(dft);
      const x = act(B, T, Cin, randn(r, B * T * Cin));
      for (const kind of TIME_KINDS) {
        const dx = randomTimeTangent(r, kind, B, T, P, Cin);
        const X = rf.forward(x);
        const dX = rf.jvp(x, X, dx, P);
        if (kind === 'const') expect(dX.kind).toBe('dc');
        for (let k = 0; k < P; k++) {
          const d = timeDirection(dx, k, B, T, P, Cin);
          const up = rf.forward({ ...x, data: axpy(x.data, 1, d) });
          const want = { re: up.re.map((v, i) => v - X.re[i]), im: up.im.map((v, i) => v - X.im[i]) };
          const got = specDirection(dX, k, modes, B, P, Cin);
          expect(relErr([...got.re, ...got.im], [...want.re, ...want.im])).toBeLessThanOrEqual(1e-12);
        }
      }
      // spectral mix
      const Wr = randn(r, Cin * Cout * modes);
      const Wi = randn(r, Cin * Cout * modes);
      const mix = spectralMix(mixWeightsFromTorch(Wr, Wi, Cin, Cout, modes), gemmJs);
      const S = spec(modes, B, Cin, randn(r, modes * B * Cin), randn(r, modes * B * Cin));
      for (const kind of SPEC_KINDS) {
        const dS = randomSpecTangent(r, kind, modes, B, P, Cin);
        const Y = mix.forward(S);
        const dY = mix.jvp(S, Y, dS, P);
        expect(dY.kind).toBe(kind);
        for (let k = 0; k < P; k++) {
          const d = specDirection(dS, k, modes, B, P, Cin);
          const up = mix.forward(spec(modes, B, Cin, axpy(S.re, 1, d.re), axpy(S.im, 1, d.im)));
          const want = [...up.re.map((v, i) => v - Y.re[i]), ...up.im.map((v, i) => v - Y.im[i])];
          const got = specDirection(dY, k, modes, B, P, Cout);
          expect(relErr([...got.re, ...got.im], want)).toBeLessThanOrEqual(1e-12);
        }
      }
      // irfft: spectral tangent in, time tangent out
      const ir = irfftTruncated(dft);
      for (const kind of SPEC_KINDS) {
        const dS = randomSpecTangent(r, kind, modes, B, P, Cin);
        const y = ir.forward(S);
        const dy = ir.jvp(S, y, dS, P);
        if (kind === 'dc') expect(dy.kind).toBe('const');
        for (let k = 0; k < P; k++) {
          const d = specDirection(dS, k, modes, B, P, Cin);
          const up = ir.forward(spec(modes, B, Cin, axpy(S.re, 1, d.re), axpy(S.im, 1, d.im)));
          const want = up.data.map((v, i) => v - y.data[i]);
          expect(relErr(timeDirection(dy, k, B, T, P, Cin), want)).toBeLessThanOrEqual(1e-12);
        }
      }
    });
  }
});
