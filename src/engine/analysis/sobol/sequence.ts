/**
 * The (unscrambled) Sobol' sequence in Gray-code order (Antonov & Saleev), as Joe & Kuo's and
 * SciPy's generators produce it: point i is the XOR of the direction numbers V[b] over the set bits
 * b of i's Gray code i ^ (i >> 1), so any stretch of points can start at any index — which is how
 * shards generate exactly their own rows of one run.
 */
import { SOBOL_MAX_DIMS, directionNumbers } from './direction-numbers';

/** Points [start, start + count) of the first `dims` dimensions: [count, dims] 32-bit integers x, the point being x / 2^32. */
export function sobolIntegers(dims: number, start: number, count: number): Uint32Array {
  if (!Number.isInteger(dims) || dims < 1 || dims > SOBOL_MAX_DIMS)
    throw new RangeError(`Sobol' points need 1..${SOBOL_MAX_DIMS} dimensions, got ${dims}`);
  if (
    !Number.isInteger(start) ||
    start < 0 ||
    !Number.isInteger(count) ||
    count < 0 ||
    start + count > 2 ** 32
  )
    throw new RangeError(`Sobol' points ${start}..${start + count} are outside 0..2^32`);
  const V: Uint32Array[] = [];
  for (let d = 0; d < dims; d++) V.push(directionNumbers(d + 1));
  const out = new Uint32Array(count * dims);
  if (count === 0) return out;
  // The first point directly from its Gray code ...
  const gray = grayCode(start);
  const x = new Uint32Array(dims);
  for (let b = 0; b < 32; b++) {
    if (!bit(gray, b)) continue;
    for (let d = 0; d < dims; d++) x[d] ^= V[d][b];
  }
  out.set(x, 0);
  // ... then one XOR per dimension per point: gray(i+1) ^ gray(i) = 2^ctz(i+1).
  for (let r = 1; r < count; r++) {
    const b = trailingZeros(start + r);
    for (let d = 0; d < dims; d++) x[d] ^= V[d][b];
    out.set(x, r * dims);
  }
  return out;
}

/** As `sobolIntegers`, as numbers in [0, 1). */
export function sobolPoints(dims: number, start: number, count: number): Float64Array {
  const ints = sobolIntegers(dims, start, count);
  const out = new Float64Array(ints.length);
  for (let i = 0; i < ints.length; i++) out[i] = ints[i] / 2 ** 32;
  return out;
}

/** i ^ (i >> 1) for 0 <= i < 2^32, as a number (bitwise operators would wrap at 2^31). */
function grayCode(i: number): number {
  return (i ^ Math.floor(i / 2)) >>> 0;
}

function bit(x: number, b: number): boolean {
  return ((x >>> b) & 1) === 1;
}

/** Trailing zero bits of 1 <= i <= 2^32. */
function trailingZeros(i: number): number {
  let b = 0;
  while (i % 2 === 0) {
    i /= 2;
    b++;
  }
  return b;
}
