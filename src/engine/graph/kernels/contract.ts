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
import type { Gemm } from '../../kernels/gemm';
import { forRuns, physicalOrder, stridesInOrder } from '../strided';
import { GTensor, sizeOf } from '../tensor';
import { addInto, storageSpan, zeroInto } from './layout';

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

/** One operand seen per label: sizes, strides (0: broadcast), storage. */
interface Side {
  re: Float64Array;
  im: Float64Array | null;
  negIm: Float64Array | null;
  /** offset into re/im, and into negIm (which may be a shifted copy). */
  off: number;
  negOff: number;
  stride: Map<number, number>;
  numel: number;
  /** The operand's root is a declared constant: packed copies may be cached. */
  constant?: boolean;
}

/** Roots whose values never change (model parameters): their packed layouts are cached. */
const constants = new WeakSet<GTensor>();
const packCache = new WeakMap<Float64Array, Map<string, { re: Float64Array; im: Float64Array | null }>>();

/**
 * Declare that `t`'s root will not be written again (a model parameter), so products may cache
 * re-laid-out copies of it across calls. Undo with `unmarkConstant` before any in-place write.
 */
export function markConstant(t: GTensor): void {
  constants.add(t.root);
}

export function unmarkConstant(t: GTensor): void {
  constants.delete(t.root);
  packCache.delete(t.root.re);
}

function sideOf(t: GTensor, labels: readonly number[], negIm: Float64Array | null = null): Side {
  const stride = new Map<number, number>();
  labels.forEach((l, i) => {
    if (t.shape[i] > 1 && t.strides[i] !== 0) stride.set(l, t.strides[i]);
  });
  return {
    re: t.re,
    im: t.kind === 'complex' ? t.im : null,
    negIm,
    off: t.offset,
    negOff: t.offset,
    stride,
    numel: t.numel,
    constant: constants.has(t.root),
  };
}

/** Labels in the given order merge into one axis of uniform stride (outer = inner·size). */
function merges(s: Side, labels: readonly number[], size: Map<number, number>): boolean {
  for (let i = 0; i + 1 < labels.length; i++)
    if (s.stride.get(labels[i]) !== s.stride.get(labels[i + 1])! * size.get(labels[i + 1])!) return false;
  return true;
}

function byStrideDesc(s: Side, labels: readonly number[]): number[] {
  return [...labels].sort((x, y) => s.stride.get(y)! - s.stride.get(x)!);
}

/** Split labels (ordered by stride) into an outer loop part and the longest inner part that merges. */
function split(
  s: Side,
  labels: readonly number[],
  size: Map<number, number>,
): { outer: number[]; inner: number[] } {
  const ord = byStrideDesc(s, labels);
  if (ord.length === 0) return { outer: [], inner: [] };
  let k = ord.length - 1;
  while (k > 0 && s.stride.get(ord[k - 1]) === s.stride.get(ord[k])! * size.get(ord[k])!) k--;
  return { outer: ord.slice(0, k), inner: ord.slice(k) };
}

interface Plan {
  /** X provides rows, Y cols (orientation 1: X=a; 2: X=b). */
  swap: boolean;
  packX: boolean;
  packY: boolean;
  kOrder: number[];
  rowsOuter: number[];
  rowsInner: number[];
  colsOuter: number[];
  colsInner: number[];
  cost: number;
}

