/**
 * Reductions: sum and mean (over all axes or a list, keepdim; real and complex) and prod (over all
 * axes or one). Tangents are summed over their box only (beyond it they are zero), and axes the
 * tangent broadcasts stay broadcast (reduce-kernel.ts).
 *
 * d prod = Σ_i (Π_{j≠i} x_j) dx_i, the products of the others taken from prefix and suffix
 * products, so zeros in x need no special case.
 */
import { UnsupportedError, type Args } from '../args';
import { binary } from '../elementwise';
import type { Rule, RuleTable } from '../rule';
import { boxed, primalBox } from '../tangent';
import { GTensor, type Kind, axis, contiguous, fromArrays, sizeOf } from '../tensor';
import { reducedAxes, reducedShape, sumAxes } from './reduce-kernel';
import { castTo, dtypeArg } from './scalar';
import { recorder } from '../lower/record';
import { recordProd, recordProdOthers } from '../lower/record-reduce';

function dimsOf(a: Args, x: GTensor): boolean[] {
  return reducedAxes(a.optInts('dim'), x.rank);
}

function isInt(k: Kind): boolean {
  return k === 'int' || k === 'bool';
}

/** The input, cast first when `dtype=` asks for integers, and the result's kind. */
function input(a: Args, mean: boolean): { x: GTensor; kind: Kind } {
  const self = a.tensor('self');
  const natural: Kind = isInt(self.kind) ? (mean ? 'float' : 'int') : self.kind;
  const kind = dtypeArg(a, natural);
  if (isInt(kind) && !isInt(self.kind)) return { x: castTo(self, 'int'), kind: 'int' };
  return { x: self, kind: kind === 'bool' ? 'int' : kind };
}

function sumRule(mean: boolean): Rule {
  const scaleOf = (x: GTensor, red: boolean[]) => {
    if (!mean) return 1;
    const count = x.shape.reduce((c, d, i) => (red[i] ? c * d : c), 1);
    return 1 / count;
  };
  return {
    params: ['self', 'dim=', 'keepdim=', 'dtype='],
    forward(a) {
      const { x, kind } = input(a, mean);
      const red = dimsOf(a, x);
      return sumAxes(x, red, a.bool('keepdim', false), { scale: scaleOf(x, red), kind });
    },
    jvp(a, _out, t) {
      const { x, kind } = input(a, mean);
      const tx = isInt(kind) ? null : t(x);
      if (!tx) return null;
      const red = dimsOf(a, x);
      const keepdim = a.bool('keepdim', false);
      const data = sumAxes(tx.data, [false, ...red], keepdim, { compact: true, scale: scaleOf(x, red) });
      return boxed(data, reducedShape(x.shape, red, keepdim));
    },
  };
}

/** x as [outer, n, inner] lines along axis d (all axes: one line), contiguous. */
function lines(x: GTensor, d: number | null): { v: Float64Array; outer: number; n: number; inner: number } {
  const v = contiguous(x).re;
  if (d === null || x.rank === 0) return { v, outer: 1, n: x.numel, inner: 1 };
  const outer = sizeOf(x.shape.slice(0, d));
  const inner = sizeOf(x.shape.slice(d + 1));
  return { v, outer, n: x.shape[d], inner };
}

function prodArgs(a: Args): { x: GTensor; d: number | null; red: boolean[]; keepdim: boolean } {
  const x = a.tensor('self');
  if (x.isComplex) throw new UnsupportedError(`${a.op}: complex tensors are not supported`);
  const dim = a.optInt('dim');
  const d = dim === null ? null : axis(dim, x.rank);
  return { x, d, red: reducedAxes(d === null ? null : [d], x.rank), keepdim: a.bool('keepdim', false) };
}

function prodKind(a: Args, x: GTensor): Kind {
  const kind = dtypeArg(a, x.kind === 'float' ? 'float' : 'int');
  if (kind === 'complex') throw new UnsupportedError(`${a.op}: complex products are not supported`);
  return kind === 'bool' ? 'int' : kind;
}

/** Report a kernel over contiguous lines [outer, n, inner] of v (out's strides given) to the recorder. */
function recordLines(
  v: Float64Array,
  out: Float64Array,
  outer: number,
  n: number,
  inner: number,
  kernel: typeof recordProd,
  outStrides: number[],
): void {
  const rec = recorder();
  if (!rec) return;
  if (n > MAX_CHAIN) {
    rec.unlowered(`a product of ${n} entries (at most ${MAX_CHAIN} lower)`);
    return;
  }
  const shape = [outer, n, inner];
  kernel(
    rec,
    shape,
    1,
    { arr: v, strides: [n * inner, inner, 1], offset: 0 },
    { arr: out, strides: outStrides, offset: 0 },
  );
}

/** Longest product along an axis that lowers (one record per entry). */
const MAX_CHAIN = 64;

const prod: Rule = {
  params: ['self', 'dim=', 'keepdim=', 'dtype='],
  forward(a) {
    const { x: self, d, red, keepdim } = prodArgs(a);
    const kind = prodKind(a, self);
    const x = isInt(kind) && !isInt(self.kind) ? castTo(self, 'int') : self;
    const { v, outer, n, inner } = lines(x, d);
    const out = new Float64Array(outer * inner);
    recordLines(v, out, outer, n, inner, recordProd, [inner, 0, 1]);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        let p = 1;
        for (let j = 0, k = o * n * inner + i; j < n; j++, k += inner) p *= v[k];
        out[o * inner + i] = p;
      }
    return fromArrays(reducedShape(x.shape, red, keepdim), out, null, kind);
  },
  jvp(a, _out, t) {
    const { x, d, red, keepdim } = prodArgs(a);
    const tx = isInt(prodKind(a, x)) ? null : t(x);
    if (!tx) return null;
    // The product of the other entries of each line.
    const { v, outer, n, inner } = lines(x, d);
    const others = new Float64Array(v.length);
    recordLines(v, others, outer, n, inner, recordProdOthers, [n * inner, inner, 1]);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let p = 1;
        for (let j = 0, k = base; j < n; j++, k += inner) {
          others[k] = p;
          p *= v[k];
        }
        p = 1;
        for (let j = n - 1, k = base + (n - 1) * inner; j >= 0; j--, k -= inner) {
          others[k] *= p;
          p *= v[k];
        }
      }
    const f = primalBox(fromArrays([...x.shape], others), tx);
    const terms = binary(tx.data, f, 'mul', { compact: true });
    return boxed(
      sumAxes(terms, [false, ...red], keepdim, { compact: true }),
      reducedShape(x.shape, red, keepdim),
    );
  },
};

export const reduceRules = {
  'aten::sum': sumRule(false),
  'aten::mean': sumRule(true),
  'aten::prod': prod,
} satisfies RuleTable;
