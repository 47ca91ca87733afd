import { describe, expect, it } from 'vitest';
import { normRules as R } from '../../../../src/engine/graph/rules/norm';
import { boxOf, isFull } from '../../../../src/engine/graph/tangent';
import { checkJvp } from '../jvp-check';
import {
  boxedTangent,
  checkStructured,
  constantAlong,
  expectClose,
  positive,
  randTensor,
  run,
  tanStrides,
  values,
} from './structured';

const rt = randTensor;

/**
 * Reference: standardise the entries k with group(k) = g by hand, then y = x̂·w[ch(k)] + b[ch(k)].
 */
function refNorm(
  v: number[],
  group: (k: number) => number,
  eps: number,
  w: number[] | null,
  b: number[] | null,
  ch: (k: number) => number,
): number[] {
  const sums = new Map<number, number[]>();
  v.forEach((x, k) => {
    const g = group(k);
    if (!sums.has(g)) sums.set(g, []);
    sums.get(g)!.push(x);
  });
  const stats = new Map<number, [number, number]>();
  for (const [g, xs] of sums) {
    const mu = xs.reduce((a, c) => a + c, 0) / xs.length;
    const va = xs.reduce((a, c) => a + (c - mu) ** 2, 0) / xs.length;
    stats.set(g, [mu, va]);
  }
  return v.map((x, k) => {
    const [mu, va] = stats.get(group(k))!;
    const xh = (x - mu) / Math.sqrt(va + eps);
    return xh * (w ? w[ch(k)] : 1) + (b ? b[ch(k)] : 0);
  });
}

describe('layer_norm', () => {
  for (const ns of [[4], [3, 4]])
    for (const affine of [false, true])
      it(`normalized_shape ${JSON.stringify(ns)}, ${affine ? 'with' : 'without'} weight and bias`, () => {
        const x = rt([2, 3, 4], 1, 'float', 2);
        const K = ns.reduce((a, c) => a * c, 1);
        const w = affine ? rt(ns, 2) : null;
        const b = affine ? rt(ns, 3) : null;
        const want = refNorm(
          values(x),
          (k) => Math.floor(k / K),
          1e-3,
          w && values(w),
          b && values(b),
          (k) => k % K,
        );
        expectClose(values(run(R, 'aten::layer_norm', [x, ns, w, b, 1e-3, true])), want, 1e-13);
        const build = () => ({
          args: [
            rt([2, 3, 4], 1, 'float', 2),
            ns,
            affine ? rt(ns, 2) : null,
            affine ? rt(ns, 3) : null,
            1e-3,
            true,
          ],
        });
        checkJvp(R, 'aten::layer_norm', build);
        if (affine) {
          checkJvp(R, 'aten::layer_norm', build, { perturb: (i) => i > 0 });
          checkJvp(R, 'aten::layer_norm', build, { perturb: (i) => i === 0 });
        }
      });

  it('default eps, keyword arguments, structured tangents, errors', () => {
    const x = rt([3, 5], 4);
    expectClose(
      values(run(R, 'aten::layer_norm', [x, [5]])),
      refNorm(
        values(x),
        (k) => Math.floor(k / 5),
        1e-5,
        null,
        null,
        () => 0,
      ),
    );
    const build = () => ({ args: [rt([3, 5, 4], 4), [4]], kwargs: { weight: rt([4], 5), eps: 1e-4 } });
    const t = checkStructured(R, 'aten::layer_norm', build, () => [
      boxedTangent([3, 5, 4], [2, 1, 4], 2, 6),
      null,
    ]);
    expect(isFull(t!)).toBe(true);
    checkStructured(R, 'aten::layer_norm', build, () => [constantAlong([3, 5, 4], [1], 2, 6), null]);
    // a weight tangent alone: x̂·dw, broadcast over the leading axes
    checkStructured(R, 'aten::layer_norm', build, () => [null, tan1([4], 2, 7)]);
    expect(() => run(R, 'aten::layer_norm', [x, [4]])).toThrow(/normalized_shape/);
    expect(() => run(R, 'aten::layer_norm', [x, [5], rt([4], 1)])).toThrow(/weight/);
    expect(() => run(R, 'aten::layer_norm', [rt([3, 5], 1, 'complex'), [5]])).toThrow(/complex/);
  });
});

function tan1(shape: number[], P: number, seed: number) {
  return boxedTangent(shape, shape, P, seed);
}

describe('group_norm', () => {
  for (const [shape, G] of [
    [[2, 6, 5], 3],
    [[2, 4], 2],
    [[2, 4, 3, 2], 1],
    [[1, 4, 3], 4],
  ] as [number[], number][])
    it(`${JSON.stringify(shape)} in ${G} groups`, () => {
      const [, C] = shape;
      const S = shape.slice(2).reduce((a, c) => a * c, 1);
      const x = rt(shape, 1, 'float', 2);
      const w = rt([C], 2);
      const b = rt([C], 3);
      const ch = (k: number) => Math.floor(k / S) % C;
      const group = (k: number) => Math.floor(k / (S * C)) * G + Math.floor(ch(k) / (C / G));
      const want = refNorm(values(x), group, 1e-5, values(w), values(b), ch);
      expectClose(values(run(R, 'aten::group_norm', [x, G, w, b, 1e-5, true])), want, 1e-13);
      expectClose(
        values(run(R, 'aten::group_norm', [x, G])),
        refNorm(values(x), group, 1e-5, null, null, ch),
        1e-13,
      );
      const build = () => ({ args: [rt(shape, 1, 'float', 2), G, rt([C], 2), rt([C], 3), 1e-5, true] });
      checkJvp(R, 'aten::group_norm', build);
      checkJvp(R, 'aten::group_norm', build, { perturb: (i) => i > 0 });
    });

  it('structured tangents and errors', () => {
    const build = () => ({ args: [rt([2, 4, 6], 1), 2, rt([4], 2), null] });
    checkStructured(R, 'aten::group_norm', build, () => [boxedTangent([2, 4, 6], [1, 3, 6], 2, 4), null]);
    checkStructured(R, 'aten::group_norm', build, () => [constantAlong([2, 4, 6], [2], 2, 4), null]);
    expect(() => run(R, 'aten::group_norm', [rt([2, 4, 6], 1), 3])).toThrow(/groups/);
    expect(() => run(R, 'aten::group_norm', [rt([2, 4, 6], 1), 2, rt([3], 1)])).toThrow(/weight/);
  });
});

