/**
 * clamp (clip), clamp_min, clamp_max, hardtanh, relu6 and their in-place forms. Bounds are numbers
 * or tensors (which broadcast and may carry tangents). As PyTorch's derivatives:
 *  - clamp: the tangent of whichever value was selected, with ties going to the input
 *    (where(min > max, max', where(x < min, min', where(x > max, max', x'))));
 *  - hardtanh / relu6: x' strictly inside (min_val, max_val), 0 elsewhere.
 */
import { ShapeError } from '../../errors';
import { UnsupportedError, type Args } from '../args';
import type { Rule, RuleTable, TanOf } from '../rule';
import { broadcastShapes, broadcastStrides, forRuns, physicalOrder } from '../strided';
import { map } from '../elementwise';
import { GTensor, scalarTensor, zerosTensor } from '../tensor';
import { mulTan, sumTans, tanOfArg } from './pointwise-tan';
import { withInPlace } from './pointwise-inplace';
import { unaryRule } from './pointwise-unary';
import { E, type Expr, type UnaryLowering } from '../lower/expr';
import { recorder } from '../lower/record';

type Bound = GTensor | number | null;

function bound(a: Args, name: string | null): Bound {
  if (!name || !a.has(name)) return null;
  return a.tensorOrScalar(name);
}

const [V, L, H] = [E.in(0), E.in(1), E.in(2)];
/** select's value and code as expressions of x, lo, hi. */
const SELECT_EXPRS = [
  E.select(E.bin('gt', L, H), H, E.select(E.bin('lt', V, L), L, E.select(E.bin('gt', V, H), H, V))),
  E.select(
    E.bin('gt', L, H),
    E.c(2),
    E.select(E.bin('lt', V, L), E.c(1), E.select(E.bin('gt', V, H), E.c(2), E.c(0))),
  ),
];
const X = E.in(0);

/** clamp's f and f' for scalar bounds (an infinite one is left out: WGSL has no infinite literals). */
function clampLowering(l: number, h: number): UnaryLowering {
  if (l > h) return { f: E.c(h), df: E.c(0) };
  let f: Expr = X;
  let df: Expr = E.c(1);
  if (Number.isFinite(h)) {
    f = E.select(E.bin('gt', X, E.c(h)), E.c(h), f);
    df = E.mul(df, E.bin('le', X, E.c(h)));
  }
  if (Number.isFinite(l)) {
    f = E.select(E.bin('lt', X, E.c(l)), E.c(l), f);
    df = E.mul(df, E.bin('ge', X, E.c(l)));
  }
  return { f, df };
}

/** Which value each element takes: 0 the input, 1 the lower bound, 2 the upper bound. */
function select(x: GTensor, lo: GTensor, hi: GTensor): { value: GTensor; code: GTensor } {
  const shape = broadcastShapes(broadcastShapes(x.shape, lo.shape, 'clamp'), hi.shape, 'clamp');
  const value = zerosTensor(
    shape,
    x.kind === 'int' && lo.kind !== 'float' && hi.kind !== 'float' ? 'int' : 'float',
  );
  const code = zerosTensor(shape);
  const ss = [x, lo, hi].map((t) => broadcastStrides(t, shape, 'clamp'));
  const [xr, lr, hr, vr, cr] = [x.re, lo.re, hi.re, value.re, code.re];
  recorder()?.ewise(
    shape,
    [x, lo, hi].map((t, i) => ({ arr: t.re, strides: ss[i], offset: t.offset })),
    [value, code].map((t) => ({ arr: t.re, strides: t.strides, offset: 0 })),
    SELECT_EXPRS,
  );
  forRuns(
    shape,
    [...ss, value.strides],
    [x.offset, lo.offset, hi.offset, 0],
    physicalOrder(shape, value.strides),
    (n, [ix, il, ih, io], [dx, dl, dh, dd]) => {
      for (let j = 0; j < n; j++, ix += dx, il += dl, ih += dh, io += dd) {
        const v = xr[ix];
        const l = lr[il];
        const h = hr[ih];
        const c = l > h ? 2 : v < l ? 1 : v > h ? 2 : 0;
        cr[io] = c;
        vr[io] = c === 0 ? v : c === 1 ? l : h;
      }
    },
  );
  return { value, code };
}

