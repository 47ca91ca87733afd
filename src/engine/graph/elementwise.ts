/**
 * Elementwise kernels with broadcasting, real and complex: what the arithmetic ops and most JVP
 * rules are made of. Outputs are laid out like the larger operand (PyTorch's preserve_format), so a
 * permuted tensor stays in its memory order and the loops run over stride-1 memory.
 *
 * With `compact`, an axis along which every operand is broadcast (stride 0) is computed once and the
 * result keeps stride 0 there: how a tangent that is constant over time stays one row. Only tangent
 * data is compacted; primal outputs are always materialised, as PyTorch's are, so in-place writes
 * into them are safe.
 */
import { broadcastShapes, broadcastStrides, forRuns, physicalOrder, stridesInOrder } from './strided';
import { GTensor, type Kind, allocData, sizeOf } from './tensor';

export type BinOp = 'add' | 'sub' | 'mul' | 'div';

export interface ElementwiseOptions {
  /** Keep axes broadcast in every operand at stride 0 in the output (tangent data only). */
  compact?: boolean;
  /** out = a op (alpha · b), for add/sub. */
  alpha?: number;
}

function outKind(a: Kind, b: Kind, op: BinOp | 'map'): Kind {
  if (a === 'complex' || b === 'complex') return 'complex';
  if (op !== 'div' && (a === 'int' || a === 'bool') && (b === 'int' || b === 'bool')) return 'int';
  return 'float';
}

/** Allocate an output of `shape` laid out in `order`, or compacted along `flat` axes. */
function allocOut(
  shape: number[],
  order: number[],
  kind: Kind,
  flat: boolean[],
): { out: GTensor; work: GTensor } {
  const workShape = shape.map((d, i) => (flat[i] ? 1 : d));
  const strides = stridesInOrder(workShape, order);
  const n = sizeOf(workShape);
  const re = allocData(n, false);
  const im = kind === 'complex' ? allocData(n, false) : null;
  const work = new GTensor(workShape, strides, 0, re, im, kind);
  if (!flat.some((f) => f)) return { out: work, work };
  const outStrides = strides.map((s, i) => (flat[i] ? 0 : s));
  const out = new GTensor(shape, outStrides, 0, re, im, kind);
  return { out, work };
}

/** The operand whose layout the output follows: the one with the most non-broadcast elements. */
function layoutOf(shape: number[], strides: number[][]): number[] {
  let best = strides[0];
  let bestCount = -1;
  for (const s of strides) {
    const count = s.reduce((c, st, i) => c * (st === 0 ? 1 : shape[i]), 1);
    if (count > bestCount) {
      best = s;
      bestCount = count;
    }
  }
  return physicalOrder(shape, best);
}

type RealKernel = (
  n: number,
  o: Float64Array,
  io: number,
  dd: number,
  a: Float64Array,
  ia: number,
  da: number,
  b: Float64Array,
  ib: number,
  db: number,
  alpha: number,
) => void;

// One top-level function per op (not a switch in a per-call closure): each gets its own
// optimised code and type feedback, and the common unit-stride case its own tight loop.
const REAL_KERNELS: Record<BinOp, RealKernel> = {
  add(n, o, io, dd, a, ia, da, b, ib, db, alpha) {
    if (dd === 1 && da === 1 && db === 1 && alpha === 1) for (let j = 0; j < n; j++) o[io + j] = a[ia + j] + b[ib + j];
    else for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) o[io] = a[ia] + alpha * b[ib];
  },
  sub(n, o, io, dd, a, ia, da, b, ib, db, alpha) {
    for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) o[io] = a[ia] - alpha * b[ib];
  },
  mul(n, o, io, dd, a, ia, da, b, ib, db) {
    if (dd === 1 && da === 1 && db === 1) for (let j = 0; j < n; j++) o[io + j] = a[ia + j] * b[ib + j];
    else if (dd === 1 && da === 0 && db === 1) {
      const s = a[ia];
      for (let j = 0; j < n; j++) o[io + j] = s * b[ib + j];
    } else if (dd === 1 && da === 1 && db === 0) {
      const s = b[ib];
      for (let j = 0; j < n; j++) o[io + j] = a[ia + j] * s;
    } else for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) o[io] = a[ia] * b[ib];
  },
  div(n, o, io, dd, a, ia, da, b, ib, db) {
    for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) o[io] = a[ia] / b[ib];
  },
};