describe('batch_norm', () => {
  const shapes = [
    [4, 3, 5],
    [4, 3],
    [2, 3, 2, 2],
  ];
  for (const shape of shapes)
    it(`evaluation mode ${JSON.stringify(shape)}: running statistics`, () => {
      const C = shape[1];
      const S = shape.slice(2).reduce((a, c) => a * c, 1);
      const x = rt(shape, 1);
      const [w, b, m, v] = [rt([C], 2), rt([C], 3), rt([C], 4), positive([C], 5)];
      const ch = (k: number) => Math.floor(k / S) % C;
      const [wv, bv, mv, vv] = [w, b, m, v].map((t) => values(t));
      const want = values(x).map(
        (xv, k) => ((xv - mv[ch(k)]) / Math.sqrt(vv[ch(k)] + 1e-5)) * wv[ch(k)] + bv[ch(k)],
      );
      expectClose(values(run(R, 'aten::batch_norm', [x, w, b, m, v, false, 0.1, 1e-5, true])), want, 1e-13);
      const noAffine = values(x).map((xv, k) => (xv - mv[ch(k)]) / Math.sqrt(vv[ch(k)] + 1e-5));
      expectClose(
        values(run(R, 'aten::batch_norm', [x, null, null, m, v, false, 0.1, 1e-5, true])),
        noAffine,
        1e-13,
      );
      const build = () => ({
        args: [rt(shape, 1), rt([C], 2), rt([C], 3), rt([C], 4), positive([C], 5), false, 0.1, 1e-5, true],
      });
      checkJvp(R, 'aten::batch_norm', build);
      checkJvp(R, 'aten::batch_norm', build, { perturb: (i) => i === 0 });
      checkJvp(R, 'aten::batch_norm', build, { perturb: (i) => i >= 3 });
      checkJvp(R, 'aten::batch_norm', () => ({
        args: [rt(shape, 1), null, null, rt([C], 4), positive([C], 5), false, 0.1, 1e-5, true],
      }));
    });

  it('evaluation mode is affine in x: the tangent keeps its box and its stride-0 axes', () => {
    const build = () => ({
      args: [rt([4, 3, 6], 1), rt([3], 2), rt([3], 3), rt([3], 4), positive([3], 5), false, 0.1, 1e-5, true],
    });
    const t = checkStructured(R, 'aten::batch_norm', build, () => [boxedTangent([4, 3, 6], [2, 2, 1], 2, 6)]);
    expect(boxOf(t!)).toEqual([2, 2, 1]);
    const c = checkStructured(R, 'aten::batch_norm', build, () => [constantAlong([4, 3, 6], [2], 2, 6)]);
    expect(tanStrides(c)[2]).toBe(0);
  });

  for (const shape of shapes)
    it(`training mode ${JSON.stringify(shape)}: batch statistics, differentiated`, () => {
      const C = shape[1];
      const S = shape.slice(2).reduce((a, c) => a * c, 1);
      const x = rt(shape, 1, 'float', 2);
      const [w, b] = [rt([C], 2), rt([C], 3)];
      const ch = (k: number) => Math.floor(k / S) % C;
      const want = refNorm(values(x), ch, 1e-5, values(w), values(b), ch);
      const rm = rt([C], 4);
      const rmBefore = values(rm);
      expectClose(
        values(run(R, 'aten::batch_norm', [x, w, b, rm, positive([C], 5), true, 0.1, 1e-5, true])),
        want,
        1e-13,
      );
      expectClose(values(rm), rmBefore); // running statistics are left alone
      expectClose(
        values(run(R, 'aten::batch_norm', [x, w, b, null, null, true, 0.1, 1e-5, true])),
        want,
        1e-13,
      );
      const build = () => ({
        args: [rt(shape, 1, 'float', 2), rt([C], 2), rt([C], 3), null, null, true, 0.1, 1e-5, true],
      });
      checkJvp(R, 'aten::batch_norm', build);
      checkJvp(R, 'aten::batch_norm', build, { perturb: (i) => i === 0 });
      checkStructured(R, 'aten::batch_norm', build, () => [
        boxedTangent(
          shape,
          shape.map((d) => Math.max(1, d - 1)),
          2,
          7,
        ),
        null,
        null,
      ]);
    });

  it('errors', () => {
    const x = rt([2, 3], 1);
    expect(() => run(R, 'aten::batch_norm', [x, null, null, null, null, false, 0.1, 1e-5, true])).toThrow(
      /running_mean/,
    );
    expect(() =>
      run(R, 'aten::batch_norm', [rt([1, 3], 1), null, null, null, null, true, 0.1, 1e-5, true]),
    ).toThrow(/more than 1 value/);
    expect(() =>
      run(R, 'aten::batch_norm', [x, rt([2], 1), null, null, null, true, 0.1, 1e-5, true]),
    ).toThrow(/weight/);
    expect(() =>
      run(R, 'aten::batch_norm', [rt([3], 1), null, null, null, null, true, 0.1, 1e-5, true]),
    ).toThrow(/channel/);
  });
});
