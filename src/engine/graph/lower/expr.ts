/**
 * Elementwise expressions of a lowered program (tape.ts): what one output value is, in terms of the
 * input values at the same index. A small closed language, so that every backend can run it — the
 * float64 tape runner compiles it to closures, the WebGPU backend renders it as WGSL — and so that a
 * JavaScript closure in a rule is never what a backend has to guess at.
 *
 * Functions are the engine's own (tanh, erf ...); comparisons give 1 or 0; `select(c, t, f)` is
 * `c ≠ 0 ? t : f`.
 */
import { erf } from '../../ops/erf';
import { tanh } from '../../kernels/tanh';

export type UnaryFn =
  | 'neg'
  | 'abs'
  | 'exp'
  | 'expm1'
  | 'log'
  | 'log2'
  | 'log10'
  | 'log1p'
  | 'sqrt'
  | 'rsqrt'
  | 'sin'
  | 'cos'
  | 'tan'
  | 'atan'
  | 'tanh'
  /** 1 − tanh(x)², from x (a backend can compute it without cancellation where tanh saturates). */
  | 'dtanh'
  | 'sigmoid'
  /** The exact GELU, x·Φ(x), and its derivative Φ(x) + x·φ(x). */
  | 'gelu'
  | 'dgelu'
  | 'erf'
  | 'floor'
  | 'ceil'
  | 'trunc'
  | 'sign'
  | 'recip';
export type BinaryFn =
  'add' | 'sub' | 'mul' | 'div' | 'max' | 'min' | 'pow' | 'gt' | 'ge' | 'lt' | 'le' | 'eq' | 'ne';

export type Expr =
  /** The i-th input of the record, at this element. */
  | { readonly k: 'in'; readonly i: number }
  | { readonly k: 'const'; readonly v: number }
  | { readonly k: 'un'; readonly f: UnaryFn; readonly x: Expr }
  | { readonly k: 'bin'; readonly f: BinaryFn; readonly x: Expr; readonly y: Expr }
  | { readonly k: 'select'; readonly c: Expr; readonly t: Expr; readonly e: Expr };

/** Builders, so rules read like the formulas they lower. */
export const E = {
  in: (i: number): Expr => ({ k: 'in', i }),
  c: (v: number): Expr => ({ k: 'const', v }),
  un: (f: UnaryFn, x: Expr): Expr => ({ k: 'un', f, x }),
  bin: (f: BinaryFn, x: Expr, y: Expr): Expr => ({ k: 'bin', f, x, y }),
  add: (x: Expr, y: Expr): Expr => ({ k: 'bin', f: 'add', x, y }),
  sub: (x: Expr, y: Expr): Expr => ({ k: 'bin', f: 'sub', x, y }),
  mul: (x: Expr, y: Expr): Expr => ({ k: 'bin', f: 'mul', x, y }),
  div: (x: Expr, y: Expr): Expr => ({ k: 'bin', f: 'div', x, y }),
  select: (c: Expr, t: Expr, e: Expr): Expr => ({ k: 'select', c, t, e }),
};

/** An elementwise function of one input (x) and, for derivatives, its output (y): in0 = x, in1 = y. */
export interface UnaryLowering {
  readonly f: Expr;
  readonly df: Expr;
}

const INV_SQRT_2PI = 0.3989422804014327;

const UNARY: Record<UnaryFn, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  exp: Math.exp,
  expm1: Math.expm1,
  log: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  log1p: Math.log1p,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  atan: Math.atan,
  tanh,
  dtanh: (x) => {
    const t = tanh(x);
    return 1 - t * t;
  },
  gelu: (x) => 0.5 * x * (1 + erf(x * Math.SQRT1_2)),
  dgelu: (x) => 0.5 * (1 + erf(x * Math.SQRT1_2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  sigmoid: (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))),
  erf,
  floor: Math.floor,
  ceil: Math.ceil,
  trunc: Math.trunc,
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x),
  recip: (x) => 1 / x,
};

/** Every unary function of the language (for backends' and tests' exhaustive checks). */
export const UNARY_FNS = Object.keys(UNARY) as UnaryFn[];

const BINARY: Record<BinaryFn, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  max: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.max(x, y)),
  min: (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? NaN : Math.min(x, y)),
  pow: Math.pow,
  gt: (x, y) => (x > y ? 1 : 0),
  ge: (x, y) => (x >= y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
  le: (x, y) => (x <= y ? 1 : 0),
  eq: (x, y) => (x === y ? 1 : 0),
  ne: (x, y) => (x !== y ? 1 : 0),
};

/** The expression as a float64 closure over the inputs' values at one element. */
export function compileExpr(e: Expr): (v: Float64Array) => number {
  switch (e.k) {
    case 'in': {
      const i = e.i;
      return (v) => v[i];
    }
    case 'const': {
      const c = e.v;
      return () => c;
    }
    case 'un': {
      const f = UNARY[e.f];
      const x = compileExpr(e.x);
      return (v) => f(x(v));
    }
    case 'bin': {
      const f = BINARY[e.f];
      const x = compileExpr(e.x);
      const y = compileExpr(e.y);
      return (v) => f(x(v), y(v));
    }
    case 'select': {
      const c = compileExpr(e.c);
      const t = compileExpr(e.t);
      const f = compileExpr(e.e);
      return (v) => (c(v) !== 0 ? t(v) : f(v));
    }
  }
}

/** The largest input index an expression reads, plus one. */
export function arity(e: Expr): number {
  switch (e.k) {
    case 'in':
      return e.i + 1;
    case 'const':
      return 0;
    case 'un':
      return arity(e.x);
    case 'bin':
      return Math.max(arity(e.x), arity(e.y));
    case 'select':
      return Math.max(arity(e.c), arity(e.t), arity(e.e));
  }
}

/** A canonical text of the expression (structure keys, kernel caches). */
export function exprKey(e: Expr): string {
  switch (e.k) {
    case 'in':
      return `$${e.i}`;
    case 'const':
      return Object.is(e.v, -0) ? '-0' : String(e.v);
    case 'un':
      return `${e.f}(${exprKey(e.x)})`;
    case 'bin':
      return `${e.f}(${exprKey(e.x)},${exprKey(e.y)})`;
    case 'select':
      return `select(${exprKey(e.c)},${exprKey(e.t)},${exprKey(e.e)})`;
  }
}
