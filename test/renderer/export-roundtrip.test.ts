import { describe, expect, it } from 'vitest';
import { parseCsv, parseNumber } from '../../src/engine/io/csv';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { longCsv, sliceCsv, sliceMatrix } from '../../src/renderer/lib/export-format';
import { extractSlice } from '../../src/renderer/lib/slice';
import { randn, rng } from '../engine/helpers';

// Exports must come back through jacscope's own readers exactly: every float64 value, every
// feature name. Values include awkward ones (subnormal, huge, negative zero is printed as 0).
describe('exports round-trip through the readers exactly', () => {
  const dims = { B: 2, T: 7, O: 3, P: 4 };
  const J = randn(rng(9), dims.B * dims.T * dims.O * dims.P);
  J[3] = 5e-324;
  J[4] = 1.7976931348623157e308;
  J[5] = -1 / 3;
  const names = { y: ['u velocity', 'v, lateral', 'p "pressure"'], p: ['alpha', 'beta', 'gamma', 'delta'] };
  const at = (b: number, t: number, o: number, k: number) => J[((b * dims.T + t) * dims.O + o) * dims.P + k];

  it('slice CSV: header of axis label and feature names (quoted where needed), values exact', () => {
    const slice = extractSlice(J, dims, 't', 'o', { b: 1, t: 0, o: 0, k: 2 });
    const table = parseCsv(sliceCsv(slice, names), 'slice.csv');
    expect(table.header!.slice(-3)).toEqual(names.y);
    expect(table.rows).toHaveLength(dims.T);
    for (let t = 0; t < dims.T; t++)
      for (let o = 0; o < dims.O; o++) {
        const cells = table.rows[t];
        expect(parseNumber(cells[cells.length - dims.O + o])).toBe(at(1, t, o, 2));
      }
  });

  it('slice .npy (float64) is exact and oriented like the CSV', () => {
    const slice = extractSlice(J, dims, 't', 'k', { b: 0, t: 0, o: 1, k: 0 });
    const back = readNpy(writeNpy(sliceMatrix(slice), 'float64'), 'slice.npy');
    expect(back.shape).toEqual([dims.T, dims.P]);
    for (let t = 0; t < dims.T; t++)
      for (let k = 0; k < dims.P; k++) expect(back.data[t * dims.P + k]).toBe(at(0, t, 1, k));
  });

  it('long CSV b,t,o,k,value holds every element exactly', () => {
    const table = parseCsv(longCsv(J, dims), 'J.csv');
    expect(table.header).toEqual(['b', 't', 'o', 'k', 'value']);
    expect(table.rows).toHaveLength(J.length);
    table.rows.forEach((r, i) => {
      const [b, t, o, k, v] = r.map((c) => parseNumber(c)!);
      expect(at(b, t, o, k)).toBe(v);
      expect(v).toBe(J[i]);
    });
  });
});
