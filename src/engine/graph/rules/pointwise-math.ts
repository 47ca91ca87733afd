/**
 * Elementwise functions of one tensor: sqrt, rsqrt, exp, log (and relatives), abs, trigonometric
 * functions, square, reciprocal, erf, with their in-place forms. `exp`, `abs` and `square` take
 * complex tensors too (`abs` of a complex tensor is real: d|z| = Re(conj(z)·dz)/|z|, 0 at z = 0).
 */
import { erf } from '../../ops/erf';
import { binary, map2, mapComplex } from '../elementwise';
import type { Rule, RuleTable } from '../rule';
import { boxed, primalBox } from '../tangent';
import type { GTensor } from '../tensor';
import { imagPart, mulTan, realPart, scaleTan } from './pointwise-tan';
import { inPlaceOf } from './pointwise-inplace';
import { unaryPair, unaryRule } from './pointwise-unary';
import { E } from '../lower/expr';

const X = E.in(0);
const Y = E.in(1);

const TWO_OVER_SQRT_PI = 1.1283791670955126;

const expComplex: Rule = {
  params: ['self'],
  forward(a) {
    return mapComplex(
      a.tensor('self'),
      (r, i, o) => {
        const e = Math.exp(r);
        o[0] = e * Math.cos(i);
        o[1] = e * Math.sin(i);
      },
      { lower: [E.mul(E.un('exp', X), E.un('cos', Y)), E.mul(E.un('exp', X), E.un('sin', Y))] },
    );
  },
  jvp(a, out, t) {
    const x = a.tensor('self');
    return mulTan(t(x), out as GTensor, x.shape);
  },
};

const absComplex: Rule = {
  params: ['self'],
  forward(a) {
    const x = a.tensor('self');
    return map2(realPart(x), imagPart(x)!, (r, i) => Math.sqrt(r * r + i * i), {
      lower: E.un('sqrt', E.add(E.mul(X, X), E.mul(Y, Y))),
    });
  },
  jvp(a, out, t) {
    const x = a.tensor('self');
    const tx = t(x);
    if (!tx) return null;
    // d|z| = (Re z · Re dz + Im z · Im dz) / |z|
    const y = primalBox(out as GTensor, tx);
    const xb = primalBox(x, tx);
    const unit = (v: number, m: number) => (m === 0 ? 0 : v / m);
    const lower = E.select(E.bin('eq', Y, E.c(0)), E.c(0), E.div(X, Y));
    const sr = map2(realPart(xb), y, unit, { compact: true, lower });
    const si = map2(imagPart(xb)!, y, unit, { compact: true, lower });
    let data = binary(realPart(tx.data), sr, 'mul', { compact: true });
    const di = imagPart(tx.data);
    if (di) data = binary(data, binary(di, si, 'mul', { compact: true }), 'add', { compact: true });
    return boxed(data, tx.full);
  },
};

/** x², real or complex (x·x, so integers stay integers). */
const square: Rule = {
  params: ['self'],
  forward(a) {
    const x = a.tensor('self');
    return binary(x, x, 'mul');
  },
  jvp(a, _out, t) {
    const x = a.tensor('self');
    return scaleTan(mulTan(t(x), x, x.shape), 2);
  },
};

const abs = unaryRule(
  ['self'],
  () => ({ f: Math.abs, df: (x) => Math.sign(x), lower: { f: E.un('abs', X), df: E.un('sign', X) } }),
  {
    keepInt: true,
    complex: absComplex,
  },
);
const exp = unaryRule(
  ['self'],
  () => ({ f: Math.exp, df: (_x, y) => y, lower: { f: E.un('exp', X), df: Y } }),
  {
    complex: expComplex,
  },
);

export const mathRules = {
  ...unaryPair('sqrt', {
    f: Math.sqrt,
    df: (_x, y) => 0.5 / y,
    lower: { f: E.un('sqrt', X), df: E.div(E.c(0.5), Y) },
  }),
  ...unaryPair('rsqrt', {
    f: (x) => 1 / Math.sqrt(x),
    df: (_x, y) => -0.5 * y * y * y,
    lower: { f: E.un('rsqrt', X), df: E.mul(E.c(-0.5), E.mul(Y, E.mul(Y, Y))) },
  }),
  'aten::exp': exp,
  'aten::exp_': inPlaceOf(exp),
  ...unaryPair('expm1', {
    f: Math.expm1,
    df: (_x, y) => y + 1,
    lower: { f: E.un('expm1', X), df: E.add(Y, E.c(1)) },
  }),
  ...unaryPair('log', { f: Math.log, df: (x) => 1 / x, lower: { f: E.un('log', X), df: E.un('recip', X) } }),
  ...unaryPair('log1p', {
    f: Math.log1p,
    df: (x) => 1 / (1 + x),
    lower: { f: E.un('log1p', X), df: E.un('recip', E.add(E.c(1), X)) },
  }),
  ...unaryPair('log2', {
    f: Math.log2,
    df: (x) => 1 / (x * Math.LN2),
    lower: { f: E.un('log2', X), df: E.un('recip', E.mul(X, E.c(Math.LN2))) },
  }),
  ...unaryPair('log10', {
    f: Math.log10,
    df: (x) => 1 / (x * Math.LN10),
    lower: { f: E.un('log10', X), df: E.un('recip', E.mul(X, E.c(Math.LN10))) },
  }),
  'aten::abs': abs,
  'aten::abs_': inPlaceOf(abs),
  ...unaryPair('sin', {
    f: Math.sin,
    df: (x) => Math.cos(x),
    lower: { f: E.un('sin', X), df: E.un('cos', X) },
  }),
  ...unaryPair('cos', {
    f: Math.cos,
    df: (x) => -Math.sin(x),
    lower: { f: E.un('cos', X), df: E.un('neg', E.un('sin', X)) },
  }),
  ...unaryPair('tan', {
    f: Math.tan,
    df: (_x, y) => 1 + y * y,
    lower: { f: E.un('tan', X), df: E.add(E.c(1), E.mul(Y, Y)) },
  }),
  ...unaryPair('atan', {
    f: Math.atan,
    df: (x) => 1 / (1 + x * x),
    lower: { f: E.un('atan', X), df: E.un('recip', E.add(E.c(1), E.mul(X, X))) },
  }),
  ...unaryPair('erf', {
    f: erf,
    df: (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x),
    lower: { f: E.un('erf', X), df: E.mul(E.c(TWO_OVER_SQRT_PI), E.un('exp', E.un('neg', E.mul(X, X)))) },
  }),
  ...unaryPair('reciprocal', {
    f: (x) => 1 / x,
    df: (_x, y) => -y * y,
    lower: { f: E.un('recip', X), df: E.un('neg', E.mul(Y, Y)) },
  }),
  'aten::square': square,
  'aten::square_': inPlaceOf(square),
} satisfies RuleTable;
