import { erf, erfcxLarge } from '../../ops/erf';
import { wgslFloat } from './wgsl-common';

/**
 * The special functions of the tape kernels' expressions in f32 WGSL (tape-wgsl-expr.ts): erf,
 * tanh and 1 − tanh², the sigmoid, GELU and its derivative.
 *
 * WGSL has no erf, and its builtin tanh is only specified "as sinh/cosh" (some drivers overflow to
 * NaN for |x| ≳ 44), so both are written here from exp, with inputs clamped where the result has
 * saturated in f32 (WGSL leaves overflow undefined).
 *
 * erf: Chebyshev interpolants fitted at load time in float64 (against the engine's own erf,
 * ops/erf.ts, and erfc's continued fraction), evaluated by Clenshaw's recurrence (stable in f32):
 *   |x| ≤ 1:  erf x = x · f(x²),          f(s) = erf(√s)/√s     degree 8: 8e-13 in float64
 *   |x| > 1:  erf x = ±(1 − e^{−x²} g(1/|x|)),  g(t) = erfcx(1/t)  degree 18: 1e-10 relative
 * and erfc x = e^{−x²} g(1/x) itself for GELU's 1 + erf(z) at z < −1, where the sum would cancel.
 * In f32 the error is rounding alone, about 5e-8 absolute (measured by the backend tests).
 */

interface Cheb {
  a: number;
  b: number;
  c: number[];
}

/** Chebyshev interpolant of f on [a,b] of degree n: f ≈ Σ c_j T_j(y), y = (2x − a − b)/(b − a). */
export function chebyshevFit(f: (x: number) => number, a: number, b: number, n: number): Cheb {
  const N = n + 1;
  const fx: number[] = [];
  for (let k = 0; k < N; k++) fx.push(f(0.5 * (a + b) + 0.5 * (b - a) * Math.cos((Math.PI * (k + 0.5)) / N)));
  const c: number[] = [];
  for (let j = 0; j < N; j++) {
    let s = 0;
    for (let k = 0; k < N; k++) s += fx[k] * Math.cos((Math.PI * j * (k + 0.5)) / N);
    c.push((j === 0 ? 1 : 2) * (s / N));
  }
  return { a, b, c };
}

/** Clenshaw's recurrence, in float64 (for checking a fit). */
export function chebyshevEval(f: Cheb, x: number): number {
  const y = (2 * x - f.a - f.b) / (f.b - f.a);
  let b1 = 0;
  let b2 = 0;
  for (let j = f.c.length - 1; j >= 1; j--) {
    const t = 2 * y * b1 - b2 + f.c[j];
    b2 = b1;
    b1 = t;
  }
  return y * b1 - b2 + f.c[0];
}

/** The same recurrence as a WGSL function `name(x: f32) -> f32`, unrolled with the constants inline. */
function chebyshevWgsl(name: string, f: Cheb): string {
  const lines = [
    `fn ${name}(x: f32) -> f32 {`,
    `  let y = (2.0 * x - ${wgslFloat(f.a + f.b)}) * ${wgslFloat(1 / (f.b - f.a))};`,
    `  var b1 = 0.0;`,
    `  var b2 = 0.0;`,
    `  var t = 0.0;`,
  ];
  for (let j = f.c.length - 1; j >= 1; j--) {
    lines.push(`  t = 2.0 * y * b1 - b2 + (${wgslFloat(f.c[j])}); b2 = b1; b1 = t;`);
  }
  lines.push(`  return y * b1 - b2 + (${wgslFloat(f.c[0])});`, `}`);
  return lines.join('\n');
}

const SMALL = 1;
/** Beyond this erfc is 0 in practice (erfc(9) = 4e-37, at the bottom of f32's normal range). */
const ERFC_ZERO = 9;
let fits: { small: Cheb; tail: Cheb } | undefined;

/** erfcx(x) = e^{x²} erfc(x) for x ≥ 1, float64: directly below 3, by erfc's continued fraction above. */
function erfcx(x: number): number {
  return x < 3 ? Math.exp(x * x) * (1 - erf(x)) : erfcxLarge(x);
}

/** The two erf fits (computed once). */
export function erfFits(): { small: Cheb; tail: Cheb } {
  fits ??= {
    small: chebyshevFit(
      (s) => (s === 0 ? 2 / Math.sqrt(Math.PI) : erf(Math.sqrt(s)) / Math.sqrt(s)),
      0,
      1,
      8,
    ),
    // erfcx in t = 1/x on [0, 1] (x ≥ 1): smooth, → t/√π at 0. Degree 18: 1e-10 relative.
    tail: chebyshevFit((t) => (t === 0 ? 0 : erfcx(1 / t)), 0, 1 / SMALL, 18),
  };
  return fits;
}

const TANH_SMALL = 0.6;
let tanhCheb: Cheb | undefined;

