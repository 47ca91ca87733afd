/**
 * The product of two labelled strided tensors, out[outLabels] = Σ a[aLabels] · b[bLabels], as a
 * few large GEMMs: the kernel under linear, matmul, einsum, the convolutions' taps and every DFT
 * along an axis (a basis matrix times the data).
 *
 * Labels are classified as in einsum: batch (in a, b and out), rows (a and out), cols (b and out),
 * contracted (a and b only). One GEMM computes C[rows, cols] = A[rows, K]·B[K, cols] for one index
 * of the loop labels: the batch labels and the outer parts of rows and cols that do not merge into
 * one uniform stride. Operands are used in place when their strides allow — A's contracted labels
 * merged with stride 1 and its rows merged with a uniform stride, B's contracted labels merged with
 * a uniform stride and its cols innermost at stride 1 — and are otherwise packed (copied) once;
 * the orientation (C or Cᵀ = Bᵀ·Aᵀ) and what to pack are chosen by an estimate of the data moved.
 * The output is laid out [loops, rows, cols] (or [loops, cols, rows]), which for a basis matrix
 * applied along one axis keeps the input's physical axis order.
 *
 * Structure is exploited on the way: a label along which an operand is broadcast (stride 0) is
 * treated as absent from it, so a contracted label that one side broadcasts is summed out of the
 * other side first (a constant signal through a basis is the basis' row sums times the constant),
 * and an output label that every operand broadcasts is computed once and, with `compact`, kept at
 * stride 0 in the result (p broadcast over time stays one row through linear, conv and einsum).
 *
 * Complex operands (separate re/im arrays) take four real GEMMs, two with one real operand;
 * `realOut` computes only the real part (the C2R inverse DFT).
 */
import { ShapeError } from '../../errors';
import { cpuGemm } from '../../kernels';
import type { Gemm, GemmArgs } from '../../kernels/gemm';
import { physicalOrder, stridesInOrder } from '../strided';
import { GTensor, allocData, sizeOf } from '../tensor';
import { DIRECT_NS, directKernel } from './contract-direct';
import {
  type Side,
  byStrideDesc,
  imagView,
  merges,
  negate,
  pack,
  reduceSide,
  sideOf,
} from './contract-operands';
import { type Plan, planFor } from './contract-plan';
import { asBroadcast, catParts } from '../lazy-join';
import { addInto, zeroInto, zerosInOrder } from './layout';
import { recorder, type Recorder } from '../lower/record';
import { recordContract } from '../lower/record-contract';

export { markConstant, unmarkConstant } from './contract-operands';

export interface Operand {
  readonly t: GTensor;
  /** One label per axis of t, distinct. */
  readonly labels: readonly number[];
  /** Optional −im of `t` with the same geometry (constant bases cache it). */
  readonly negIm?: Float64Array | null;
}

export interface ContractOptions {
  /** Keep output labels that every operand broadcasts at stride 0 (tangent data only). */
  compact?: boolean;
  /** Only the real part of the product (output real). */
  realOut?: boolean;
  /** Write into this tensor (labels = outLabels, shape = the product's) instead of a fresh one. */
  out?: GTensor;
  /** With `out`: add into it. */
  accumulate?: boolean;
  /** Multiply the product by this. */
  scale?: number;
  gemm?: Gemm;
  /** Force the GEMM or the direct-loop path (tests); default: the cheaper by estimate. */
  path?: 'gemm' | 'direct';
}

/**
 * The product. Sizes of shared labels must agree (or be 1: broadcast). Returns the output with
 * axes in `outLabels` order (or `opts.out` after writing into it).
 *
 * A pending join (lazy-join.ts) is not made: a repeated tensor enters as the stride-0 view it is,
 * and a cat is split into its parts, the products of the parts summed (the joined label contracted)
 * or written side by side (the joined label kept).
 */
export function contract(
  a: Operand,
  b: Operand,
  outLabels: readonly number[],
  opts: ContractOptions = {},
): GTensor {
  const rec = recorder();
  if (rec) return recorded(rec, a, b, outLabels, opts);
  const ra = resolved(a);
  const rb = resolved(b);
  if (!opts.compact) {
    const split = splitJoin(ra, rb, outLabels, opts, false) ?? splitJoin(rb, ra, outLabels, opts, true);
    if (split) return split;
  }
  return contractStrided(ra, rb, outLabels, opts);
}

