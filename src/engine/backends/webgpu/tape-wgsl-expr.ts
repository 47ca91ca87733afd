/**
 * The tape's elementwise expressions (graph/lower/expr.ts) as WGSL, in f32: one `let` per distinct
 * subexpression (shared ones computed once), and the helper functions they call. The float64
 * closures of expr.ts are the reference; here every function is written to stay within a few ulp
 * of it in f32 wherever WGSL's builtins promise less (erf, tanh, sin/cos, expm1, log1p) or are
 * undefined (tanh's overflow, pow of a negative base).
 */
import type { BinaryFn, Expr, UnaryFn } from '../../graph/lower/expr';
import { exprKey } from '../../graph/lower/expr';
import { DTANH_WGSL, erfWgsl, GELU_WGSL, SIGMOID_WGSL, tanhWgsl } from './wgsl-functions';
import { wgslFloat } from './wgsl-common';

/**
 * A float64 constant as an f32 WGSL value, rounded to f32 first. ±∞ and NaN are calls of the
 * 'special' helpers: WGSL rejects a constant expression that evaluates to them.
 */
export function wgslF32(v: number): string {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 'nan_f32()';
  if (f === Infinity) return 'inf_f32()';
  if (f === -Infinity) return '-inf_f32()';
  return `f32(${wgslFloat(f)})`;
}

/** ∞ and NaN from a `var`, which WGSL does not evaluate at compile time. */
const SPECIAL = /* wgsl */ `
fn inf_f32() -> f32 {
  var bits = 0x7f800000u;
  return bitcast<f32>(bits);
}
fn nan_f32() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}`;

type Helper = 'special' | 'erf' | 'gelu' | 'tanh' | 'dtanh' | 'sigmoid' | 'trig' | 'expm1' | 'log1p' | 'pow';

/**
 * sin/cos: WGSL promises only 2^-11 absolute error, and only on [−π, π]. So: x = k·π/2 + r with
 * π/2 in three parts (Cody–Waite; k·PIO2_1 is exact for |k| < 2^16), then Taylor polynomials on
 * |r| ≤ π/4 (truncation 2e-9) and the quadrant k mod 4.
 */
const TRIG = /* wgsl */ `
fn sin_poly(r: f32) -> f32 {
  let s = r * r;
  return r + r * s * (-0.16666666666666666 + s * (0.008333333333333333 + s * (-1.984126984126984e-4 + s * 2.7557319223985893e-6)));
}
fn cos_poly(r: f32) -> f32 {
  let s = r * r;
  return 1.0 + s * (-0.5 + s * (0.041666666666666664 + s * (-0.001388888888888889 + s * (2.48015873015873e-5 + s * -2.755731922398589e-7))));
}
fn trig_reduce(x: f32) -> vec2<f32> {
  let k = round(x * 0.6366197723675814);
  return vec2<f32>(((x - k * 1.5703125) - k * 4.837512969970703125e-4) - k * 7.54978995489188216e-8, k);
}
fn sin_f32(x: f32) -> f32 {
  let rk = trig_reduce(x);
  let q = i32(rk.y) & 3;
  let v = select(sin_poly(rk.x), cos_poly(rk.x), (q & 1) == 1);
  return select(v, -v, q >= 2);
}
fn cos_f32(x: f32) -> f32 {
  let rk = trig_reduce(x);
  let q = i32(rk.y) & 3;
  let v = select(cos_poly(rk.x), sin_poly(rk.x), (q & 1) == 1);
  return select(v, -v, q == 1 || q == 2);
}`;

/** eˣ − 1: the Taylor series (degree 9, 5e-10 relative) where exp(x) − 1 would cancel. */
const EXPM1 = /* wgsl */ `
fn expm1_f32(x: f32) -> f32 {
  if (abs(x) < 0.5) {
    return x * (1.0 + x * (0.5 + x * (0.16666666666666666 + x * (0.041666666666666664 + x * (0.008333333333333333
      + x * (0.001388888888888889 + x * (1.984126984126984e-4 + x * (2.48015873015873e-5 + x * 2.755731922398589e-6))))))));
  }
  return exp(x) - 1.0;
}`;

