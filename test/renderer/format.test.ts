import { describe, expect, it } from 'vitest';
import { exact, exactF32 } from '../../src/renderer/lib/format';
import { randn, rng } from '../engine/helpers';

describe('exactF32', () => {
  it('prints the shortest decimal that reads back as the same float32', () => {
    const v = Math.fround(0.01234568);
    expect(exact(v)).toBe('0.01234568003565073');
    expect(exactF32(v)).toBe('0.01234568');
    expect(exactF32(Math.fround(0.1))).toBe('0.1');
    expect(exactF32(Math.fround(-3.4e38))).toBe('-3.4e+38');
    expect(exactF32(0)).toBe('0');
    expect(exactF32(NaN)).toBe('NaN');
  });

  it('round-trips every float32 it is given, and never prints more digits than exact()', () => {
    const r = rng(7);
    for (const x of randn(r, 2000)) {
      const v = Math.fround(x * 10 ** Math.floor(r() * 20 - 10));
      const s = exactF32(v);
      expect(Math.fround(Number(s))).toBe(v);
      expect(s.length).toBeLessThanOrEqual(exact(v).length);
    }
  });

  it('leaves values that are not float32 to exact()', () => {
    expect(exactF32(0.1)).toBe('0.1');
    expect(exactF32(1 / 3)).toBe(exact(1 / 3));
  });
});