/** The product computed as usual (quietly), reported as one product of the operands as they are. */
function recorded(
  rec: Recorder,
  a: Operand,
  b: Operand,
  outLabels: readonly number[],
  opts: ContractOptions,
): GTensor {
  // A pending repeat is the stride-0 view it stands for; anything else lazy is computed now, so
  // that its values come from records too.
  const ra = resolved(a);
  const rb = resolved(b);
  for (const t of [ra.t, rb.t, opts.accumulate ? opts.out : undefined])
    if (t) for (const arr of [t.re, t.kind === 'complex' ? t.im : null]) if (arr) rec.read(arr);
  const computed = rec.quiet(() => contract(ra, rb, outLabels, opts));
  const out = opts.out ? computed : canonical(rec, computed);
  recordContract(rec, ra, rb, outLabels, out, opts);
  return out;
}

/**
 * The product in row-major order over its labels (stride-0 axes kept): the orientation the CPU
 * picks depends on the sizes, and a recording must lay its results out the same way whatever the
 * batch (lowered.ts compares recordings at several).
 */
function canonical(rec: Recorder, t: GTensor): GTensor {
  const flat = t.shape.map((d, i) => d > 1 && t.strides[i] === 0);
  const work = t.shape.map((d, i) => (flat[i] ? 1 : d));
  const strides = stridesInOrder(
    work,
    work.map((_, i) => i),
  ).map((st, i) => (flat[i] ? 0 : st));
  if (t.offset === 0 && strides.every((st, i) => t.shape[i] === 1 || st === t.strides[i])) return t;
  const n = sizeOf(work);
  const re = allocData(n, false);
  const im = t.kind === 'complex' ? allocData(n, false) : null;
  // copied over the stored part alone (the stride-0 axes once)
  const src = new GTensor(work, [...t.strides], t.offset, t.re, t.kind === 'complex' ? t.im : null, t.kind);
  const dst = new GTensor(
    work,
    stridesInOrder(
      work,
      work.map((_, i) => i),
    ),
    0,
    re,
    im,
    t.kind,
  );
  rec.quiet(() => addInto(dst, src, 1, false));
  return new GTensor([...t.shape], strides, 0, re, im, t.kind);
}

function resolved(o: Operand): Operand {
  const v = asBroadcast(o.t);
  return v ? { ...o, t: v } : o;
}

/** `t` cut to [at, at+n) along `ax`. */
function cut(t: GTensor, ax: number, at: number, n: number): GTensor {
  const shape = [...t.shape];
  shape[ax] = n;
  return new GTensor(shape, [...t.strides], t.offset + at * t.strides[ax], t.re, t.im, t.kind);
}

/**
 * x ⋅ y with x a pending cat: the products of its parts, or null when x is not one (or its parts
 * differ in kind, so that one output kind would not fit them all).
 */
function splitJoin(
  x: Operand,
  y: Operand,
  outLabels: readonly number[],
  opts: ContractOptions,
  swapped: boolean,
): GTensor | null {
  const j = catParts(x.t);
  if (!j || j.parts.some((p) => p.kind !== j.parts[0].kind)) return null;
  const label = x.labels[j.axis];
  const yAx = y.labels.indexOf(label);
  const ySliced = yAx >= 0 && y.t.shape[yAx] > 1;
  const product = (part: GTensor, at: number, o: ContractOptions) => {
    const xp: Operand = { ...x, t: part };
    const yp: Operand = ySliced ? { ...y, t: cut(y.t, yAx, at, part.shape[j.axis]) } : y;
    return swapped ? contract(yp, xp, outLabels, o) : contract(xp, yp, outLabels, o);
  };
  const outAx = outLabels.indexOf(label);
  let at = 0;
  if (outAx < 0) {
    // contracted: the sum of the parts' products
    let res: GTensor | null = null;
    for (const part of j.parts) {
      const n = part.shape[j.axis];
      if (n > 0) res = product(part, at, res ? { ...opts, out: res, accumulate: true } : opts);
      at += n;
    }
    return res;
  }
  // kept: the parts' products side by side along the output's axis
  let out = opts.out;
  if (!out) {
    const size = (l: number) => {
      const i = x.labels.indexOf(l);
      if (i >= 0 && x.t.shape[i] > 1) return x.t.shape[i];
      const k = y.labels.indexOf(l);
      return k >= 0 ? y.t.shape[k] : 1;
    };
    const shape = outLabels.map(size);
    // x's physical axis order first (the order its parts' products keep), y's labels inside it
    const key = (l: number) => {
      const i = x.labels.indexOf(l);
      if (i >= 0 && x.t.strides[i] !== 0) return (x.t.root.numel + 1) * Math.abs(x.t.strides[i]);
      const k = y.labels.indexOf(l);
      return k >= 0 ? Math.abs(y.t.strides[k]) : 0;
    };
    const complex = !opts.realOut && (x.t.kind === 'complex' || y.t.kind === 'complex');
    out = zerosInOrder(shape, physicalOrder(shape, outLabels.map(key)), complex ? 'complex' : 'float');
  }
  for (const part of j.parts) {
    const n = part.shape[j.axis];
    if (n > 0)
      product(part, at, {
        ...opts,
        out: cut(out, outAx, at, n),
        accumulate: opts.out ? opts.accumulate : false,
      });
    at += n;
  }
  return out;
}

