/**
 * Small helpers over strided tensors shared by the linear-algebra, convolution and FFT kernels:
 * internal views over a tensor's storage, leading blocks, stride-0 (broadcast) axes, and
 * accumulation into strided destinations.
 *
 * Internal views (`raw`) are roots over the same storage with no tangent bookkeeping: they are
 * never handed to the graph, only read by kernels (or returned as tangent data, which is never
 * written in place).
 */
import { broadcastStrides, forBlocks, forRuns, physicalOrder, stridesInOrder } from '../strided';
import { binaryBlockWasm } from '../../kernels/binary-wasm';
import { GTensor, type Kind, allocData, sizeOf } from '../tensor';
import { recordAssign, recordFill, recordScaleStorage } from '../lower/record-tensor';

/** A root over `t`'s storage with the given geometry (materialises a lazy `t`). */
export function raw(
  t: GTensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
): GTensor {
  const re = t.re;
  const im = t.kind === 'complex' ? t.im : null;
  return new GTensor([...shape], [...strides], offset, re, im, t.kind === 'complex' ? 'complex' : 'float');
}

/** `t` itself as an internal view (same geometry), with the kind normalised to float/complex. */
export function asRaw(t: GTensor): GTensor {
  return raw(t, t.shape, t.strides, t.offset);
}

/** The leading `count` entries of `t` along `ax` (an internal view). */
export function leadAlong(t: GTensor, ax: number, count: number): GTensor {
  if (count === t.shape[ax]) return t;
  const shape = [...t.shape];
  shape[ax] = count;
  return raw(t, shape, t.strides, t.offset);
}

/** The leading block of `t` of the given shape (same rank, each size ≤ t's). */
export function leadBlock(t: GTensor, shape: readonly number[]): GTensor {
  if (shape.every((d, i) => d === t.shape[i])) return t;
  return raw(t, shape, t.strides, t.offset);
}

/** Entry `index` along `ax` kept as a size-1 axis. */
export function pickAlong(t: GTensor, ax: number, index: number): GTensor {
  const shape = [...t.shape];
  shape[ax] = 1;
  return raw(t, shape, t.strides, t.offset + index * t.strides[ax]);
}

/** `t` (size 1 along the marked axes) broadcast to `shape` with stride 0 there. */
export function expandTo(t: GTensor, shape: readonly number[]): GTensor {
  if (shape.every((d, i) => d === t.shape[i])) return t;
  const strides = t.shape.map((d, i) => (d === shape[i] ? t.strides[i] : d === 1 ? 0 : NaN));
  if (strides.some((s) => Number.isNaN(s))) throw new Error('internal: expandTo needs size-1 axes');
  return raw(t, shape, strides, t.offset);
}

/** Axes along which `t` is broadcast (size > 1, stride 0). */
export function stride0Axes(t: GTensor): boolean[] {
  return t.shape.map((d, i) => d > 1 && t.strides[i] === 0);
}

/** A fresh zero tensor of `shape` laid out in the physical order `order` (outermost first). */
export function zerosInOrder(shape: readonly number[], order: readonly number[], kind: Kind): GTensor {
  const n = sizeOf(shape);
  const strides = stridesInOrder(shape, order);
  return new GTensor([...shape], strides, 0, allocData(n), kind === 'complex' ? allocData(n) : null, kind);
}

/** A fresh row-major contiguous copy of `t`. */
export function contiguousCopy(t: GTensor): GTensor {
  const out = zerosInOrder(
    t.shape,
    t.shape.map((_, i) => i),
    t.kind === 'complex' ? 'complex' : 'float',
  );
  addInto(out, t, 1, false);
  return out;
}

/** A fresh tensor with `t`'s values (broadcast axes materialised), laid out like `t`. */
export function materialize(t: GTensor): GTensor {
  const out = zerosInOrder(
    t.shape,
    physicalOrder(t.shape, t.strides),
    t.kind === 'complex' ? 'complex' : 'float',
  );
  addInto(out, t, 1, false);
  return out;
}