/** tanh(x)/x as a function of s = x² on [0, 0.36], degree 6: 5e-11 in float64. */
export function tanhFit(): Cheb {
  tanhCheb ??= chebyshevFit(
    (s) => (s === 0 ? 1 : Math.tanh(Math.sqrt(s)) / Math.sqrt(s)),
    0,
    TANH_SMALL * TANH_SMALL,
    6,
  );
  return tanhCheb;
}

/** erfc(a) for a ≥ 1 as the kernels compute it (float64 model). */
function erfcLargeApprox(a: number): number {
  return a > ERFC_ZERO ? 0 : Math.exp(-a * a) * chebyshevEval(erfFits().tail, 1 / a);
}

/** Float64 model of the WGSL erf (for tests of the fit itself). */
export function erfApprox(x: number): number {
  const ax = Math.abs(x);
  if (ax <= SMALL) return x * chebyshevEval(erfFits().small, x * x);
  const r = 1 - erfcLargeApprox(ax);
  return x < 0 ? -r : r;
}

/** Float64 model of the WGSL 1 + erf(z), relatively accurate for negative z too. */
export function onePlusErfApprox(z: number): number {
  return z >= -SMALL ? 1 + erfApprox(z) : erfcLargeApprox(-z);
}

/**
 * erf_f32, and one_plus_erf(z) = erfc(−z) — which GELU needs: for z ≪ 0, 1 + erf(z) in f32 keeps
 * only erf's rounding error, while e^{−z²}·erfcx(−z) is accurate to a few ulp relative.
 * (Exported for the tape kernels, which call erf_f32 and one_plus_erf directly.)
 */
export function erfWgsl(): string {
  const { small, tail } = erfFits();
  return [
    chebyshevWgsl('erf_small', small),
    chebyshevWgsl('erfcx_tail', tail),
    /* wgsl */ `
fn erfc_large(a: f32) -> f32 {
  if (a > ${wgslFloat(ERFC_ZERO)}) { return 0.0; }
  return exp(-a * a) * erfcx_tail(1.0 / a);
}
fn erf_f32(x: f32) -> f32 {
  let ax = abs(x);
  if (ax <= ${wgslFloat(SMALL)}) { return x * erf_small(x * x); }
  let r = 1.0 - erfc_large(ax);
  return select(r, -r, x < 0.0);
}
fn one_plus_erf(z: f32) -> f32 {
  if (z >= ${wgslFloat(-SMALL)}) { return 1.0 + erf_f32(z); }
  return erfc_large(-z);
}`,
  ].join('\n');
}

/**
 * tanh_f32(x): near 0 a fitted x·g(x²) (exp-based forms lose ~1e-7 absolute there to exp's
 * rounding); elsewhere (1 − e^{−2|x|}) / (1 + e^{−2|x|}), which cannot overflow.
 */
export function tanhWgsl(): string {
  return `${chebyshevWgsl('tanh_small', tanhFit())}
fn tanh_f32(x: f32) -> f32 {
  let ax = abs(x);
  if (ax < ${wgslFloat(TANH_SMALL)}) { return x * tanh_small(x * x); }
  let e = exp(-2.0 * min(ax, 20.0));
  let r = (1.0 - e) / (1.0 + e);
  return select(r, -r, x < 0.0);
}`;
}

/**
 * dtanh_f32(x) = 1 − tanh(x)², computed as 4e/(1 + e)², e = e^{−2|x|}: where tanh saturates,
 * 1 − y² in f32 would keep only the rounding error of y (relative error ~6e-8 / (1 − |y|)); this
 * form is accurate to a few ulp.
 */
export const DTANH_WGSL = /* wgsl */ `
fn dtanh_f32(x: f32) -> f32 {
  let e = exp(-2.0 * min(abs(x), 40.0));
  let d = 1.0 + e;
  return 4.0 * e / (d * d);
}`;

/**
 * sigmoid(x): exp of a non-positive argument only: it may underflow to 0 (harmless) but never
 * overflow, and σ stays relatively accurate far into the negative tail, where silu' ≈ x·eˣ is all
 * there is.
 */
export const SIGMOID_WGSL = /* wgsl */ `
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(1.0 / (1.0 + e), e / (1.0 + e), x < 0.0);
}`;

/**
 * The exact GELU (nn.GELU(approximate="none")), x·Φ(x), and its derivative Φ(x) + x·φ(x), as
 * gelu_f32 and dgelu_f32; they call erfWgsl()'s one_plus_erf, which must be defined alongside.
 */
export const GELU_WGSL = /* wgsl */ `
fn gelu_f32(x: f32) -> f32 { return 0.5 * x * one_plus_erf(x * ${wgslFloat(Math.SQRT1_2)}); }
fn dgelu_f32(x: f32) -> f32 {
  let xc = clamp(x, -20.0, 20.0);
  return 0.5 * one_plus_erf(x * ${wgslFloat(Math.SQRT1_2)}) + x * ${wgslFloat(1 / Math.sqrt(2 * Math.PI))} * exp(-0.5 * xc * xc);
}`;
