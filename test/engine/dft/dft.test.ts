import { describe, expect, it } from 'vitest';
import { complexDft } from '../../../src/engine/dft/complex-dft';
import { randn, relErr, rng } from '../helpers';

// Both truncated-DFT implementations against the definitions written out naively (O(T²), with
// angles reduced in integers), for even, odd, prime and power-of-two T and every modes up to T//2+1.

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
