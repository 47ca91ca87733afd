/**
 * A product (kernels/contract.ts) as tape records: one dimension per label, each operand's stride
 * along it (0 where the operand lacks the label or has size 1 there), the output's stride 0 along
 * the labels summed over. A complex product is up to four real ones (re·re − im·im, re·im + im·re).
 */
import type { GTensor } from '../tensor';
import type { Operand, ContractOptions } from '../kernels/contract';
import { E } from './expr';
import type { Recorder, StridedArray } from './record';

export function recordContract(
  rec: Recorder,
  a: Operand,
  b: Operand,
  outLabels: readonly number[],
  out: GTensor,
  opts: ContractOptions,
): void {
  const labels = [...new Set([...a.labels, ...b.labels, ...outLabels])];
  const size = new Map<number, number>();
  const see = (ls: readonly number[], shape: readonly number[]) =>
    ls.forEach((l, i) => {
      if (shape[i] !== 1 || !size.has(l)) size.set(l, Math.max(shape[i], size.get(l) ?? 0));
    });
  see(a.labels, a.t.shape);
  see(b.labels, b.t.shape);
  see(outLabels, out.shape);
  const stridesOf = (t: GTensor, ls: readonly number[]) =>
    labels.map((l) => {
      const i = ls.indexOf(l);
      return i < 0 || t.shape[i] === 1 ? 0 : t.strides[i];
    });
  const sa = stridesOf(a.t, a.labels);
  const sb = stridesOf(b.t, b.labels);
  const so = stridesOf(out, outLabels);
  const shape = labels.map((l) => size.get(l)!);
  // An output label every operand broadcasts and the output keeps at stride 0 (compact) is computed
  // once; a summed label no operand has multiplies the sum by its size (as the CPU does).
  const keep = labels.map((l, i) => !(outLabels.includes(l) && so[i] === 0 && sa[i] === 0 && sb[i] === 0));
  const pick = <T>(xs: readonly T[]) => xs.filter((_, i) => keep[i]);
  const dims = pick(shape);
  const view = (arr: Float64Array, strides: readonly number[], offset: number): StridedArray => ({
    arr,
    strides: pick(strides),
    offset,
  });
  const aIm = a.t.kind === 'complex' ? a.t.im : null;
  const bIm = b.t.kind === 'complex' ? b.t.im : null;
  const oIm = out.kind === 'complex' ? out.im : null;
  const scale = opts.scale ?? 1;
  const acc = !!opts.accumulate;
  const A = (arr: Float64Array) => view(arr, sa, a.t.offset);
  const B = (arr: Float64Array) => view(arr, sb, b.t.offset);
  const O = (arr: Float64Array) => view(arr, so, out.offset);
  // real part: Σ a.re·b.re − a.im·b.im
  rec.contract(dims, A(a.t.re), B(b.t.re), O(out.re), scale, acc);
  if (aIm && bIm) rec.contract(dims, A(aIm), B(bIm), O(out.re), -scale, true);
  if (!oIm) return;
  // imaginary part: Σ a.re·b.im + a.im·b.re
  const terms: [Float64Array, Float64Array][] = [];
  if (bIm) terms.push([a.t.re, bIm]);
  if (aIm) terms.push([aIm, b.t.re]);
  terms.forEach(([x, y], k) => rec.contract(dims, A(x), B(y), O(oIm), scale, acc || k > 0));
  if (terms.length === 0 && !acc) {
    const o = out;
    rec.ewise(o.shape, [], [{ arr: oIm, strides: o.strides, offset: o.offset }], [E.c(0)]);
  }
}
