/**
 * erf in float64, to a few ulp, since JavaScript has none and exact GELU needs it.
 *   |x| < 3: erf x = (2/√π) e^{-x²} Σ_n 2ⁿ x^{2n+1} / (1·3·…·(2n+1))  — all terms positive, so no
 *            cancellation (the plain Taylor series loses digits to alternating signs).
 *   |x| ≥ 3: erf x = 1 - erfc x with erfc from its continued fraction (Lentz), which converges in
 *            a few dozen steps there; erfc(3) ≈ 2e-5, so 1 - erfc keeps full precision.
 */
const TWO_OVER_SQRT_PI = 1.1283791670955126;
const INV_SQRT_PI = 0.5641895835477563;

export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    const x2 = x * x;
    let term = x;
    let s = x;
    for (let n = 1; n < 200; n++) {
      term *= (2 * x2) / (2 * n + 1);
      s += term;
      if (Math.abs(term) <= 1e-17 * Math.abs(s)) break;
    }
    return TWO_OVER_SQRT_PI * Math.exp(-x2) * s;
  }
  if (ax > 6) return Math.sign(x); // erfc(6) ≈ 2e-17: below half an ulp of 1
  const r = 1 - erfcLarge(ax);
  return x < 0 ? -r : r;
}

/** erfc(x) for x ≥ 3. */
function erfcLarge(x: number): number {
  return Math.exp(-x * x) * erfcxLarge(x);
}

/**
 * erfcx(x) = e^{x²}·erfc(x) for x ≥ 3, by erfc's continued fraction (Lentz's method):
 * erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + …))))).
 */
export function erfcxLarge(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let C = x;
  let D = 0;
  for (let n = 1; n < 500; n++) {
    const a = n / 2;
    D = x + a * D;
    if (D === 0) D = tiny;
    C = x + a / C;
    if (C === 0) C = tiny;
    D = 1 / D;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return INV_SQRT_PI / f;
}
