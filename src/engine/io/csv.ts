/**
 * CSV data files (DESIGN §6) and CSV export.
 *
 * - p files: one row per sample, header = the P feature names → p [B,P].
 * - x files: one row per timestep, header = the Xf feature names, optionally a `batch` column that
 *   groups rows into samples (every sample must have the same number of rows T) → x [B,T,Xf].
 *
 * Accepted: a header row or none (names default to x0.. / p0..), `,` `;` or tab delimiters when the
 * choice is unambiguous, RFC 4180 quoting, CRLF/CR line ends, a UTF-8 BOM, blank lines, a nameless
 * first column of row numbers (what pandas' `to_csv` writes), and nan/inf as values. Decimals must use
 * '.'; anything else that is not a number is an error naming its line and column.
 */
import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';

export type CsvRole = 'x' | 'p';

/** A parsed CSV before it is given a role. */
export interface CsvTable {
  /** Column names, or null when the file has no header row. */
  header: string[] | null;
  /** Data rows as text cells; every row has the same number of cells. */
  rows: string[][];
  /** The 1-based line number where each data row starts (for error messages). */
  lines: number[];
  delimiter: ',' | ';' | '\t';
  notes: string[];
}

export interface CsvData {
  tensor: HostTensor;
  names: string[];
  notes: string[];
}

const DELIMITERS = [',', ';', '\t'] as const;
const DELIMITER_NAMES: Record<string, string> = { ',': 'comma', ';': 'semicolon', '\t': 'tab' };
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell's numeric value, or null when it is not a number. Accepts nan, inf, infinity (any case). */
export function parseNumber(cell: string): number | null {
  const t = cell.trim();
  if (NUMBER.test(t)) return Number(t);
  switch (t.toLowerCase()) {
    case 'nan':
    case '+nan':
    case '-nan':
      return NaN;
    case 'inf':
    case '+inf':
    case 'infinity':
    case '+infinity':
      return Infinity;
    case '-inf':
    case '-infinity':
      return -Infinity;
  }
  return null;
}

function decodeText(input: string | Uint8Array, notes: string[]): string {
  if (typeof input === 'string') return input.replace(/^\uFEFF/, '');
  if (input[0] === 0xff && input[1] === 0xfe) return new TextDecoder('utf-16le').decode(input.subarray(2));
  if (input[0] === 0xfe && input[1] === 0xff) return new TextDecoder('utf-16be').decode(input.subarray(2));
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(input);
  } catch {
    // Excel on Windows saves in the ANSI code page; its names (µ, °) decode correctly this way.
    notes.push('the file is not UTF-8; read it as Windows-1252 (Latin-1)');
    return new TextDecoder('windows-1252').decode(input);
  }
}

interface Records {
  records: string[][];
  lines: number[];
}

/** Splits text into records (RFC 4180), skipping blank lines. Throws Error with a line number. */
function tokenize(text: string, delim: string, maxRecords = Infinity): Records {
  const records: string[][] = [];
  const lines: number[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n && records.length < maxRecords) {
    const startLine = line;
    const fields: string[] = [];
    let blank = true;
    for (;;) {
      // one field
      let field = '';
      let j = i;
      while (j < n && (text[j] === ' ' || text[j] === '\t') && text[j] !== delim) j++;
      if (text[j] === '"') {
        blank = false;
        const quoteLine = line;
        j++;
        for (;;) {
          if (j >= n) throw new Error(`a quote opened on line ${quoteLine} is never closed`);
          const c = text[j];
          if (c === '"') {
            if (text[j + 1] === '"') {
              field += '"';
              j += 2;
              continue;
            }
            j++;
            break;
          }
          if (c === '\n' || (c === '\r' && text[j + 1] !== '\n')) line++;
          field += c;
          j++;
        }
        while (j < n && (text[j] === ' ' || text[j] === '\t') && text[j] !== delim) j++;
        if (j < n && text[j] !== delim && text[j] !== '\n' && text[j] !== '\r')
          throw new Error(`line ${line}: unexpected text after a closing quote`);
      } else {
        let k = i;
        while (k < n && text[k] !== delim && text[k] !== '\n' && text[k] !== '\r') {
          if (text[k] === '"') throw new Error(`line ${line}: a quote in the middle of a value`);
          k++;
        }
        field = text.slice(i, k);
        if (field.trim() !== '') blank = false;
        j = k;
      }
      fields.push(field);
      if (j < n && text[j] === delim) {
        blank = false;
        i = j + 1;
        continue;
      }
      // end of record
      if (text[j] === '\r') j += text[j + 1] === '\n' ? 2 : 1;
      else if (text[j] === '\n') j++;
      line++;
      i = j;
      break;
    }
    if (!blank) {
      records.push(fields);
      lines.push(startLine);
    }
  }
  return { records, lines };
}