function planFor(
  X: Side,
  Y: Side,
  rows: number[],
  cols: number[],
  K: number[],
  batch: number[],
  size: Map<number, number>,
  packX: boolean,
  packY: boolean,
): Plan | null {
  let kOrder: number[];
  if (!packX) {
    kOrder = byStrideDesc(X, K);
    if (!merges(X, kOrder, size)) return null;
    if (kOrder.length && X.stride.get(kOrder[kOrder.length - 1]) !== 1) return null;
    if (!packY && !merges(Y, kOrder, size)) return null;
  } else {
    kOrder = packY ? K : byStrideDesc(Y, K);
    if (!packY && !merges(Y, kOrder, size)) return null;
  }
  const r = packX ? { outer: [], inner: byStrideDesc(X, rows) } : split(X, rows, size);
  const c = packY ? { outer: [], inner: byStrideDesc(Y, cols) } : split(Y, cols, size);
  if (!packY && c.inner.length && Y.stride.get(c.inner[c.inner.length - 1]) !== 1) return null;
  const prod = (ls: number[]) => ls.reduce((p, l) => p * size.get(l)!, 1);
  const loops = prod(batch) * prod(r.outer) * prod(c.outer);
  const M = prod(r.inner);
  const N = prod(c.inner);
  const Kn = prod(K);
  const px = X.im ? 2 : 1;
  const py = Y.im ? 2 : 1;
  const gemms = px * py;
  // Estimated ns (measured on the wasm GEMM): packing, and per call the kernel's copies of A, B, C,
  // its flops (slower for narrow products, which run its edge kernels) and a fixed overhead.
  const flopNs = M < 4 || N < 4 ? 0.35 : 0.09;
  const perCall = 0.7 * (M * Kn + Kn * N + M * N) + flopNs * 2 * M * N * Kn + 300;
  const cost = 1.5 * ((packX ? X.numel * px : 0) + (packY ? Y.numel * py : 0)) + loops * gemms * perCall;
  return {
    swap: false,
    packX,
    packY,
    kOrder,
    rowsOuter: r.outer,
    rowsInner: r.inner,
    colsOuter: c.outer,
    colsInner: c.inner,
    cost,
  };
}

/** Copy a side into a contiguous layout with the given label order (outermost first). */
function pack(s: Side, order: readonly number[], size: Map<number, number>): Side {
  const shape = order.map((l) => size.get(l)!);
  const strides = order.map((l) => s.stride.get(l) ?? 0);
  const n = sizeOf(shape);
  const cs = stridesInOrder(
    shape,
    shape.map((_, i) => i),
  );
  const stride = new Map<number, number>();
  order.forEach((l, i) => {
    if (shape[i] > 1) stride.set(l, cs[i]);
  });
  const key = s.constant ? `${s.off}|${shape}|${strides}|${s.im ? 'c' : 'r'}` : '';
  const hit = s.constant ? packCache.get(s.re)?.get(key) : undefined;
  if (hit) return { re: hit.re, im: hit.im, negIm: null, off: 0, negOff: 0, stride, numel: n };
  const re = new Float64Array(n);
  const im = s.im ? new Float64Array(n) : null;
  const parts: [Float64Array, Float64Array][] = [[re, s.re]];
  if (im) parts.push([im, s.im!]);
  // Loop with the destination's innermost axis innermost (contiguous writes) and the others in the
  // source's order, so each block of the source is read while it is in cache.
  const last = shape.length - 1;
  const ord = [
    ...shape
      .map((_, i) => i)
      .slice(0, last)
      .sort((a, b) => strides[b] - strides[a] || a - b),
    last,
  ];
  for (const [d, src] of parts)
    forRuns(shape, [cs, strides], [0, s.off], ord, (len, [o, i], [io, is]) => {
      for (let j = 0; j < len; j++, o += io, i += is) d[o] = src[i];
    });
  if (s.constant) {
    let m = packCache.get(s.re);
    if (!m) packCache.set(s.re, (m = new Map()));
    if (m.size >= 16) m.clear();
    m.set(key, { re, im });
  }
  return { re, im, negIm: null, off: 0, negOff: 0, stride, numel: n };
}

