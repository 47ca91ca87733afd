/**
 * tanh in plain arithmetic, so the JIT inlines it into the activation loops: V8's Math.tanh and
 * Math.exp are calls into C++ (about 14 ns each), which made tanh a fifth of the seed FNO's forward
 * pass. The rational approximations are Cephes' (S. L. Moshier), accurate to about one ulp; the
 * test compares with Math.tanh over the whole range, edges included.
 */

// tanh(x) = x + x³·P(x²)/Q(x²) for |x| ≤ 0.625.
const P0 = -0.9643991794250523;
const P1 = -99.28772310019185;
const P2 = -1614.6876844170845;
const Q1 = 112.81167849163293;
const Q2 = 2235.4883906010045;
const Q3 = 4844.063053251255;

// exp(r) = 1 + 2·r·p(r²)/(q(r²) − r·p(r²)) for |r| ≤ ln2/2, after x = n·ln2 + r.
const EP0 = 0.00012617719307481058;
const EP1 = 0.030299440770744195;
const EP2 = 1.0;
const EQ0 = 3.0019850513866446e-6;
const EQ1 = 0.002524483403496841;
const EQ2 = 0.22726554820815503;
const EQ3 = 2.0;
const LN2_HI = 6.93145751953125e-1;
const LN2_LO = 1.4286068203094173e-6;
const LOG2E = 1.4426950408889634;

/** 2^n for the n that exp(2|x|) needs below the cut-off (0 ≤ n ≤ 56). */
const POW2 = Float64Array.from({ length: 57 }, (_, n) => 2 ** n);

/** Beyond this |x|, tanh(x) rounds to ±1. */
const SATURATE = 19.1;

export function tanh(x: number): number {
  const a = x < 0 ? -x : x;
  if (a <= 0.625) {
    if (x === 0) return x; // keeps −0
    const s = x * x;
    return x + (x * s * ((P0 * s + P1) * s + P2)) / (((s + Q1) * s + Q2) * s + Q3);
  }
  if (a < SATURATE) {
    // e = exp(2a), then tanh = 1 − 2/(e + 1)
    const y = 2 * a;
    const n = Math.floor(LOG2E * y + 0.5);
    const r = y - n * LN2_HI - n * LN2_LO;
    const rr = r * r;
    const px = r * ((EP0 * rr + EP1) * rr + EP2);
    const e = (1 + (2 * px) / (((EQ0 * rr + EQ1) * rr + EQ2) * rr + EQ3 - px)) * POW2[n];
    const t = 1 - 2 / (e + 1);
    return x < 0 ? -t : t;
  }
  if (a === a) return x < 0 ? -1 : 1;
  return x; // NaN
}
