/**
 * Activation functions: tanh, sigmoid, relu, leaky_relu, elu, selu, celu, gelu (exact erf form and
 * the tanh approximation), silu, mish, softplus, log_sigmoid, hardsigmoid, hardswish, with their
 * in-place forms; the derivatives at kinks are PyTorch's. `activationRules` also carries clamp and
 * hardtanh (clamp.ts), softmax and log_softmax (softmax.ts) and dropout (dropout.ts).
 */
import { erf } from '../../ops/erf';
import { tanh } from '../../kernels/tanh';
import { binaryBlockWasm } from '../../kernels/binary-wasm';
import { TANH_WASM_MIN, tanhInto } from '../../kernels/tanh-wasm';
import { UnsupportedError } from '../args';
import type { RuleTable } from '../rule';
import { clampRules } from './clamp';
import { dropoutRules } from './dropout';
import { softmaxRules } from './softmax';
import { unaryPair, unaryPairOf, unaryRule, type RealFn } from './pointwise-unary';
import { E, type Expr, type UnaryLowering } from '../lower/expr';

const X = E.in(0);
const Y = E.in(1);
const positive = (x: Expr) => E.bin('gt', x, E.c(0));
/** f and f' of x ↦ x > 0 ? pos(x) : neg(x). */
const piecewise = (pos: Expr, neg: Expr, dPos: Expr, dNeg: Expr): UnaryLowering => ({
  f: E.select(positive(X), pos, neg),
  df: E.select(positive(X), dPos, dNeg),
});

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;
const SQRT_2_OVER_PI = 0.7978845608028654;
const GELU_C = 0.044715;
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log(1 + e^x) without overflow. */
function softplus1(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

const geluExact: RealFn = {
  f: (x) => 0.5 * x * (1 + erf(x * INV_SQRT2)),
  df: (x) => 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  lower: { f: E.un('gelu', X), df: E.un('dgelu', X) },
};

/** log(1 + e^x) without overflow, as an expression. */
const softplusE = (x: Expr): Expr =>
  E.select(positive(x), E.add(x, E.un('log1p', E.un('exp', E.un('neg', x)))), E.un('log1p', E.un('exp', x)));
const le = (x: Expr, v: number) => E.bin('le', x, E.c(v));
const ge = (x: Expr, v: number) => E.bin('ge', x, E.c(v));
const lt = (x: Expr, v: number) => E.bin('lt', x, E.c(v));
const gt = (x: Expr, v: number) => E.bin('gt', x, E.c(v));

const geluTanhLower = (): UnaryLowering => {
  const inner = E.mul(E.c(SQRT_2_OVER_PI), E.add(X, E.mul(E.c(GELU_C), E.mul(X, E.mul(X, X)))));
  const t = E.un('tanh', inner);
  const half = (v: Expr) => E.mul(E.c(0.5), v);
  return {
    f: half(E.mul(X, E.add(E.c(1), t))),
    df: E.add(
      half(E.add(E.c(1), t)),
      E.mul(
        half(E.mul(X, E.sub(E.c(1), E.mul(t, t)))),
        E.mul(E.c(SQRT_2_OVER_PI), E.add(E.c(1), E.mul(E.c(3 * GELU_C), E.mul(X, X)))),
      ),
    ),
  };
};

const geluTanh: RealFn = {
  lower: geluTanhLower(),
  f: (x) => 0.5 * x * (1 + tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))),
  df: (x) => {
    const t = tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x));
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x);
  },
};

/** elu(x) = scale·x for x > 0, scale·alpha·(e^{input_scale·x} − 1) otherwise. */
function eluFn(alpha: number, scale: number, inputScale: number): RealFn {
  const sx = E.mul(E.c(inputScale), X);
  return {
    f: (x) => (x > 0 ? scale * x : scale * alpha * Math.expm1(inputScale * x)),
    df: (x) => (x > 0 ? scale : scale * alpha * inputScale * Math.exp(inputScale * x)),
    lower: piecewise(
      E.mul(E.c(scale), X),
      E.mul(E.c(scale * alpha), E.un('expm1', sx)),
      E.c(scale),
      E.mul(E.c(scale * alpha * inputScale), E.un('exp', sx)),
    ),
  };
}

