import { describe, expect, it } from 'vitest';
import {
  formatCsv,
  formatNumber,
  parseCsv,
  parseNumber,
  readCsv,
  writeCsv,
} from '../../../src/engine/io/csv';
import { ascii, expectLoadError, prng } from './helpers';

describe('readCsv: p files', () => {
  it('reads a row per sample with the header as names', () => {
    const { tensor, names, notes } = readCsv('a,b,c\n1,2,3\n4,5.5,-6e-3\n', 'p.csv', 'p');
    expect(names).toEqual(['a', 'b', 'c']);
    expect(tensor.shape).toEqual([2, 3]);
    expect(tensor.dtype).toBe('float64');
    expect(Array.from(tensor.data)).toEqual([1, 2, 3, 4, 5.5, -6e-3]);
    expect(notes).toEqual([]);
  });
  it('reads bytes with a BOM, CRLF, quoted names and blank trailing lines', () => {
    const bytes = ascii('\uFEFF"Re, number","say ""hi""",plain\r\n1,2,3\r\n\r\n   \r\n');
    const { tensor, names } = readCsv(bytes, 'p.csv', 'p');
    expect(names).toEqual(['Re, number', 'say "hi"', 'plain']);
    expect(Array.from(tensor.data)).toEqual([1, 2, 3]);
  });
  it('accepts a header-less file and names the columns p0..', () => {
    const { tensor, names, notes } = readCsv('1,2\n3,4\n', 'p.csv', 'p');
    expect(names).toEqual(['p0', 'p1']);
    expect(tensor.shape).toEqual([2, 2]);
    expect(notes.join()).toMatch(/no header/);
  });
  it('accepts NaN and infinities as values', () => {
    const { tensor } = readCsv('a,b,c,d,e\nnan,inf,-inf,Infinity,NaN\n', 'p.csv', 'p');
    expect(Array.from(tensor.data)).toEqual([NaN, Infinity, -Infinity, Infinity, NaN]);
  });
  it('detects semicolon and tab delimiters', () => {
    expect(readCsv('a;b\n1.5;2\n', 'p.csv', 'p').names).toEqual(['a', 'b']);
    expect(Array.from(readCsv('a;b\n1.5;2\n', 'p.csv', 'p').tensor.data)).toEqual([1.5, 2]);
    const tsv = readCsv('a\tb c\n1\t2\n3\t4', 'p.tsv', 'p');
    expect(tsv.names).toEqual(['a', 'b c']);
    expect(tsv.notes.join()).toMatch(/tab/);
  });
  it('reads a single column', () => {
    const { tensor, names } = readCsv('k\n1\n2\n', 'p.csv', 'p');
    expect(names).toEqual(['k']);
    expect(tensor.shape).toEqual([2, 1]);
  });
  it("drops pandas' nameless index column", () => {
    const { tensor, names, notes } = readCsv(',a,b\n0,1,2\n1,3,4\n', 'p.csv', 'p');
    expect(names).toEqual(['a', 'b']);
    expect(Array.from(tensor.data)).toEqual([1, 2, 3, 4]);
    expect(notes.join()).toMatch(/pandas/);
  });
  it('decodes non-UTF-8 (Windows-1252) bytes with a note', () => {
    const bytes = Uint8Array.from([0x54, 0xb0, 0x43, 0x0a, 0x31, 0x0a]); // "T°C\n1\n" in cp1252
    const { names, notes } = readCsv(bytes, 'p.csv', 'p');
    expect(names).toEqual(['T°C']);
    expect(notes.join()).toMatch(/Windows-1252/);
  });
});

