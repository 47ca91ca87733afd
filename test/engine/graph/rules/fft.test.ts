import { describe, expect, it } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import { fftRules } from '../../../../src/engine/graph/rules/fft';
import { dense } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays, type Kind } from '../../../../src/engine/graph/tensor';
import { checkJvp } from '../jvp-check';
import {
  checkStructured,
  randTensor,
  relDiff,
  structuredTan,
  stridesOf,
  unravel,
  vals,
} from './linear-check';

type Norm = 'backward' | 'forward' | 'ortho' | null;
type K = 'rfft' | 'fft' | 'ifft' | 'irfft';

/** Direct-sum reference of torch.fft.<kind> along `axis`. */
function naive(x: GTensor, axis: number, kind: K, nArg: number | null, norm: Norm) {
  const [xr, xi] = vals(x);
  const shape = x.shape;
  const m = shape[axis];
  const n = nArg ?? (kind === 'irfft' ? 2 * (m - 1) : m);
  const outLen = kind === 'rfft' ? Math.floor(n / 2) + 1 : n;
  const oshape = [...shape];
  oshape[axis] = outLen;
  const inv = kind === 'ifft' || kind === 'irfft';
  const s = norm === 'ortho' ? 1 / Math.sqrt(n) : norm === 'forward' ? (inv ? 1 : 1 / n) : inv ? 1 / n : 1;
  const total = oshape.reduce((a, b) => a * b, 1);
  const re = new Float64Array(total);
  const im = new Float64Array(total);
  const is = stridesOf(shape);
  const get = (idx: number[], j: number): [number, number] => {
    if (j >= m) return [0, 0];
    const ii = idx.map((v, d) => (d === axis ? j : v));
    const o = ii.reduce((acc, v, d) => acc + v * is[d], 0);
    return [xr[o], xi ? xi[o] : 0];
  };
  for (let o = 0; o < total; o++) {
    const idx = unravel(o, oshape);
    const k = idx[axis];
    let sr = 0;
    let si = 0;
    if (kind === 'irfft') {
      // Hermitian extension of bins 0..n/2 (imag of DC / Nyquist dropped), then inverse DFT
      const half = Math.floor(n / 2);
      for (let j = 0; j < n; j++) {
        const b = j <= half ? j : n - j;
        const [zr, z] = get(idx, b);
        let zi = z;
        if (b === 0 || 2 * b === n) zi = 0;
        if (j > half) zi = -zi;
        const th = (2 * Math.PI * ((j * k) % n)) / n;
        sr += zr * Math.cos(th) - zi * Math.sin(th);
      }
      re[o] = s * sr;
      continue;
    }
    const sign = kind === 'ifft' ? 1 : -1;
    const L = Math.min(m, n);
    for (let j = 0; j < L; j++) {
      const [vr, vi] = get(idx, j);
      const th = (sign * 2 * Math.PI * ((j * k) % n)) / n;
      const c = Math.cos(th);
      const sn = Math.sin(th);
      sr += vr * c - vi * sn;
      si += vr * sn + vi * c;
    }
    re[o] = s * sr;
    im[o] = s * si;
  }
  return { re, im: kind === 'irfft' ? null : im, shape: oshape };
}

const op = (k: K) => `aten::fft_${k}`;

function run(k: K, x: GTensor, n: number | null, dim: number, norm: Norm): GTensor {
  return callOp(fftRules, op(k), [x], { n, dim, norm }, { P: 1 }, false) as GTensor;
}

