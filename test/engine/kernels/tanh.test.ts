import { describe, expect, it } from 'vitest';
import { tanh } from '../../../src/engine/kernels/tanh';

/** Relative error against the platform's tanh (fdlibm), 0 where both are 0. */
function rel(x: number): number {
  const a = tanh(x);
  const b = Math.tanh(x);
  return a === b ? 0 : Math.abs(a - b) / Math.abs(b);
}

describe('tanh (inlinable)', () => {
  it('is within 3 ulp of Math.tanh over the whole range', () => {
    let worst = 0;
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
    for (const scale of [1e-8, 1e-3, 0.625, 1, 3, 10, 20, 40])
      for (let i = 0; i < 20_000; i++) worst = Math.max(worst, rel(rnd() * scale));
    // the branch edges
    for (const x of [0.625, 0.6250000000000001, 0.6249999999999999, 19.1, 19.099999999999998, 5e-324, 1e-300])
      worst = Math.max(worst, rel(x), rel(-x));
    expect(worst).toBeLessThan(3 * Number.EPSILON);
  });

  it('keeps the sign of zero, saturates to ±1 and passes NaN through', () => {
    expect(Object.is(tanh(0), 0)).toBe(true);
    expect(Object.is(tanh(-0), -0)).toBe(true);
    expect(tanh(1e300)).toBe(1);
    expect(tanh(-Infinity)).toBe(-1);
    expect(tanh(Infinity)).toBe(1);
    expect(tanh(NaN)).toBeNaN();
    expect(tanh(-25)).toBe(-1);
  });

  it('is odd', () => {
    for (const x of [1e-5, 0.3, 0.7, 2.5, 11]) expect(tanh(-x)).toBe(-tanh(x));
  });
});
