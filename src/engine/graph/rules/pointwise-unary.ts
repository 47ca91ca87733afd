/**
 * Rules of real elementwise functions y = f(x) from f and its derivative: the JVP multiplies the
 * tangent by f'(x) over the tangent's box only (outside it the tangent is zero, and so is f'·0), and
 * keeps its stride-0 axes wherever x is broadcast too.
 */
import { UnsupportedError, type Args } from '../args';
import { binary, map, map2, type Map2Block, type Map2Run, type MapRun } from '../elementwise';
import { deferredProduct } from '../kernels/deferred';
import { physicalOrder } from '../strided';
import type { Rule } from '../rule';
import { boxed, primalBox } from '../tangent';
import type { GTensor, Kind } from '../tensor';
import type { UnaryLowering } from '../lower/expr';
import { withInPlace } from './pointwise-inplace';
import { restride } from './pointwise-tan';

export interface RealFn {
  f(x: number): number;
  /** f'(x), given x and y = f(x). */
  df(x: number, y: number): number;
  /** Hand-specialised loops of f and df for the hot activations (see elementwise.ts MapRun). */
  run?: MapRun;
  dRun?: Map2Run;
  /** A block-level kernel for f' (WebAssembly), tried before dRun's rows. */
  dBlock?: Map2Block;
  /** f and f' as expressions (f over in0 = x; f' over in0 = x, in1 = y), for lowered programs. */
  lower?: UnaryLowering;
}

export interface UnaryOptions {
  /** Integer inputs give integer outputs (relu, abs, neg, clamp); otherwise float. */
  keepInt?: boolean;
  /** Complex inputs: the rule to use instead (otherwise they are refused). */
  complex?: Rule;
}

function fail(a: Args): never {
  throw new UnsupportedError(`${a.op}: complex tensors are not supported`);
}

/** A rule y = f(x), f chosen from the call's other arguments (slopes, bounds, modes). */
export function unaryRule(
  params: readonly string[],
  fnOf: (a: Args) => RealFn,
  opts: UnaryOptions = {},
): Rule {
  const xName = params[0].replace(/=$/, '');
  return {
    params,
    forward(a, ctx) {
      const x = a.tensor(xName);
      if (x.isComplex) return opts.complex ? opts.complex.forward(a, ctx) : fail(a);
      const kind: Kind = opts.keepInt && (x.kind === 'int' || x.kind === 'bool') ? 'int' : 'float';
      const fn = fnOf(a);
      return map(x, fn.f, { lower: fn.lower?.f }, kind, fn.run);
    },
    jvp(a, out, t, ctx) {
      const x = a.tensor(xName);
      if (x.isComplex) return opts.complex ? opts.complex.jvp(a, out, t, ctx) : fail(a);
      const tx = t(x);
      if (!tx) return null;
      // y = f(x) is constant wherever x is broadcast: say so, so that the factor stays compact there
      const o = out as GTensor;
      const y = restride(
        o,
        [...o.shape],
        o.strides.map((s, i) => (x.strides[i] === 0 ? 0 : s)),
        o.offset,
      );
      const fn = fnOf(a);
      // f'(x) laid out like the tangent it multiplies (the tangent's axis order without P)
      let order = physicalOrder(tx.data.shape, tx.data.strides)
        .filter((ax) => ax > 0)
        .map((ax) => ax - 1);
      const xb = primalBox(x, tx);
      // Axes the tangent is constant along and x is not (p broadcast over time) make the product grow;
      // it stays deferred (below) and the linear map that meets it picks its own operand layouts. The
      // factor is then laid out like x: computed contiguously (in WebAssembly SIMD where resident), not
      // transposed element by element into the tangent's order.
      const growing = tx.data.shape.some(
        (n, i) => i > 0 && n > 1 && tx.data.strides[i] === 0 && xb.strides[i - 1] !== 0,
      );
      if (growing) order = physicalOrder(xb.shape, xb.strides);
      const factor = map2(
        xb,
        primalBox(y, tx),
        fn.df,
        { compact: true, order, lower: fn.lower?.df },
        fn.dRun,
        fn.dBlock,
      );
      // A tangent constant along an axis f'(x) varies along (p broadcast over time) would grow by
      // that axis: keep the product as its factors for a linear map that follows (deferred.ts).
      const d = tx.data;
      const grows = d.shape.some(
        (n, i) =>
          i > 0 && n > 1 && d.strides[i] === 0 && factor.shape[i - 1] === n && factor.strides[i - 1] !== 0,
      );
      const prod = grows
        ? deferredProduct
        : (u: GTensor, v: GTensor) => binary(u, v, 'mul', { compact: true });
      return boxed(prod(d, factor, { compact: true }), tx.full);
    },
  };
}

/** A unary rule with no options, and its in-place form under `<name>_`. */
export function unaryPair(
  name: string,
  fn: RealFn,
  opts: UnaryOptions = {},
  params: readonly string[] = ['self'],
): Record<string, Rule> {
  return withInPlace(
    name,
    unaryRule(params, () => fn, opts),
  );
}

/** The same with options read from the call. */
export function unaryPairOf(
  name: string,
  params: readonly string[],
  fnOf: (a: Args) => RealFn,
  opts: UnaryOptions = {},
): Record<string, Rule> {
  return withInPlace(name, unaryRule(params, fnOf, opts));
}
