import type { Gemm } from '../kernels/gemm';
import { cosTurn, sinTurn } from './twiddle';
import { checkModes, irfftBinWeight, irfftDropsImag, type TruncatedDft } from './truncated-dft';

/**
 * The truncated DFT as real matrix products with cos/sin bases: O(T·modes) per channel, exact
 * for any T, and it runs on the same GEMM as everything else. Best when modes is small.
 */
export function matrixDft(T: number, modes: number, gemm: Gemm): TruncatedDft {
  checkModes(T, modes);
  // Forward bases [modes, T]: re uses cos, im uses -sin.
  const fc = new Float64Array(modes * T);
  const fs = new Float64Array(modes * T);
  // Inverse bases [T, modes]: the 1/T scale and the bin weights folded in; dropped imaginary
  // parts get an exact zero column (sin(πt) is not exactly 0 in floating point).
  const gc = new Float64Array(T * modes);
  const gs = new Float64Array(T * modes);
  for (let k = 0; k < modes; k++) {
    const w = irfftBinWeight(k, T) / T;
    const dropIm = irfftDropsImag(k, T);
    for (let t = 0; t < T; t++) {
      const c = cosTurn(k * t, T);
      const s = sinTurn(k * t, T);
      fc[k * T + t] = c;
      fs[k * T + t] = -s;
      gc[t * modes + k] = w * c;
      gs[t * modes + k] = dropIm ? 0 : -w * s;
    }
  }
  return {
    T,
    modes,
    kind: 'matrix',
    rfft(x, B, C, re, im) {
      for (let b = 0; b < B; b++) {
        const xb = { B: x, bOff: b * T * C, ldb: C };
        gemm({ M: modes, N: C, K: T, A: fc, ...xb, C: re, cOff: b * C, ldc: B * C });
        gemm({ M: modes, N: C, K: T, A: fs, ...xb, C: im, cOff: b * C, ldc: B * C });
      }
    },
    irfft(re, im, B, C, y) {
      for (let b = 0; b < B; b++) {
        const out = { C: y, cOff: b * T * C, ldc: C };
        gemm({ M: T, N: C, K: modes, A: gc, B: re, bOff: b * C, ldb: B * C, ...out });
        gemm({ M: T, N: C, K: modes, A: gs, B: im, bOff: b * C, ldb: B * C, ...out, accumulate: true });
      }
    },
  };
}
