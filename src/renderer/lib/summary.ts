/** Per-(o,k) influence summary of J, for each sample b: L2 norm over time, largest |J| and where it occurs. */
import type { JArray } from './j-array';
import type { Dims } from './axes';

export interface Summary {
  /** [B, O, P]: sqrt(sum_t J[b,t,o,k]^2). */
  l2: Float64Array;
  /** [B, O, P]: max_t |J[b,t,o,k]|. */
  maxAbs: Float64Array;
  /** [B, O, P]: the t where that maximum occurs (first one). */
  argT: Int32Array;
  /** max |J| over everything. */
  globalMaxAbs: number;
}

export function computeSummary(J: JArray, dims: Dims): Summary {
  const { B, T, O, P } = dims;
  const OP = O * P;
  const l2 = new Float64Array(B * OP);
  const maxAbs = new Float64Array(B * OP);
  const argT = new Int32Array(B * OP);
  let globalMaxAbs = 0;
  for (let b = 0; b < B; b++) {
    const sumSq = new Float64Array(OP);
    const mx = new Float64Array(OP);
    const at = new Int32Array(OP);
    for (let t = 0; t < T; t++) {
      const base = (b * T + t) * OP;
      for (let j = 0; j < OP; j++) {
        const v = J[base + j];
        sumSq[j] += v * v;
        const a = v < 0 ? -v : v;
        if (a > mx[j]) {
          mx[j] = a;
          at[j] = t;
        }
      }
    }
    for (let j = 0; j < OP; j++) {
      l2[b * OP + j] = Math.sqrt(sumSq[j]);
      maxAbs[b * OP + j] = mx[j];
      argT[b * OP + j] = at[j];
      if (mx[j] > globalMaxAbs) globalMaxAbs = mx[j];
    }
  }
  return { l2, maxAbs, argT, globalMaxAbs };
}

export interface SummaryRow {
  o: number;
  k: number;
  l2: number;
  maxAbs: number;
  argT: number;
}

export type SummarySortKey = 'o' | 'k' | 'l2' | 'maxAbs' | 'argT';

export function summaryRows(summary: Summary, dims: Dims, b: number): SummaryRow[] {
  const { O, P } = dims;
  const rows: SummaryRow[] = [];
  for (let o = 0; o < O; o++)
    for (let k = 0; k < P; k++) {
      const i = b * O * P + o * P + k;
      rows.push({ o, k, l2: summary.l2[i], maxAbs: summary.maxAbs[i], argT: summary.argT[i] });
    }
  return rows;
}

export function sortRows(rows: SummaryRow[], key: SummarySortKey, desc: boolean): SummaryRow[] {
  const sign = desc ? -1 : 1;
  return [...rows].sort((a, b) => sign * (a[key] - b[key]) || a.o - b.o || a.k - b.k);
}

/** The n most influential (o,k) pairs of sample b by L2 norm. */
export function topPairs(summary: Summary, dims: Dims, b: number, n: number): { o: number; k: number }[] {
  return sortRows(summaryRows(summary, dims, b), 'l2', true)
    .slice(0, n)
    .map(({ o, k }) => ({ o, k }));
}