/** −im over the storage span a side touches (same geometry, shifted offset). */
function negate(s: Side, labelsSizes: [number, number][]): void {
  if (s.negIm || !s.im) return;
  const shape = labelsSizes.map(([, n]) => n);
  const strides = labelsSizes.map(([l]) => s.stride.get(l) ?? 0);
  const g = new GTensor(shape, strides, s.off, s.re, null, 'float');
  const [lo, hi] = sizeOf(shape) ? storageSpan(g) : [s.off, s.off];
  const neg = new Float64Array(hi - lo + 1);
  const im = s.im;
  for (let i = lo; i <= hi; i++) neg[i - lo] = -im[i];
  s.negIm = neg;
  s.negOff = s.off - lo;
}

/**
 * The product. Sizes of shared labels must agree (or be 1: broadcast). Returns the output with
 * axes in `outLabels` order (or `opts.out` after writing into it).
 */
export function contract(
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

  // Choose orientation and packing.
  let best: Plan | null = null;
  for (const swap of [false, true])
    for (const px of [false, true])
      for (const py of [false, true]) {
        const X = swap ? B : A;
        const Y = swap ? A : B;
        const p = planFor(X, Y, swap ? cols : rows, swap ? rows : cols, K, batch, size, px, py);
        if (p && (!best || p.cost < best.cost)) best = { ...p, swap };
      }
  const plan = best!;
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
    const re = new Float64Array(n);
    const im = complex ? new Float64Array(n) : null;
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
  for (let it = 0; it < total; it++) {
    const base = { M, N, K: Kn, lda, ldb, ldc };
    const ax = X.off + ox;
    const ay = Y.off + oy;
    const cOff = T.off + oc;
    // Real part: Xr·Yr − Xi·Yi.
    let accI = acc0;
    gemm({ ...base, A: X.re, aOff: ax, B: Y.re, bOff: ay, C: T.re, cOff, accumulate: acc0 });
    if (X.im && Y.im) {
      if (Y.negIm)
        gemm({
          ...base,
          A: X.im,
          aOff: ax,
          B: Y.negIm,
          bOff: Y.negOff + oy,
          C: T.re,
          cOff,
          accumulate: true,
        });
      else
        gemm({
          ...base,
          A: X.negIm!,
          aOff: X.negOff + ox,
          B: Y.im,
          bOff: ay,
          C: T.re,
          cOff,
          accumulate: true,
        });
    }
    if (T.im) {
      if (Y.im) {
        gemm({ ...base, A: X.re, aOff: ax, B: Y.im, bOff: ay, C: T.im, cOff, accumulate: accI });
        accI = true;
      }
      if (X.im) {
        gemm({ ...base, A: X.im, aOff: ax, B: Y.re, bOff: ay, C: T.im, cOff, accumulate: accI });
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
        new Float64Array(n),
        complex ? new Float64Array(n) : null,
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
      new Float64Array(n),
      complex ? new Float64Array(n) : null,
      kind,
    );
    addInto(full, expanded, 1, false);
    return full;
  }
}

/** ns per multiply-add of the direct loops: real·real, one complex side, both complex. */
const DIRECT_NS = [0.8, 1.4, 2.4];

/**
 * target[...] += Σ a·b by loops over every label, the innermost over the largest operand's
 * unit stride; for the small per-call products where a GEMM would mostly copy.
 */
function directKernel(
  A: Side,
  B: Side,
  T: { re: Float64Array; im: Float64Array | null; off: number; stride: Map<number, number> },
  labels: number[],
  size: Map<number, number>,
): void {
  const shape = labels.map((l) => size.get(l)!);
  const sa = labels.map((l) => A.stride.get(l) ?? 0);
  const sb = labels.map((l) => B.stride.get(l) ?? 0);
  const sc = labels.map((l) => T.stride.get(l) ?? 0);
  // loop order: by the larger operand's strides, labels it lacks outermost
  const big = A.numel >= B.numel ? sa : sb;
  const order = labels
    .map((_, i) => i)
    .sort((i, j) => (big[j] === 0 ? Infinity : big[j]) - (big[i] === 0 ? Infinity : big[i]) || i - j);
  // merge adjacent axes (in loop order) along which all three step contiguously
  const dims: number[] = [];
  const st: [number[], number[], number[]] = [[], [], []];
  for (const ax of order) {
    const k = dims.length - 1;
    if (
      k >= 0 &&
      st[0][k] === sa[ax] * shape[ax] &&
      st[1][k] === sb[ax] * shape[ax] &&
      st[2][k] === sc[ax] * shape[ax]
    ) {
      dims[k] *= shape[ax];
      st[0][k] = sa[ax];
      st[1][k] = sb[ax];
      st[2][k] = sc[ax];
    } else {
      dims.push(shape[ax]);
      st[0].push(sa[ax]);
      st[1].push(sb[ax]);
      st[2].push(sc[ax]);
    }
  }
  while (dims.length < 2) {
    dims.unshift(1);
    st.forEach((x) => x.unshift(0));
  }
  // the two innermost axes run as a block inside the kernel, the rest by an odometer; the
  // innermost of the two is one along which an operand is constant (hoisted) or the longer
  const r = dims.length;
  const still = (k: number) => st[0][k] === 0 || st[1][k] === 0 || st[2][k] === 0;
  const [p, q] = [r - 2, r - 1];
  if ((still(p) && !still(q)) || (still(p) === still(q) && dims[p] > dims[q])) {
    [dims[p], dims[q]] = [dims[q], dims[p]];
    for (const x of st) [x[p], x[q]] = [x[q], x[p]];
  }
  const n1 = dims[r - 2];
  const n0 = dims[r - 1];
  const [a1, b1, c1] = st.map((x) => x[r - 2]);
  const [a0, b0, c0] = st.map((x) => x[r - 1]);
  const outer = dims.slice(0, r - 2);
  const idx = new Array<number>(outer.length).fill(0);
  let oa = A.off;
  let ob = B.off;
  let oc = T.off;
  const total = outer.reduce((p, d) => p * d, 1);
  const ar = A.re;
  const ai = A.im;
  const br = B.re;
  const bi = B.im;
  const cr = T.re;
  const ci = T.im;
  for (let it = 0; it < total; it++) {
    if (!ai && !bi) block1(ar, br, cr, oa, ob, oc, n1, n0, a1, b1, c1, a0, b0, c0);
    else blockC(ar, ai, br, bi, cr, ci, oa, ob, oc, n1, n0, a1, b1, c1, a0, b0, c0);
    for (let d = outer.length - 1; d >= 0; d--) {
      idx[d]++;
      oa += st[0][d];
      ob += st[1][d];
      oc += st[2][d];
      if (idx[d] < outer[d]) break;
      oa -= st[0][d] * outer[d];
      ob -= st[1][d] * outer[d];
      oc -= st[2][d] * outer[d];
      idx[d] = 0;
    }
  }
}

function block1(
  ar: Float64Array,
  br: Float64Array,
  cr: Float64Array,
  oa: number,
  ob: number,
  oc: number,
  n1: number,
  n0: number,
  a1: number,
  b1: number,
  c1: number,
  a0: number,
  b0: number,
  c0: number,
): void {
  for (let u = 0; u < n1; u++, oa += a1, ob += b1, oc += c1) {
    let ia = oa;
    let ib = ob;
    if (c0 === 0) {
      let s = 0;
      for (let v = 0; v < n0; v++, ia += a0, ib += b0) s += ar[ia] * br[ib];
      cr[oc] += s;
    } else if (a0 === 0) {
      const x = ar[ia];
      for (let v = 0, ic = oc; v < n0; v++, ib += b0, ic += c0) cr[ic] += x * br[ib];
    } else if (b0 === 0) {
      const y = br[ib];
      for (let v = 0, ic = oc; v < n0; v++, ia += a0, ic += c0) cr[ic] += ar[ia] * y;
    } else for (let v = 0, ic = oc; v < n0; v++, ia += a0, ib += b0, ic += c0) cr[ic] += ar[ia] * br[ib];
  }
}

function blockC(
  ar: Float64Array,
  ai: Float64Array | null,
  br: Float64Array,
  bi: Float64Array | null,
  cr: Float64Array,
  ci: Float64Array | null,
  oa: number,
  ob: number,
  oc: number,
  n1: number,
  n0: number,
  a1: number,
  b1: number,
  c1: number,
  a0: number,
  b0: number,
  c0: number,
): void {
  for (let u = 0; u < n1; u++, oa += a1, ob += b1, oc += c1) {
    let ia = oa;
    let ib = ob;
    if (c0 === 0) {
      let s = 0;
      let t = 0;
      for (let v = 0; v < n0; v++, ia += a0, ib += b0) {
        const xr = ar[ia];
        const xi = ai ? ai[ia] : 0;
        const yr = br[ib];
        const yi = bi ? bi[ib] : 0;
        s += xr * yr - xi * yi;
        t += xr * yi + xi * yr;
      }
      cr[oc] += s;
      if (ci) ci[oc] += t;
    } else if (a0 === 0 && ai && bi && ci) {
      const xr = ar[ia];
      const xi = ai[ia];
      for (let v = 0, ic = oc; v < n0; v++, ib += b0, ic += c0) {
        const yr = br[ib];
        const yi = bi[ib];
        cr[ic] += xr * yr - xi * yi;
        ci[ic] += xr * yi + xi * yr;
      }
    } else if (ai && bi && ci) {
      for (let v = 0, ic = oc; v < n0; v++, ia += a0, ib += b0, ic += c0) {
        const xr = ar[ia];
        const xi = ai[ia];
        const yr = br[ib];
        const yi = bi[ib];
        cr[ic] += xr * yr - xi * yi;
        ci[ic] += xr * yi + xi * yr;
      }
    } else
      for (let v = 0, ic = oc; v < n0; v++, ia += a0, ib += b0, ic += c0) {
        const xr = ar[ia];
        const xi = ai ? ai[ia] : 0;
        const yr = br[ib];
        const yi = bi ? bi[ib] : 0;
        cr[ic] += xr * yr - xi * yi;
        if (ci) ci[ic] += xr * yi + xi * yr;
      }
  }
}

/** The imaginary part of a complex tensor as a real internal view. */
function imagView(t: GTensor): GTensor {
  return new GTensor([...t.shape], [...t.strides], t.offset, t.im!, null, 'float');
}

/** Σ over labels of one side (its other labels kept), as a fresh packed side. */
function reduceSide(s: Side, labels: number[], size: Map<number, number>): Side {
  const keep = [...s.stride.keys()].filter((l) => !labels.includes(l));
  const all = [...keep, ...labels];
  const shape = all.map((l) => size.get(l)!);
  const strides = all.map((l) => s.stride.get(l)!);
  const kShape = keep.map((l) => size.get(l)!);
  const n = sizeOf(kShape);
  const ks = stridesInOrder(
    kShape,
    kShape.map((_, i) => i),
  );
  const os = [...ks, ...labels.map(() => 0)];
  const re = new Float64Array(n);
  const im = s.im ? new Float64Array(n) : null;
  const order = physicalOrder(shape, strides);
  const parts: [Float64Array, Float64Array][] = [[re, s.re]];
  if (im) parts.push([im, s.im!]);
  for (const [d, src] of parts)
    forRuns(shape, [strides, os], [s.off, 0], order, (len, [i, o], [is, io]) => {
      if (io === 0) {
        let acc = 0;
        for (let j = 0; j < len; j++, i += is) acc += src[i];
        d[o] += acc;
      } else for (let j = 0; j < len; j++, i += is, o += io) d[o] += src[i];
    });
  const stride = new Map<number, number>();
  keep.forEach((l, i) => {
    if (kShape[i] > 1) stride.set(l, ks[i]);
  });
  return { re, im, negIm: null, off: 0, negOff: 0, stride, numel: n };
}
