import { describe, expect, it } from 'vitest';
import { AXES, fixedAxes, jStrides } from '../../src/renderer/lib/axes';
import type { Axis, Dims } from '../../src/renderer/lib/axes';
import { DIVERGING_LUT, LUT_SIZE, divergingIndex, sequentialIndex } from '../../src/renderer/lib/colormap';
import { longCsv, sliceCsv, sliceFileName, sliceMatrix } from '../../src/renderer/lib/export-format';
import { extractSlice, outputSeries, timeSeries } from '../../src/renderer/lib/slice';
import { computeSummary, sortRows, summaryRows, topPairs } from '../../src/renderer/lib/summary';

const dims: Dims = { B: 2, T: 7, O: 3, P: 4 };
const n = dims.B * dims.T * dims.O * dims.P;
// J[b,t,o,k] = a distinct, signed value that encodes its indices.
const J = Float64Array.from({ length: n }, (_, i) => {
  const k = i % 4;
  const o = Math.floor(i / 4) % 3;
  const t = Math.floor(i / 12) % 7;
  const b = Math.floor(i / 84);
  return (k % 2 ? -1 : 1) * (b * 1000 + t * 100 + o * 10 + k + 0.5);
});
const at = (b: number, t: number, o: number, k: number) => J[b * 84 + t * 12 + o * 4 + k];
const names = { y: ['u', 'v', 'w'], p: ['alpha', 'beta', 'gamma', 'delta'] };

describe('extractSlice', () => {
  const pairs: [Axis, Axis][] = [];
  for (const x of AXES) for (const y of AXES) if (x !== y) pairs.push([x, y]);

  it.each(pairs)('reads J for axes %s × %s', (xAxis, yAxis) => {
    const fixed = { b: 1, t: 5, o: 2, k: 3 };
    const s = extractSlice(J, dims, xAxis, yAxis, fixed);
    const len = { b: 2, t: 7, o: 3, k: 4 };
    expect([s.nx, s.ny]).toEqual([len[xAxis], len[yAxis]]);
    let maxAbs = 0;
    for (let iy = 0; iy < s.ny; iy++)
      for (let ix = 0; ix < s.nx; ix++) {
        const idx = { ...fixed, [xAxis]: ix, [yAxis]: iy };
        const want = at(idx.b, idx.t, idx.o, idx.k);
        expect(s.data[iy * s.nx + ix]).toBe(want);
        maxAbs = Math.max(maxAbs, Math.abs(want));
      }
    expect(s.maxAbs).toBe(maxAbs);
  });

  it('rejects equal axes', () => {
    expect(() => extractSlice(J, dims, 't', 't', { b: 0, t: 0, o: 0, k: 0 })).toThrow();
  });

  it('reads lines over time', () => {
    expect(Array.from(timeSeries(J, dims, 1, 2, 3))).toEqual(
      Array.from({ length: 7 }, (_, t) => at(1, t, 2, 3)),
    );
    const y = Float64Array.from({ length: 2 * 7 * 3 }, (_, i) => i);
    expect(Array.from(outputSeries(y, dims, 1, 2))).toEqual(
      Array.from({ length: 7 }, (_, t) => (7 + t) * 3 + 2),
    );
  });

  it('lists fixed axes in keyboard order and hides b when B = 1', () => {
    expect(fixedAxes(dims, 't', 'o')).toEqual(['k', 'b']);
    expect(fixedAxes({ ...dims, B: 1 }, 't', 'o')).toEqual(['k']);
    expect(fixedAxes(dims, 'k', 't')).toEqual(['o', 'b']);
    expect(jStrides(dims)).toEqual({ b: 84, t: 12, o: 4, k: 1 });
  });
});

describe('summary', () => {
  const s = computeSummary(J, dims);

  it('has the L2 norm over time, the largest |J| and where it is, per (b,o,k)', () => {
    for (let b = 0; b < 2; b++)
      for (let o = 0; o < 3; o++)
        for (let k = 0; k < 4; k++) {
          const series = Array.from({ length: 7 }, (_, t) => at(b, t, o, k));
          const i = b * 12 + o * 4 + k;
          expect(s.l2[i]).toBeCloseTo(Math.sqrt(series.reduce((a, v) => a + v * v, 0)), 9);
          expect(s.maxAbs[i]).toBe(Math.max(...series.map(Math.abs)));
          expect(s.argT[i]).toBe(6); // |J| grows with t here
        }
    expect(s.globalMaxAbs).toBe(Math.abs(at(1, 6, 2, 3)));
  });

  it('sorts rows and picks the most influential pairs', () => {
    const rows = summaryRows(s, dims, 0);
    expect(rows).toHaveLength(12);
    const byL2 = sortRows(rows, 'l2', true);
    expect(byL2[0]).toMatchObject({ o: 2, k: 3 });
    expect(sortRows(rows, 'l2', false)[0]).toMatchObject({ o: 0, k: 0 });
    expect(topPairs(s, dims, 0, 2)).toEqual([
      { o: 2, k: 3 },
      { o: 2, k: 2 },
    ]);
  });
});