/**
 * dst (+)= s · src, src broadcast to dst's shape. A complex src into a real dst adds the real part;
 * a real src into a complex dst leaves (accumulate) or zeroes (assign) the imaginary part.
 */
export function addInto(dst: GTensor, src: GTensor, s = 1, accumulate = true): void {
  const ss = broadcastStrides(src, dst.shape, 'add');
  const order = physicalOrder(dst.shape, dst.strides);
  const dr = dst.re;
  const sr = src.re;
  const di = dst.kind === 'complex' ? dst.im : null;
  const si = src.kind === 'complex' ? src.im : null;
  const parts: [Float64Array, Float64Array | null][] = [[dr, sr]];
  if (di) parts.push([di, si]);
  recordAssign(dst, src, ss, s, accumulate);
  for (const [d, sv] of parts)
    forBlocks(dst.shape, [dst.strides, ss], [dst.offset, src.offset], order, (n1, n0, offs, incs1, incs0) => {
      // indexing, not destructuring: no iterator objects per block
      let o = offs[0];
      let i = offs[1];
      const o1 = incs1[0];
      const i1 = incs1[1];
      const o0 = incs0[0];
      const i0 = incs0[1];
      if (!sv) {
        if (!accumulate)
          for (let u = 0; u < n1; u++, o += o1) for (let j = 0, x = o; j < n0; j++, x += o0) d[x] = 0;
      } else if (s === 1) (accumulate ? addBlock : copyBlock)(d, sv, n1, n0, o, o1, o0, i, i1, i0);
      else if (accumulate)
        for (let u = 0; u < n1; u++, o += o1, i += i1)
          for (let j = 0, x = o, y = i; j < n0; j++, x += o0, y += i0) d[x] += s * sv[y];
      else
        for (let u = 0; u < n1; u++, o += o1, i += i1)
          for (let j = 0, x = o, y = i; j < n0; j++, x += o0, y += i0) d[x] = s * sv[y];
    });
}

/** d[...] += s[...] over a block (see strided.ts forBlocks), with the common cases' own loops. */
function addBlock(
  d: Float64Array,
  s: Float64Array,
  n1: number,
  n0: number,
  o: number,
  o1: number,
  o0: number,
  i: number,
  i1: number,
  i0: number,
): void {
  // resident operands: d += s in WebAssembly SIMD (d is the first operand and the output)
  if (binaryBlockWasm(0, n1, n0, d, o, o1, o0, d, o, o1, o0, s, i, i1, i0, 1)) return;
  if (i0 === 0)
    for (let u = 0; u < n1; u++, o += o1, i += i1) {
      const v = s[i];
      for (let j = 0, x = o; j < n0; j++, x += o0) d[x] += v;
    }
  else if (transposing(n1, n0, o1, o0, i1, i0)) addTiled(d, s, n1, n0, o, o1, o0, i, i1, i0);
  else if (o0 === 1 && i0 === 1)
    for (let u = 0; u < n1; u++, o += o1, i += i1) for (let j = 0; j < n0; j++) d[o + j] += s[i + j];
  else
    for (let u = 0; u < n1; u++, o += o1, i += i1)
      for (let j = 0, x = o, y = i; j < n0; j++, x += o0, y += i0) d[x] += s[y];
}

/** d[...] = s[...] over a block. */
function copyBlock(
  d: Float64Array,
  s: Float64Array,
  n1: number,
  n0: number,
  o: number,
  o1: number,
  o0: number,
  i: number,
  i1: number,
  i0: number,
): void {
  if (o0 === 1 && i0 === 1)
    for (let u = 0; u < n1; u++, o += o1, i += i1) for (let j = 0; j < n0; j++) d[o + j] = s[i + j];
  else if (transposing(n1, n0, o1, o0, i1, i0)) copyTiled(d, s, n1, n0, o, o1, o0, i, i1, i0);
  else
    for (let u = 0; u < n1; u++, o += o1, i += i1)
      for (let j = 0, x = o, y = i; j < n0; j++, x += o0, y += i0) d[x] = s[y];
}