describe('fft rules: forward values against direct sums', () => {
  const kinds: K[] = ['rfft', 'fft', 'ifft', 'irfft'];
  const lengths = [1, 2, 5, 6, 7, 8, 13, 16];
  for (const k of kinds)
    it(`${k}: lengths, n, dims and norms`, () => {
      let seed = 1;
      for (const L of lengths)
        for (const nArg of [null, L + 3, Math.max(1, L - 1)])
          for (const norm of [null, 'forward', 'ortho'] as Norm[])
            for (const dim of [0, -1]) {
              if (k === 'irfft' && nArg === null && L === 1) continue; // n = 0: an error in torch
              const kind: Kind = k === 'rfft' ? 'float' : 'complex';
              const shape = dim === 0 ? [L, 3] : [2, L];
              const x = randTensor(shape, seed++, kind);
              const y = run(k, x, nArg, dim, norm);
              const ref = naive(x, dim === 0 ? 0 : 1, k, nArg, norm);
              expect(y.shape).toEqual(ref.shape);
              expect(
                relDiff(vals(y), [ref.re, ref.im]),
                `${k} L=${L} n=${nArg} ${norm} dim=${dim}`,
              ).toBeLessThan(1e-12);
            }
    });

  it('long transforms (FFT path) and real inputs to fft / irfft', () => {
    for (const [k, L, kind] of [
      ['rfft', 601, 'float'],
      ['fft', 256, 'complex'],
      ['ifft', 97, 'complex'],
      ['irfft', 301, 'complex'],
      ['fft', 12, 'float'],
      ['irfft', 7, 'float'],
      // powers of two long enough for the FFT path
      ['rfft', 512, 'float'],
      ['ifft', 128, 'complex'],
      ['irfft', 257, 'complex'],
    ] as [K, number, Kind][]) {
      const x = randTensor([3, L], L, kind);
      const y = run(k, x, null, -1, null);
      const ref = naive(x, 1, k, null, null);
      expect(relDiff(vals(y), [ref.re, ref.im]), `${k} ${L}`).toBeLessThan(1e-11);
    }
  });

  it('strided inputs (transform axis not innermost, permuted, sliced)', () => {
    // x logical [B, C, T] stored as [B, T, C] (channels innermost: the FNO layout after permute)
    const B = 2;
    const C = 5;
    const T = 11;
    const base = randTensor([B, T, C], 3);
    const x = new GTensor([B, C, T], [T * C, 1, C], 0, base.re, null, 'float');
    for (const k of ['rfft', 'fft'] as K[]) {
      const y = run(k, x, null, -1, null);
      const ref = naive(x, 2, k, null, null);
      expect(relDiff(vals(y), [ref.re, ref.im])).toBeLessThan(1e-12);
    }
    // a strided slice: every other channel
    const xs = new GTensor([B, 3, T], [T * C, 2, C], 0, base.re, null, 'float');
    const ys = run('rfft', xs, 8, 2, 'ortho');
    expect(
      relDiff(vals(ys), [naive(xs, 2, 'rfft', 8, 'ortho').re, naive(xs, 2, 'rfft', 8, 'ortho').im]),
    ).toBeLessThan(1e-12);
  });

  it('rfft is lazy and a leading slice computes only the kept bins', () => {
    const x = randTensor([2, 4, 37], 9);
    const y = run('rfft', x, null, -1, null);
    expect(y.deferred).toBe(true);
    expect(y.lead).not.toBeNull();
    const part = y.lead!(2, 5);
    expect(y.deferred).toBe(true); // the full spectrum was never computed
    expect(part.shape).toEqual([2, 4, 5]);
    const ref = naive(x, 2, 'rfft', null, null);
    const want = { re: new Float64Array(40), im: new Float64Array(40) };
    for (let i = 0; i < 40; i++) {
      const [a, b, c] = unravel(i, [2, 4, 5]);
      want.re[i] = ref.re[(a * 4 + b) * 19 + c];
      want.im[i] = ref.im![(a * 4 + b) * 19 + c];
    }
    expect(relDiff(vals(part), [want.re, want.im])).toBeLessThan(1e-12);
    // a leading slice along another dim
    const other = y.lead!(1, 2);
    expect(other.shape).toEqual([2, 2, 19]);
    // the whole spectrum on demand
    expect(relDiff(vals(y), [ref.re, ref.im])).toBeLessThan(1e-12);
  });

  it('irfft reads only the bins below the root nz', () => {
    const T = 20;
    const m = 11;
    const spec = randTensor([3, m], 4, 'complex');
    const ref = naive(
      fromArrays([3, m], Float64Array.from(spec.re), Float64Array.from(spec.im!), 'complex'),
      1,
      'irfft',
      T,
      null,
    );
    // garbage beyond the first 4 bins, which nz declares zero: the rule must not read it
    const clean = fromArrays([3, m], Float64Array.from(spec.re), Float64Array.from(spec.im!), 'complex');
    for (let r = 0; r < 3; r++)
      for (let k = 4; k < m; k++) {
        clean.re[r * m + k] = 0;
        clean.im![r * m + k] = 0;
        spec.re[r * m + k] = 1e6;
      }
    spec.nz = [3, 4];
    const y = run('irfft', spec, T, -1, null);
    const want = naive(clean, 1, 'irfft', T, null);
    expect(relDiff(vals(y), [want.re, null])).toBeLessThan(1e-12);
    expect(relDiff(vals(y), [ref.re, null])).toBeGreaterThan(1e-3);
  });
});

