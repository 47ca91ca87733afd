/**
 * The desktop host reads a large dropped file from the File itself (a Blob the worker can read synchronously,
 * which HDF5 by rows needs); a file main opened by ranges that was not dropped, or whose name is ambiguous or
 * whose size differs, is read through main.
 */
import { describe, expect, it } from 'vitest';
import type { OpenResult } from '../../../src/preload/contract';
import { toHost } from '../../../src/renderer/host/electron-host';

const result = (ranged: { name: string; path: string; size: number }[]): OpenResult => ({
  files: [{ name: 'model.pt', path: '/d/model.pt', bytes: new Uint8Array([1, 2, 3]) }],
  failures: [],
  ranged,
});

describe('the desktop host', () => {
  it('reads a ranged dropped file from its File, one opened otherwise through main', () => {
    const big = new File([new Uint8Array(5000)], 'big.h5');
    const r = toHost(
      result([
        { name: 'big.h5', path: '/d/big.h5', size: 5000 },
        { name: 'other.npy', path: '/d/other.npy', size: 7000 },
      ]),
      [big],
    );
    expect(r.files.map((f) => f.name)).toEqual(['model.pt', 'big.h5', 'other.npy']);
    expect(r.files[1].blob).toBe(big);
    expect(r.files[1].remote).toBeUndefined();
    expect(r.files[2].blob).toBeUndefined();
    expect(r.files[2].remote).toEqual({ path: '/d/other.npy', size: 7000 });
  });

  it('goes through main when the dropped File does not match uniquely', () => {
    const a = new File([new Uint8Array(10)], 'x.npy');
    const b = new File([new Uint8Array(10)], 'x.npy');
    const ambiguous = toHost(result([{ name: 'x.npy', path: '/d/x.npy', size: 10 }]), [a, b]);
    expect(ambiguous.files[1].remote).toEqual({ path: '/d/x.npy', size: 10 });
    const changed = toHost(result([{ name: 'x.npy', path: '/d/x.npy', size: 11 }]), [a]);
    expect(changed.files[1].blob).toBeUndefined();
  });
});