/** a op b with broadcasting. */
export function binary(a: GTensor, b: GTensor, op: BinOp, opts: ElementwiseOptions = {}): GTensor {
  const shape = broadcastShapes(a.shape, b.shape, op);
  let sa = broadcastStrides(a, shape);
  let sb = broadcastStrides(b, shape);
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && sa[i] === 0 && sb[i] === 0);
  const order = layoutOf(shape, [sa, sb]);
  const kind = outKind(a.kind, b.kind, op);
  const { out, work } = allocOut(shape, order, kind, flat);
  const ws = work.shape;
  sa = sa.map((s, i) => (flat[i] ? 0 : s));
  sb = sb.map((s, i) => (flat[i] ? 0 : s));
  const alpha = opts.alpha ?? 1;
  const ar = a.re;
  const br = b.re;
  const or = work.re;
  if (kind !== 'complex') {
    const kernel = REAL_KERNELS[op];
    forRuns(ws, [sa, sb, work.strides], [a.offset, b.offset, 0], order, (n, offs, incs) =>
      kernel(n, or, offs[2], incs[2], ar, offs[0], incs[0], br, offs[1], incs[1], alpha),
    );
    return out;
  }
  const ai = a.im;
  const bi = b.im;
  const oi = work.im!;
  forRuns(ws, [sa, sb, work.strides], [a.offset, b.offset, 0], order, (n, [ia, ib, io], [da, db, dd]) => {
    for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) {
      const xr = ar[ia];
      const xi = ai ? ai[ia] : 0;
      const yr = br[ib];
      const yi = bi ? bi[ib] : 0;
      switch (op) {
        case 'add':
          or[io] = xr + alpha * yr;
          oi[io] = xi + alpha * yi;
          break;
        case 'sub':
          or[io] = xr - alpha * yr;
          oi[io] = xi - alpha * yi;
          break;
        case 'mul':
          or[io] = xr * yr - xi * yi;
          oi[io] = xr * yi + xi * yr;
          break;
        case 'div': {
          const d = yr * yr + yi * yi;
          or[io] = (xr * yr + xi * yi) / d;
          oi[io] = (xi * yr - xr * yi) / d;
          break;
        }
      }
    }
  });
  return out;
}

/** f applied to every element of a real tensor. */
export function map(x: GTensor, f: (v: number) => number, opts: ElementwiseOptions = {}, kind: Kind = 'float'): GTensor {
  const shape = x.shape;
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && x.strides[i] === 0);
  const order = physicalOrder(shape, x.strides);
  const { out, work } = allocOut([...shape], order, kind, flat);
  const xs = x.strides.map((s, i) => (flat[i] ? 0 : s));
  const xr = x.re;
  const or = work.re;
  forRuns(work.shape, [xs, work.strides], [x.offset, 0], order, (n, [ix, io], [dx, dd]) => {
    for (let j = 0; j < n; j++, ix += dx, io += dd) or[io] = f(xr[ix]);
  });
  return out;
}

/** f(a, b) elementwise over two real tensors with broadcasting (for rules with no BinOp). */
export function map2(
  a: GTensor,
  b: GTensor,
  f: (x: number, y: number) => number,
  opts: ElementwiseOptions = {},
): GTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  let sa = broadcastStrides(a, shape);
  let sb = broadcastStrides(b, shape);
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && sa[i] === 0 && sb[i] === 0);
  const order = layoutOf(shape, [sa, sb]);
  const { out, work } = allocOut(shape, order, 'float', flat);
  sa = sa.map((s, i) => (flat[i] ? 0 : s));
  sb = sb.map((s, i) => (flat[i] ? 0 : s));
  const ar = a.re;
  const br = b.re;
  const or = work.re;
  forRuns(work.shape, [sa, sb, work.strides], [a.offset, b.offset, 0], order, (n, [ia, ib, io], [da, db, dd]) => {
    for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) or[io] = f(ar[ia], br[ib]);
  });
  return out;
}

/** (re, im) → (re', im') elementwise over a complex (or real) tensor. */
export function mapComplex(
  x: GTensor,
  f: (re: number, im: number, out: Float64Array) => void,
  opts: ElementwiseOptions = {},
): GTensor {
  const shape = x.shape;
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && x.strides[i] === 0);
  const order = physicalOrder(shape, x.strides);
  const { out, work } = allocOut([...shape], order, 'complex', flat);
  const xs = x.strides.map((s, i) => (flat[i] ? 0 : s));
  const xr = x.re;
  const xi = x.im;
  const or = work.re;
  const oi = work.im!;
  const pair = new Float64Array(2);
  forRuns(work.shape, [xs, work.strides], [x.offset, 0], order, (n, [ix, io], [dx, dd]) => {
    for (let j = 0; j < n; j++, ix += dx, io += dd) {
      f(xr[ix], xi ? xi[ix] : 0, pair);
      or[io] = pair[0];
      oi[io] = pair[1];
    }
  });
  return out;
}

/** s · x for a real scalar s (complex x stays complex). */
export function scale(x: GTensor, s: number, opts: ElementwiseOptions = {}): GTensor {
  if (x.kind === 'complex') return mapComplex(x, (r, i, o) => ((o[0] = s * r), (o[1] = s * i)), opts);
  return map(x, (v) => s * v, opts);
}
