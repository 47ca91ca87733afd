/**
 * Rules of real elementwise functions y = f(x) from f and its derivative: the JVP multiplies the
 * tangent by f'(x) over the tangent's box only (outside it the tangent is zero, and so is f'·0), and
 * keeps its stride-0 axes wherever x is broadcast too.
 */
import { UnsupportedError, type Args } from '../args';
import { binary, map, map2 } from '../elementwise';
import type { Rule } from '../rule';
import { boxed, primalBox } from '../tangent';
import type { GTensor, Kind } from '../tensor';
import { withInPlace } from './pointwise-inplace';
import { restride } from './pointwise-tan';

export interface RealFn {
  f(x: number): number;
  /** f'(x), given x and y = f(x). */
  df(x: number, y: number): number;
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
      return map(x, fnOf(a).f, {}, kind);
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
      const factor = map2(primalBox(x, tx), primalBox(y, tx), fnOf(a).df, { compact: true });
      return boxed(binary(tx.data, factor, 'mul', { compact: true }), tx.full);
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
