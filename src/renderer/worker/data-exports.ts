/**
 * Builds exports of the data and the forward output from the worker's last result: y (one sample or the
 * batch), x of one sample, p of the batch. A what-if shows in y (sample b's y at the what-if values) and in
 * the file name.
 */
import { clampIndex, defaultNames } from '../lib/axes';
import type { XRows } from './x-rows';
import type { JSource } from '../lib/display';
import { tableCsv, yLongCsv } from '../lib/export-format';
import { arrayWriter } from './exports';
import type { NpyWriter } from './exports';
import { yAxes } from './array-files';
import type { ToWorker } from './protocol';
import type { ComputedResult } from './session';
import { resultSource } from './sample-source';

export function dataExportBytes(
  result: ComputedResult | null,
  /** x [B, …] of the result by sample (the session's active inputs; read from disk when opened lazily). */
  x: XRows | null,
  msg: Extract<ToWorker, { type: 'export-data' }>,
  npy: NpyWriter,
  /** The data with the what-if sample in place, when a what-if is active. */
  shown?: { source: JSource; whatIfB: number },
): { name: string; bytes: Uint8Array } {
  if (!result) throw new Error('nothing computed yet');
  const { B, T, O, P, yShape, timeAxis } = result.meta;
  const b = clampIndex(msg.b, B);
  const dtype = msg.dtype ?? 'float64';
  const yNames = result.meta.yNames;
  // Rows of a one-sample table: time steps, or one row when y has no time axis.
  const rowLabel = timeAxis ? 't (step)' : 'row';
  switch (msg.what) {
    case 'y-sample-csv':
    case 'y-sample-npy': {
      const whatIf = shown !== undefined && shown.whatIfB === b;
      const block = whatIf
        ? shown.source.yBlock(b)
        : result.sample
          ? resultSource(result).yBlock(b)
          : { data: result.y, off: b * T * O };
      const base = `y${whatIf ? '_whatif' : ''}_b${b}`;
      if (msg.what === 'y-sample-csv')
        return { name: `${base}.csv`, bytes: tableCsv(rowLabel, yNames, T, block.data, block.off) };
      const data = block.data.slice(block.off, block.off + T * O);
      return { name: `${base}.npy`, bytes: npy.writeNpy({ shape: yShape.slice(1), data }, dtype) };
    }
    case 'y-all-npy':
    case 'y-all-csv':
    case 'y-all-h5':
    case 'y-all-mat': {
      // Sample mode: y of every sample from forward passes now, when it fits the memory budget.
      let y = result.sample ? result.sample.forwardAll(result.data.memory.budgetBytes) : result.y;
      if (shown) {
        const wb = clampIndex(shown.whatIfB, B);
        const block = shown.source.yBlock(wb);
        y = result.sample ? y : result.y.slice();
        y.set(block.data.subarray(block.off, block.off + T * O), wb * T * O);
      }
      const base = shown ? `y_whatif-b${clampIndex(shown.whatIfB, B)}` : 'y';
      if (msg.what === 'y-all-csv')
        return { name: `${base}_long.csv`, bytes: yLongCsv(y, B, T, O, timeAxis) };
      if (msg.what === 'y-all-h5' || msg.what === 'y-all-mat') {
        const format = msg.what === 'y-all-h5' ? 'h5' : 'mat';
        const axes = yAxes(yShape, timeAxis);
        const bytes = arrayWriter(npy)(format, [{ name: 'y', shape: yShape.slice(), data: y, axes }]);
        return { name: `${base}.${format}`, bytes };
      }
      return { name: `${base}.npy`, bytes: npy.writeNpy({ shape: yShape.slice(), data: y }, dtype) };
    }
    case 'x-sample-csv':
    case 'x-sample-npy': {
      const xShape = result.data.xShape;
      if (!xShape) throw new Error("this model's forward takes p alone: there is no x to export");
      if (!x) throw new Error('the inputs of this result are not at hand');
      const per = x.per;
      const row = x.get(b, b + 1);
      const off = 0;
      if (msg.what === 'x-sample-npy') {
        const data = row.slice(off, off + per);
        return { name: `x_b${b}.npy`, bytes: npy.writeNpy({ shape: xShape.slice(1), data }, dtype) };
      }
      // x [B,T,Xf]: a row per time step, a column per feature; other ranks: the first axis after the batch
      // in rows (one row for [B,F]), the rest flattened into columns.
      const rows = xShape.length > 2 ? xShape[1] : 1;
      const cols = rows > 0 ? per / rows : 0;
      const names = cols === result.data.xNames.length ? result.data.xNames : defaultNames('x', cols);
      const label = xShape.length > 2 ? 't (step)' : 'row';
      return { name: `x_b${b}.csv`, bytes: tableCsv(label, names, rows, row, off) };
    }
    case 'p-csv':
      return { name: 'p.csv', bytes: tableCsv('batch', result.meta.pNames, B, result.p) };
    case 'p-npy':
      return { name: 'p.npy', bytes: npy.writeNpy({ shape: [B, P], data: result.p }, dtype) };
  }
}
