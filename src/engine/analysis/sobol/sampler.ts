/**
 * Points of the unit cube for the base rows of a run, by row index, so that any range of rows can
 * be generated on its own (shards):
 *
 * - 'sobol': the Sobol' sequence (Joe–Kuo directions) in Gray-code order from index 0, each
 *   dimension scrambled by Owen's nested uniform scrambling under keys drawn from the seed, each
 *   coordinate then the midpoint of its 2^-32 cell, (x + 1/2)/2^32 — never 0 nor 1, so an inverse
 *   normal CDF stays finite, and still in the cell the net property puts it in.
 * - 'random': independent uniforms from Philox4x32-10 with the counter (row, column pair, stream),
 *   53 bits each.
 */
import { ShapeError } from '../../errors';
import { SOBOL_MAX_DIMS } from './direction-numbers';
import { STREAM, philox, seedKey, unitFromWords } from './philox';
import { owenScramble } from './scramble';
import { sobolIntegers } from './sequence';

export type Sampling = 'sobol' | 'random';

/** Check a seed: a safe non-negative integer. */
export function checkSeed(seed: unknown): number {
  if (typeof seed !== 'number' || !Number.isSafeInteger(seed) || seed < 0)
    throw new ShapeError(`seed must be a non-negative integer, got ${String(seed)}`);
  return seed;
}

/** Rows [start, start + count) of `dims` uniforms in (0, 1): [count, dims]. */
export function unitSamples(
  sampling: Sampling,
  seed: number,
  dims: number,
  start: number,
  count: number,
): Float64Array {
  const [k0, k1] = seedKey(checkSeed(seed));
  const out = new Float64Array(count * dims);
  if (sampling === 'sobol') {
    if (dims > SOBOL_MAX_DIMS)
      throw new ShapeError(
        `Sobol' sampling has ${SOBOL_MAX_DIMS} dimensions, ${dims} needed (2·P: at most ${SOBOL_MAX_DIMS / 2} features); use random sampling`,
      );
    const ints = sobolIntegers(dims, start, count);
    const w = new Uint32Array(4);
    for (let d = 0; d < dims; d++) {
      philox(d, 0, 0, STREAM.scramble, k0, k1, w);
      const keyA = w[0];
      const keyB = w[1];
      for (let r = 0; r < count; r++)
        out[r * dims + d] = (owenScramble(ints[r * dims + d], keyA, keyB) + 0.5) / 2 ** 32;
    }
    return out;
  }
  if (sampling !== 'random')
    throw new ShapeError(`sampling must be 'sobol' or 'random', got '${String(sampling)}'`);
  const w = new Uint32Array(4);
  for (let r = 0; r < count; r++) {
    const row = start + r;
    const lo = row % 2 ** 32;
    const hi = Math.floor(row / 2 ** 32);
    for (let d = 0; d < dims; d += 2) {
      philox(lo, hi, d / 2, STREAM.random, k0, k1, w);
      out[r * dims + d] = unitFromWords(w[0], w[1]);
      if (d + 1 < dims) out[r * dims + d + 1] = unitFromWords(w[2], w[3]);
    }
  }
  return out;
}