describe('fft rules: JVP', () => {
  for (const k of ['rfft', 'fft', 'ifft', 'irfft'] as K[])
    it(`${k}: dense tangents, n and norms`, () => {
      for (const [L, nArg, norm, dim] of [
        [8, null, null, -1],
        [7, null, 'ortho', 0],
        [6, 9, 'forward', -1],
        [13, 5, null, 0],
      ] as [number, number | null, Norm, number][]) {
        const shape = dim === 0 ? [L, 3] : [2, L];
        checkJvp(
          fftRules,
          op(k),
          () => ({
            args: [randTensor(shape, L, k === 'rfft' ? 'float' : 'complex')],
            kwargs: { n: nArg, dim, norm },
          }),
          { P: 2 },
        );
      }
    });

  it('rfft / fft / ifft of a tangent constant over time: the DC bin alone', () => {
    for (const k of ['rfft', 'fft', 'ifft'] as K[])
      for (const norm of [null, 'ortho'] as Norm[]) {
        const shape = [2, 3, 10];
        checkStructured(
          fftRules,
          op(k),
          () => ({
            args: [randTensor(shape, 5, k === 'rfft' ? 'float' : 'complex')],
            kwargs: { dim: -1, norm },
          }),
          () => [structuredTan(shape, 3, 8, { const: [2], kind: k === 'rfft' ? 'float' : 'complex' })],
          {
            P: 3,
            check: (t) => {
              expect(t).not.toBeNull();
              expect(t!.data.shape).toEqual([3, 2, 3, 1]);
              expect(t!.full).toEqual([2, 3, k === 'rfft' ? 6 : 10]);
            },
          },
        );
      }
  });

  it('rfft of a tangent constant over time but zero-padded (n > T) is not DC-only', () => {
    const shape = [2, 6];
    checkStructured(
      fftRules,
      op('rfft'),
      () => ({ args: [randTensor(shape, 5)], kwargs: { n: 9 } }),
      () => [structuredTan(shape, 2, 8, { const: [1] })],
    );
  });

  it('rfft tangent is lazy: a leading slice of its data computes only the kept bins', () => {
    const x = randTensor([2, 30], 1);
    const t = structuredTan([2, 30], 2, 3);
    x.tan = t;
    const y = callOp(fftRules, op('rfft'), [x], {}, { P: 2 }, true) as GTensor;
    const ty = tangentOf(y)!;
    expect(ty.data.deferred).toBe(true);
    const part = ty.data.lead!(2, 4);
    expect(part.shape).toEqual([2, 2, 4]);
    const full = vals(dense(ty));
    const pv = vals(part);
    for (let i = 0; i < 16; i++) {
      const [p, b, k] = unravel(i, [2, 2, 4]);
      expect(pv[0][i]).toBeCloseTo(full[0][(p * 2 + b) * 16 + k], 12);
      expect(pv[1]![i]).toBeCloseTo(full[1]![(p * 2 + b) * 16 + k], 12);
    }
  });

  it('irfft of boxed tangents: box m along frequency, and DC-only → constant over time', () => {
    for (const [m, n] of [
      [3, 16],
      [4, 7],
      [1, 10],
      [1, 9],
    ] as [number, number][]) {
      const shape = [2, 3, 9];
      checkStructured(
        fftRules,
        op('irfft'),
        () => ({ args: [randTensor(shape, 5, 'complex')], kwargs: { n } }),
        () => [structuredTan(shape, 2, 7, { box: [2, 3, m], kind: 'complex' })],
        {
          check: (t) => {
            expect(t!.full).toEqual([2, 3, n]);
            if (m === 1) expect(t!.data.strides[3]).toBe(0);
          },
        },
      );
    }
  });

  it('irfft of a tangent boxed along another dim keeps that box', () => {
    const shape = [4, 9];
    checkStructured(
      fftRules,
      op('irfft'),
      () => ({ args: [randTensor(shape, 5, 'complex')], kwargs: { n: 16 } }),
      () => [structuredTan(shape, 2, 7, { box: [2, 5], kind: 'complex' })],
      { check: (t) => expect(t!.data.shape).toEqual([2, 2, 16]) },
    );
  });

  it('rejects complex rfft input and n < 1', () => {
    expect(() => run('rfft', randTensor([4], 1, 'complex'), null, -1, null)).toThrow(/real input/);
    expect(() => run('irfft', randTensor([1], 1, 'complex'), null, -1, null)).toThrow(/data points/);
    expect(() => run('fft', randTensor([4], 1, 'complex'), null, -1, 'bogus' as Norm)).toThrow(
      /normalization/,
    );
  });
});

