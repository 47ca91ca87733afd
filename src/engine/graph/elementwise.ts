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
import {
  broadcastShapes,
  broadcastStrides,
  forBlocks,
  forRuns,
  physicalOrder,
  stridesInOrder,
} from './strided';
import { GTensor, type Kind, allocData, sizeOf } from './tensor';
import { type BlockArgs, type BlockOperands, binaryBlockWasm } from '../kernels/binary-wasm';
import { E, type Expr } from './lower/expr';
import { recorder, type StridedArray } from './lower/record';

export type BinOp = 'add' | 'sub' | 'mul' | 'div';

export interface ElementwiseOptions {
  /** Keep axes broadcast in every operand at stride 0 in the output (tangent data only). */
  compact?: boolean;
  /** out = a op (alpha · b), for add/sub. */
  alpha?: number;
  /**
   * The output's physical axis order, outermost first (map2 only): a factor that will multiply a
   * tangent is laid out like that tangent, so the product's loops run over stride-1 memory.
   */
  order?: readonly number[];
  /**
   * What the function computes, for backends that run a lowered program (lower/tape.ts): map and
   * map2 take one expression over in0 (and in1), mapComplex two (real and imaginary parts) over
   * in0 = re, in1 = im. A function without one cannot be lowered (the recorder says so).
   */
  lower?: Expr | readonly Expr[];
}

/** The expressions of a op b, real or complex, over the record's inputs (see recordBinary). */
function binaryExprs(op: BinOp, alpha: number, complex: boolean, aIm: boolean, bIm: boolean): Expr[] {
  const ar = E.in(0);
  const ai = aIm ? E.in(1) : E.c(0);
  const br = E.in(aIm ? 2 : 1);
  const bi = bIm ? E.in(aIm ? 3 : 2) : E.c(0);
  const al = (x: Expr) => (alpha === 1 ? x : E.mul(E.c(alpha), x));
  if (!complex) {
    if (op === 'add') return [E.add(ar, al(br))];
    if (op === 'sub') return [E.sub(ar, al(br))];
    return [E.bin(op, ar, br)];
  }
  switch (op) {
    case 'add':
      return [E.add(ar, al(br)), E.add(ai, al(bi))];
    case 'sub':
      return [E.sub(ar, al(br)), E.sub(ai, al(bi))];
    case 'mul':
      return [E.sub(E.mul(ar, br), E.mul(ai, bi)), E.add(E.mul(ar, bi), E.mul(ai, br))];
    case 'div': {
      const d = E.add(E.mul(br, br), E.mul(bi, bi));
      return [E.div(E.add(E.mul(ar, br), E.mul(ai, bi)), d), E.div(E.sub(E.mul(ai, br), E.mul(ar, bi)), d)];
    }
  }
}