/**
 * ln(1 + x): near 0 as 2·atanh(s), s = x/(2 + x), by its series (|s| < 0.2: to s¹³, 3e-10);
 * elsewhere log(1 + x), whose argument is then far enough from 1 for log's absolute error.
 */
const LOG1P = /* wgsl */ `
fn log1p_f32(x: f32) -> f32 {
  let s = x / (2.0 + x);
  if (abs(s) < 0.2) {
    let t = s * s;
    return 2.0 * s * (1.0 + t * (0.3333333333333333 + t * (0.2 + t * (0.14285714285714285 + t * (0.1111111111111111
      + t * (0.09090909090909091 + t * 0.07692307692307693))))));
  }
  return log(1.0 + x);
}`;

/**
 * xʸ as Math.pow: WGSL's pow is undefined for x < 0 (and at 0), so |x|ʸ with the sign of an odd
 * integer y, NaN for a negative base and a non-integer y.
 */
const POW = /* wgsl */ `
fn pow_f32(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  let a = abs(x);
  if (a == 0.0) { return select(inf_f32(), 0.0, y > 0.0); }
  let r = exp2(y * log2(a));
  if (x > 0.0) { return r; }
  if (floor(y) != y) { return nan_f32(); }
  let h = 0.5 * y;
  return select(r, -r, floor(h) != h);
}`;

/** Each helper's WGSL and the helpers it calls; emitted in this order, so callees come first. */
const HELPERS: Record<Helper, { deps: readonly Helper[]; code: () => string }> = {
  special: { deps: [], code: () => SPECIAL },
  erf: { deps: [], code: erfWgsl },
  gelu: { deps: ['erf'], code: () => GELU_WGSL },
  tanh: { deps: [], code: tanhWgsl },
  dtanh: { deps: [], code: () => DTANH_WGSL },
  sigmoid: { deps: [], code: () => SIGMOID_WGSL },
  trig: { deps: [], code: () => TRIG },
  expm1: { deps: [], code: () => EXPM1 },
  log1p: { deps: [], code: () => LOG1P },
  pow: { deps: ['special'], code: () => POW },
};

/** 1/ln 10, for log10 (WGSL has log and log2 only). */
const LOG10_E = '0.4342944819032518';

/** A unary function applied to a WGSL value, and the helper it needs. */
function unary(f: UnaryFn, x: string): [string, Helper | null] {
  switch (f) {
    case 'neg':
      return [`-${x}`, null];
    case 'abs':
      return [`abs(${x})`, null];
    case 'exp':
      return [`exp(${x})`, null];
    case 'expm1':
      return [`expm1_f32(${x})`, 'expm1'];
    case 'log':
      return [`log(${x})`, null];
    case 'log2':
      return [`log2(${x})`, null];
    case 'log10':
      return [`(log(${x}) * ${LOG10_E})`, null];
    case 'log1p':
      return [`log1p_f32(${x})`, 'log1p'];
    case 'sqrt':
      return [`sqrt(${x})`, null];
    case 'rsqrt':
      return [`inverseSqrt(${x})`, null];
    case 'sin':
      return [`sin_f32(${x})`, 'trig'];
    case 'cos':
      return [`cos_f32(${x})`, 'trig'];
    // tan as sin/cos on the reduced argument (WGSL's tan, like its sin and cos, is loosely specified)
    case 'tan':
      return [`(sin_f32(${x}) / cos_f32(${x}))`, 'trig'];
    // WGSL's atan is within a few ulp in f32 (no large-argument reduction is involved)
    case 'atan':
      return [`atan(${x})`, null];
    case 'tanh':
      return [`tanh_f32(${x})`, 'tanh'];
    case 'dtanh':
      return [`dtanh_f32(${x})`, 'dtanh'];
    case 'sigmoid':
      return [`sigmoid(${x})`, 'sigmoid'];
    case 'gelu':
      return [`gelu_f32(${x})`, 'gelu'];
    case 'dgelu':
      return [`dgelu_f32(${x})`, 'gelu'];
    case 'erf':
      return [`erf_f32(${x})`, 'erf'];
    case 'floor':
      return [`floor(${x})`, null];
    case 'ceil':
      return [`ceil(${x})`, null];
    case 'trunc':
      return [`trunc(${x})`, null];
    case 'sign':
      return [`sign(${x})`, null];
    case 'recip':
      return [`1.0 / ${x}`, null];
  }
}