function pickDelimiter(text: string, fail: (reason: string) => never): ',' | ';' | '\t' {
  // Judge on the first records only: the delimiter is evident from the header and a few rows.
  const consistent: { d: ',' | ';' | '\t'; numeric: boolean }[] = [];
  let anySplit = false;
  for (const d of DELIMITERS) {
    let recs: string[][];
    try {
      recs = tokenize(text, d, 30).records;
    } catch {
      continue;
    }
    if (recs.length === 0) continue;
    const w = recs[0].length;
    if (recs.some((r) => r.length > 1)) anySplit = true;
    if (w > 1 && recs.every((r) => r.length === w))
      consistent.push({ d, numeric: recs.slice(1).every((r) => r.every((c) => parseNumber(c) !== null)) });
  }
  if (consistent.length === 1) return consistent[0].d;
  if (consistent.length === 0) {
    if (!anySplit) return ','; // a single column
    fail('rows have different numbers of values (checked with comma, semicolon and tab as the delimiter)');
  }
  const numeric = consistent.filter((c) => c.numeric);
  if (numeric.length === 1) return numeric[0].d;
  fail(
    `could be split by ${consistent.map((c) => DELIMITER_NAMES[c.d]).join(' or ')} alike; use one delimiter (a comma) and '.' decimals`,
  );
}

/** Parses CSV text or bytes into a table of text cells (no role yet). Throws LoadError. */
export function parseCsv(input: string | Uint8Array, file: string): CsvTable {
  function fail(reason: string): never {
    throw new LoadError(file, reason);
  }
  const notes: string[] = [];
  const text = decodeText(input, notes);
  if (text.trim() === '') fail('is empty');
  const delimiter = pickDelimiter(text, fail);
  if (delimiter !== ',') notes.push(`columns are separated by ${DELIMITER_NAMES[delimiter]}s`);
  let recs: Records;
  try {
    recs = tokenize(text, delimiter);
  } catch (e) {
    fail((e as Error).message);
  }
  const { records, lines } = recs;
  if (records.length === 0) fail('is empty');

  // A header row is one with any non-numeric cell.
  const first = records[0];
  let header: string[] | null = first.some((c) => parseNumber(c) === null)
    ? first.map((c) => c.trim())
    : null;
  let rows = header ? records.slice(1) : records;
  const rowLines = header ? lines.slice(1) : lines;
  const width = first.length;
  rows.forEach((r, i) => {
    if (r.length !== width)
      fail(
        `line ${rowLines[i]} has ${r.length} value${r.length === 1 ? '' : 's'} but ${header ? 'the header has' : 'the first row has'} ${width}`,
      );
  });
  if (rows.length === 0) fail('has a header but no data rows');

  // pandas' to_csv (0, 1, ..) and R's write.csv (1, 2, ..) write row labels as a nameless first
  // column: drop it.
  const counts = (start: number) => rows.every((r, i) => parseNumber(r[0]) === i + start);
  if (header && header[0] === '' && width > 1 && (counts(0) || counts(1))) {
    header = header.slice(1);
    rows = rows.map((r) => r.slice(1));
    notes.push('the first column has no name and counts rows (a pandas index); it was ignored');
  }
  if (header) {
    const empty = header.findIndex((h) => h === '');
    if (empty >= 0) fail(`column ${empty + 1} of the header has no name`);
    const dup = header.find((h, i) => header!.indexOf(h) !== i);
    if (dup !== undefined) fail(`the header names column '${dup}' twice`);
  }
  return { header, rows, lines: rowLines, delimiter, notes };
}

function isBatchName(name: string): boolean {
  return name.trim().toLowerCase() === 'batch';
}

/** The index of the `batch` column, or -1. */
export function batchColumn(table: CsvTable): number {
  return table.header ? table.header.findIndex(isBatchName) : -1;
}

