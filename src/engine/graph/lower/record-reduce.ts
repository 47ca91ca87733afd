/**
 * Reductions as tape records, for the rules whose kernels are plain loops over contiguous lines
 * (sum, prod, the norms, softmax): sums are products with a constant 1 (a `contract` summing the
 * reduced dimensions), a maximum is a halving tree of elementwise maxima, and a product along an
 * axis is a chain of elementwise products in the loop's order (so the bits agree).
 *
 * A reduction is described over one shape: an input view and an output view whose strides are 0
 * along the reduced dimensions.
 */
import { contiguousStrides, sizeOf } from '../tensor';
import { E } from './expr';
import type { Recorder, StridedArray } from './record';

/** out = scale · Σ_reduced a (· b). */
export function recordSum(
  rec: Recorder,
  shape: readonly number[],
  a: StridedArray,
  out: StridedArray,
  scale = 1,
  b?: StridedArray,
): void {
  const one: StridedArray = b ?? { arr: Float64Array.of(1), strides: shape.map(() => 0), offset: 0 };
  rec.contract(shape, a, one, out, scale, false);
}

/** A view of `v` with the entry `j` along `axis` (size 1 there). */
function at(v: StridedArray, axis: number, j: number): StridedArray {
  return { arr: v.arr, strides: v.strides, offset: v.offset + j * v.strides[axis] };
}

/** `shape` with `axis` set to `n`. */
function withAxis(shape: readonly number[], axis: number, n: number): number[] {
  const s = [...shape];
  s[axis] = n;
  return s;
}

/**
 * out = max along `axis` of x (out's stride along axis ignored), by halving: the upper half is
 * folded onto the lower half of a scratch copy until one entry is left.
 */
export function recordMax(
  rec: Recorder,
  shape: readonly number[],
  axis: number,
  x: StridedArray,
  out: StridedArray,
): void {
  let n = shape[axis];
  const one = withAxis(shape, axis, 1);
  if (n === 1) {
    rec.ewise(one, [x], [out], [E.in(0)]);
    return;
  }
  // a contiguous scratch of x's shape
  const s: StridedArray = {
    arr: new Float64Array(sizeOf(shape)),
    strides: contiguousStrides(shape),
    offset: 0,
  };
  let src = x;
  while (n > 1) {
    const h = Math.floor(n / 2);
    const lo = withAxis(shape, axis, h);
    // s[0:h] = max(src[0:h], src[n-h:n]); an odd middle entry is carried over
    rec.ewise(lo, [src, at(src, axis, n - h)], [s], [E.bin('max', E.in(0), E.in(1))]);
    if (n % 2 === 1) rec.ewise(one, [at(src, axis, h)], [at(s, axis, h)], [E.in(0)]);
    n -= h;
    src = s;
  }
  rec.ewise(one, [s], [out], [E.in(0)]);
}

/** out = Π along `axis` of x, multiplied in order (x₀·x₁·…, as the CPU loop). */
export function recordProd(
  rec: Recorder,
  shape: readonly number[],
  axis: number,
  x: StridedArray,
  out: StridedArray,
): void {
  const one = withAxis(shape, axis, 1);
  rec.ewise(one, [x], [out], [E.in(0)]);
  for (let j = 1; j < shape[axis]; j++)
    rec.ewise(one, [out, at(x, axis, j)], [out], [E.mul(E.in(0), E.in(1))]);
}

/**
 * others[j] = Π_{i≠j} x[i] along `axis` (prod's derivative), as the CPU computes it: the product of
 * the entries before j, times the product of those after.
 */
export function recordProdOthers(
  rec: Recorder,
  shape: readonly number[],
  axis: number,
  x: StridedArray,
  others: StridedArray,
): void {
  const n = shape[axis];
  const one = withAxis(shape, axis, 1);
  rec.ewise(one, [], [at(others, axis, 0)], [E.c(1)]);
  for (let j = 1; j < n; j++)
    rec.ewise(
      one,
      [at(others, axis, j - 1), at(x, axis, j - 1)],
      [at(others, axis, j)],
      [E.mul(E.in(0), E.in(1))],
    );
  // suffix products in a scratch line, multiplied in from the end
  const strides = others.strides.map((s, i) => (i === axis ? 0 : s));
  const p: StridedArray = { arr: new Float64Array(others.arr.length), strides, offset: others.offset };
  rec.ewise(one, [], [p], [E.c(1)]);
  for (let j = n - 1; j >= 0; j--) {
    rec.ewise(one, [at(others, axis, j), p], [at(others, axis, j)], [E.mul(E.in(0), E.in(1))]);
    if (j > 0) rec.ewise(one, [p, at(x, axis, j)], [p], [E.mul(E.in(0), E.in(1))]);
  }
}
