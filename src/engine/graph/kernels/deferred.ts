/**
 * Deferred products of tangent data: a tangent times a primal factor, kept as its two factors until
 * something reads it. An activation's JVP multiplies its input tangent by f'(x); when that tangent
 * is constant along an axis the factor varies along (p broadcast over time, before the first
 * activation), the product is P times larger than either factor — [T, P, C] from a [P, C] tangent
 * and a [T, C] factor. A linear map that follows contracts it over C, and Σ_c W[h,c]·g[t,c]·v[p,c]
 * is cheaper as (W ⊙ v) first — a [P, H, C] array — then one GEMM with g, which never forms the
 * [T, P, C] product at all (productJvp in tangents.ts does this through `deferredFactors`).
 *
 * The deferred result is an ordinary lazy root (tensor.ts `defer`): any other reader gets the
 * product computed, in the layout `binary` would have given it.
 */
import { binaryInto, binaryLayout, type ElementwiseOptions } from '../elementwise';
import { GTensor, allocData, rootAxes, sizeOf } from '../tensor';

interface Factors {
  readonly a: GTensor;
  readonly b: GTensor;
  /** a's and b's strides over the product's shape (0 where broadcast). */
  readonly sa: readonly number[];
  readonly sb: readonly number[];
}

const pending = new WeakMap<GTensor, Factors>();

/** a · b (broadcasting, as `binary(a, b, 'mul', opts)`), computed when first read. */
export function deferredProduct(a: GTensor, b: GTensor, opts: ElementwiseOptions = {}): GTensor {
  const L = binaryLayout(a, b, 'mul', opts);
  const t = new GTensor(L.shape, L.strides, 0, new Float64Array(0), null, L.kind);
  t.defer(() => {
    pending.delete(t);
    const n = sizeOf(L.workShape);
    const re = allocData(n, false);
    const im = L.kind === 'complex' ? allocData(n, false) : null;
    binaryInto(L, a, b, 'mul', re, im);
    return { re, im };
  });
  pending.set(t, { a, b, sa: L.sa, sb: L.sb });
  return t;
}

/**
 * The two factors of `t` — a deferred product not computed yet, or a view of one that only
 * reorders its axes (a permute, size-1 axes added or dropped) — as views with t's geometry, so
 * that t = f[0] · f[1] elementwise. Null for anything else.
 */
export function deferredFactors(t: GTensor): [GTensor, GTensor] | null {
  const root = t.root;
  const f = pending.get(root);
  if (!f || !root.deferred) return null;
  const from = rootAxes(t);
  if (!from) return null;
  const view = (x: GTensor, s: readonly number[]) =>
    new GTensor(
      [...t.shape],
      from.map((j) => (j < 0 ? 0 : s[j])),
      x.offset,
      x.re,
      x.im,
      x.kind,
    );
  return [view(f.a, f.sa), view(f.b, f.sb)];
}