/**
 * Transposes (the cat of a permuted linear output, `contiguous()` after `permute`): one side runs
 * along j, the other along u. Row by row, the side with the long stride touches a new cache line
 * at every element and uses one of its eight values before the line is evicted; in TILE × TILE
 * tiles each line stays in L1 until all of its values are used (4–5× faster on the seed's cat).
 */
const TILE = 16;

function transposing(n1: number, n0: number, o1: number, o0: number, i1: number, i0: number): boolean {
  if (n1 < TILE || n0 < TILE) return false;
  return (o0 === 1 && i1 === 1 && i0 > TILE) || (i0 === 1 && o1 === 1 && o0 > TILE);
}

function copyTiled(
  d: Float64Array,
  s: Float64Array,
  n1: number,
  n0: number,
  o: number,
  o1: number,
  o0: number,
  i: number,
  i1: number,
  i0: number,
): void {
  for (let u0 = 0; u0 < n1; u0 += TILE) {
    const u1 = Math.min(n1, u0 + TILE);
    for (let j0 = 0; j0 < n0; j0 += TILE) {
      const j1 = Math.min(n0, j0 + TILE);
      for (
        let u = u0, ou = o + u0 * o1 + j0 * o0, iu = i + u0 * i1 + j0 * i0;
        u < u1;
        u++, ou += o1, iu += i1
      )
        for (let j = j0, x = ou, y = iu; j < j1; j++, x += o0, y += i0) d[x] = s[y];
    }
  }
}

function addTiled(
  d: Float64Array,
  s: Float64Array,
  n1: number,
  n0: number,
  o: number,
  o1: number,
  o0: number,
  i: number,
  i1: number,
  i0: number,
): void {
  for (let u0 = 0; u0 < n1; u0 += TILE) {
    const u1 = Math.min(n1, u0 + TILE);
    for (let j0 = 0; j0 < n0; j0 += TILE) {
      const j1 = Math.min(n0, j0 + TILE);
      for (
        let u = u0, ou = o + u0 * o1 + j0 * o0, iu = i + u0 * i1 + j0 * i0;
        u < u1;
        u++, ou += o1, iu += i1
      )
        for (let j = j0, x = ou, y = iu; j < j1; j++, x += o0, y += i0) d[x] += s[y];
    }
  }
}

/** dst = 0 (both parts). */
export function zeroInto(dst: GTensor): void {
  recordFill(dst, 0);
  const order = physicalOrder(dst.shape, dst.strides);
  const parts = dst.kind === 'complex' && dst.im ? [dst.re, dst.im] : [dst.re];
  for (const d of parts)
    forRuns(dst.shape, [dst.strides], [dst.offset], order, (n, [o], [io]) => {
      for (let j = 0; j < n; j++, o += io) d[o] = 0;
    });
}

/** x · s in place on a fresh tensor's storage (every storage element, so stride-0 data once). */
export function scaleStorage(t: GTensor, s: number): void {
  if (s === 1) return;
  recordScaleStorage(t, s);
  const re = t.re;
  for (let i = 0; i < re.length; i++) re[i] *= s;
  const im = t.kind === 'complex' ? t.im : null;
  if (im) for (let i = 0; i < im.length; i++) im[i] *= s;
}

/** The lowest and highest storage index a view touches (numel > 0). */
export function storageSpan(t: GTensor): [number, number] {
  let lo = t.offset;
  let hi = t.offset;
  t.shape.forEach((d, i) => {
    const s = t.strides[i] * (d - 1);
    if (s < 0) lo += s;
    else hi += s;
  });
  return [lo, hi];
}