function contractStrided(
  a: Operand,
  b: Operand,
  outLabels: readonly number[],
  opts: ContractOptions = {},
): GTensor {
  const gemm = opts.gemm ?? cpuGemm();
  const size = new Map<number, number>();
  for (const op of [a, b])
    op.labels.forEach((l, i) => {
      const n = op.t.shape[i];
      const prev = size.get(l);
      if (prev === undefined || prev === 1) size.set(l, n);
      else if (n !== 1 && n !== prev)
        throw new ShapeError(`contraction: sizes ${prev} and ${n} of one index do not match`);
    });
  for (const l of outLabels) if (!size.has(l)) throw new Error('internal: an output label no operand has');
  const outShape = outLabels.map((l) => size.get(l)!);
  const complex = !opts.realOut && (a.t.kind === 'complex' || b.t.kind === 'complex');
  const kind = complex ? 'complex' : 'float';
  const scale = opts.scale ?? 1;
  const out = opts.out;

  const allLabels = [...new Set([...a.labels, ...b.labels])];
  const zero = allLabels.some((l) => size.get(l) === 0);
  let A = sideOf(a.t, a.labels, a.negIm ?? null);
  let B = sideOf(b.t, b.labels, b.negIm ?? null);
  const inOut = new Set(outLabels);
  let factor = scale;
  // Pre-reduce labels only one side has (after broadcast) and the output lacks.
  const onlyA: number[] = [];
  const onlyB: number[] = [];
  const flat: number[] = [];
  for (const l of allLabels) {
    const ia = A.stride.has(l);
    const ib = B.stride.has(l);
    if (!ia && !ib) {
      if (inOut.has(l)) {
        if (size.get(l)! > 1) flat.push(l);
      } else factor *= size.get(l)!;
    } else if (ia && !ib && !inOut.has(l)) onlyA.push(l);
    else if (!ia && ib && !inOut.has(l)) onlyB.push(l);
  }
  if (zero) return finish(null);
  if (onlyA.length) A = reduceSide(A, onlyA, size);
  if (onlyB.length) B = reduceSide(B, onlyB, size);

  const batch: number[] = [];
  const rows: number[] = [];
  const cols: number[] = [];
  const K: number[] = [];
  for (const l of allLabels) {
    const ia = A.stride.has(l);
    const ib = B.stride.has(l);
    if (ia && ib) (inOut.has(l) ? batch : K).push(l);
    else if (ia) rows.push(l);
    else if (ib) cols.push(l);
  }

  // Choose orientation and packing (the same products recur every run: their plans are kept).
  const plan = choosePlan(a, b, A, B, outLabels, rows, cols, K, batch, size);
  let X = plan.swap ? B : A;
  let Y = plan.swap ? A : B;
  const batchOrder = byStrideDesc(X, batch);
  // Small products per call (GEMV-like, many of them): plain loops over the operands in place
  // beat the GEMM's copies (the FNO's spectral mix of one sample reads each weight once).
  const macs = [...batch, ...rows, ...cols, ...K].reduce((p, l) => p * size.get(l)!, 1);
  const useDirect = opts.path
    ? opts.path === 'direct'
    : macs * DIRECT_NS[(A.im ? 1 : 0) + (B.im ? 1 : 0)] < plan.cost;
  if (!useDirect) {
    if (plan.packX) X = pack(X, [...batchOrder, ...plan.rowsOuter, ...plan.rowsInner, ...plan.kOrder], size);
    if (plan.packY) Y = pack(Y, [...batchOrder, ...plan.kOrder, ...plan.colsOuter, ...plan.colsInner], size);
  }

  // The output of the computation: compute labels (flat ones excluded) in physical order.
  const loopLabels = [...batchOrder, ...plan.rowsOuter, ...plan.colsOuter];
  const phys = [...loopLabels, ...plan.rowsInner, ...plan.colsInner];
  const cShape = phys.map((l) => size.get(l)!);
  const cStrides = stridesInOrder(
    cShape,
    cShape.map((_, i) => i),
  );
  const cStride = new Map<number, number>();
  phys.forEach((l, i) => cStride.set(l, cStrides[i]));

  // Write straight into opts.out when its layout suits the GEMMs and nothing is flat.
  let target: { re: Float64Array; im: Float64Array | null; off: number; stride: Map<number, number> };
  let fresh: GTensor | null = null;
  let direct = false;
  if (out && flat.length === 0 && factor === 1) {
    const os = new Map<number, number>();
    outLabels.forEach((l, i) => os.set(l, out.shape[i] > 1 ? out.strides[i] : 0));
    const probe: Side = { re: out.re, im: null, negIm: null, off: 0, negOff: 0, stride: os, numel: 0 };
    const okRows = merges(probe, plan.rowsInner, size);
    const okCols =
      merges(probe, plan.colsInner, size) &&
      (plan.colsInner.length === 0 || os.get(plan.colsInner[plan.colsInner.length - 1]) === 1);
    const outComplex = out.kind === 'complex';
    if (okRows && okCols && (outComplex || !complex)) {
      direct = true;
      target = { re: out.re, im: outComplex ? out.im : null, off: out.offset, stride: os };
    }
  }
  if (!direct) {
    const n = sizeOf(cShape);
    // Every element is written by the GEMMs; the direct loops accumulate.
    const re = allocData(n, useDirect);
    const im = complex ? allocData(n, useDirect) : null;
    target = { re, im, off: 0, stride: cStride };
    fresh = new GTensor(
      outLabels.map((l) => (flat.includes(l) ? 1 : size.get(l)!)),
      outLabels.map((l) => (flat.includes(l) ? 0 : (cStride.get(l) ?? 0))),
      0,
      re,
      im,
      kind,
    );
  }
  const acc0 = direct ? !!opts.accumulate : false;

  if (useDirect) {
    if (direct && !opts.accumulate) zeroInto(out!);
    directKernel(A, B, target!, [...batch, ...rows, ...cols, ...K], size);
    if (direct && out && out.kind === 'complex' && !complex && !opts.accumulate) zeroInto(imagView(out));
    return direct ? out! : finish(fresh);
  }

  // Complex products need −im of one side for the real part.
  const needNeg = X.im !== null && Y.im !== null;
  if (needNeg && !X.negIm && !Y.negIm) {
    const sizesOf = (s: Side) => [...s.stride.keys()].map((l) => [l, size.get(l)!] as [number, number]);
    if (X.numel <= Y.numel) negate(X, sizesOf(X));
    else negate(Y, sizesOf(Y));
  }

  const prod = (ls: number[]) => ls.reduce((p, l) => p * size.get(l)!, 1);
  const M = prod(plan.rowsInner);
  const N = prod(plan.colsInner);
  const Kn = prod(plan.kOrder);
  const lastStride = (s: Map<number, number>, ls: number[], dflt: number) =>
    ls.length ? (s.get(ls[ls.length - 1]) ?? 0) : dflt;
  // lda: X's stride between rows; ldb: Y's stride between K entries; ldc: target's between rows.
  const lda = lastStride(X.stride, plan.rowsInner, Math.max(Kn, 1));
  const ldb = lastStride(Y.stride, plan.kOrder, Math.max(N, 1));
  const ldc = lastStride(target!.stride, plan.rowsInner, Math.max(N, 1));

  const T = target!;
  const loopSizes = loopLabels.map((l) => size.get(l)!);
  const sx = loopLabels.map((l) => X.stride.get(l) ?? 0);
  const sy = loopLabels.map((l) => Y.stride.get(l) ?? 0);
  const sc = loopLabels.map((l) => T.stride.get(l) ?? 0);
  const idx = new Array<number>(loopLabels.length).fill(0);
  let ox = 0;
  let oy = 0;
  let oc = 0;
  const total = prod(loopLabels);
  // One argument object for every call, its operands and offsets set per call.
  const g: GemmArgs = {
    M,
    N,
    K: Kn,
    lda,
    ldb,
    ldc,
    A: X.re,
    aOff: 0,
    B: Y.re,
    bOff: 0,
    C: T.re,
    cOff: 0,
    accumulate: false,
  };
  const call = (
    A: Float64Array,
    aOff: number,
    B: Float64Array,
    bOff: number,
    C: Float64Array,
    acc: boolean,
  ) => {
    g.A = A;
    g.aOff = aOff;
    g.B = B;
    g.bOff = bOff;
    g.C = C;
    g.accumulate = acc;
    gemm(g);
  };
  for (let it = 0; it < total; it++) {
    const ax = X.off + ox;
    const ay = Y.off + oy;
    g.cOff = T.off + oc;
    // Real part: Xr·Yr − Xi·Yi.
    let accI = acc0;
    call(X.re, ax, Y.re, ay, T.re, acc0);
    if (X.im && Y.im) {
      if (Y.negIm) call(X.im, ax, Y.negIm, Y.negOff + oy, T.re, true);
      else call(X.negIm!, X.negOff + ox, Y.im, ay, T.re, true);
    }
    if (T.im) {
      if (Y.im) {
        call(X.re, ax, Y.im, ay, T.im, accI);
        accI = true;
      }
      if (X.im) {
        call(X.im, ax, Y.re, ay, T.im, accI);
        accI = true;
      }
    }
    // odometer
    for (let d = loopLabels.length - 1; d >= 0; d--) {
      idx[d]++;
      ox += sx[d];
      oy += sy[d];
      oc += sc[d];
      if (idx[d] < loopSizes[d]) break;
      ox -= sx[d] * loopSizes[d];
      oy -= sy[d] * loopSizes[d];
      oc -= sc[d] * loopSizes[d];
      idx[d] = 0;
    }
  }
  // A real product written into a complex `out` without accumulation: clear its imaginary part.
  if (direct && out && out.kind === 'complex' && !complex && !opts.accumulate) zeroInto(imagView(out));
  if (direct) return out!;
  return finish(fresh);

  function finish(res: GTensor | null): GTensor {
    if (res === null) {
      const n = sizeOf(outShape);
      res = new GTensor(
        outShape,
        stridesInOrder(
          outShape,
          outShape.map((_, i) => i),
        ),
        0,
        allocData(n),
        complex ? allocData(n) : null,
        kind,
      );
      if (out) {
        if (!opts.accumulate) zeroInto(out);
        return out;
      }
      return res;
    }
    if (factor !== 1) {
      const re = res.re;
      for (let i = 0; i < re.length; i++) re[i] *= factor;
      const im = res.kind === 'complex' ? res.im : null;
      if (im) for (let i = 0; i < im.length; i++) im[i] *= factor;
    }
    const expanded = new GTensor(outShape, res.strides, 0, res.re, res.im, kind);
    if (out) {
      addInto(out, expanded, 1, !!opts.accumulate);
      return out;
    }
    if (flat.length === 0 || opts.compact) return expanded;
    // Materialise broadcast axes of a primal result.
    const n = sizeOf(outShape);
    const order = physicalOrder(
      outShape,
      outLabels.map((l) => (flat.includes(l) ? 0 : cStride.get(l)!)),
    );
    const full = new GTensor(
      outShape,
      stridesInOrder(outShape, order),
      0,
      allocData(n, false),
      complex ? allocData(n, false) : null,
      kind,
    );
    addInto(full, expanded, 1, false);
    return full;
  }
}

/** Plans by the product's geometry; a model's products are the same from one run to the next. */
const plans = new Map<string, Plan>();

function choosePlan(
  a: Operand,
  b: Operand,
  A: Side,
  B: Side,
  outLabels: readonly number[],
  rows: number[],
  cols: number[],
  K: number[],
  batch: number[],
  size: Map<number, number>,
): Plan {
  const side = (o: Operand, s: Side) =>
    `${o.labels}/${o.t.shape}/${o.t.strides}/${s.im ? 1 : 0}${s.constant ? 1 : 0}/${[...s.stride]}`;
  const key = `${side(a, A)}|${side(b, B)}|${outLabels}`;
  const hit = plans.get(key);
  if (hit) return hit;
  let best: Plan | null = null;
  for (const swap of [false, true])
    for (const px of [false, true])
      for (const py of [false, true]) {
        const X = swap ? B : A;
        const Y = swap ? A : B;
        const p = planFor(X, Y, swap ? cols : rows, swap ? rows : cols, K, batch, size, px, py);
        if (p && (!best || p.cost < best.cost)) best = { ...p, swap };
      }
  if (plans.size >= 1024) plans.clear();
  plans.set(key, best!);
  return best!;
}
