/**
 * Records of the engine's copies and fills, in tensor terms: dst (+)= s · src over dst's shape
 * (src broadcast by `ss`), and dst = v. Complex parts follow copy_'s rules (layout.ts addInto): a
 * complex source into a real destination gives its real part; a real one into a complex
 * destination leaves (accumulate) or zeroes (assign) the imaginary part.
 */
import type { GTensor } from '../tensor';
import { E, type Expr } from './expr';
import { recorder, type StridedArray } from './record';

export function recordAssign(
  dst: GTensor,
  src: GTensor,
  ss: readonly number[],
  s = 1,
  accumulate = false,
): void {
  const rec = recorder();
  if (!rec) return;
  const di = dst.kind === 'complex' ? dst.im : null;
  const si = src.kind === 'complex' ? src.im : null;
  const value = (x: Expr, d: Expr) => {
    const v = s === 1 ? x : E.mul(E.c(s), x);
    return accumulate ? E.add(d, v) : v;
  };
  const pairs: [Float64Array, Float64Array | null][] = [[dst.re, src.re]];
  if (di) pairs.push([di, si]);
  for (const [d, sv] of pairs) {
    const out: StridedArray = { arr: d, strides: dst.strides, offset: dst.offset };
    if (!sv) {
      if (!accumulate) rec.ewise(dst.shape, [], [out], [E.c(0)]);
      continue;
    }
    const ins: StridedArray[] = [{ arr: sv, strides: ss, offset: src.offset }];
    if (accumulate) ins.push(out);
    rec.ewise(dst.shape, ins, [out], [value(E.in(0), E.in(1))]);
  }
}

export function recordFill(dst: GTensor, v: number): void {
  const rec = recorder();
  if (!rec) return;
  const outs: StridedArray[] = [{ arr: dst.re, strides: dst.strides, offset: dst.offset }];
  const exprs = [E.c(v)];
  if (dst.kind === 'complex' && dst.im) {
    outs.push({ arr: dst.im, strides: dst.strides, offset: dst.offset });
    exprs.push(E.c(0));
  }
  rec.ewise(dst.shape, [], outs, exprs);
}

/** Every element of t's storage (stride-0 data once) times s, in place. */
export function recordScaleStorage(t: GTensor, s: number): void {
  const rec = recorder();
  if (!rec) return;
  const arrs = [t.re];
  if (t.kind === 'complex' && t.im) arrs.push(t.im);
  for (const arr of arrs) {
    const v: StridedArray = { arr, strides: [1], offset: 0 };
    rec.ewise([arr.length], [v], [v], [E.mul(E.c(s), E.in(0))]);
  }
}
