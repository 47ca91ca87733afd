/**
 * The operands of a contraction (contract.ts) as the planner sees them: per label a stride (absent:
 * the operand lacks the label or is broadcast along it), the storage, and whether that storage is a
 * model parameter's. Here too the copies a plan may need: an operand packed into a contiguous
 * layout (cached across runs for parameters), −im of a complex side, and a side summed over the
 * labels only it has.
 */
import { forBlocks, forRuns, physicalOrder, stridesInOrder } from '../strided';
import { GTensor, allocData, sizeOf } from '../tensor';
import { wasmKernels } from '../../kernels/wasm-module';
import { storageSpan } from './layout';

/** One operand seen per label: sizes, strides (0: broadcast), storage. */
export interface Side {
  re: Float64Array;
  im: Float64Array | null;
  negIm: Float64Array | null;
  /** offset into re/im, and into negIm (which may be a shifted copy). */
  off: number;
  negOff: number;
  stride: Map<number, number>;
  numel: number;
  /** The operand's storage is a declared constant: packed copies may be cached. */
  constant?: boolean;
}

/**
 * Storage whose values never change (model parameters'): packed layouts of any view of it — the
 * parameter, or a cut of it such as the spectral weights' leading modes in a JVP — are cached.
 */
const constants = new WeakSet<Float64Array>();
/**
 * A cached packed copy: in the JS heap, or pinned in the WebAssembly module's memory (`at`, element
 * indices), where the GEMM reads it in place instead of copying it in at every call (a small batch's
 * products are often as cheap as that copy). A pinned copy is viewed afresh at each use: growing the
 * memory detaches earlier views.
 */
type Packed =
  | { pinned: false; re: Float64Array; im: Float64Array | null }
  | { pinned: true; n: number; re: number; im: number | null };
const packCache = new WeakMap<Float64Array, Map<string, Packed>>();

function packedArrays(p: Packed): { re: Float64Array; im: Float64Array | null } {
  if (!p.pinned) return p;
  const w = wasmKernels()!;
  return { re: w.view(p.re, p.n), im: p.im === null ? null : w.view(p.im, p.n) };
}

/** Storage for a cached packed copy of n values: pinned where the module has room, else the JS heap. */
function packStorage(n: number, complex: boolean): Packed {
  const w = wasmKernels();
  const re = w?.pin(n) ?? null;
  const im = re !== null && complex ? w!.pin(n) : null;
  if (re !== null && (!complex || im !== null)) return { pinned: true, n, re, im };
  // (a real part pinned without room for its imaginary one stays pinned, unused: bounded by the cap)
  return { pinned: false, re: new Float64Array(n), im: complex ? new Float64Array(n) : null };
}

/**
 * Declare that `t`'s root will not be written again (a model parameter), so products may cache
 * re-laid-out copies of it across calls. Undo with `unmarkConstant` before any in-place write.
 */
export function markConstant(t: GTensor): void {
  constants.add(t.root.re);
}

export function unmarkConstant(t: GTensor): void {
  constants.delete(t.root.re);
  packCache.delete(t.root.re);
}

export function sideOf(t: GTensor, labels: readonly number[], negIm: Float64Array | null = null): Side {
  const stride = new Map<number, number>();
  // The values a pack copies: broadcast (stride-0) axes are not stored, so not counted.
  let stored = 1;
  labels.forEach((l, i) => {
    if (t.shape[i] > 1 && t.strides[i] !== 0) {
      stride.set(l, t.strides[i]);
      stored *= t.shape[i];
    }
  });
  return {
    re: t.re,
    im: t.kind === 'complex' ? t.im : null,
    negIm,
    off: t.offset,
    negOff: t.offset,
    stride,
    numel: t.numel === 0 ? 0 : stored,
    constant: constants.has(t.re),
  };
}

/** Labels in the given order merge into one axis of uniform stride (outer = inner·size). */
export function merges(s: Side, labels: readonly number[], size: Map<number, number>): boolean {
  for (let i = 0; i + 1 < labels.length; i++)
    if (s.stride.get(labels[i]) !== s.stride.get(labels[i + 1])! * size.get(labels[i + 1])!) return false;
  return true;
}

export function byStrideDesc(s: Side, labels: readonly number[]): number[] {
  return [...labels].sort((x, y) => s.stride.get(y)! - s.stride.get(x)!);
}

/** Split labels (ordered by stride) into an outer loop part and the longest inner part that merges. */
export function split(
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

/** Copy a side into a contiguous layout with the given label order (outermost first). */
export function pack(s: Side, order: readonly number[], size: Map<number, number>): Side {
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
  if (hit) return { ...packedArrays(hit), negIm: null, off: 0, negOff: 0, stride, numel: n };
  // A cached copy outlives the run; any other is the run's (see tensor.ts Arena).
  const stored = s.constant ? packStorage(n, s.im !== null) : null;
  const own = stored ? packedArrays(stored) : null;
  const re = own ? own.re : allocData(n, false);
  const im = s.im ? (own ? own.im! : allocData(n, false)) : null;
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
    forBlocks(shape, [cs, strides], [0, s.off], ord, (n1, n0, offs, incs1, incs0) => {
      const o1 = incs1[0];
      const i1 = incs1[1];
      const o0 = incs0[0];
      const i0 = incs0[1];
      for (let u = 0, o = offs[0], i = offs[1]; u < n1; u++, o += o1, i += i1)
        for (let j = 0, x = o, y = i; j < n0; j++, x += o0, y += i0) d[x] = src[y];
    });
  if (s.constant) {
    let m = packCache.get(s.re);
    if (!m) packCache.set(s.re, (m = new Map()));
    if (m.size >= 16) m.clear();
    m.set(key, stored!);
  }
  return { re, im, negIm: null, off: 0, negOff: 0, stride, numel: n };
}

/** −im over the storage span a side touches (same geometry, shifted offset). */
export function negate(s: Side, labelsSizes: [number, number][]): void {
  if (s.negIm || !s.im) return;
  const shape = labelsSizes.map(([, n]) => n);
  const strides = labelsSizes.map(([l]) => s.stride.get(l) ?? 0);
  const g = new GTensor(shape, strides, s.off, s.re, null, 'float');
  const [lo, hi] = sizeOf(shape) ? storageSpan(g) : [s.off, s.off];
  const neg = allocData(hi - lo + 1, false);
  const im = s.im;
  for (let i = lo; i <= hi; i++) neg[i - lo] = -im[i];
  s.negIm = neg;
  s.negOff = s.off - lo;
}

/** Σ over labels of one side (its other labels kept), as a fresh packed side. */
export function reduceSide(s: Side, labels: number[], size: Map<number, number>): Side {
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
  const re = allocData(n);
  const im = s.im ? allocData(n) : null;
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

/** The imaginary part of a complex tensor as a real internal view. */
export function imagView(t: GTensor): GTensor {
  return new GTensor([...t.shape], [...t.strides], t.offset, t.im!, null, 'float');
}
