import { describe, expect, it } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import { reduceRules as R } from '../../../../src/engine/graph/rules/reduce';
import { boxOf, dense, tan } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays } from '../../../../src/engine/graph/tensor';
import { checkJvp } from '../jvp-check';
import {
  boxedTangent,
  checkStructured,
  constantAlong,
  expectClose,
  randTensor,
  run,
  tanStrides,
  values,
} from './structured';

const rt = randTensor;

/** Reference reduction by index arithmetic: f folds the values of each output element. */
function refReduce(
  shape: number[],
  v: number[],
  dims: number[] | null,
  keepdim: boolean,
  f: (xs: number[]) => number,
): { shape: number[]; v: number[] } {
  const r = shape.length;
  const red = shape.map((_, i) => dims === null || dims.length === 0 || dims.some((d) => (d + r) % r === i));
  const kept = shape.map((d, i) => (red[i] ? 1 : d));
  const groups = new Map<number, number[]>();
  for (let k = 0; k < v.length; k++) {
    let rem = k;
    let o = 0;
    let stride = 1;
    for (let d = r - 1; d >= 0; d--) {
      const i = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      o += (red[d] ? 0 : i) * stride;
      stride *= kept[d];
    }
    if (!groups.has(o)) groups.set(o, []);
    groups.get(o)!.push(v[k]);
  }
  const n = kept.reduce((a, b) => a * b, 1);
  const out: number[] = [];
  for (let o = 0; o < n; o++) out.push(f(groups.get(o) ?? []));
  return { shape: keepdim ? kept : shape.filter((_, i) => !red[i]), v: out };
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const mean = (xs: number[]) => sum(xs) / xs.length;
const prod = (xs: number[]) => xs.reduce((a, b) => a * b, 1);

describe('sum and mean', () => {
  const x = rt([2, 3, 4], 1);
  const cases: [number[] | null, boolean][] = [
    [null, false],
    [[], false],
    [[0], false],
    [[1], true],
    [[-1], false],
    [[0, 2], false],
    [[0, 2], true],
    [[2, 0, 1], true],
  ];
  for (const [op, f] of [
    ['aten::sum', sum],
    ['aten::mean', mean],
  ] as const)
    for (const [dims, keepdim] of cases)
      it(`${op} dim=${JSON.stringify(dims)} keepdim=${keepdim}`, () => {
        const args = dims === null ? [x] : [x, dims, keepdim];
        const out = run(R, op, args);
        const ref = refReduce(x.shape, values(x), dims, dims === null ? false : keepdim, f);
        expect(out.shape).toEqual(ref.shape);
        expectClose(values(out), ref.v, 1e-14);
        checkJvp(R, op, () => ({
          args: dims === null ? [rt([2, 3, 4], 1)] : [rt([2, 3, 4], 1), dims, keepdim],
        }));
      });

  it('complex sums and means', () => {
    const z = rt([3, 4], 2, 'complex');
    for (const [op, f] of [
      ['aten::sum', sum],
      ['aten::mean', mean],
    ] as const) {
      const out = run(R, op, [z, [1]]);
      expect(out.kind).toBe('complex');
      expectClose(values(out), refReduce([3, 4], values(z), [1], false, f).v);
      expectClose(values(out, true), refReduce([3, 4], values(z, true), [1], false, f).v);
      checkJvp(R, op, () => ({ args: [rt([3, 4], 2, 'complex'), [0], true] }));
      checkJvp(R, op, () => ({ args: [rt([3, 4], 2, 'complex')] }));
    }
  });

  it('kinds: integer sums stay integers, means are float, dtype= converts', () => {
    const i = fromArrays([3], Float64Array.of(1, 2, 4), null, 'int');
    expect(run(R, 'aten::sum', [i]).kind).toBe('int');
    expect(run(R, 'aten::sum', [fromArrays([2], Float64Array.of(1, 1), null, 'bool')]).kind).toBe('int');
    const m = run(R, 'aten::mean', [i], { dtype: { dtype: 'torch.float64' } });
    expect(m.kind).toBe('float');
    expectClose(values(m), [7 / 3]);
    expect(run(R, 'aten::sum', [i], { dtype: { dtype: 'torch.float32' } }).kind).toBe('float');
    // ScalarType codes: 7 = float64, 4 = int64 (the input is cast first, as PyTorch does)
    expect(run(R, 'aten::sum', [i], { dtype: 7 }).kind).toBe('float');
    const f = fromArrays([3], Float64Array.of(1.7, -2.6, 3.2));
    const s = run(R, 'aten::sum', [f], { dtype: 4 });
    expect(s.kind).toBe('int');
    expectClose(values(s), [2]);
    expectClose(values(run(R, 'aten::prod', [f], { dtype: 4 })), [-6]);
    f.tan = tan(fromArrays([1, 3], Float64Array.of(1, 1, 1)));
    expect(tangentOf(callOp(R, 'aten::sum', [f], { dtype: 4 }, { P: 1 }, true) as GTensor)).toBeNull();
  });

  it('empty reductions: sum 0, mean NaN; 0-d input', () => {
    const e = fromArrays([0, 3], new Float64Array(0));
    expectClose(values(run(R, 'aten::sum', [e, [0]])), [0, 0, 0]);
    expect(values(run(R, 'aten::mean', [e]))[0]).toBeNaN();
    const s = fromArrays([], Float64Array.of(2.5));
    expectClose(values(run(R, 'aten::sum', [s])), [2.5]);
    expectClose(values(run(R, 'aten::mean', [s, [0], true])), [2.5]);
    checkJvp(R, 'aten::sum', () => ({ args: [fromArrays([], Float64Array.of(2.5))] }));
  });

  it('strided inputs: a permuted view and an expanded (stride-0) view', () => {
    const base = rt([3, 4], 3);
    const tr = base.view([4, 3], [1, 4], 0, () => null);
    const dense43 = values(tr);
    expectClose(values(run(R, 'aten::sum', [tr, [1]])), refReduce([4, 3], dense43, [1], false, sum).v);
    const ex = base.view([3, 5, 4], [4, 0, 1], 0, () => null);
    expectClose(
      values(run(R, 'aten::sum', [ex, [1]])),
      values(base).map((v) => 5 * v),
    );
    expectClose(
      values(run(R, 'aten::mean', [ex, [0, 1]])),
      refReduce([3, 5, 4], values(ex), [0, 1], false, mean).v,
    );
  });

  it('a tangent constant along a reduced axis is scaled, along a kept axis stays stride 0', () => {
    for (const op of ['aten::sum', 'aten::mean']) {
      const t1 = checkStructured(
        R,
        op,
        () => ({ args: [rt([2, 6, 3], 1), [1]] }),
        () => [constantAlong([2, 6, 3], [1], 2, 4)],
      );
      expect(t1!.data.re.length).toBe(2 * 2 * 3);
      const t2 = checkStructured(
        R,
        op,
        () => ({ args: [rt([2, 6, 3], 1), [2], true] }),
        () => [constantAlong([2, 6, 3], [1], 2, 4)],
      );
      expect(tanStrides(t2)[1]).toBe(0);
      expect(t2!.data.re.length).toBe(2 * 2);
    }
  });

  it('a boxed tangent sums over its box; kept axes keep the box', () => {
    for (const op of ['aten::sum', 'aten::mean']) {
      const t = checkStructured(
        R,
        op,
        () => ({ args: [rt([4, 6, 3], 1), [1]] }),
        () => [boxedTangent([4, 6, 3], [2, 3, 3], 2, 4)],
      );
      expect(boxOf(t!)).toEqual([2, 3]);
      expect(t!.full).toEqual([4, 3]);
      const k = checkStructured(
        R,
        op,
        () => ({ args: [rt([4, 6, 3], 1), [0, 2], true] }),
        () => [boxedTangent([4, 6, 3], [2, 3, 1], 2, 4)],
      );
      expect(boxOf(k!)).toEqual([1, 3, 1]);
      checkStructured(
        R,
        op,
        () => ({ args: [rt([4, 6, 3], 1)] }),
        () => [boxedTangent([4, 6, 3], [2, 3, 1], 2, 4)],
      );
    }
  });

  it('complex boxed tangents', () => {
    const t = checkStructured(
      R,
      'aten::sum',
      () => ({ args: [rt([4, 3], 1, 'complex'), [0]] }),
      () => [boxedTangent([4, 3], [2, 2], 2, 4, 'complex')],
    );
    expect(boxOf(t!)).toEqual([2]);
  });
});

describe('prod', () => {
  const x = rt([2, 3, 4], 1);
  for (const [dim, keepdim] of [
    [null, false],
    [0, false],
    [1, true],
    [-1, false],
  ] as const)
    it(`dim=${dim} keepdim=${keepdim}`, () => {
      const args = dim === null ? [x] : [x, dim, keepdim];
      const out = run(R, 'aten::prod', args);
      const ref = refReduce(x.shape, values(x), dim === null ? null : [dim], keepdim, prod);
      expect(out.shape).toEqual(ref.shape);
      expectClose(values(out), ref.v, 1e-14);
      checkJvp(R, 'aten::prod', () => ({
        args: dim === null ? [rt([2, 3, 4], 1)] : [rt([2, 3, 4], 1), dim, keepdim],
      }));
    });

  it('derivative with zeros in the input (one zero, two zeros)', () => {
    const mk = () => fromArrays([2, 3], Float64Array.of(2, 0, 3, 0, 0, 5));
    const v = mk();
    v.tan = tan(fromArrays([1, 2, 3], Float64Array.of(1, 1, 1, 1, 1, 1)));
    const out = callOp(R, 'aten::prod', [v, 1], {}, { P: 1 }, true) as GTensor;
    expectClose(values(out), [0, 0]);
    // row 0: d = 0·3 + 2·3 + 2·0 = 6; row 1: every term has a zero factor
    expectClose(values(dense(tangentOf(out)!)), [6, 0]);
    checkJvp(R, 'aten::prod', () => ({ args: [mk(), 1] }));
    checkJvp(R, 'aten::prod', () => ({ args: [mk()] }));
  });

  it('boxed tangent; integers; complex refused', () => {
    const t = checkStructured(
      R,
      'aten::prod',
      () => ({ args: [rt([4, 3], 1), 0] }),
      () => [boxedTangent([4, 3], [2, 2], 2, 4)],
    );
    expect(boxOf(t!)).toEqual([2]);
    checkStructured(
      R,
      'aten::prod',
      () => ({ args: [rt([4, 3], 1)] }),
      () => [constantAlong([4, 3], [0], 2, 4)],
    );
    const i = run(R, 'aten::prod', [fromArrays([3], Float64Array.of(2, 3, 4), null, 'int')]);
    expect(i.kind).toBe('int');
    expectClose(values(i), [24]);
    expect(() => run(R, 'aten::prod', [rt([2], 1, 'complex')])).toThrow(/complex/);
  });
});
