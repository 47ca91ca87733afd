/**
 * Builds exports of the data and the forward output from the worker's last result: y (one sample or the
 * batch), x of one sample, p of the batch. A what-if shows in y (sample b's y at the what-if values) and in
 * the file name.
 */
import { clampIndex } from '../lib/axes';
import type { JSource } from '../lib/display';
import { tableCsv, yLongCsv } from '../lib/export-format';
import type { NpyWriter } from './exports';
import type { ToWorker } from './protocol';
import type { ComputedResult } from './session';

export function dataExportBytes(
  result: ComputedResult | null,
  /** x [B,T,Xf] of the result (the session's active inputs). */
  x: Float64Array | null,
  msg: Extract<ToWorker, { type: 'export-data' }>,
  npy: NpyWriter,
  /** The data with the what-if sample in place, when a what-if is active. */
  shown?: { source: JSource; whatIfB: number },
): { name: string; bytes: Uint8Array } {
  if (!result) throw new Error('nothing computed yet');
  const { B, T, O, P } = result.meta;
  const b = clampIndex(msg.b, B);
  const dtype = msg.dtype ?? 'float64';
  const yNames = result.meta.yNames;
  switch (msg.what) {
    case 'y-sample-csv':
    case 'y-sample-npy': {
      const whatIf = shown !== undefined && shown.whatIfB === b;
      const block = whatIf ? shown.source.yBlock(b) : { data: result.y, off: b * T * O };
      const base = `y${whatIf ? '_whatif' : ''}_b${b}`;
      if (msg.what === 'y-sample-csv')
        return { name: `${base}.csv`, bytes: tableCsv('t (step)', yNames, T, block.data, block.off) };
      const data = block.data.slice(block.off, block.off + T * O);
      return { name: `${base}.npy`, bytes: npy.writeNpy({ shape: [T, O], data }, dtype) };
    }
    case 'y-all-npy':
    case 'y-all-csv': {
      let y = result.y;
      if (shown) {
        const wb = clampIndex(shown.whatIfB, B);
        const block = shown.source.yBlock(wb);
        y = result.y.slice();
        y.set(block.data.subarray(block.off, block.off + T * O), wb * T * O);
      }
      const base = shown ? `y_whatif-b${clampIndex(shown.whatIfB, B)}` : 'y';
      if (msg.what === 'y-all-csv') return { name: `${base}_long.csv`, bytes: yLongCsv(y, B, T, O) };
      return { name: `${base}.npy`, bytes: npy.writeNpy({ shape: [B, T, O], data: y }, dtype) };
    }
    case 'x-sample-csv':
    case 'x-sample-npy': {
      if (!x) throw new Error('the inputs of this result are not at hand');
      const Xf = result.data.Xf;
      const off = b * T * Xf;
      if (msg.what === 'x-sample-csv')
        return { name: `x_b${b}.csv`, bytes: tableCsv('t (step)', result.data.xNames, T, x, off) };
      const data = x.slice(off, off + T * Xf);
      return { name: `x_b${b}.npy`, bytes: npy.writeNpy({ shape: [T, Xf], data }, dtype) };
    }
    case 'p-csv':
      return { name: 'p.csv', bytes: tableCsv('batch', result.meta.pNames, B, result.p) };
    case 'p-npy':
      return { name: 'p.npy', bytes: npy.writeNpy({ shape: [B, P], data: result.p }, dtype) };
  }
}
