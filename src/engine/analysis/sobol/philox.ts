/**
 * Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11),
 * the counter-based generator of Random123: four 32-bit words from a 128-bit counter and a 64-bit
 * key, with no state. Every random number here is a function of (seed, what it is for, index), so
 * a shard or a merge draws exactly the numbers the single run draws, whatever the order of work.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** The high 32 bits of the 64-bit product of two 32-bit words. */
function mulhi(a: number, b: number): number {
  const aH = a >>> 16;
  const aL = a & 0xffff;
  const bH = b >>> 16;
  const bL = b & 0xffff;
  const mid = aH * bL + ((aL * bL) >>> 16);
  const mid2 = aL * bH + (mid % 65536);
  return (aH * bH + Math.floor(mid / 65536) + Math.floor(mid2 / 65536)) >>> 0;
}

/** Philox4x32 with 10 rounds of counter c0..c3 under key k0, k1 into `out` (4 words). */
export function philox(
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  k0: number,
  k1: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  c0 >>>= 0;
  c1 >>>= 0;
  c2 >>>= 0;
  c3 >>>= 0;
  k0 >>>= 0;
  k1 >>>= 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** What a stream of numbers is for: the fourth counter word, so that no two uses share numbers. */
export const STREAM = { random: 1, scramble: 2, bootstrap: 3 } as const;

/** A seed (a safe non-negative integer) as the two key words. */
export function seedKey(seed: number): [number, number] {
  return [(seed % 2 ** 32) >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** A uniform number in (0, 1) with 53 random bits from two words (never 0 nor 1). */
export function unitFromWords(w0: number, w1: number): number {
  return ((w0 >>> 5) * 67108864 + (w1 >>> 6) + 0.5) / 9007199254740992;
}
