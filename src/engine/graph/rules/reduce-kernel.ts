/**
 * Summation over axes of a strided tensor, real or complex: the kernel under sum, mean, prod's
 * derivative and the norms. An axis the input broadcasts (stride 0) is not iterated: reduced, it
 * multiplies by its length; kept, with `compact`, it stays a stride-0 axis of the result — how the
 * tangent of a time-constant value stays one row through a sum over channels.
 */
import { forRuns, physicalOrder, stridesInOrder } from '../strided';
import { GTensor, type Kind, axis, sizeOf } from '../tensor';
import { recorder } from '../lower/record';
import { recordSum } from '../lower/record-reduce';

export interface SumOptions {
  /** Keep axes broadcast in the input at stride 0 in the output (tangent data only). */
  compact?: boolean;
  /** Multiply the sums by this (mean: 1/count). */
  scale?: number;
  kind?: Kind;
}

/** The set of reduced axes of a rank-r tensor: `dims` (null or empty: all). */
export function reducedAxes(dims: readonly number[] | null, r: number): boolean[] {
  const red = new Array<boolean>(r).fill(dims === null || dims.length === 0);
  if (dims && r > 0) for (const d of dims) red[axis(d, r)] = true;
  return red;
}

/** Shape after reducing the axes `red` (kept as 1 with keepdim). */
export function reducedShape(shape: readonly number[], red: readonly boolean[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (red[i] ? 1 : d)) : shape.filter((_, i) => !red[i]);
}

/** Σ of x over the axes marked in `red`. */
export function sumAxes(
  x: GTensor,
  red: readonly boolean[],
  keepdim: boolean,
  opts: SumOptions = {},
): GTensor {
  const r = x.rank;
  const kind = opts.kind ?? (x.kind === 'bool' ? 'int' : x.kind);
  let factor = opts.scale ?? 1;
  const iter = [...x.shape];
  const flat = new Array<boolean>(r).fill(false);
  for (let i = 0; i < r; i++)
    if (x.shape[i] > 1 && x.strides[i] === 0) {
      if (red[i]) factor *= x.shape[i];
      else if (opts.compact) flat[i] = true;
      else continue;
      iter[i] = 1;
    }
  const order = physicalOrder(x.shape, x.strides);
  const work = x.shape.map((d, i) => (red[i] || flat[i] ? 1 : d));
  const ws = stridesInOrder(work, order);
  const os = ws.map((s, i) => (red[i] ? 0 : s));
  const n = sizeOf(work);
  const re = new Float64Array(n);
  const xi = x.im;
  const im = kind === 'complex' ? new Float64Array(n) : null;
  const xr = x.re;
  const rec = recorder();
  if (rec) {
    recordSum(
      rec,
      iter,
      { arr: xr, strides: x.strides, offset: x.offset },
      { arr: re, strides: os, offset: 0 },
      factor,
    );
    if (im && xi)
      recordSum(
        rec,
        iter,
        { arr: xi, strides: x.strides, offset: x.offset },
        { arr: im, strides: os, offset: 0 },
        factor,
      );
  }
  forRuns(iter, [x.strides, os], [x.offset, 0], order, (len, [ix, io], [dx, dd]) => {
    if (dd === 0) {
      let s = 0;
      for (let j = 0, k = ix; j < len; j++, k += dx) s += xr[k];
      re[io] += s;
      if (im && xi) {
        let si = 0;
        for (let j = 0, k = ix; j < len; j++, k += dx) si += xi[k];
        im[io] += si;
      }
      return;
    }
    for (let j = 0, k = ix, o = io; j < len; j++, k += dx, o += dd) re[o] += xr[k];
    if (im && xi) for (let j = 0, k = ix, o = io; j < len; j++, k += dx, o += dd) im[o] += xi[k];
  });
  if (factor !== 1) {
    for (let i = 0; i < n; i++) re[i] *= factor;
    if (im) for (let i = 0; i < n; i++) im[i] *= factor;
  }
  const full = x.shape.map((d, i) => (red[i] ? 1 : d));
  const strides = ws.map((s, i) => (flat[i] ? 0 : s));
  const keep = (_: unknown, i: number) => keepdim || !red[i];
  return new GTensor(full.filter(keep), strides.filter(keep), 0, re, im, kind);
}
