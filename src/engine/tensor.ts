/**
 * Host tensors: what readers return and writers take. Row-major, contiguous.
 * Values are held as float64 whatever the file held (float16/32 and ints up to 2^53 are exact);
 * `dtype` remembers the file's type so that exports and `info` can report it.
 * Complex tensors keep real and imaginary parts in two arrays of the same shape.
 */

export type RealDType =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';
export type ComplexDType = 'complex64' | 'complex128';
export type DType = RealDType | ComplexDType;

export interface HostTensor {
  dtype: DType;
  shape: number[];
  /** Real part (or the values of a real tensor), row-major. */
  data: Float64Array;
  /** Imaginary part, present exactly when dtype is complex. */
  imag?: Float64Array;
}

export function isComplex(dtype: DType): dtype is ComplexDType {
  return dtype === 'complex64' || dtype === 'complex128';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