function asTensor(b: Bound, missing: number): GTensor {
  if (b instanceof GTensor) return b;
  return scalarTensor(b ?? missing, b !== null && Number.isInteger(b) ? 'int' : 'float');
}

/** clamp with bounds named `lo`/`hi` (null: that bound is absent). */
function clampRule(params: readonly string[], lo: string | null, hi: string | null): Rule {
  const scalar = unaryRule(
    params,
    (a) => {
      const l = (bound(a, lo) as number | null) ?? -Infinity;
      const h = (bound(a, hi) as number | null) ?? Infinity;
      return {
        f: (x) => (l > h ? h : x < l ? l : x > h ? h : x),
        df: (x) => (x >= l && x <= h ? 1 : 0),
        lower: clampLowering(l, h),
      };
    },
    { keepInt: true },
  );
  const bounds = (a: Args) => {
    const l = bound(a, lo);
    const h = bound(a, hi);
    if (l === null && h === null)
      throw new ShapeError(`${a.op}: at least one of 'min' and 'max' must be given`);
    if (
      a.tensor('self').isComplex ||
      (l instanceof GTensor && l.isComplex) ||
      (h instanceof GTensor && h.isComplex)
    )
      throw new UnsupportedError(`${a.op}: complex tensors are not supported`);
    return { l, h, general: l instanceof GTensor || h instanceof GTensor };
  };
  return {
    params,
    forward(a, ctx) {
      const { l, h, general } = bounds(a);
      if (!general) return scalar.forward(a, ctx);
      return select(a.tensor('self'), asTensor(l, -Infinity), asTensor(h, Infinity)).value;
    },
    jvp(a, out, t: TanOf, ctx) {
      const { l, h, general } = bounds(a);
      if (!general) return scalar.jvp(a, out, t, ctx);
      const x = a.tensor('self');
      const { code } = select(x, asTensor(l, -Infinity), asTensor(h, Infinity));
      const shape = code.shape;
      const mask = (k: number) =>
        map(code, (c) => (c === k ? 1 : 0), { lower: E.bin('eq', E.in(0), E.c(k)) });
      const tl = lo ? tanOfArg(a, lo, t) : null;
      const th = hi ? tanOfArg(a, hi, t) : null;
      const tx = t(x);
      return sumTans(
        [
          tx && mulTan(tx, mask(0), shape),
          tl && mulTan(tl, mask(1), shape),
          th && mulTan(th, mask(2), shape),
        ],
        shape,
      );
    },
  };
}

/** hardtanh(x, min_val, max_val): derivative 1 strictly inside the bounds. */
function hardtanhRule(params: readonly string[], fixed?: [number, number]): Rule {
  return unaryRule(
    params,
    (a) => {
      const [l, h] = fixed ?? [a.number('min_val', -1), a.number('max_val', 1)];
      return {
        f: (x) => (x < l ? l : x > h ? h : x),
        df: (x) => (x > l && x < h ? 1 : 0),
        lower: {
          f: E.select(E.bin('lt', X, E.c(l)), E.c(l), E.select(E.bin('gt', X, E.c(h)), E.c(h), X)),
          df: E.mul(E.bin('gt', X, E.c(l)), E.bin('lt', X, E.c(h))),
        },
      };
    },
    { keepInt: true },
  );
}

export const clampRules = {
  ...withInPlace('clamp', clampRule(['self', 'min=', 'max='], 'min', 'max')),
  ...withInPlace('clip', clampRule(['self', 'min=', 'max='], 'min', 'max')),
  ...withInPlace('clamp_min', clampRule(['self', 'min'], 'min', null)),
  ...withInPlace('clamp_max', clampRule(['self', 'max'], null, 'max')),
  ...withInPlace('hardtanh', hardtanhRule(['self', 'min_val=', 'max_val='])),
  ...withInPlace('relu6', hardtanhRule(['self'], [0, 6])),
} satisfies RuleTable;
