/**
 * Arithmetic with broadcasting: add, sub, rsub, mul, div (with rounding modes), floor_divide, neg,
 * pow, real and complex, with Python numbers where aten takes a Scalar, and their in-place forms.
 * `pointwiseRules` also carries the elementwise functions of pointwise-math.ts.
 *
 * Tangents keep their structure: a term with one tangent broadcasts it without copying and
 * multiplies by the primal factor over its box only; two tangents are added box to box.
 */
import { ShapeError } from '../../errors';
import { UnsupportedError, type Args } from '../args';
import { binary, map, map2, scale } from '../elementwise';
import type { Rule, RuleTable, TanOf } from '../rule';
import { boxOf, type Tan } from '../tangent';
import type { GTensor, Kind } from '../tensor';
import { mathRules } from './pointwise-math';
import { withInPlace } from './pointwise-inplace';
import { E } from '../lower/expr';
import { addTans, expandTan, mulTan, operand, primalIn, scaleTan, sumTans, tanOfArg } from './pointwise-tan';

function isNumber(v: unknown): v is number | boolean {
  return typeof v === 'number' || typeof v === 'boolean';
}

/**
 * `rule`, computing a Python number when its operands are numbers alone (TorchScript's int and
 * float arithmetic; `add` also joins two lists).
 */
function onNumbers(rule: Rule, f: (a: Args, ...xs: number[]) => number): Rule {
  const names = rule.params.filter((p) => p === 'self' || p === 'other' || p === 'exponent');
  return {
    ...rule,
    forward(a, ctx) {
      const vs = names.map((n) => a.raw(n));
      if (vs.every(isNumber)) return f(a, ...vs.map(Number));
      if (vs.length === 2 && vs.every((v) => Array.isArray(v)) && a.op === 'aten::add')
        return [...(vs[0] as unknown[]), ...(vs[1] as unknown[])];
      return rule.forward(a, ctx);
    },
  };
}

/** self ± alpha·other (rsub: other − alpha·self). */
function addRule(op: 'add' | 'sub', reversed = false): Rule {
  const [first, second] = reversed ? ['other', 'self'] : ['self', 'other'];
  return {
    params: ['self', 'other', 'alpha='],
    forward(a) {
      return binary(operand(a, first), operand(a, second), op, { alpha: a.number('alpha', 1) });
    },
    jvp(a, out, t) {
      const shape = (out as GTensor).shape;
      return addTans(tanOfArg(a, first, t), tanOfArg(a, second, t), shape, a.number('alpha', 1), op);
    },
  };
}

/** d(a·b) = da·b + a·db. */
const mul: Rule = {
  params: ['self', 'other'],
  forward(a) {
    return binary(operand(a, 'self'), operand(a, 'other'), 'mul');
  },
  jvp(a, out, t) {
    const shape = (out as GTensor).shape;
    const x = operand(a, 'self');
    const y = operand(a, 'other');
    return addTans(
      mulTan(tanOfArg(a, 'self', t), y, shape),
      mulTan(tanOfArg(a, 'other', t), x, shape),
      shape,
    );
  },
};

function roundingMode(a: Args): 'floor' | 'trunc' | null {
  const m = a.optString('rounding_mode');
  if (m === null || m === 'floor' || m === 'trunc') return m;
  throw new ShapeError(`${a.op}: rounding_mode must be 'trunc', 'floor' or None, got '${m}'`);
}

function isInt(k: Kind): boolean {
  return k === 'int' || k === 'bool';
}

/** a / b rounded (floor or trunc), integers staying integers; its derivative is zero. */
function roundedDiv(a: Args, x: GTensor, y: GTensor, mode: 'floor' | 'trunc'): GTensor {
  if (x.isComplex || y.isComplex) throw new UnsupportedError(`${a.op}: rounded division of complex tensors`);
  const q =
    mode === 'floor'
      ? (u: number, v: number) => Math.floor(u / v)
      : (u: number, v: number) => Math.trunc(u / v);
  const out = map2(x, y, q, { lower: E.un(mode, E.div(E.in(0), E.in(1))) });
  if (!isInt(x.kind) || !isInt(y.kind)) return out;
  for (const v of out.re) if (!Number.isFinite(v)) throw new ShapeError(`${a.op}: integer division by zero`);
  return map(out, (v) => v, { lower: E.in(0) }, 'int');
}

