/**
 * Export formats of the explore views (sweeps, global sensitivity), in the same conventions as J slices:
 * a header row of labels and names, one row per index of the picture's horizontal axis, full precision.
 * Pure; runs in the worker.
 */
import { encodeChunks } from './export-format';

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 40);
}

/**
 * A sweep picture [N,T] as CSV: one row per sweep value (the value first, so the file says where each row
 * was computed), one column per time step.
 */
export function sweepCsv(
  valueLabel: string,
  values: Float64Array,
  data: Float64Array,
  T: number,
): Uint8Array {
  const head = [csvField(valueLabel)];
  for (let t = 0; t < T; t++) head.push(`t=${t}`);
  const chunks = [head.join(',') + '\n'];
  let buf = '';
  for (let n = 0; n < values.length; n++) {
    let line = String(values[n]);
    for (let t = 0; t < T; t++) line += ',' + String(data[n * T + t]);
    buf += line + '\n';
    if (buf.length > 1 << 20) {
      chunks.push(buf);
      buf = '';
    }
  }
  chunks.push(buf);
  return encodeChunks(chunks);
}

/** e.g. `sweep_k3-p3_y_o2-y2.csv` or `sweep_k3-p3_J_o2-y2_k5-p5.npy`. */
export function sweepFileName(
  k: number,
  pName: string,
  what: 'y' | 'J',
  o: number | null,
  oName: string,
  j: number | null,
  jName: string,
  ext: string,
): string {
  const parts = ['sweep', `k${k}-${safe(pName)}`, what];
  if (o !== null) parts.push(`o${o}-${safe(oName)}`);
  if (j !== null) parts.push(`k${j}-${safe(jName)}`);
  return `${parts.join('_')}.${ext}`;
}

/** An [O,P] measure as CSV: one row per output (index, name), one column per parameter named. */
export function outputByParamCsv(m: Float64Array, yNames: string[], pNames: string[]): Uint8Array {
  const O = yNames.length;
  const P = pNames.length;
  let s = ['o (output)', 'name', ...pNames.map(csvField)].join(',') + '\n';
  for (let o = 0; o < O; o++) {
    s += `${o},${csvField(yNames[o])}`;
    for (let k = 0; k < P; k++) s += ',' + String(m[o * P + k]);
    s += '\n';
  }
  return encodeChunks([s]);
}

/** The P values of one output's row (or the mean over outputs when o < 0), ranked largest first; NaN last. */
export function rankParams(m: Float64Array, O: number, P: number, o: number): { k: number; value: number }[] {
  const rows: { k: number; value: number }[] = [];
  for (let k = 0; k < P; k++) {
    let v: number;
    if (o >= 0) v = m[o * P + k];
    else {
      // Mean over the outputs that have a value (elasticity is NaN where y stays near 0).
      let sum = 0;
      let n = 0;
      for (let i = 0; i < O; i++) {
        const x = m[i * P + k];
        if (Number.isFinite(x)) {
          sum += x;
          n++;
        }
      }
      v = n > 0 ? sum / n : NaN;
    }
    rows.push({ k, value: v });
  }
  const key = (v: number) => (Number.isFinite(v) ? v : -Infinity);
  return rows.sort((a, b) => key(b.value) - key(a.value) || a.k - b.k);
}

export function rankCsv(rows: { k: number; value: number }[], pNames: string[], label: string): Uint8Array {
  let s = `rank,k,name,${csvField(label)}\n`;
  rows.forEach((r, i) => (s += `${i + 1},${r.k},${csvField(pNames[r.k])},${String(r.value)}\n`));
  return encodeChunks([s]);
}