/** The parts of a strided operand a record reads: re, and im when the tensor has one and `complex`. */
function parts(t: GTensor, strides: readonly number[], complex: boolean): StridedArray[] {
  const out: StridedArray[] = [{ arr: t.re, strides, offset: t.offset }];
  if (complex && t.kind === 'complex' && t.im) out.push({ arr: t.im, strides, offset: t.offset });
  return out;
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

/**
 * The layout of a tangent result [P, ...S]: when one operand is tangent data (non-broadcast along
 * the leading P axis) and the other a primal factor (broadcast along P), the tangent's own, with its
 * broadcast axes outermost. A tangent constant over time times a factor varying over time then
 * comes out [T, P, C] — time and P merged into GEMM rows, the channels innermost, as the next
 * linear map wants them — rather than in the factor's [C, T] order, which would leave the P axis
 * between channels and time and split the product into one GEMM per direction.
 */
function tangentLayout(shape: number[], sa: number[], sb: number[]): number[] {
  if (shape.length > 0 && shape[0] > 1) {
    const ta = sa[0] !== 0;
    const tb = sb[0] !== 0;
    if (ta !== tb) return physicalOrder(shape, ta ? sa : sb);
  }
  return layoutOf(shape, [sa, sb]);
}

/** One op over a block (binary-wasm.ts BlockArgs: n1 runs of n0 elements, see strided.ts forBlocks). */
type RealKernel = (...block: BlockArgs) => void;

// One top-level function per op (not a switch in a per-call closure): each gets its own
// optimised code and type feedback, and the common unit-stride cases their own tight loops.
const REAL_KERNELS: Record<BinOp, RealKernel> = {
  add(n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0, alpha) {
    if (binaryBlockWasm(0, n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0, alpha)) return;
    if (o0 === 1 && a0 === 1 && b0 === 1 && alpha === 1)
      for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
        for (let j = 0; j < n0; j++) o[io + j] = a[ia + j] + b[ib + j];
    else
      for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
        for (let j = 0, x = ia, y = ib, z = io; j < n0; j++, x += a0, y += b0, z += o0)
          o[z] = a[x] + alpha * b[y];
  },
  sub(n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0, alpha) {
    if (binaryBlockWasm(1, n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0, alpha)) return;
    for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
      for (let j = 0, x = ia, y = ib, z = io; j < n0; j++, x += a0, y += b0, z += o0)
        o[z] = a[x] - alpha * b[y];
  },
  mul(n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0) {
    if (binaryBlockWasm(2, n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0, 1)) return;
    if (o0 === 1 && a0 === 1 && b0 === 1)
      for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
        for (let j = 0; j < n0; j++) o[io + j] = a[ia + j] * b[ib + j];
    else if (o0 === 1 && a0 === 0 && b0 === 1)
      for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1) {
        const s = a[ia];
        for (let j = 0; j < n0; j++) o[io + j] = s * b[ib + j];
      }
    else if (o0 === 1 && a0 === 1 && b0 === 0)
      for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1) {
        const s = b[ib];
        for (let j = 0; j < n0; j++) o[io + j] = a[ia + j] * s;
      }
    else
      for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
        for (let j = 0, x = ia, y = ib, z = io; j < n0; j++, x += a0, y += b0, z += o0) o[z] = a[x] * b[y];
  },
  div(n1, n0, o, io, o1, o0, a, ia, a1, a0, b, ib, b1, b0) {
    for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
      for (let j = 0, x = ia, y = ib, z = io; j < n0; j++, x += a0, y += b0, z += o0) o[z] = a[x] / b[y];
  },
};

/** Where `binary` puts its result: the broadcast shape, each operand's strides, the layout. */
export interface BinaryLayout {
  readonly shape: number[];
  /** a's and b's strides over `shape` (0 where broadcast, and along compacted axes). */
  readonly sa: number[];
  readonly sb: number[];
  readonly kind: Kind;
  /** Physical order (outermost first) and the result's strides (0 along compacted axes). */
  readonly order: number[];
  readonly strides: number[];
  /** The stored part: `shape` with compacted axes 1, and its strides. */
  readonly workShape: number[];
  readonly workStrides: number[];
}

/** The layout of a op b (see `binary`), computed without touching any data. */
export function binaryLayout(a: GTensor, b: GTensor, op: BinOp, opts: ElementwiseOptions = {}): BinaryLayout {
  const shape = broadcastShapes(a.shape, b.shape, op);
  const sa0 = broadcastStrides(a, shape);
  const sb0 = broadcastStrides(b, shape);
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && sa0[i] === 0 && sb0[i] === 0);
  const order = opts.compact ? tangentLayout(shape, sa0, sb0) : layoutOf(shape, [sa0, sb0]);
  const workShape = shape.map((d, i) => (flat[i] ? 1 : d));
  const workStrides = stridesInOrder(workShape, order);
  return {
    shape,
    sa: sa0.map((s, i) => (flat[i] ? 0 : s)),
    sb: sb0.map((s, i) => (flat[i] ? 0 : s)),
    kind: outKind(a.kind, b.kind, op),
    order,
    strides: workStrides.map((s, i) => (flat[i] ? 0 : s)),
    workShape,
    workStrides,
  };
}

/** a op b with broadcasting. */
export function binary(a: GTensor, b: GTensor, op: BinOp, opts: ElementwiseOptions = {}): GTensor {
  const L = binaryLayout(a, b, op, opts);
  const n = sizeOf(L.workShape);
  const re = allocData(n, false);
  const im = L.kind === 'complex' ? allocData(n, false) : null;
  binaryInto(L, a, b, op, re, im, opts.alpha ?? 1);
  return new GTensor(L.shape, L.strides, 0, re, im, L.kind);
}

