/**
 * Exports as HDF5 (.h5: one float64 dataset per array, the axis names as its `axes` attribute and HDF5
 * dimension labels) and MATLAB v5 .mat (what scipy.io.savemat and MATLAB's `save -v7` read), through the
 * engine's writers. HDF5 needs its library (WebAssembly) loaded first: `prepareArrayFormat` before writing.
 */
import { loadHdf5 } from '../../engine/io/hdf5';
import { writeHdf5 } from '../../engine/io/hdf5-write';
import { writeMat } from '../../engine/io/mat-write';

export type ArrayFormat = 'h5' | 'mat';

export interface ArrayOut {
  /** A MATLAB variable name (a letter, then letters, digits and underscores): `J`, `y`, `J_slice`. */
  name: string;
  shape: number[];
  data: Float64Array | Float32Array;
  /** One name per axis ('B', 'T', 'O', 'P'). */
  axes: string[];
}

/** The format of an export request ('full-h5', 'y-all-mat', …); null for CSV and .npy. */
export function arrayFormatOf(what: string): ArrayFormat | null {
  return what.endsWith('-h5') ? 'h5' : what.endsWith('-mat') ? 'mat' : null;
}

/** Loads what writing `what` needs (the HDF5 library for .h5). */
export async function prepareArrayFormat(what: string): Promise<void> {
  if (arrayFormatOf(what) === 'h5') await loadHdf5();
}

/** The file's bytes (values as float64: a float32 J is widened exactly). */
export function writeArrays(format: ArrayFormat, arrays: ArrayOut[]): Uint8Array {
  const named = arrays.map((a) => ({
    name: a.name,
    axes: a.axes,
    tensor: {
      dtype: 'float64' as const,
      shape: a.shape.slice(),
      data: a.data instanceof Float64Array ? a.data : Float64Array.from(a.data),
    },
  }));
  return format === 'h5' ? writeHdf5(named) : writeMat(named);
}

/** y's axis names for y of shape `yShape`: B, T (when y has a time axis), then O (O1, O2, … for several). */
export function yAxes(yShape: readonly number[], timeAxis: boolean): string[] {
  const rest = Math.max(0, yShape.length - 1 - (timeAxis ? 1 : 0));
  const outs = rest === 1 ? ['O'] : Array.from({ length: rest }, (_, i) => `O${i + 1}`);
  return ['B', ...(timeAxis && yShape.length > 1 ? ['T'] : []), ...outs];
}
