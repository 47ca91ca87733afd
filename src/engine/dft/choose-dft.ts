import type { Gemm } from '../kernels/gemm';
import { fftDft } from './fft-dft';
import { matrixDft } from './matrix-dft';
import type { TruncatedDft } from './truncated-dft';

export type DftChoice = 'auto' | 'matrix' | 'fft';

/**
 * Pick the faster truncated DFT for a layer of `channels` channels at length T by timing both
 * once on the layer's own shape (a few milliseconds at model build). Cost models would have to
 * know fft.js's and the GEMM's speed on this machine; a measurement already does.
 */
export function chooseDft(
  T: number,
  modes: number,
  channels: number,
  gemm: Gemm,
  choice: DftChoice = 'auto',
): TruncatedDft {
  if (choice === 'matrix') return matrixDft(T, modes, gemm);
  if (choice === 'fft') return fftDft(T, modes);
  const candidates = [matrixDft(T, modes, gemm), fftDft(T, modes)];
  // Both costs are linear in the channel count, so a few channels rank them as well as all would.
  channels = Math.min(channels, 8);
  const x = new Float64Array(T * channels);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.37);
  const re = new Float64Array(modes * channels);
  const im = new Float64Array(modes * channels);
  const y = new Float64Array(T * channels);
  let best = candidates[0];
  let bestTime = Infinity;
  for (const d of candidates) {
    d.rfft(x, 1, channels, re, im); // warm-up: JIT and caches
    let time = Infinity;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      d.rfft(x, 1, channels, re, im);
      d.irfft(re, im, 1, channels, y);
      time = Math.min(time, performance.now() - t0);
    }
    if (time < bestTime) {
      bestTime = time;
      best = d;
    }
  }
  return best;
}