/** Compute a op b into fresh storage `or`/`oi` laid out as `L` says (from binaryLayout). */
export function binaryInto(
  L: BinaryLayout,
  a: GTensor,
  b: GTensor,
  op: BinOp,
  or: Float64Array,
  oi: Float64Array | null,
  alpha = 1,
): void {
  const { workShape: ws, sa, sb, order } = L;
  const os = L.workStrides;
  const ar = a.re;
  const br = b.re;
  const rec = recorder();
  if (rec) {
    const complex = L.kind === 'complex';
    const ins = [...parts(a, sa, complex), ...parts(b, sb, complex)];
    const outs: StridedArray[] = [{ arr: or, strides: os, offset: 0 }];
    if (complex) outs.push({ arr: oi!, strides: os, offset: 0 });
    const aIm = complex && a.kind === 'complex' && !!a.im;
    const bIm = complex && b.kind === 'complex' && !!b.im;
    rec.ewise(ws, ins, outs, binaryExprs(op, alpha, complex, aIm, bIm));
  }
  if (L.kind !== 'complex') {
    const kernel = REAL_KERNELS[op];
    forBlocks(ws, [sa, sb, os], [a.offset, b.offset, 0], order, (n1, n0, offs, i1, i0) =>
      kernel(n1, n0, or, offs[2], i1[2], i0[2], ar, offs[0], i1[0], i0[0], br, offs[1], i1[1], i0[1], alpha),
    );
    return;
  }
  const ai = a.im;
  const bi = b.im;
  const oim = oi!;
  forRuns(ws, [sa, sb, os], [a.offset, b.offset, 0], order, (n, [ia, ib, io], [da, db, dd]) => {
    for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) {
      const xr = ar[ia];
      const xi = ai ? ai[ia] : 0;
      const yr = br[ib];
      const yi = bi ? bi[ib] : 0;
      switch (op) {
        case 'add':
          or[io] = xr + alpha * yr;
          oim[io] = xi + alpha * yi;
          break;
        case 'sub':
          or[io] = xr - alpha * yr;
          oim[io] = xi - alpha * yi;
          break;
        case 'mul':
          or[io] = xr * yr - xi * yi;
          oim[io] = xr * yi + xi * yr;
          break;
        case 'div': {
          const d = yr * yr + yi * yi;
          or[io] = (xr * yr + xi * yi) / d;
          oim[io] = (xi * yr - xr * yi) / d;
          break;
        }
      }
    }
  });
}

/**
 * A hand-specialised loop for a hot elementwise function: o[io + j·dd] = f(x[ix + j·dx]), j < n.
 * A closure `f` called per element is one megamorphic call site shared by every function; a
 * kernel of its own with the call inlined runs several times faster (tanh: 0.15 vs 0.8 ms / 38K).
 */
export type MapRun = (
  n: number,
  o: Float64Array,
  io: number,
  dd: number,
  x: Float64Array,
  ix: number,
  dx: number,
) => void;
/** The same for f(x, y). */
export type Map2Run = (
  n: number,
  o: Float64Array,
  io: number,
  dd: number,
  x: Float64Array,
  ix: number,
  dx: number,
  y: Float64Array,
  iy: number,
  dy: number,
) => void;

/**
 * A whole block (n1 rows of n0, strides per row and within) of a Map2Run, where a faster kernel can take
 * it; false leaves it to the row loop.
 */
export type Map2Block = (...block: BlockOperands) => boolean;