describe('exports', () => {
  const fixed = { b: 1, t: 0, o: 0, k: 2 };
  const slice = extractSlice(J, dims, 't', 'o', fixed);

  it('writes the visible slice as CSV with axis labels and feature names, full precision', () => {
    const text = new TextDecoder().decode(sliceCsv(slice, names));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe('t (step),u,v,w');
    expect(lines).toHaveLength(1 + 7);
    for (let t = 0; t < 7; t++) {
      const cells = lines[1 + t].split(',');
      expect(Number(cells[0])).toBe(t);
      for (let o = 0; o < 3; o++) expect(Number(cells[1 + o])).toBe(at(1, t, o, 2));
    }
    const tiny = extractSlice(
      Float64Array.from([1 / 3, -2e-17, 0, 0]),
      { B: 1, T: 2, O: 2, P: 1 },
      't',
      'o',
      {
        b: 0,
        t: 0,
        o: 0,
        k: 0,
      },
    );
    const row = new TextDecoder().decode(sliceCsv(tiny, { y: ['a', 'b'], p: ['c'] })).split('\n')[1];
    expect(row).toBe('0,0.3333333333333333,-2e-17');
  });

  it('adds a name column when the rows are a named axis, and quotes names that need it', () => {
    const s2 = extractSlice(J, dims, 'k', 't', fixed);
    const text = new TextDecoder().decode(sliceCsv(s2, { y: names.y, p: ['a,b', 'c', 'd', 'e'] }));
    const lines = text.split('\n');
    expect(lines[0]).toBe('k (parameter),name,t=0,t=1,t=2,t=3,t=4,t=5,t=6');
    expect(lines[1].startsWith('0,"a,b",')).toBe(true);
  });

  it('writes the slice matrix in the CSV orientation', () => {
    const m = sliceMatrix(slice);
    expect(m.shape).toEqual([7, 3]);
    expect(m.data[4 * 3 + 1]).toBe(at(1, 4, 1, 2));
  });

  it('writes the whole J in long format', () => {
    const lines = new TextDecoder().decode(longCsv(J, dims)).trimEnd().split('\n');
    expect(lines[0]).toBe('b,t,o,k,value');
    expect(lines).toHaveLength(1 + n);
    const [b, t, o, k, v] = lines[1 + 1 * 84 + 3 * 12 + 2 * 4 + 1].split(',').map(Number);
    expect([b, t, o, k]).toEqual([1, 3, 2, 1]);
    expect(v).toBe(at(1, 3, 2, 1));
  });

  it('names files after the fixed indices', () => {
    expect(sliceFileName('t', 'o', fixed, dims, names, 'csv')).toBe('J_b1_k2-gamma_t-by-o.csv');
    expect(sliceFileName('t', 'o', fixed, { ...dims, B: 1 }, names, 'npy')).toBe('J_k2-gamma_t-by-o.npy');
    expect(sliceFileName('t', 'k', { ...fixed, o: 1 }, { ...dims, B: 1 }, { y: ['a/b'], p: [] }, 'csv')).toBe(
      'J_o1-y1_t-by-k.csv',
    );
  });
});

describe('colour scales', () => {
  it('centre 0 on white-ish and are symmetric', () => {
    const mid = divergingIndex(0, 1);
    expect(mid).toBe(128);
    const [r, g, b] = DIVERGING_LUT.subarray(mid * 4, mid * 4 + 3);
    expect(Math.min(r, g, b)).toBeGreaterThan(230);
    expect(divergingIndex(1, 1)).toBe(LUT_SIZE - 1);
    expect(divergingIndex(-1, 1)).toBe(0);
    expect(divergingIndex(5, 1)).toBe(LUT_SIZE - 1);
    expect(divergingIndex(-0.5, 1) + divergingIndex(0.5, 1)).toBe(LUT_SIZE - 1);
    expect(divergingIndex(NaN, 1)).toBe(127);
    expect(divergingIndex(1, 0)).toBe(127);
    expect(sequentialIndex(2, 2)).toBe(LUT_SIZE - 1);
    expect(sequentialIndex(0, 0)).toBe(0);
  });
});
