/**
 * Exports of the variance-based tab, built in the worker from the last Sobol' run: S.json in the shape the
 * CLI writes (`jacscope sobol --out S.json`: S1, ST, S1_conf, ST_conf nested like one sample's output
 * followed by P, with n, evaluations, seed, distributions, the DGSM bound), plus the feature and output names;
 * or a long CSV, one row per (output element, feature), with the names beside the indices.
 */
import { sobolDocument } from '../../engine/analysis/sobol/result-json';
import { encodeChunks } from '../lib/export-format';
import type { SobolCache } from './sobol-run';
import type { SobolExportWhat } from './sobol-protocol';

function csvField(s: string): string {
  return /[",;\t\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function cell(v: number): string {
  return Number.isFinite(v) ? String(v) : 'NaN';
}

export function sobolJson(c: SobolCache): Uint8Array {
  const doc = sobolDocument(c.result, { features: c.pNames, outputs: c.yNames, sample: c.shown.b });
  return new TextEncoder().encode(JSON.stringify(doc, null, 1) + '\n');
}

/**
 * Long CSV: the index columns (t, o, k or o, k), the output and feature names, then S1, S1_conf, ST, ST_conf,
 * nu, dgsm_bound, dgsm_bound_conf, exceeds_bound (the CLI's columns).
 */
export function sobolCsv(c: SobolCache): Uint8Array {
  const r = c.result;
  const { T, O, P, timeAxis } = c.shown;
  const d = r.dgsm;
  const cols: [string, ArrayLike<number> | null][] = [
    ['S1', r.S1],
    ['S1_conf', r.S1_conf],
    ['ST', r.ST],
    ['ST_conf', r.ST_conf],
    ['nu', d?.nu ?? null],
    ['dgsm_bound', d?.bound ?? null],
    ['dgsm_bound_conf', d?.bound_conf ?? null],
    ['exceeds_bound', d?.exceeds ?? null],
  ];
  const head = [...(timeAxis ? ['t'] : []), 'o', 'output', 'k', 'feature', ...cols.map(([n]) => n)];
  const chunks = [head.join(',') + '\n'];
  let buf = '';
  for (let t = 0; t < T; t++)
    for (let o = 0; o < O; o++)
      for (let k = 0; k < P; k++) {
        const i = (t * O + o) * P + k;
        const idx = timeAxis ? [String(t)] : [];
        idx.push(String(o), csvField(c.yNames[o] ?? `y${o}`), String(k), csvField(c.pNames[k] ?? `p${k}`));
        buf += `${idx.join(',')},${cols.map(([, a]) => (a ? cell(a[i]) : '')).join(',')}\n`;
        if (buf.length > 1 << 20) {
          chunks.push(buf);
          buf = '';
        }
      }
  chunks.push(buf);
  return encodeChunks(chunks);
}

export function sobolExportBytes(
  c: SobolCache | null,
  what: SobolExportWhat,
): { name: string; bytes: Uint8Array } {
  if (!c) throw new Error("no Sobol' indices computed yet: run them first");
  return what === 'sobol-json'
    ? { name: 'sobol-S.json', bytes: sobolJson(c) }
    : { name: 'sobol-S.csv', bytes: sobolCsv(c) };
}