/** Turns a parsed table into x [B,T,Xf] or p [B,P]. Throws LoadError naming line and column. */
export function csvToTensor(table: CsvTable, file: string, role: CsvRole): CsvData {
  function fail(reason: string): never {
    throw new LoadError(file, reason);
  }
  const notes = [...table.notes];
  const { header, rows, lines } = table;
  const width = rows[0].length;
  const bcol = batchColumn(table);
  const featureCols = [...Array(width).keys()].filter((j) => j !== bcol);
  const names = header ? featureCols.map((j) => header[j]) : featureCols.map((j) => `${role}${j}`);
  if (!header) notes.push(`no header row; the columns are named ${names[0]}…${names[names.length - 1]}`);
  if (featureCols.length === 0) fail('has no feature columns besides batch');

  const columnLabel = (j: number) => (header ? `column '${header[j]}'` : `column ${j + 1}`);
  const value = (r: number, j: number): number => {
    const cell = rows[r][j];
    const v = parseNumber(cell);
    if (v !== null) return v;
    const t = cell.trim();
    if (t === '') fail(`line ${lines[r]}, ${columnLabel(j)}: the cell is empty`);
    const hint = /^[+-]?\d*,\d+$/.test(t) ? " (decimals must use '.', not ',')" : '';
    fail(
      `line ${lines[r]}, ${columnLabel(j)}: '${t.length > 30 ? t.slice(0, 30) + '…' : t}' is not a number${hint}`,
    );
  };

  const F = featureCols.length;
  if (role === 'p') {
    if (bcol >= 0) notes.push("the 'batch' column was ignored (a p file has one row per sample)");
    const data = new Float64Array(rows.length * F);
    for (let r = 0; r < rows.length; r++)
      for (let k = 0; k < F; k++) data[r * F + k] = value(r, featureCols[k]);
    return { tensor: { dtype: 'float64', shape: [rows.length, F], data }, names, notes };
  }

  // x: group rows by batch label, samples in order of first appearance, rows in file order.
  const groups = new Map<string, number[]>();
  for (let r = 0; r < rows.length; r++) {
    let key = '';
    if (bcol >= 0) {
      const raw = rows[r][bcol].trim();
      if (raw === '') fail(`line ${lines[r]}: the batch cell is empty`);
      const num = parseNumber(raw);
      key = num === null ? raw : String(num); // "1" and "1.0" are the same sample
    }
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(r);
  }
  const samples = [...groups.entries()];
  const T = samples[0][1].length;
  const odd = samples.find(([, g]) => g.length !== T);
  if (odd)
    fail(
      `sample batch=${odd[0]} has ${odd[1].length} rows but sample batch=${samples[0][0]} has ${T}; every sample needs the same number of timesteps`,
    );
  const B = samples.length;
  const data = new Float64Array(B * T * F);
  let o = 0;
  for (const [, g] of samples)
    for (const r of g) for (let k = 0; k < F; k++) data[o++] = value(r, featureCols[k]);
  if (bcol >= 0) notes.push(`${B} sample${B === 1 ? '' : 's'} from the 'batch' column, ${T} timesteps each`);
  return { tensor: { dtype: 'float64', shape: [B, T, F], data }, names, notes };
}

/** Reads a CSV data file as x [B,T,Xf] or p [B,P] (see the module comment). Throws LoadError. */
export function readCsv(input: string | Uint8Array, file: string, role: CsvRole): CsvData {
  return csvToTensor(parseCsv(input, file), file, role);
}

// ---------------------------------------------------------------------------------------------------
// Writing

/** A number as shortest round-trip text (JS String), with nan/inf spelled as numpy and pandas read them. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

/** Quotes a text cell when it holds a delimiter, a quote, a line break or edge spaces. */
export function quoteCell(s: string): string {
  return /[",;\t\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * CSV text with a header row and `rowCount` rows from `getRow` (numbers at full precision, '.'
 * decimals; strings quoted as needed). Lines end in '\n'.
 */
export function formatCsv(
  columns: readonly string[],
  rowCount: number,
  getRow: (i: number) => ArrayLike<number | string>,
): string {
  const out: string[] = [columns.map(quoteCell).join(',')];
  for (let i = 0; i < rowCount; i++) {
    const row = getRow(i);
    if (row.length !== columns.length)
      throw new Error(`formatCsv: row ${i} has ${row.length} cells for ${columns.length} columns`);
    const cells = new Array<string>(row.length);
    for (let j = 0; j < row.length; j++) {
      const c = row[j];
      cells[j] = typeof c === 'number' ? formatNumber(c) : quoteCell(c);
    }
    out.push(cells.join(','));
  }
  return out.join('\n') + '\n';
}

/** formatCsv over an array of rows. */
export function writeCsv(header: readonly string[], rows: readonly ArrayLike<number | string>[]): string {
  return formatCsv(header, rows.length, (i) => rows[i]);
}
