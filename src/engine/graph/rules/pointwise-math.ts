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

const TWO_OVER_SQRT_PI = 1.1283791670955126;

const expComplex: Rule = {
  params: ['self'],
  forward(a) {
    return mapComplex(a.tensor('self'), (r, i, o) => {
      const e = Math.exp(r);
      o[0] = e * Math.cos(i);
      o[1] = e * Math.sin(i);
    });
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
    return map2(realPart(x), imagPart(x)!, (r, i) => Math.sqrt(r * r + i * i));
  },
  jvp(a, out, t) {
    const x = a.tensor('self');
    const tx = t(x);
    if (!tx) return null;
    // d|z| = (Re z · Re dz + Im z · Im dz) / |z|
    const y = primalBox(out as GTensor, tx);
    const xb = primalBox(x, tx);
    const unit = (v: number, m: number) => (m === 0 ? 0 : v / m);
    const sr = map2(realPart(xb), y, unit, { compact: true });
    const si = map2(imagPart(xb)!, y, unit, { compact: true });
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

const abs = unaryRule(['self'], () => ({ f: Math.abs, df: (x) => Math.sign(x) }), {
  keepInt: true,
  complex: absComplex,
});
const exp = unaryRule(['self'], () => ({ f: Math.exp, df: (_x, y) => y }), { complex: expComplex });

export const mathRules = {
  ...unaryPair('sqrt', { f: Math.sqrt, df: (_x, y) => 0.5 / y }),
  ...unaryPair('rsqrt', { f: (x) => 1 / Math.sqrt(x), df: (_x, y) => -0.5 * y * y * y }),
  'aten::exp': exp,
  'aten::exp_': inPlaceOf(exp),
  ...unaryPair('expm1', { f: Math.expm1, df: (_x, y) => y + 1 }),
  ...unaryPair('log', { f: Math.log, df: (x) => 1 / x }),
  ...unaryPair('log1p', { f: Math.log1p, df: (x) => 1 / (1 + x) }),
  ...unaryPair('log2', { f: Math.log2, df: (x) => 1 / (x * Math.LN2) }),
  ...unaryPair('log10', { f: Math.log10, df: (x) => 1 / (x * Math.LN10) }),
  'aten::abs': abs,
  'aten::abs_': inPlaceOf(abs),
  ...unaryPair('sin', { f: Math.sin, df: (x) => Math.cos(x) }),
  ...unaryPair('cos', { f: Math.cos, df: (x) => -Math.sin(x) }),
  ...unaryPair('tan', { f: Math.tan, df: (_x, y) => 1 + y * y }),
  ...unaryPair('atan', { f: Math.atan, df: (x) => 1 / (1 + x * x) }),
  ...unaryPair('erf', { f: erf, df: (x) => TWO_OVER_SQRT_PI * Math.exp(-x * x) }),
  ...unaryPair('reciprocal', { f: (x) => 1 / x, df: (_x, y) => -y * y }),
  'aten::square': square,
  'aten::square_': inPlaceOf(square),
} satisfies RuleTable;
