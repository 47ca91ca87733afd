/** Writing values into a strided view: the primitive under `copy_`, `fill_`, `cat` and densifying. */
import { broadcastStrides, forRuns, physicalOrder } from './strided';
import type { GTensor } from './tensor';
import { recordAssign, recordFill } from './lower/record-tensor';

/**
 * dst[...] = src broadcast to dst's shape. A real source into a complex destination clears the
 * imaginary part; a complex source into a real destination keeps the real part (PyTorch's copy_).
 */
export function assignInto(dst: GTensor, src: GTensor): void {
  const ss = broadcastStrides(src, dst.shape, 'copy');
  const order = physicalOrder(dst.shape, dst.strides);
  const dr = dst.re;
  const sr = src.re;
  const di = dst.im;
  const si = src.im;
  recordAssign(dst, src, ss);
  forRuns(dst.shape, [dst.strides, ss], [dst.offset, src.offset], order, (n, [o, s], [io, is]) => {
    for (let j = 0; j < n; j++, o += io, s += is) dr[o] = sr[s];
  });
  if (di)
    forRuns(dst.shape, [dst.strides, ss], [dst.offset, src.offset], order, (n, [o, s], [io, is]) => {
      if (si) for (let j = 0; j < n; j++, o += io, s += is) di[o] = si[s];
      else for (let j = 0; j < n; j++, o += io) di[o] = 0;
    });
}

/** dst[...] = v (real; a complex destination gets v + 0i). */
export function fillInto(dst: GTensor, v: number): void {
  const order = physicalOrder(dst.shape, dst.strides);
  const dr = dst.re;
  const di = dst.im;
  recordFill(dst, v);
  forRuns(dst.shape, [dst.strides], [dst.offset], order, (n, [o], [io]) => {
    for (let j = 0; j < n; j++, o += io) {
      dr[o] = v;
      if (di) di[o] = 0;
    }
  });
}
