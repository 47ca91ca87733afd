import { memoryRows } from '../../src/renderer/worker/x-rows';
import { describe, expect, it } from 'vitest';
import { parseCsv, parseNumber, readCsv } from '../../src/engine/io/csv';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { dataSource, overlaySource } from '../../src/renderer/lib/display';
import { tableCsv } from '../../src/renderer/lib/export-format';
import { dataExportBytes } from '../../src/renderer/worker/data-exports';
import type { DataExportWhat } from '../../src/renderer/worker/protocol';
import type { ComputedResult } from '../../src/renderer/worker/session';
import { randn, rng } from '../engine/helpers';

// Exports of y, x and p must come back through jacscope's own readers exactly: every float64 value and
// every feature name (with commas, quotes, semicolons).
describe('data exports (y, x, p) round-trip through the readers exactly', () => {
  const B = 3;
  const T = 5;
  const O = 3;
  const P = 4;
  const Xf = 2;
  const r = rng(17);
  const y = randn(r, B * T * O);
  y[1] = 5e-324;
  y[2] = 1.7976931348623157e308;
  y[4] = -1 / 3;
  const x = randn(r, B * T * Xf);
  const p = randn(r, B * P);
  p[0] = 0.1 + 0.2;
  const yNames = ['u velocity', 'v, lateral', 'p "pressure"'];
  const xNames = ['forcing; a', 'x2'];
  const pNames = ['alpha', 'beta, scaled', 'gamma "γ"', 'delta'];
  const result = {
    meta: { B, T, O, P, yShape: [B, T, O], timeAxis: true, yNames, pNames, seq: 1 },
    data: { B, T, Xf, P, xShape: [B, T, Xf], xNames, pNames },
    y,
    p,
    J: new Float64Array(B * T * O * P),
  } as unknown as ComputedResult;
  const npy = { writeNpy };
  const exp = (what: DataExportWhat, b = 0, shown?: Parameters<typeof dataExportBytes>[4]) =>
    dataExportBytes(result, memoryRows(x, B), { type: 'export-data', id: 1, what, b }, npy, shown);
  const num = (c: string) => parseNumber(c)!;

  it('y of one sample as CSV: t (step) then the output names; values exact', () => {
    const out = exp('y-sample-csv', 2);
    expect(out.name).toBe('y_b2.csv');
    const table = parseCsv(out.bytes, out.name);
    expect(table.header).toEqual(['t (step)', ...yNames]);
    expect(table.rows).toHaveLength(T);
    table.rows.forEach((row, t) => {
      expect(num(row[0])).toBe(t);
      for (let o = 0; o < O; o++) expect(num(row[1 + o])).toBe(y[(2 * T + t) * O + o]);
    });
  });

  it('y of one sample as .npy [T,O], and of the batch [B,T,O]', () => {
    const one = exp('y-sample-npy', 0);
    expect(one.name).toBe('y_b0.npy');
    const back = readNpy(one.bytes, one.name);
    expect(back.shape).toEqual([T, O]);
    expect(Array.from(back.data)).toEqual(Array.from(y.subarray(0, T * O)));
    const all = exp('y-all-npy');
    expect(all.name).toBe('y.npy');
    const backAll = readNpy(all.bytes, all.name);
    expect(backAll.shape).toEqual([B, T, O]);
    expect(Array.from(backAll.data)).toEqual(Array.from(y));
  });

  it('y of the batch as long CSV b,t,o,value holds every element exactly', () => {
    const out = exp('y-all-csv');
    expect(out.name).toBe('y_long.csv');
    const table = parseCsv(out.bytes, out.name);
    expect(table.header).toEqual(['b', 't', 'o', 'value']);
    expect(table.rows).toHaveLength(B * T * O);
    table.rows.forEach((row, i) => {
      const [b, t, o, v] = row.map(num);
      expect((b * T + t) * O + o).toBe(i);
      expect(v).toBe(y[i]);
    });
  });

  it('x of one sample as CSV (names) and .npy [T,Xf]', () => {
    const out = exp('x-sample-csv', 1);
    expect(out.name).toBe('x_b1.csv');
    const table = parseCsv(out.bytes, out.name);
    expect(table.header).toEqual(['t (step)', ...xNames]);
    table.rows.forEach((row, t) => {
      expect(num(row[0])).toBe(t);
      for (let f = 0; f < Xf; f++) expect(num(row[1 + f])).toBe(x[(T + t) * Xf + f]);
    });
    const n = exp('x-sample-npy', 1);
    const back = readNpy(n.bytes, n.name);
    expect(back.shape).toEqual([T, Xf]);
    expect(Array.from(back.data)).toEqual(Array.from(x.subarray(T * Xf, 2 * T * Xf)));
  });

  it('p of the batch as CSV (b, then the p names) and .npy [B,P]', () => {
    const out = exp('p-csv');
    expect(out.name).toBe('p.csv');
    const table = parseCsv(out.bytes, out.name);
    expect(table.header).toEqual(['batch', ...pNames]);
    expect(table.rows).toHaveLength(B);
    table.rows.forEach((row, b) => {
      expect(num(row[0])).toBe(b);
      for (let k = 0; k < P; k++) expect(num(row[1 + k])).toBe(p[b * P + k]);
    });
    const n = exp('p-npy');
    const back = readNpy(n.bytes, n.name);
    expect(back.shape).toEqual([B, P]);
    expect(Array.from(back.data)).toEqual(Array.from(p));
  });

  it('a what-if replaces sample b in y and says so in the file name', () => {
    const yw = randn(rng(3), T * O);
    const src = overlaySource(dataSource(result.J, y, { B, T, O, P }), 1, new Float64Array(T * O * P), yw);
    const shown = { source: src, whatIfB: 1 };
    const one = exp('y-sample-csv', 1, shown);
    expect(one.name).toBe('y_whatif_b1.csv');
    const rows = parseCsv(one.bytes, one.name).rows;
    rows.forEach((row, t) => {
      for (let o = 0; o < O; o++) expect(num(row[1 + o])).toBe(yw[t * O + o]);
    });
    // Another sample is the loaded one, named as such.
    expect(exp('y-sample-npy', 0, shown).name).toBe('y_b0.npy');
    const all = exp('y-all-npy', 0, shown);
    expect(all.name).toBe('y_whatif-b1.npy');
    const back = readNpy(all.bytes, all.name).data;
    expect(Array.from(back.subarray(T * O, 2 * T * O))).toEqual(Array.from(yw));
    expect(Array.from(back.subarray(0, T * O))).toEqual(Array.from(y.subarray(0, T * O)));
    expect(exp('y-all-csv', 0, shown).name).toBe('y_whatif-b1_long.csv');
  });
});

describe('p CSV loads back as p', () => {
  it('its batch column is recognised, the names and values come back', () => {
    const names = ['alpha', 'beta, the second', 'γ'];
    const p = Float64Array.of(1, -2.5, 1e-300, 3, 4, 5);
    const back = readCsv(tableCsv('batch', names, 2, p), 'p.csv', 'p');
    expect(back.names).toEqual(names);
    expect(back.tensor.shape).toEqual([2, 3]);
    expect([...back.tensor.data]).toEqual([...p]);
  });
});
