/**
 * The two transforms of a spectral layer, restricted to the `modes` lowest frequencies:
 *
 *   rfft:  X[k,b,c] = Σ_t x[b,t,c] e^{-2πi k t / T}                 k < modes
 *   irfft: y[b,t,c] = (1/T) [ Re X0 + 2 Σ_{0<k<T/2} Re(X_k e^{2πi k t/T}) + [T even] Re X_{T/2} (-1)^t ]
 *
 * (PyTorch's C2R semantics: the imaginary parts of the DC and Nyquist bins are ignored.)
 * Layouts: x, y [B,T,C] time-major with channels innermost; spectra [modes,B,C] mode-major, so
 * the per-mode channel mix is one matrix product with B (or B·P) rows. `C` may be P·channels
 * when transforming a tangent [B,T,P,ch].
 */
export interface TruncatedDft {
  readonly T: number;
  readonly modes: number;
  readonly kind: 'matrix' | 'fft';
  /** x [B,T,C] → re, im [modes,B,C] (overwritten). */
  rfft(x: Float64Array, B: number, C: number, re: Float64Array, im: Float64Array): void;
  /** re, im [modes,B,C] → y [B,T,C] (overwritten). */
  irfft(re: Float64Array, im: Float64Array, B: number, C: number, y: Float64Array): void;
}

/** Weight of bin k in the real inverse transform: 1 for DC and Nyquist, 2 otherwise. */
export function irfftBinWeight(k: number, T: number): number {
  return k === 0 || 2 * k === T ? 1 : 2;
}

/** Whether the imaginary part of bin k is dropped by the C2R inverse. */
export function irfftDropsImag(k: number, T: number): boolean {
  return k === 0 || 2 * k === T;
}

/** The bins an rfft of T time steps has, so the most Fourier modes a model can keep: T//2+1. */
export function maxModes(T: number): number {
  return Math.floor(T / 2) + 1;
}

export function checkModes(T: number, modes: number): void {
  if (!Number.isInteger(T) || T < 2) throw new Error(`T must be an integer ≥ 2, got ${T}`);
  const max = maxModes(T);
  if (!Number.isInteger(modes) || modes < 1 || modes > max) {
    throw new Error(`modes must be between 1 and T//2+1 = ${max} for T = ${T}, got ${modes}`);
  }
}
