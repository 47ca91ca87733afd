import FFT from 'fft.js';
import { cosTurn, sinTurn } from './twiddle';

/**
 * A full complex DFT of any length n ≥ 2, X_k = Σ_j x_j e^{-2πi jk/n}, on interleaved (re, im)
 * arrays of length 2n. Powers of two go straight to fft.js; every other length (odd, prime, 601)
 * goes through Bluestein's algorithm: the DFT as a convolution with a chirp, done with fft.js at a
 * power-of-two length L ≥ 2n-1.
 */
export interface ComplexDft {
  readonly n: number;
  /** out ← DFT(input); both interleaved, length 2n; input is left untouched. */
  transform(out: Float64Array, input: Float64Array): void;
}

interface FftJs {
  transform(out: ArrayLike<number>, data: ArrayLike<number>): void;
  inverseTransform(out: ArrayLike<number>, data: ArrayLike<number>): void;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 2 && (n & (n - 1)) === 0;
}

export function complexDft(n: number): ComplexDft {
  if (isPowerOfTwo(n)) {
    const f = new FFT(n) as unknown as FftJs;
    return { n, transform: (out, input) => f.transform(out, input) };
  }
  return bluestein(n);
}

function bluestein(n: number): ComplexDft {
  let L = 2;
  while (L < 2 * n - 1) L *= 2;
  const f = new FFT(L) as unknown as FftJs;
  // chirp w_j = e^{-iπ j²/n}; j² taken mod 2n so the angle stays exact.
  const wRe = new Float64Array(n);
  const wIm = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const q = (j * j) % (2 * n);
    wRe[j] = cosTurn(q, 2 * n);
    wIm[j] = -sinTurn(q, 2 * n);
  }
  // FFT of the conjugate chirp laid out cyclically: b_m = conj(w_|m|) for |m| < n.
  const bt = new Float64Array(2 * L);
  for (let j = 0; j < n; j++) {
    bt[2 * j] = wRe[j];
    bt[2 * j + 1] = -wIm[j];
    if (j > 0) {
      bt[2 * (L - j)] = wRe[j];
      bt[2 * (L - j) + 1] = -wIm[j];
    }
  }
  const bHat = new Float64Array(2 * L);
  f.transform(bHat, bt);
  const a = new Float64Array(2 * L);
  const aHat = new Float64Array(2 * L);
  return {
    n,
    transform(out, input) {
      a.fill(0);
      for (let j = 0; j < n; j++) {
        const xr = input[2 * j];
        const xi = input[2 * j + 1];
        a[2 * j] = xr * wRe[j] - xi * wIm[j];
        a[2 * j + 1] = xr * wIm[j] + xi * wRe[j];
      }
      f.transform(aHat, a);
      for (let m = 0; m < L; m++) {
        const ar = aHat[2 * m];
        const ai = aHat[2 * m + 1];
        const br = bHat[2 * m];
        const bi = bHat[2 * m + 1];
        aHat[2 * m] = ar * br - ai * bi;
        aHat[2 * m + 1] = ar * bi + ai * br;
      }
      f.inverseTransform(a, aHat); // fft.js scales its inverse by 1/L, as the convolution needs
      for (let k = 0; k < n; k++) {
        const cr = a[2 * k];
        const ci = a[2 * k + 1];
        out[2 * k] = cr * wRe[k] - ci * wIm[k];
        out[2 * k + 1] = cr * wIm[k] + ci * wRe[k];
      }
    },
  };
}
