import { complexDft } from './complex-dft';
import { checkModes, irfftDropsImag, type TruncatedDft } from './truncated-dft';

/**
 * The truncated DFT through a full FFT of each channel: O(T log T) per channel whatever `modes`
 * is, so it wins when modes is large (up to T//2+1).
 */
export function fftDft(T: number, modes: number): TruncatedDft {
  checkModes(T, modes);
  const dft = complexDft(T);
  const buf = new Float64Array(2 * T);
  const spec = new Float64Array(2 * T);
  return {
    T,
    modes,
    kind: 'fft',
    rfft(x, B, C, re, im) {
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          const base = b * T * C + c;
          for (let t = 0; t < T; t++) {
            buf[2 * t] = x[base + t * C];
            buf[2 * t + 1] = 0;
          }
          dft.transform(spec, buf);
          for (let k = 0; k < modes; k++) {
            re[(k * B + b) * C + c] = spec[2 * k];
            im[(k * B + b) * C + c] = spec[2 * k + 1];
          }
        }
      }
    },
    irfft(re, im, B, C, y) {
      // y = (1/T) Re DFT(conj Z), with Z the Hermitian spectrum the kept bins stand for.
      const scale = 1 / T;
      for (let b = 0; b < B; b++) {
        for (let c = 0; c < C; c++) {
          buf.fill(0);
          for (let k = 0; k < modes; k++) {
            const zr = re[(k * B + b) * C + c];
            const zi = irfftDropsImag(k, T) ? 0 : im[(k * B + b) * C + c];
            buf[2 * k] = zr;
            buf[2 * k + 1] = -zi;
            if (k > 0 && 2 * k !== T) {
              buf[2 * (T - k)] = zr;
              buf[2 * (T - k) + 1] = zi;
            }
          }
          dft.transform(spec, buf);
          const base = b * T * C + c;
          for (let t = 0; t < T; t++) y[base + t * C] = spec[2 * t] * scale;
        }
      }
    },
  };
}