/** f applied to every element of a real tensor (through `run` when given). */
export function map(
  x: GTensor,
  f: (v: number) => number,
  opts: ElementwiseOptions = {},
  kind: Kind = 'float',
  run?: MapRun,
): GTensor {
  const shape = x.shape;
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && x.strides[i] === 0);
  const order = physicalOrder(shape, x.strides);
  const { out, work } = allocOut([...shape], order, kind, flat);
  const xs = x.strides.map((s, i) => (flat[i] ? 0 : s));
  const xr = x.re;
  const or = work.re;
  recordMap([x], [xs], work, opts.lower, 1);
  if (run)
    forBlocks(work.shape, [xs, work.strides], [x.offset, 0], order, (n1, n0, offs, i1, i0) => {
      for (let u = 0, ix = offs[0], io = offs[1]; u < n1; u++, ix += i1[0], io += i1[1])
        run(n0, or, io, i0[1], xr, ix, i0[0]);
    });
  else
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
  run?: Map2Run,
  block?: Map2Block,
): GTensor {
  const shape = broadcastShapes(a.shape, b.shape);
  let sa = broadcastStrides(a, shape);
  let sb = broadcastStrides(b, shape);
  const flat = shape.map((d, i) => !!opts.compact && d > 1 && sa[i] === 0 && sb[i] === 0);
  const order =
    opts.order && opts.order.length === shape.length ? [...opts.order] : layoutOf(shape, [sa, sb]);
  const { out, work } = allocOut(shape, order, 'float', flat);
  sa = sa.map((s, i) => (flat[i] ? 0 : s));
  sb = sb.map((s, i) => (flat[i] ? 0 : s));
  const ar = a.re;
  const br = b.re;
  const or = work.re;
  recordMap([a, b], [sa, sb], work, opts.lower, 1);
  if (run)
    forBlocks(work.shape, [sa, sb, work.strides], [a.offset, b.offset, 0], order, (n1, n0, offs, i1, i0) => {
      if (block?.(n1, n0, or, offs[2], i1[2], i0[2], ar, offs[0], i1[0], i0[0], br, offs[1], i1[1], i0[1]))
        return;
      for (
        let u = 0, ia = offs[0], ib = offs[1], io = offs[2];
        u < n1;
        u++, ia += i1[0], ib += i1[1], io += i1[2]
      )
        run(n0, or, io, i0[2], ar, ia, i0[0], br, ib, i0[1]);
    });
  else
    forRuns(
      work.shape,
      [sa, sb, work.strides],
      [a.offset, b.offset, 0],
      order,
      (n, [ia, ib, io], [da, db, dd]) => {
        for (let j = 0; j < n; j++, ia += da, ib += db, io += dd) or[io] = f(ar[ia], br[ib]);
      },
    );
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
  recordMap([x], [xs], work, opts.lower, 2, true);
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

/**
 * Report a map's computation to the recorder: `outs` expressions (opts.lower) over the inputs' real
 * parts (and, for mapComplex, x's imaginary part as in1).
 */
function recordMap(
  xs: readonly GTensor[],
  strides: readonly (readonly number[])[],
  work: GTensor,
  lower: Expr | readonly Expr[] | undefined,
  outs: number,
  complexIn = false,
): void {
  const rec = recorder();
  if (!rec) return;
  const exprs = lower === undefined ? [] : Array.isArray(lower) ? [...lower] : [lower as Expr];
  if (exprs.length !== outs) {
    rec.unlowered('an elementwise function with no lowering');
    return;
  }
  const ins: StridedArray[] = xs.map((x, i) => ({ arr: x.re, strides: strides[i], offset: x.offset }));
  const x0 = xs[0];
  if (complexIn) ins.push(x0.im ? { arr: x0.im, strides: strides[0], offset: x0.offset } : ins[0]);
  const out: StridedArray[] = [{ arr: work.re, strides: work.strides, offset: 0 }];
  if (outs === 2) out.push({ arr: work.im!, strides: work.strides, offset: 0 });
  // a real x read as complex: its imaginary part is 0, not its real part again
  const fixed = complexIn && !x0.im ? exprs.map((e) => zeroIn(e, 1)) : exprs;
  rec.ewise(work.shape, ins, out, fixed);
}

/** `e` with input i read as 0. */
function zeroIn(e: Expr, i: number): Expr {
  switch (e.k) {
    case 'in':
      return e.i === i ? E.c(0) : e;
    case 'const':
      return e;
    case 'un':
      return E.un(e.f, zeroIn(e.x, i));
    case 'bin':
      return E.bin(e.f, zeroIn(e.x, i), zeroIn(e.y, i));
    case 'select':
      return E.select(zeroIn(e.c, i), zeroIn(e.t, i), zeroIn(e.e, i));
  }
}

/** s · x for a real scalar s (complex x stays complex). */
export function scale(x: GTensor, s: number, opts: ElementwiseOptions = {}): GTensor {
  // the expressions only when a recorder will read them (scale runs in every JVP)
  const times = (i: number) => E.mul(E.c(s), E.in(i));
  const recording = recorder() !== null;
  if (x.kind === 'complex') {
    const lower = recording ? [times(0), times(1)] : undefined;
    return mapComplex(x, (r, i, o) => ((o[0] = s * r), (o[1] = s * i)), { ...opts, lower });
  }
  return map(x, (v) => s * v, recording ? { ...opts, lower: times(0) } : opts);
}