export const activationRules = {
  ...unaryPair('tanh', {
    f: tanh,
    df: (_x, y) => 1 - y * y,
    run(n, o, io, dd, x, ix, dx) {
      // Contiguous runs go to WebAssembly SIMD (same bits, ~4× faster), short or strided ones stay here.
      if (dd === 1 && dx === 1 && n >= TANH_WASM_MIN) return tanhInto(x, ix, o, io, n);
      for (let j = 0; j < n; j++, io += dd, ix += dx) o[io] = tanh(x[ix]);
    },
    dRun(n, o, io, dd, _x, _ix, _dx, y, iy, dy) {
      for (let j = 0; j < n; j++, io += dd, iy += dy) {
        const v = y[iy];
        o[io] = 1 - v * v;
      }
    },
    // 1 − y·y in WebAssembly SIMD where the tensors are resident: the same two roundings
    dBlock: (n1, n0, o, io, o1, o0, _x, _ix, _x1, _x0, y, iy, y1, y0) =>
      binaryBlockWasm(3, n1, n0, o, io, o1, o0, y, iy, y1, y0, y, iy, y1, y0, 1),
    lower: { f: E.un('tanh', X), df: E.un('dtanh', X) },
  }),
  ...unaryPair('sigmoid', {
    f: sigmoid,
    df: (_x, y) => y * (1 - y),
    lower: { f: E.un('sigmoid', X), df: E.mul(Y, E.sub(E.c(1), Y)) },
  }),
  ...unaryPair(
    'relu',
    {
      f: (x) => (x > 0 ? x : 0),
      df: (x) => (x > 0 ? 1 : 0),
      lower: piecewise(X, E.c(0), E.c(1), E.c(0)),
    },
    { keepInt: true },
  ),
  ...unaryPairOf('leaky_relu', ['self', 'negative_slope='], (a) => {
    const s = a.number('negative_slope', 0.01);
    return {
      f: (x) => (x > 0 ? x : s * x),
      df: (x) => (x > 0 ? 1 : s),
      lower: piecewise(X, E.mul(E.c(s), X), E.c(1), E.c(s)),
    };
  }),
  ...unaryPairOf('elu', ['self', 'alpha=', 'scale=', 'input_scale='], (a) =>
    eluFn(a.number('alpha', 1), a.number('scale', 1), a.number('input_scale', 1)),
  ),
  ...unaryPair('selu', eluFn(SELU_ALPHA, SELU_SCALE, 1)),
  ...unaryPairOf('celu', ['self', 'alpha='], (a) => {
    const al = a.number('alpha', 1);
    return eluFn(al, 1, 1 / al);
  }),
  ...unaryPairOf('gelu', ['self', 'approximate='], (a) => {
    const mode = a.string('approximate', 'none');
    if (mode === 'none') return geluExact;
    if (mode === 'tanh') return geluTanh;
    throw new UnsupportedError(`${a.op}: approximate must be 'none' or 'tanh', got '${mode}'`);
  }),
  ...unaryPair('silu', {
    f: (x) => x * sigmoid(x),
    df: (x) => {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    },
    lower: {
      f: E.mul(X, E.un('sigmoid', X)),
      df: E.mul(E.un('sigmoid', X), E.add(E.c(1), E.mul(X, E.sub(E.c(1), E.un('sigmoid', X))))),
    },
  }),
  ...unaryPair('mish', {
    lower: {
      f: E.mul(X, E.un('tanh', softplusE(X))),
      df: E.add(E.un('tanh', softplusE(X)), E.mul(E.mul(X, E.un('dtanh', softplusE(X))), E.un('sigmoid', X))),
    },
    f: (x) => x * Math.tanh(softplus1(x)),
    df: (x) => {
      const t = Math.tanh(softplus1(x));
      return t + x * (1 - t * t) * sigmoid(x);
    },
  }),
  'aten::softplus': unaryRule(['self', 'beta=', 'threshold='], (a) => {
    const beta = a.number('beta', 1);
    const th = a.number('threshold', 20);
    const bx = E.mul(E.c(beta), X);
    return {
      lower: {
        f: E.select(gt(bx, th), X, E.div(softplusE(bx), E.c(beta))),
        df: E.select(gt(bx, th), E.c(1), E.un('sigmoid', bx)),
      },
      f: (x) => (x * beta > th ? x : softplus1(x * beta) / beta),
      df: (x) => (x * beta > th ? 1 : sigmoid(x * beta)),
    };
  }),
  'aten::log_sigmoid': unaryRule(['self'], () => ({
    f: (x) => -softplus1(-x),
    df: (x) => sigmoid(-x),
    lower: { f: E.un('neg', softplusE(E.un('neg', X))), df: E.un('sigmoid', E.un('neg', X)) },
  })),
  ...unaryPair('hardsigmoid', {
    lower: {
      f: E.select(le(X, -3), E.c(0), E.select(ge(X, 3), E.c(1), E.add(E.div(X, E.c(6)), E.c(0.5)))),
      df: E.mul(gt(X, -3), E.mul(lt(X, 3), E.c(1 / 6))),
    },
    f: (x) => (x <= -3 ? 0 : x >= 3 ? 1 : x / 6 + 0.5),
    df: (x) => (x > -3 && x < 3 ? 1 / 6 : 0),
  }),
  ...unaryPair('hardswish', {
    lower: {
      f: E.select(le(X, -3), E.c(0), E.select(ge(X, 3), X, E.div(E.mul(X, E.add(X, E.c(3))), E.c(6)))),
      df: E.select(lt(X, -3), E.c(0), E.select(le(X, 3), E.add(E.div(X, E.c(3)), E.c(0.5)), E.c(1))),
    },
    f: (x) => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6),
    df: (x) => (x < -3 ? 0 : x <= 3 ? x / 3 + 0.5 : 1),
  }),
  ...clampRules,
  ...softmaxRules,
  ...dropoutRules,
} satisfies RuleTable;
