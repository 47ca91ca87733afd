import { describe, expect, it } from 'vitest';
import { tangentOf } from '../../../../src/engine/graph/dispatch';
import { boxOf, tan } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays, scalarTensor } from '../../../../src/engine/graph/tensor';
import { checkJvp, randTensor } from '../jvp-check';
import { T, at, call, callT, checkSeq, expectValues, iota, tanValues, values } from './shape-fd';

const seq =
  (tg: boolean) =>
  (op: string, args: unknown[], kw: Record<string, unknown> = {}) =>
    call(op, args, kw, tg) as GTensor;

describe('copy_', () => {
  it('into a slice of zeros reaches the root: values, nz and the root tangent (vs differences)', () => {
    const src = randTensor([2, 3, 4], 1, 'complex');
    const out = callT('aten::zeros', [[2, 3, 9]], { dtype: 9 });
    const view = callT('aten::slice', [out, 2, 0, 4]);
    const ret = call('aten::copy_', [view, src]);
    expect(ret).toBe(view);
    expectValues(out, [2, 3, 9], ([a, b, c]) => (c < 4 ? at(src, [a, b, c]) : 0));
    expectValues(out, [2, 3, 9], ([a, b, c]) => (c < 4 ? at(src, [a, b, c], true) : 0), true);
    expect(out.nz).toEqual([2, 3, 4]);

    const t = checkSeq(
      () => [randTensor([2, 3, 4], 1, 'complex')],
      ([x], tg) => {
        const c = seq(tg);
        const o = c('aten::zeros', [[2, 3, 9]], { dtype: 9 });
        c('aten::copy_', [c('aten::slice', [o, 2, 0, 4]), x]);
        return o;
      },
    );
    // the write kept the leading block: the root's tangent covers only the written modes
    expect(boxOf(t!)).toEqual([2, 3, 4]);
  });

  it('through permuted, selected and strided views, twice (the second write overwrites)', () => {
    checkSeq(
      () => [randTensor([3, 4], 1), randTensor([4], 2), randTensor([2, 3], 3)],
      ([a, b, d], tg) => {
        const c = seq(tg);
        const o = c('aten::zeros', [[4, 3]]);
        c('aten::copy_', [c('aten::t', [o]), a]);
        c('aten::copy_', [c('aten::select', [o, 1, 1]), b]);
        c('aten::copy_', [c('aten::slice', [c('aten::t', [o]), 1, 0, 4, 2]), c('aten::t', [d])]);
        return o;
      },
    );
  });

  it('of a broadcast source, and a write without a tangent clears that part of the tangent', () => {
    checkSeq(
      () => [randTensor([3, 5], 1), randTensor([5], 2)],
      ([a, b], tg) => {
        const c = seq(tg);
        const o = c('aten::clone', [a]);
        c('aten::copy_', [c('aten::slice', [o, 0, 1, 3]), b]);
        c('aten::copy_', [c('aten::select', [o, 0, 0]), fromArrays([5], new Float64Array(5).fill(3))]);
        return o;
      },
    );
    const a = randTensor([3, 5], 1);
    a.tan = tan(randTensor([2, 3, 5], 2));
    const v = callT('aten::select', [a, 0, 2]);
    call('aten::copy_', [v, fromArrays([5], new Float64Array(5))]);
    const t = tanValues(tangentOf(a), 2, [3, 5]);
    for (let k = 0; k < 2; k++) for (let j = 0; j < 5; j++) expect(t[k * 15 + 10 + j]).toBe(0);
  });

  it('checkJvp on fresh arguments: real into complex, complex into real, broadcast', () => {
    checkJvp(T, 'aten::copy_', () => ({ args: [randTensor([2, 3], 1), randTensor([3], 2)] }));
    checkJvp(T, 'aten::copy_', () => ({ args: [randTensor([2, 3], 1, 'complex'), randTensor([2, 3], 2)] }));
    checkJvp(T, 'aten::copy_', () => ({ args: [randTensor([2, 3], 1), randTensor([2, 3], 2, 'complex')] }));
  });

  it('a stride-0 source keeps the root tangent stride 0 (p broadcast over time into zeros)', () => {
    const p = randTensor([2, 1, 3], 1);
    p.tan = tan(randTensor([4, 2, 1, 3], 2));
    const o = callT('aten::zeros', [[2, 100, 3]]);
    call('aten::copy_', [o, p]);
    const t = tangentOf(o)!;
    expect(t.data.strides[2]).toBe(0);
    expect(t.data.re.length).toBe(4 * 2 * 3);
    expectValues(o, [2, 100, 3], ([b, , c]) => at(p, [b, 0, c]));
  });

  it('into an integer tensor rounds toward zero and has no tangent; shapes must broadcast', () => {
    const i = fromArrays([3], new Float64Array(3), null, 'int');
    const s = fromArrays([3], Float64Array.of(1.7, -1.7, 2));
    s.tan = tan(randTensor([2, 3], 1));
    call('aten::copy_', [i, s]);
    expect(values(i)).toEqual([1, -1, 2]);
    expect(tangentOf(i)).toBeNull();
    expect(() => call('aten::copy_', [iota([2, 3]), iota([2])])).toThrow(/aten::copy_.*\[2\].*\[2,3\]/);
  });

  it('from an overlapping view of the same root', () => {
    const x = iota([6]);
    call('aten::copy_', [callT('aten::slice', [x, 0, 1]), callT('aten::slice', [x, 0, 0, 5])]);
    expect(values(x)).toEqual([0, 0, 1, 2, 3, 4]);
  });
});

describe('fill_ / zero_', () => {
  it('values through views; zero_ of a root marks it zero', () => {
    const x = iota([3, 4]);
    call('aten::fill_', [callT('aten::select', [x, 1, 2]), 7]);
    expectValues(x, [3, 4], ([i, j]) => (j === 2 ? 7 : i * 4 + j));
    call('aten::zero_', [callT('aten::slice', [x, 0, 1])]);
    expectValues(x, [3, 4], ([i, j]) => (i > 0 ? 0 : j === 2 ? 7 : j));
    call('aten::zero_', [x]);
    expect(x.nz).toEqual([0, 0]);
    const b = fromArrays([2], Float64Array.of(0, 0), null, 'bool');
    call('aten::fill_', [b, 3]);
    expect(values(b)).toEqual([1, 1]);
  });

  it('tangents: zero_ and a number clear, a 0-d tensor with a tangent fills it (vs differences)', () => {
    checkSeq(
      () => [randTensor([3, 4], 1), randTensor([], 2)],
      ([a, v], tg) => {
        const c = seq(tg);
        const o = c('aten::clone', [a]);
        c('aten::fill_', [c('aten::select', [o, 1, 0]), v]);
        c('aten::zero_', [c('aten::select', [o, 0, 2])]);
        c('aten::fill_', [c('aten::select', [o, 1, 3]), 2]);
        return o;
      },
    );
    checkJvp(T, 'aten::fill_', () => ({ args: [randTensor([2, 3], 1), randTensor([], 2)] }));
    checkJvp(T, 'aten::zero_', () => ({ args: [randTensor([2, 3], 1)] }));
    const x = randTensor([2], 1);
    x.tan = tan(randTensor([2, 2], 2));
    call('aten::fill_', [x, scalarTensor(1)]);
    expect(tangentOf(x)).toBeNull();
  });
});
