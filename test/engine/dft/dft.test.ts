import { describe, expect, it } from 'vitest';
import { gemmJs } from '../../../src/engine/kernels/gemm';
import { complexDft } from '../../../src/engine/dft/complex-dft';
import { fftDft } from '../../../src/engine/dft/fft-dft';
import { matrixDft } from '../../../src/engine/dft/matrix-dft';
import { randn, relErr, rng } from '../helpers';

// Both truncated-DFT implementations against the definitions written out naively (O(T²), with
// angles reduced in integers), for even, odd, prime and power-of-two T and every modes up to T//2+1.

function naiveRfft(x: Float64Array, T: number, modes: number) {
  const re = new Float64Array(modes);
  const im = new Float64Array(modes);
  for (let k = 0; k < modes; k++)
    for (let t = 0; t < T; t++) {
      const a = (2 * Math.PI * ((k * t) % T)) / T;
      re[k] += x[t] * Math.cos(a);
      im[k] -= x[t] * Math.sin(a);
    }
  return { re, im };
}

/** torch.fft.irfft(Y, n=T) with bins ≥ modes zero, written from the fixtures README's formula. */
function naiveIrfft(re: Float64Array, im: Float64Array, T: number, modes: number) {
  const y = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let s = re[0];
    for (let k = 1; k < modes; k++) {
      const a = (2 * Math.PI * ((k * t) % T)) / T;
      if (2 * k === T) s += re[k] * (t % 2 === 0 ? 1 : -1);
      else s += 2 * (re[k] * Math.cos(a) - im[k] * Math.sin(a));
    }
    y[t] = s / T;
  }
  return y;
}

const LENGTHS = [2, 3, 4, 5, 6, 7, 8, 12, 16, 17, 31, 32, 97, 100, 128, 256, 601];

describe('complex DFT (fft.js and Bluestein)', () => {
  it.each(LENGTHS)('n = %i', (n) => {
    const r = rng(n);
    const x = randn(r, 2 * n);
    const out = new Float64Array(2 * n);
    complexDft(n).transform(out, x);
    const want = new Float64Array(2 * n);
    for (let k = 0; k < n; k++)
      for (let j = 0; j < n; j++) {
        const a = (-2 * Math.PI * ((j * k) % n)) / n;
        want[2 * k] += x[2 * j] * Math.cos(a) - x[2 * j + 1] * Math.sin(a);
        want[2 * k + 1] += x[2 * j] * Math.sin(a) + x[2 * j + 1] * Math.cos(a);
      }
    expect(relErr(out, want)).toBeLessThanOrEqual(1e-13);
  });
});

describe.each(['matrix', 'fft'] as const)('truncated DFT, %s', (which) => {
  it.each(LENGTHS)('T = %i, all modes', (T) => {
    const r = rng(T + 1000);
    const maxModes = Math.floor(T / 2) + 1;
    for (const modes of new Set([1, 2, Math.max(1, maxModes >> 1), maxModes - 1 || 1, maxModes])) {
      const B = 2;
      const C = 3;
      const dft = which === 'matrix' ? matrixDft(T, modes, gemmJs) : fftDft(T, modes);
      const x = randn(r, B * T * C);
      const re = new Float64Array(modes * B * C);
      const im = new Float64Array(modes * B * C);
      dft.rfft(x, B, C, re, im);
      // spectra with non-zero imaginary DC/Nyquist parts: the inverse must ignore them
      const yRe = randn(r, modes * B * C);
      const yIm = randn(r, modes * B * C);
      const y = new Float64Array(B * T * C);
      dft.irfft(yRe, yIm, B, C, y);
      for (let b = 0; b < B; b++)
        for (let c = 0; c < C; c++) {
          const col = Float64Array.from({ length: T }, (_, t) => x[(b * T + t) * C + c]);
          const want = naiveRfft(col, T, modes);
          const got = {
            re: Float64Array.from({ length: modes }, (_, k) => re[(k * B + b) * C + c]),
            im: Float64Array.from({ length: modes }, (_, k) => im[(k * B + b) * C + c]),
          };
          expect(relErr([...got.re, ...got.im], [...want.re, ...want.im])).toBeLessThanOrEqual(1e-13);
          const specRe = Float64Array.from({ length: modes }, (_, k) => yRe[(k * B + b) * C + c]);
          const specIm = Float64Array.from({ length: modes }, (_, k) => yIm[(k * B + b) * C + c]);
          const wantY = naiveIrfft(specRe, specIm, T, modes);
          const gotY = Float64Array.from({ length: T }, (_, t) => y[(b * T + t) * C + c]);
          expect(relErr(gotY, wantY)).toBeLessThanOrEqual(1e-13);
        }
    }
  });
});
