import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { exportBytes } from '../../src/renderer/worker/exports';
import type { ComputedResult } from '../../src/renderer/worker/session';
import { randn, rng } from '../engine/helpers';

describe('the whole J as .npy', () => {
  const [B, T, O, P] = [2, 3, 2, 4];
  const result = (J: Float64Array | Float32Array) =>
    ({
      meta: {
        B,
        T,
        O,
        P,
        yShape: [B, T, O],
        timeAxis: true,
        yNames: ['a', 'b'],
        pNames: ['p0', 'p1', 'p2', 'p3'],
        seq: 1,
      },
      y: new Float64Array(B * T * O),
      p: new Float64Array(B * P),
      J,
    }) as unknown as ComputedResult;
  const exp = (J: Float64Array | Float32Array, dtype?: 'float32' | 'float64') =>
    exportBytes(result(J), { type: 'export', id: 1, what: 'full-npy', dtype }, { writeNpy });

  it('keeps the precision J was computed in (float64 on the CPU, float32 on WebGPU), values exact', () => {
    const j64 = randn(rng(5), B * T * O * P);
    const back64 = readNpy(exp(j64).bytes, 'J.npy');
    expect(back64.dtype).toBe('float64');
    expect(back64.shape).toEqual([B, T, O, P]);
    expect(Array.from(back64.data)).toEqual(Array.from(j64));
    const j32 = Float32Array.from(j64);
    const back32 = readNpy(exp(j32).bytes, 'J.npy');
    expect(back32.dtype).toBe('float32');
    expect(Array.from(back32.data)).toEqual(Array.from(j32));
  });

  it('writes the dtype asked for when one is', () => {
    const j32 = Float32Array.from(randn(rng(6), B * T * O * P));
    const back = readNpy(exp(j32, 'float64').bytes, 'J.npy');
    expect(back.dtype).toBe('float64');
    expect(Array.from(back.data)).toEqual(Array.from(j32));
  });
});