/** d(a/b) = da/b − (a/b)·db/b. */
const div: Rule = {
  params: ['self', 'other', 'rounding_mode='],
  forward(a) {
    const x = operand(a, 'self');
    const y = operand(a, 'other');
    const mode = roundingMode(a);
    return mode ? roundedDiv(a, x, y, mode) : binary(x, y, 'div');
  },
  jvp(a, out, t) {
    if (roundingMode(a)) return null;
    const o = out as GTensor;
    const shape = o.shape;
    const y = operand(a, 'other');
    const first = mulTan(tanOfArg(a, 'self', t), y, shape, 'div');
    const ty = tanOfArg(a, 'other', t);
    if (!ty) return first;
    const e = expandTan(ty, shape);
    const box = boxOf(e);
    // −(a/b)/b over the box of db
    const f = scale(binary(primalIn(o, box, shape), primalIn(y, box, shape), 'div', { compact: true }), -1, {
      compact: true,
    });
    return addTans(first, mulTan(e, f, shape), shape);
  },
};

/** Python's `//` on tensors (floor division); derivative zero. */
const floorDivide: Rule = {
  params: ['self', 'other'],
  forward(a) {
    return roundedDiv(a, operand(a, 'self'), operand(a, 'other'), 'floor');
  },
  jvp() {
    return null;
  },
};

const neg: Rule = {
  params: ['self'],
  forward(a) {
    const x = a.tensor('self');
    return x.isComplex
      ? scale(x, -1)
      : map(x, (v) => -v, { lower: E.un('neg', E.in(0)) }, isInt(x.kind) ? 'int' : 'float');
  },
  jvp(a, _out, t) {
    return scaleTan(t(a.tensor('self')), -1);
  },
};

/**
 * pow: tensor ** number, number ** tensor, tensor ** tensor (real). As PyTorch: the derivative in
 * the base is 0 where the exponent is 0, in the exponent 0 where the base is 0 and exponent ≥ 0.
 */
const pow: Rule = {
  params: ['self', 'exponent'],
  forward(a) {
    const x = operand(a, 'self');
    const e = operand(a, 'exponent');
    if (x.isComplex || e.isComplex) throw new UnsupportedError(`${a.op}: complex tensors are not supported`);
    const out = map2(x, e, Math.pow, { lower: E.bin('pow', E.in(0), E.in(1)) });
    return isInt(x.kind) && isInt(e.kind) ? map(out, (v) => v, { lower: E.in(0) }, 'int') : out;
  },
  jvp(a, out, t: TanOf) {
    const o = out as GTensor;
    const shape = o.shape;
    const x = operand(a, 'self');
    const e = operand(a, 'exponent');
    const tx = tanOfArg(a, 'self', t);
    const te = tanOfArg(a, 'exponent', t);
    const terms: Tan[] = [];
    if (tx) {
      const ex = expandTan(tx, shape);
      const box = boxOf(ex);
      const f = map2(
        primalIn(x, box, shape),
        primalIn(e, box, shape),
        (u, v) => (v === 0 ? 0 : v * Math.pow(u, v - 1)),
        {
          compact: true,
          lower: E.select(
            E.bin('eq', E.in(1), E.c(0)),
            E.c(0),
            E.mul(E.in(1), E.bin('pow', E.in(0), E.sub(E.in(1), E.c(1)))),
          ),
        },
      );
      terms.push(mulTan(ex, f, shape));
    }
    if (te) {
      const ee = expandTan(te, shape);
      const box = boxOf(ee);
      const lx = map2(
        primalIn(x, box, shape),
        primalIn(e, box, shape),
        (u, v) => (u === 0 && v >= 0 ? 0 : Math.log(u)),
        {
          compact: true,
          lower: E.select(
            E.mul(E.bin('eq', E.in(0), E.c(0)), E.bin('ge', E.in(1), E.c(0))),
            E.c(0),
            E.un('log', E.in(0)),
          ),
        },
      );
      terms.push(mulTan(ee, binary(lx, primalIn(o, box, shape), 'mul', { compact: true }), shape));
    }
    return sumTans(terms, shape);
  },
};

export const pointwiseRules = {
  ...withInPlace(
    'add',
    onNumbers(addRule('add'), (a, x, y) => x + a.number('alpha', 1) * y),
  ),
  ...withInPlace(
    'sub',
    onNumbers(addRule('sub'), (a, x, y) => x - a.number('alpha', 1) * y),
  ),
  'aten::rsub': onNumbers(addRule('sub', true), (a, x, y) => y - a.number('alpha', 1) * x),
  ...withInPlace(
    'mul',
    onNumbers(mul, (_a, x, y) => x * y),
  ),
  ...withInPlace(
    'div',
    onNumbers(div, (a, x, y) => {
      const mode = roundingMode(a);
      return mode === 'floor' ? Math.floor(x / y) : mode === 'trunc' ? Math.trunc(x / y) : x / y;
    }),
  ),
  ...withInPlace(
    'floor_divide',
    onNumbers(floorDivide, (_a, x, y) => Math.floor(x / y)),
  ),
  ...withInPlace(
    'neg',
    onNumbers(neg, (_a, x) => -x),
  ),
  ...withInPlace(
    'pow',
    onNumbers(pow, (_a, x, y) => Math.pow(x, y)),
  ),
  ...mathRules,
} satisfies RuleTable;
