// AssemblyScript source of tanh over a float64 array, two lanes at a time (f64x2); re-exported by
// ./gemm.ts, the module's entry, so it ships in the same module. ../tanh-wasm.ts is the JS side.
//
// It must give the same bits as the scalar tanh in ../tanh.ts (the reference and the fallback), so it
// is that function transcribed: the same constants, the same operations in the same order (SIMD128 has
// no FMA, and neither asc nor V8 reassociates floating point), and the same branches. The branches
// become masks: both the |x| ≤ 0.625 polynomial and the exp path are computed for both lanes and each
// lane keeps its own (the scalar branch is unpredictable on activations of mixed magnitude, and costs
// more than the work it skips).

// The app's tsc project includes src/, but this file is AssemblyScript (v128, f64x2, load<T>, usize):
// only asc can type-check it, and prettier cannot parse its @inline (see .prettierignore).
// @ts-nocheck

// tanh(x) = x + x³·P(x²)/Q(x²) for |x| ≤ 0.625.
const P0: f64 = -0.9643991794250523;
const P1: f64 = -99.28772310019185;
const P2: f64 = -1614.6876844170845;
const Q1: f64 = 112.81167849163293;
const Q2: f64 = 2235.4883906010045;
const Q3: f64 = 4844.063053251255;

// exp(r) = 1 + 2·r·p(r²)/(q(r²) − r·p(r²)) for |r| ≤ ln2/2, after x = n·ln2 + r.
const EP0: f64 = 0.00012617719307481058;
const EP1: f64 = 0.030299440770744195;
const EP2: f64 = 1.0;
const EQ0: f64 = 3.0019850513866446e-6;
const EQ1: f64 = 0.002524483403496841;
const EQ2: f64 = 0.22726554820815503;
const EQ3: f64 = 2.0;
const LN2_HI: f64 = 6.93145751953125e-1;
const LN2_LO: f64 = 1.4286068203094173e-6;
const LOG2E: f64 = 1.4426950408889634;

/** Beyond this |x|, tanh(x) rounds to ±1. */
const SATURATE: f64 = 19.1;

/** 2^52 + 1023: added to an integer n in [−1023, 1024], leaves n + 1023 in the low mantissa bits. */
const POW2_MAGIC: f64 = 4503599627371519.0;

// Shorthands, so the formulas below read like the scalar ones; binaryen inlines them (and folds k(c)
// to a v128 constant).
function k(c: f64): v128 {
  return f64x2.splat(c);
}

function add(a: v128, b: v128): v128 {
  return f64x2.add(a, b);
}

function sub(a: v128, b: v128): v128 {
  return f64x2.sub(a, b);
}

function mul(a: v128, b: v128): v128 {
  return f64x2.mul(a, b);
}

function div(a: v128, b: v128): v128 {
  return f64x2.div(a, b);
}

/**
 * 2^n for integral n (as f64) in 2..55, exactly: n + 2^52 + 1023 is exact and holds n + 1023 in its low
 * mantissa bits; shifting those into the exponent field (and the 2^52's exponent out) gives 2^n.
 */
function pow2(n: v128): v128 {
  return i64x2.shl(add(n, k(POW2_MAGIC)), 52);
}

/**
 * tanh of each lane of x, as ../tanh.ts computes it. Inlined into its four callers below: as a call
 * (what binaryen makes of a function this size with several callers) the loop ran about 1.5× slower.
 */
@inline function tanh2(x: v128): v128 {
  const a = f64x2.abs(x);

  // |x| ≤ 0.625: x + (x·s·((P0·s + P1)·s + P2)) / (((s + Q1)·s + Q2)·s + Q3), s = x²
  const s = mul(x, x);
  const num = mul(mul(x, s), add(mul(add(mul(k(P0), s), k(P1)), s), k(P2)));
  const den = add(mul(add(mul(add(s, k(Q1)), s), k(Q2)), s), k(Q3));
  const small = add(x, div(num, den));

  // 0.625 < |x| < 19.1: e = exp(2|x|) = exp(r)·2^n, tanh = ±(1 − 2/(e + 1))
  const y = mul(k(2), a);
  const n = f64x2.floor(add(mul(k(LOG2E), y), k(0.5)));
  const r = sub(sub(y, mul(n, k(LN2_HI))), mul(n, k(LN2_LO)));
  const rr = mul(r, r);
  const px = mul(r, add(mul(add(mul(k(EP0), rr), k(EP1)), rr), k(EP2)));
  const q = sub(add(mul(add(mul(add(mul(k(EQ0), rr), k(EQ1)), rr), k(EQ2)), rr), k(EQ3)), px);
  const e = mul(add(k(1), div(mul(k(2), px), q)), pow2(n));
  const t = sub(k(1), div(k(2), add(e, k(1))));

  // |x| ≥ 19.1 (±Infinity included) saturates to 1. Both t and 1 are positive, so x < 0 ? −v : v is
  // x's sign bit copied onto v.
  const big = v128.bitselect(x, v128.bitselect(t, k(1), f64x2.lt(a, k(SATURATE))), k(-0.0));
  const v = v128.bitselect(small, big, f64x2.le(a, k(0.625)));
  // ±0 (the polynomial would turn −0 into +0) and NaN come back as they are.
  return v128.bitselect(x, v, v128.or(f64x2.eq(x, k(0)), f64x2.ne(x, x)));
}

/** dst[i] = tanh(src[i]) for i < n, float64 arrays at byte addresses src and dst (which may be equal). */
export function tanhArray(src: usize, dst: usize, n: i32): void {
  // Two vectors per step: their independent chains of divisions overlap better (measured 10% faster);
  // both are loaded before either is stored, so src = dst stays safe.
  const end4 = src + ((<usize>(n & ~3)) << 3);
  while (src < end4) {
    const a = tanh2(v128.load(src));
    const b = tanh2(v128.load(src, 16));
    v128.store(dst, a);
    v128.store(dst, b, 16);
    src += 32;
    dst += 32;
  }
  if (n & 2) {
    v128.store(dst, tanh2(v128.load(src)));
    src += 16;
    dst += 16;
  }
  // The odd last value goes through the same vector code in lane 0, so it cannot differ from the rest.
  if (n & 1) v128.store64_lane(dst, tanh2(v128.load64_zero(src)), 0);
}
