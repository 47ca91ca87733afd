/** Builds export files from the worker's last result (so large exports never run on the UI thread). */
import { clampIndex } from '../lib/axes';
import type { Dims, FeatureNames } from '../lib/axes';
import { longCsv, sliceCsv, sliceFileName, sliceMatrix } from '../lib/export-format';
import { dataSource, sourceSlice } from '../lib/display';
import type { JSource } from '../lib/display';
import type { ComputedResult } from './session';
import type { ToWorker } from './protocol';
import { yAxes } from './array-files';
import type { ArrayFormat, ArrayOut } from './array-files';
import { AXIS_SHORT } from '../lib/axes';
import { resultSource, wholeJRefusal } from './sample-source';

export interface NpyWriter {
  writeNpy(
    t: { shape: number[]; data: Float64Array | Float32Array },
    dtype: 'float32' | 'float64',
  ): Uint8Array;
  /** HDF5 and MATLAB v5 files (array-files.ts); the exports in those formats need it. */
  writeArrays?: (format: ArrayFormat, arrays: ArrayOut[]) => Uint8Array;
}

/** The writer of .h5/.mat exports, or an error saying it is missing. */
export function arrayWriter(npy: NpyWriter): NonNullable<NpyWriter['writeArrays']> {
  if (!npy.writeArrays) throw new Error('HDF5 and MATLAB exports are not available here');
  return npy.writeArrays;
}

/**
 * `shown`: what the heatmap draws when it is not the loaded J as it is (a what-if sample, or the difference
 * of two samples), and the file-name prefix that says so; slices are cut from it.
 */
export function exportBytes(
  result: ComputedResult | null,
  msg: Extract<ToWorker, { type: 'export' }>,
  npy: NpyWriter,
  shown?: { source: JSource; prefix: string },
): { name: string; bytes: Uint8Array } {
  if (!result) throw new Error('nothing computed yet');
  const { T, O, P } = result.meta;
  const full: Dims = { B: result.meta.B, T, O, P };
  const source =
    shown?.source ?? (result.sample ? resultSource(result) : dataSource(result.J, result.y, full));
  // Sample mode: J is not kept whole, so an export of all of it is refused up front, with its size.
  if (result.sample && msg.what.startsWith('full-')) throw new Error(wholeJRefusal(result));
  // Comparing shows one sample's worth (B = 1); a what-if keeps the batch.
  const B = source.dims.B;
  const dims: Dims = { B, T, O, P };
  const names: FeatureNames = { y: result.meta.yNames, p: result.meta.pNames };
  const dtype = msg.dtype ?? 'float64';
  switch (msg.what) {
    // The whole J is the loaded data's: a what-if or a comparison is a view, exported slice by slice.
    case 'full-npy': {
      // In the precision it was computed in unless asked: a float32 J (WebGPU) widened to float64
      // would double the file and add no information.
      // J has y's shape followed by P: [B,T,O,P], or [B,O,P] for a graph model's y [B,O].
      const own = result.J instanceof Float32Array ? 'float32' : 'float64';
      const shape = [...result.meta.yShape, P];
      const bytes = npy.writeNpy({ shape, data: result.J }, msg.dtype ?? own);
      return { name: 'J.npy', bytes };
    }
    case 'full-csv':
      return { name: 'J_long.csv', bytes: longCsv(result.J, full, result.meta.timeAxis) };
    case 'full-h5':
    case 'full-mat': {
      const format = msg.what === 'full-h5' ? 'h5' : 'mat';
      const shape = [...result.meta.yShape, P];
      const axes = [...yAxes(result.meta.yShape, result.meta.timeAxis), 'P'];
      const bytes = arrayWriter(npy)(format, [{ name: 'J', shape, data: result.J, axes }]);
      return { name: `J.${format}`, bytes };
    }
    case 'slice-h5':
    case 'slice-mat':
    case 'slice-csv':
    case 'slice-npy': {
      const spec = msg.slice;
      if (!spec) throw new Error('no slice given');
      if (result.sample && B > 1 && (spec.xAxis === 'b' || spec.yAxis === 'b'))
        throw new Error(
          wholeJRefusal(result, 'a slice along b (every sample) cannot be made; show t, o or k'),
        );
      const fixed = {
        b: clampIndex(spec.fixed.b, B),
        t: clampIndex(spec.fixed.t, T),
        o: clampIndex(spec.fixed.o, O),
        k: clampIndex(spec.fixed.k, P),
      };
      const slice = sourceSlice(source, spec.xAxis, spec.yAxis, fixed);
      const ext = msg.what.slice('slice-'.length);
      const name = sliceFileName(spec.xAxis, spec.yAxis, fixed, dims, names, ext, shown?.prefix);
      if (msg.what === 'slice-csv') return { name, bytes: sliceCsv(slice, names) };
      if (msg.what === 'slice-npy') return { name, bytes: npy.writeNpy(sliceMatrix(slice), dtype) };
      // Rows: the slice's horizontal axis, columns its vertical one (as in the CSV and the .npy).
      const axes = [AXIS_SHORT[spec.xAxis], AXIS_SHORT[spec.yAxis]];
      const m = sliceMatrix(slice);
      const format = msg.what === 'slice-h5' ? 'h5' : 'mat';
      return { name, bytes: arrayWriter(npy)(format, [{ name: 'J_slice', ...m, axes }]) };
    }
  }
}
