/**
 * Joins made when read (lazy-join.ts): a repeat along size-1 axes and a cat with such a part give
 * PyTorch's values whoever reads them; products split them and agree with the products of the
 * copies; an in-place write into an input after the join does not reach it (PyTorch copied).
 */
import { describe, expect, it } from 'vitest';
import { contract } from '../../../src/engine/graph/kernels/contract';
import { conv1d } from '../../../src/engine/graph/kernels/conv1d';
import { asBroadcast, catParts } from '../../../src/engine/graph/lazy-join';
import { GTensor, contiguousStrides } from '../../../src/engine/graph/tensor';
import { randTensor } from './jvp-check';
import { callOp } from '../../../src/engine/graph/dispatch';
import { RULES } from '../../../src/engine/graph/table';
import { at } from './rules/shape-fd';

function call(op: string, args: unknown[]): unknown {
  return callOp(RULES, op, args, {}, { P: 1 }, false);
}

function callT(op: string, args: unknown[]): GTensor {
  return call(op, args) as GTensor;
}

const [B, Tn, Ca, Cs] = [2, 9, 3, 4];

/** Every element of x, read through its strides (real part, or imaginary). */
function values(x: GTensor, im = false): number[] {
  const out: number[] = [];
  const idx = new Array<number>(x.rank).fill(0);
  for (let n = 0; n < x.numel; n++) {
    out.push(at(x, idx, im));
    for (let d = x.rank - 1; d >= 0; d--) {
      if (++idx[d] < x.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** A plain contiguous copy (not pending: read element by element). */
function copyOf(x: GTensor): GTensor {
  const re = Float64Array.from(values(x));
  const im = x.kind === 'complex' ? Float64Array.from(values(x, true)) : null;
  return new GTensor([...x.shape], contiguousStrides(x.shape), 0, re, im, x.kind);
}

function maxDiff(a: number[], b: number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

/** The seed FNO's lifting: h [B, Ca+Cs, T] = cat(a, s repeated over T) along channels. */
function lifted(seed = 1) {
  const a = randTensor([B, Ca, Tn], seed);
  const s = randTensor([B, Cs], seed + 1);
  const r = callT('aten::repeat', [callT('aten::unsqueeze', [s, 2]), [1, 1, Tn]]);
  const h = callT('aten::cat', [[a, r], 1]);
  const want = (b: number, c: number, t: number) => (c < Ca ? at(a, [b, c, t]) : at(s, [b, c - Ca]));
  // the same values as a plain tensor, made without reading h
  const copy = new Float64Array(B * (Ca + Cs) * Tn);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < Ca + Cs; c++)
      for (let t = 0; t < Tn; t++) copy[(b * (Ca + Cs) + c) * Tn + t] = want(b, c, t);
  const hc = new GTensor([B, Ca + Cs, Tn], contiguousStrides([B, Ca + Cs, Tn]), 0, copy, null, 'float');
  return { a, s, r, h, want, hc };
}

function expectLifted(h: GTensor, want: (b: number, c: number, t: number) => number): void {
  expect(h.shape).toEqual([B, Ca + Cs, Tn]);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < Ca + Cs; c++)
      for (let t = 0; t < Tn; t++) expect(at(h, [b, c, t])).toBe(want(b, c, t));
}

describe('joins made when read', () => {
  it('repeat along size-1 axes and cat with it are pending, and read as PyTorch computes them', () => {
    const { r, h, want } = lifted();
    expect(asBroadcast(r)?.strides[2]).toBe(0);
    expect(catParts(h)?.parts.map((p) => p.shape[1])).toEqual([Ca, Cs]);
    expect(h.deferred).toBe(true);
    // through a permuted view, then the root itself
    const hp = callT('aten::permute', [h, [2, 0, 1]]);
    expect(catParts(hp)?.axis).toBe(2);
    for (let t = 0; t < Tn; t++) expect(at(hp, [t, 1, Ca + 1])).toBe(want(1, Ca + 1, t));
    expectLifted(h, want);
    expect(h.deferred).toBe(false);
    expect(catParts(h)).toBeNull();
  });

  it('an in-place write into an input after the join leaves the join as it was', () => {
    const { s, a, h, want } = lifted(3);
    const before = [...Array(B * (Ca + Cs) * Tn).keys()].map((i) => {
      const t = i % Tn;
      const c = Math.floor(i / Tn) % (Ca + Cs);
      return want(Math.floor(i / (Tn * (Ca + Cs))), c, t);
    });
    call('aten::add_', [s, 1]);
    call('aten::mul_', [a, 2]);
    expect(values(h)).toEqual(before);
    // and the repeat itself, written in place, still reads the old s plus its own write
    const { s: s2, r } = lifted(5);
    const old = values(r);
    call('aten::add_', [r, 10]);
    call('aten::add_', [s2, 100]);
    expect(
      maxDiff(
        values(r),
        old.map((v) => v + 10),
      ),
    ).toBe(0);
  });

  it('a repeat that tiles (an axis larger than 1 repeated) is copied at once', () => {
    const x = randTensor([2, 3], 7);
    const r = callT('aten::repeat', [x, [2, 1]]);
    expect(r.deferred).toBe(false);
    expect(asBroadcast(r)).toBeNull();
  });

  it('products over the joined axis, along another axis and into outputs equal those of the copy', () => {
    const { h, hc } = lifted(9);
    const w = randTensor([5, Ca + Cs], 10);
    const wz = randTensor([5, Ca + Cs], 11, 'complex');
    // contracted over channels (a 1×1 map): [B, O, T]
    for (const wt of [w, wz]) {
      const got = contract({ t: wt, labels: [-2, -1] }, { t: h, labels: [0, -1, 1] }, [0, -2, 1]);
      const ref = contract({ t: wt, labels: [-2, -1] }, { t: hc, labels: [0, -1, 1] }, [0, -2, 1]);
      expect(maxDiff(values(got), values(ref))).toBeLessThan(1e-13);
      if (wt.kind === 'complex') expect(maxDiff(values(got, true), values(ref, true))).toBeLessThan(1e-13);
      expect(h.deferred).toBe(true);
    }
    // kept (a map over time, the joined axis an output axis): [B, C, F]
    const basis = randTensor([6, Tn], 12, 'complex');
    const got = contract({ t: basis, labels: [-3, 1] }, { t: h, labels: [0, -1, 1] }, [0, -1, -3]);
    const ref = contract({ t: basis, labels: [-3, 1] }, { t: hc, labels: [0, -1, 1] }, [0, -1, -3]);
    expect(maxDiff(values(got), values(ref))).toBeLessThan(1e-13);
    expect(maxDiff(values(got, true), values(ref, true))).toBeLessThan(1e-13);
    // accumulated into a given output, scaled
    const out = randTensor([B, 5, Tn], 13);
    const out2 = copyOf(out);
    contract({ t: w, labels: [-2, -1] }, { t: h, labels: [0, -1, 1] }, [0, -2, 1], {
      out,
      accumulate: true,
      scale: 0.5,
    });
    contract({ t: w, labels: [-2, -1] }, { t: hc, labels: [0, -1, 1] }, [0, -2, 1], {
      out: out2,
      accumulate: true,
      scale: 0.5,
    });
    expect(maxDiff(values(out), values(out2))).toBeLessThan(1e-13);
    expect(h.deferred).toBe(true);
  });

  it('a convolution of the join (any kernel, padding, bias) equals that of the copy', () => {
    const { h, hc } = lifted(15);
    const w = randTensor([4, Ca + Cs, 3], 16);
    const bias = randTensor([4], 17);
    for (const spec of [
      { stride: 1, padL: 0, padR: 0, dilation: 1, groups: 1 },
      { stride: 2, padL: 1, padR: 1, dilation: 1, groups: 1 },
      { stride: 1, padL: 2, padR: 2, dilation: 2, groups: 1 },
    ]) {
      const got = conv1d(h, w, bias, spec);
      const ref = conv1d(hc, w, bias, spec);
      expect(maxDiff(values(got), values(ref))).toBeLessThan(1e-13);
    }
    expect(h.deferred).toBe(true);
  });
});