describe('readCsv: x files', () => {
  it('reads a row per timestep as one sample', () => {
    const { tensor, names } = readCsv('u,v\n1,2\n3,4\n5,6\n', 'x.csv', 'x');
    expect(names).toEqual(['u', 'v']);
    expect(tensor.shape).toEqual([1, 3, 2]);
    expect(Array.from(tensor.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
  it('groups rows into samples by the batch column (any position, any case)', () => {
    const csv = 'u,Batch,v\n1,0,2\n3,0,4\n5,1,6\n7,1,8\n9,2,10\n11,2,12\n';
    const { tensor, names, notes } = readCsv(csv, 'x.csv', 'x');
    expect(names).toEqual(['u', 'v']);
    expect(tensor.shape).toEqual([3, 2, 2]);
    expect(Array.from(tensor.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(notes.join()).toMatch(/3 samples.*2 timesteps/);
  });
  it('keeps samples in order of first appearance when rows interleave; 1 and 1.0 are one sample', () => {
    const { tensor } = readCsv('batch,u\n1,10\n0,20\n1.0,11\n0,21\n', 'x.csv', 'x');
    expect(tensor.shape).toEqual([2, 2, 1]);
    expect(Array.from(tensor.data)).toEqual([10, 11, 20, 21]);
  });
  it('says which sample has a different T', () => {
    const csv = 'batch,u\n0,1\n0,2\n0,3\n1,1\n1,2\n';
    expectLoadError(() => readCsv(csv, 'x.csv', 'x'), /sample batch=1 has 2 rows but sample batch=0 has 3/);
  });
  it('headerless x files are one sample named x0..', () => {
    const { tensor, names } = readCsv('1;2;3\n4;5;6\n', 'x.csv', 'x');
    expect(names).toEqual(['x0', 'x1', 'x2']);
    expect(tensor.shape).toEqual([1, 2, 3]);
  });
  it('ignores a batch column in a p file, with a note', () => {
    const { tensor, names, notes } = readCsv('batch,a\n0,1\n1,2\n', 'p.csv', 'p');
    expect(names).toEqual(['a']);
    expect(tensor.shape).toEqual([2, 1]);
    expect(notes.join()).toMatch(/batch/);
  });
});

describe('readCsv: errors name the line and column', () => {
  it.each([
    ['a,b\n1,2\n3,x\n', /line 3, column 'b': 'x' is not a number/],
    ['a,b\n1,2\n3,\n', /line 3, column 'b': the cell is empty/],
    ['1,2\n3,oops\n', /line 1, column 2: 'oops'|line 2, column 2: 'oops'/],
    ['a,b\n1,2\n3,4,5\n', /rows have different numbers|line 3 has 3 values but the header has 2/],
    ['a;b\n"1,5";2\n', /line 2, column 'a': '1,5' is not a number \(decimals must use '\.'/],
    ['a,b\n', /header but no data rows/],
    ['', /is empty/],
    ['\n\n  \n', /is empty/],
    ['a,"b\n1,2\n', /never closed/],
    ['a,b"c\n1,2\n', /quote in the middle/],
    ['a,a\n1,2\n', /names column 'a' twice/],
    ['a,,c\n1,2,3\n', /column 2 of the header has no name/],
    ['a,b\n1,1\n0x10,3\n', /line 3, column 'a': '0x10' is not a number/],
  ])('%j', (text, msg) => {
    expectLoadError(() => readCsv(text, 'd.csv', 'p'), msg);
  });
  it('errors for ambiguous delimiters', () => {
    expectLoadError(() => readCsv('a;b,c;d\ne;f,g;h\n', 'd.csv', 'p'), /comma or semicolon/);
  });
  it('reports a row error with its file line even after blank lines and multi-line quoted names', () => {
    expectLoadError(() => readCsv('"a\nb",c\n\n1,2\n\n3,z\n', 'd.csv', 'p'), /line 6, column 'c'/);
  });
  it('is robust to random bytes (only LoadError or success)', () => {
    const r = prng(9);
    const alphabet = '0123456789.,;\t\n\r"e-+ abnfi';
    for (let trial = 0; trial < 2000; trial++) {
      const s = Array.from(
        { length: Math.floor(r() * 40) },
        () => alphabet[Math.floor(r() * alphabet.length)],
      ).join('');
      for (const role of ['x', 'p'] as const) {
        try {
          const { tensor } = readCsv(s, 'f.csv', role);
          expect(tensor.data.length).toBe(tensor.shape.reduce((a, b) => a * b, 1));
        } catch (e) {
          expect((e as Error).name).toBe('LoadError');
        }
      }
    }
  });
});

describe('parseNumber / formatNumber', () => {
  it('parses only plain decimal numbers and nan/inf', () => {
    expect(parseNumber(' 1e-3 ')).toBe(1e-3);
    expect(parseNumber('.5')).toBe(0.5);
    expect(parseNumber('5.')).toBe(5);
    expect(parseNumber('-INF')).toBe(-Infinity);
    for (const bad of ['', ' ', '0x1', '1e', 'e5', '1,5', '1_000', 'Infinityx', '--1'])
      expect(parseNumber(bad)).toBeNull();
  });
  it('round-trips random doubles exactly through text', () => {
    const r = prng(4);
    for (let i = 0; i < 2000; i++) {
      const v = (r() - 0.5) * 10 ** Math.floor(r() * 600 - 300);
      expect(parseNumber(formatNumber(v))).toBe(v);
    }
    for (const v of [NaN, Infinity, -Infinity, -0, 5e-324, Number.MAX_VALUE, 1e21, 0.1]) {
      expect(Object.is(parseNumber(formatNumber(v)), v)).toBe(true);
    }
  });
});

describe('formatCsv / writeCsv', () => {
  it('writes a header, full precision values and quotes awkward names', () => {
    const text = formatCsv(['t', 'y, out', 'say "x"'], 2, (i) => [i, 0.1 + 0.2, i === 0 ? NaN : -1e-300]);
    expect(text).toBe('t,"y, out","say ""x"""\n0,0.30000000000000004,nan\n1,0.30000000000000004,-1e-300\n');
  });
  it('round-trips through readCsv', () => {
    const r = prng(7);
    const rows = Array.from({ length: 5 }, () => Array.from({ length: 3 }, () => r() * 1e6 - 5e5));
    const back = readCsv(writeCsv(['a;1', ' b', 'c'], rows), 'rt.csv', 'p');
    expect(back.names).toEqual(['a;1', 'b', 'c']); // names are trimmed when read
    expect(Array.from(back.tensor.data)).toEqual(rows.flat());
  });
  it('writes string cells and refuses ragged rows', () => {
    expect(writeCsv(['name', 'v'], [['a,b', 1]])).toBe('name,v\n"a,b",1\n');
    expect(() => writeCsv(['a', 'b'], [[1]])).toThrow(/1 cells for 2 columns/);
  });
  it('parseCsv exposes the table (header, rows, line numbers)', () => {
    const t = parseCsv('a,b\n\n1,2\n3,4\n', 'd.csv');
    expect(t.header).toEqual(['a', 'b']);
    expect(t.rows).toEqual([
      ['1', '2'],
      ['3', '4'],
    ]);
    expect(t.lines).toEqual([3, 4]);
  });
});