// ---------------------------------------------------------------- the FNO spectral pattern

import { einsumRules } from '../../../../src/engine/graph/rules/einsum';
import { sliceRules } from '../../../../src/engine/graph/rules/shape-slice';
import { createRules } from '../../../../src/engine/graph/rules/create';
import { inplaceRules } from '../../../../src/engine/graph/rules/inplace';

const SPECTRAL = { ...fftRules, ...einsumRules, ...sliceRules, ...createRules, ...inplaceRules };

interface Chain {
  y: GTensor;
  xs: GTensor;
  mix: GTensor;
  outFt: GTensor;
}

/** x_ft = rfft(x); out_ft = zeros; out_ft[:, :, :modes] = einsum(x_ft[:, :, :modes], w); irfft(out_ft, n=T). */
function spectralChain(x: GTensor, w: GTensor, modes: number, P: number, tangents: boolean): Chain {
  const call = (op: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
    callOp(SPECTRAL, op, args, kwargs, { P }, tangents) as GTensor;
  const [B, , T] = x.shape;
  const O = w.shape[1];
  const xft = call('aten::fft_rfft', [x]);
  const xs = call('aten::slice', [xft, 2, 0, modes, 1]);
  const mix = call('aten::einsum', ['bix,iox->box', [xs, w]]);
  const outFt = call('aten::zeros', [[B, O, Math.floor(T / 2) + 1]], { dtype: 'complex128' });
  const view = call('aten::slice', [outFt, 2, 0, modes, 1]);
  call('aten::copy_', [view, mix]);
  const y = call('aten::fft_irfft', [outFt], { n: T });
  return { y, xs, mix, outFt };
}

/** The same by direct sums: X_k = Σ_t x e^{-2πikt/T}, Y = X·W per mode, y = C2R inverse of Y. */
function naiveSpectral(x: Float64Array, xShape: number[], w: GTensor, modes: number): Float64Array {
  const [B, C, T] = xShape;
  const O = w.shape[1];
  const [wr, wi] = vals(w);
  const y = new Float64Array(B * O * T);
  for (let b = 0; b < B; b++) {
    const Xr = new Float64Array(C * modes);
    const Xi = new Float64Array(C * modes);
    for (let c = 0; c < C; c++)
      for (let k = 0; k < modes; k++)
        for (let t = 0; t < T; t++) {
          const th = (2 * Math.PI * ((k * t) % T)) / T;
          Xr[c * modes + k] += x[(b * C + c) * T + t] * Math.cos(th);
          Xi[c * modes + k] -= x[(b * C + c) * T + t] * Math.sin(th);
        }
    for (let o = 0; o < O; o++)
      for (let k = 0; k < modes; k++) {
        let yr = 0;
        let yi = 0;
        for (let c = 0; c < C; c++) {
          const at = (c * O + o) * modes + k;
          yr += Xr[c * modes + k] * wr[at] - Xi[c * modes + k] * wi![at];
          yi += Xr[c * modes + k] * wi![at] + Xi[c * modes + k] * wr[at];
        }
        const drop = k === 0 || 2 * k === T;
        const wk = drop ? 1 : 2;
        for (let t = 0; t < T; t++) {
          const th = (2 * Math.PI * ((k * t) % T)) / T;
          y[(b * O + o) * T + t] += (wk * (yr * Math.cos(th) - (drop ? 0 : yi) * Math.sin(th))) / T;
        }
      }
  }
  return y;
}

/** x [B, C, T] stored [B, T, C] (channels innermost, as after the FNO's permute + cat). */
function channelsInnermost(B: number, C: number, T: number, seed: number): GTensor {
  const base = randTensor([B, T, C], seed);
  return new GTensor([B, C, T], [T * C, 1, C], 0, base.re, null, 'float');
}

describe('FNO spectral pattern: rfft → slice → einsum → copy_ into zeros → irfft', () => {
  it('values and JVP against direct sums; structure all the way', () => {
    const [B, C, O, T, modes, P] = [2, 5, 3, 13, 4, 3];
    const x = channelsInnermost(B, C, T, 1);
    const w = randTensor([C, O, modes], 2, 'complex');
    // tangent constant over time (p broadcast over T)
    const tx = structuredTan([B, C, T], P, 3, { const: [2] });
    x.tan = tx;
    const { y, xs, mix, outFt } = spectralChain(x, w, modes, P, true);
    const xv = vals(x)[0];
    expect(relDiff(vals(y), [naiveSpectral(xv, [B, C, T], w, modes), null])).toBeLessThan(1e-12);
    const t1 = tangentOf(xs)!;
    expect(t1.data.shape).toEqual([P, B, C, 1]);
    const t2 = tangentOf(mix)!;
    expect(t2.data.shape).toEqual([P, B, O, 1]);
    expect(outFt.tan!.data.shape).toEqual([P, B, O, 1]);
    const ty = tangentOf(y)!;
    expect(ty.data.strides[3]).toBe(0);
    // the chain is linear: its tangent is the chain of each direction
    const d = vals(dense(ty))[0];
    const dirs = vals(dense(tx))[0];
    const n = B * C * T;
    for (let k = 0; k < P; k++) {
      const ref = naiveSpectral(dirs.subarray(k * n, (k + 1) * n), [B, C, T], w, modes);
      expect(relDiff([d.subarray(k * B * O * T, (k + 1) * B * O * T), null], [ref, null])).toBeLessThan(
        1e-12,
      );
    }
  });

  it('a dense tangent goes through the lazy truncated path too', () => {
    const [B, C, O, T, modes, P] = [1, 4, 2, 12, 7, 2];
    const x = channelsInnermost(B, C, T, 4);
    const w = randTensor([C, O, modes], 5, 'complex');
    const tx = structuredTan([B, C, T], P, 6);
    x.tan = tx;
    const { y, xs } = spectralChain(x, w, modes, P, true);
    expect(tangentOf(xs)!.data.shape).toEqual([P, B, C, modes]);
    const d = vals(dense(tangentOf(y)!))[0];
    const dirs = vals(dense(tx))[0];
    for (let k = 0; k < P; k++) {
      const ref = naiveSpectral(dirs.subarray(k * B * C * T, (k + 1) * B * C * T), [B, C, T], w, modes);
      expect(relDiff([d.subarray(k * B * O * T, (k + 1) * B * O * T), null], [ref, null])).toBeLessThan(
        1e-12,
      );
    }
  });
});
