/**
 * Export formats: J (the visible slice as CSV, the whole J as long-format CSV), the data and the forward
 * output (y, x, p as tables), and file names.
 * Pure; runs in the worker (so a large export never blocks the UI thread).
 * CSV: '.' decimal, full float precision (shortest round-trip form), a header row of axis labels and names.
 */
import type { JArray } from './j-array';
import { AXIS_LABEL, indexName } from './axes';
import type { Axis, AxisIndex, Dims, FeatureNames } from './axes';
import type { Slice2D } from './slice';

const encoder = new TextEncoder();

/** Joins string chunks into UTF-8 bytes without building one giant string. */
export function encodeChunks(chunks: string[]): Uint8Array {
  const parts = chunks.map((c) => encoder.encode(c));
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A name as a CSV cell: quoted when it holds a delimiter (any the readers accept), a quote or a line break. */
export function csvField(s: string): string {
  return /[",;\t\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function hasNames(axis: Axis): boolean {
  return axis === 'o' || axis === 'k';
}

/**
 * The slice as CSV: one row per index of the slice's x axis, one column per index of its y axis.
 * Header: the row axis label (plus a name column for o/k), then one column per y index named by its feature
 * name (o, k) or `t=i` / `b=i`.
 */
export function sliceCsv(slice: Slice2D, names: FeatureNames): Uint8Array {
  const { xAxis, yAxis, nx, ny, data } = slice;
  const head = [csvField(AXIS_LABEL[xAxis])];
  if (hasNames(xAxis)) head.push('name');
  for (let iy = 0; iy < ny; iy++) head.push(csvField(indexName(yAxis, iy, names)));
  const chunks: string[] = [head.join(',') + '\n'];
  let buf = '';
  for (let ix = 0; ix < nx; ix++) {
    let line = String(ix);
    if (hasNames(xAxis)) line += ',' + csvField(indexName(xAxis, ix, names));
    for (let iy = 0; iy < ny; iy++) line += ',' + String(data[iy * nx + ix]);
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      chunks.push(buf);
      buf = '';
    }
  }
  chunks.push(buf);
  return encodeChunks(chunks);
}

/** The slice as a row-major [nx, ny] array (same orientation as the CSV). */
export function sliceMatrix(slice: Slice2D): { shape: number[]; data: Float64Array } {
  const { nx, ny, data } = slice;
  const out = new Float64Array(nx * ny);
  for (let ix = 0; ix < nx; ix++) for (let iy = 0; iy < ny; iy++) out[ix * ny + iy] = data[iy * nx + ix];
  return { shape: [nx, ny], data: out };
}

/**
 * The whole J as long-format CSV: `b,t,o,k,value`, one row per element, in row-major order (`b,o,k,value`
 * when y has no time axis, T = 1).
 */
export function longCsv(J: JArray, dims: Dims, timeAxis = true): Uint8Array {
  const { B, T, O, P } = dims;
  const chunks: string[] = [timeAxis ? 'b,t,o,k,value\n' : 'b,o,k,value\n'];
  let buf = '';
  let i = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const bt = timeAxis ? `${b},${t},` : `${b},`;
      for (let o = 0; o < O; o++) {
        const bto = `${bt}${o},`;
        for (let k = 0; k < P; k++) buf += `${bto}${k},${J[i++]}\n`;
      }
      if (buf.length > 1 << 20) {
        chunks.push(buf);
        buf = '';
      }
    }
  chunks.push(buf);
  return encodeChunks(chunks);
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
}

/** e.g. `J_b0_k3-p3_t-by-o.csv`: the fixed indices are in the name. */
export function sliceFileName(
  xAxis: Axis,
  yAxis: Axis,
  fixed: AxisIndex,
  dims: Dims,
  names: FeatureNames,
  ext: string,
  prefix = 'J',
): string {
  const parts = [prefix];
  for (const a of ['b', 't', 'o', 'k'] as const) {
    if (a === xAxis || a === yAxis) continue;
    if ((a === 'b' && dims.B === 1) || (a === 't' && dims.T === 1)) continue;
    parts.push(hasNames(a) ? `${a}${fixed[a]}-${safe(indexName(a, fixed[a], names))}` : `${a}${fixed[a]}`);
  }
  parts.push(`${xAxis}-by-${yAxis}`);
  return `${parts.join('_')}.${ext}`;
}

/**
 * A row-major [rows, cols] block of `data` from `off` as CSV: a header (`rowLabel`, then one column per name)
 * and one line per row, led by the row index. For y [T,O] and x [T,Xf] of one sample, and p [B,P].
 */
export function tableCsv(
  rowLabel: string,
  colNames: readonly string[],
  rows: number,
  data: ArrayLike<number>,
  off = 0,
): Uint8Array {
  const cols = colNames.length;
  const chunks: string[] = [[rowLabel, ...colNames].map(csvField).join(',') + '\n'];
  let buf = '';
  let i = off;
  for (let r = 0; r < rows; r++) {
    let line = String(r);
    for (let c = 0; c < cols; c++) line += ',' + String(data[i++]);
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      chunks.push(buf);
      buf = '';
    }
  }
  chunks.push(buf);
  return encodeChunks(chunks);
}

/** The whole y [B,T,O] as long-format CSV: `b,t,o,value` (`b,o,value` without a time axis), in row-major order. */
export function yLongCsv(y: ArrayLike<number>, B: number, T: number, O: number, timeAxis = true): Uint8Array {
  const chunks: string[] = [timeAxis ? 'b,t,o,value\n' : 'b,o,value\n'];
  let buf = '';
  let i = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const bt = timeAxis ? `${b},${t},` : `${b},`;
      for (let o = 0; o < O; o++) buf += `${bt}${o},${y[i++]}\n`;
      if (buf.length > 1 << 20) {
        chunks.push(buf);
        buf = '';
      }
    }
  chunks.push(buf);
  return encodeChunks(chunks);
}