/** x^k for a constant exponent that multiplications (or sqrt) give exactly enough, else null. */
function constPow(x: string, k: number): string | null {
  switch (k) {
    case 1:
      return x;
    case 2:
      return `${x} * ${x}`;
    case 3:
      return `${x} * ${x} * ${x}`;
    case 4:
      return `(${x} * ${x}) * (${x} * ${x})`;
    case -1:
      return `1.0 / ${x}`;
    case -2:
      return `1.0 / (${x} * ${x})`;
    case 0.5:
      return `sqrt(${x})`;
    case -0.5:
      return `inverseSqrt(${x})`;
    default:
      return null;
  }
}

function binary(f: BinaryFn, x: string, y: string): [string, Helper | null] {
  const cmp = (op: string): [string, null] => [`select(0.0, 1.0, ${x} ${op} ${y})`, null];
  switch (f) {
    case 'add':
      return [`${x} + ${y}`, null];
    case 'sub':
      return [`${x} - ${y}`, null];
    case 'mul':
      return [`${x} * ${y}`, null];
    case 'div':
      return [`${x} / ${y}`, null];
    case 'max':
      return [`max(${x}, ${y})`, null];
    case 'min':
      return [`min(${x}, ${y})`, null];
    case 'pow':
      return [`pow_f32(${x}, ${y})`, 'pow'];
    case 'gt':
      return cmp('>');
    case 'ge':
      return cmp('>=');
    case 'lt':
      return cmp('<');
    case 'le':
      return cmp('<=');
    case 'eq':
      return cmp('==');
    case 'ne':
      return cmp('!=');
  }
}

/** Expressions rendered as WGSL statements. */
export interface ExprWgsl {
  /** `let` statements computing every subexpression once, in dependency order. */
  readonly lines: string[];
  /** The value of each expression: a name from `lines`, an input's name or a literal. */
  readonly values: string[];
  /** Indices of the inputs the expressions read (ascending). */
  readonly inputs: number[];
  /** The WGSL functions the statements call. */
  readonly functions: string;
}

/**
 * Render `exprs` (one record's, sharing subexpressions) with input i spelled `input(i)`; the
 * statement names are `${prefix}0`, `${prefix}1`, ...
 */
export function exprsToWgsl(exprs: readonly Expr[], input: (i: number) => string, prefix = 't'): ExprWgsl {
  const lines: string[] = [];
  const named = new Map<string, string>();
  const inputs = new Set<number>();
  const helpers = new Set<Helper>();
  const use = (h: Helper | null) => {
    if (h === null || helpers.has(h)) return;
    helpers.add(h);
    HELPERS[h].deps.forEach(use);
  };
  const bind = (e: Expr, code: string): string => {
    const name = `${prefix}${lines.length}`;
    lines.push(`let ${name} = ${code};`);
    named.set(exprKey(e), name);
    return name;
  };
  const visit = (e: Expr): string => {
    if (e.k === 'in') {
      inputs.add(e.i);
      return input(e.i);
    }
    if (e.k === 'const') {
      if (!Number.isFinite(Math.fround(e.v))) use('special');
      return wgslF32(e.v);
    }
    const seen = named.get(exprKey(e));
    if (seen !== undefined) return seen;
    switch (e.k) {
      case 'un': {
        const [code, h] = unary(e.f, visit(e.x));
        use(h);
        return bind(e, code);
      }
      case 'bin': {
        const x = visit(e.x);
        if (e.f === 'pow' && e.y.k === 'const') {
          const code = constPow(x, e.y.v);
          if (code !== null) return bind(e, code);
        }
        const [code, h] = binary(e.f, x, visit(e.y));
        use(h);
        return bind(e, code);
      }
      case 'select': {
        const c = visit(e.c);
        const t = visit(e.t);
        return bind(e, `select(${visit(e.e)}, ${t}, ${c} != 0.0)`);
      }
    }
  };
  const values = exprs.map(visit);
  const order = Object.keys(HELPERS) as Helper[];
  return {
    lines,
    values,
    inputs: [...inputs].sort((a, b) => a - b),
    functions: order
      .filter((h) => helpers.has(h))
      .map((h) => HELPERS[h].code())
      .join('\n'),
  };
}
