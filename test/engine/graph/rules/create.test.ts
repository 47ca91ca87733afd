import { describe, expect, it } from 'vitest';
import { tangentOf } from '../../../../src/engine/graph/dispatch';
import { tan } from '../../../../src/engine/graph/tangent';
import { fromArrays, scalarTensor } from '../../../../src/engine/graph/tensor';
import { randTensor } from '../jvp-check';
import { call, callT, expectValues, iota, values } from './shape-fd';

describe('creation', () => {
  it('zeros / ones / full / empty with dtypes; zeros records that it is zero everywhere', () => {
    const z = callT('aten::zeros', [[2, 3]], { dtype: null, layout: null, device: 'cpu', pin_memory: false });
    expectValues(z, [2, 3], () => 0);
    expect(z.kind).toBe('float');
    expect(z.nz).toEqual([0, 0]);
    expect(callT('aten::zeros', [[2]], { dtype: 9 }).kind).toBe('complex');
    expect(callT('aten::zeros', [[2]], { dtype: { dtype: 'complex64' } }).im).not.toBeNull();
    expect(callT('aten::zeros', [[2]], { dtype: 4 }).kind).toBe('int');
    const o = callT('aten::ones', [[3]], { dtype: 11 });
    expect(o.kind).toBe('bool');
    expectValues(o, [3], () => 1);
    expect(o.nz).toBeNull();
    expectValues(callT('aten::full', [[2, 2], 2.5]), [2, 2], () => 2.5);
    expect(callT('aten::full', [[2], true]).kind).toBe('bool');
    expectValues(callT('aten::full', [[2], 2.7], { dtype: 3 }), [2], () => 2);
    expectValues(callT('aten::empty', [[4]]), [4], () => 0);
    expect(() => call('aten::zeros', [[2, -1]])).toThrow(/aten::zeros: invalid size \[2,-1\]/);
    expect(() => call('aten::zeros', [[2]], { dtype: 99 })).toThrow(/unsupported dtype 99/);
  });

  it('_like and new_ forms take shape and kind from self, dtype overrides', () => {
    const x = iota([2, 3], 'complex');
    const zl = callT('aten::zeros_like', [x]);
    expect(zl.shape).toEqual([2, 3]);
    expect(zl.kind).toBe('complex');
    expect(zl.nz).toEqual([0, 0]);
    expect(callT('aten::ones_like', [x], { dtype: 6 }).kind).toBe('float');
    expectValues(callT('aten::full_like', [x, 3]), [2, 3], () => 3);
    expect(callT('aten::empty_like', [x]).shape).toEqual([2, 3]);
    const nz = callT('aten::new_zeros', [x, [4]]);
    expect(nz.shape).toEqual([4]);
    expect(nz.kind).toBe('complex');
    expectValues(callT('aten::new_ones', [x, [2]], { dtype: 7 }), [2], () => 1);
    expectValues(callT('aten::new_full', [x, [2], -1]), [2], () => -1);
    expect(callT('aten::new_empty', [x, [1, 2]]).shape).toEqual([1, 2]);
  });

  it('no creation result has a tangent, even from an argument that has one', () => {
    const x = randTensor([2, 3], 1);
    x.tan = tan(randTensor([2, 2, 3], 2));
    for (const op of ['aten::zeros_like', 'aten::ones_like', 'aten::empty_like'])
      expect(tangentOf(callT(op, [x]))).toBeNull();
    expect(tangentOf(callT('aten::new_zeros', [x, [3]]))).toBeNull();
    expect(tangentOf(callT('aten::full_like', [x, 1]))).toBeNull();
    expect(tangentOf(callT('aten::tensor', [x]))).toBeNull();
    expect(x.tan).not.toBeNull();
    const same = callT('aten::as_tensor', [x]);
    expect(same).toBe(x);
    expect(tangentOf(same)).not.toBeNull();
  });

  it('arange: its three overloads, integer and float results', () => {
    const a = callT('aten::arange', [5]);
    expectValues(a, [5], ([i]) => i);
    expect(a.kind).toBe('int');
    expectValues(callT('aten::arange', [2, 6]), [4], ([i]) => 2 + i);
    expectValues(callT('aten::arange', [1, 2, 0.25]), [4], ([i]) => 1 + 0.25 * i);
    expect(callT('aten::arange', [1, 2, 0.25]).kind).toBe('float');
    expectValues(callT('aten::arange', [10, 0, -3]), [4], ([i]) => 10 - 3 * i);
    expect(callT('aten::arange', [4], { dtype: 6 }).kind).toBe('float');
    expectValues(callT('aten::arange', [], { end: 3 }), [3], ([i]) => i);
    expectValues(callT('aten::arange', [], { start: 1, end: 3 }), [2], ([i]) => 1 + i);
    expectValues(callT('aten::arange', [3, null, null, 'cpu', false]), [3], ([i]) => i);
    expectValues(callT('aten::arange', [scalarTensor(3, 'int')]), [3], ([i]) => i);
    expect(callT('aten::arange', [0]).shape).toEqual([0]);
    expect(() => call('aten::arange', [0, 5, -1])).toThrow(/aten::arange/);
    expect(() => call('aten::arange', [0, 5, 0])).toThrow(/step must be nonzero/);
  });

  it('linspace / logspace follow PyTorch (exact end points)', () => {
    const l = callT('aten::linspace', [0, 1, 5]);
    expectValues(l, [5], ([i]) => [0, 0.25, 0.5, 0.75, 1][i]);
    expect(l.kind).toBe('float');
    const odd = values(callT('aten::linspace', [-1, 0.3, 7]));
    expect(odd[6]).toBe(0.3);
    expect(odd[0]).toBe(-1);
    odd.forEach((v, i) => expect(v).toBeCloseTo(-1 + (1.3 / 6) * i, 14));
    expectValues(callT('aten::linspace', [3, 9, 1]), [1], () => 3);
    expect(callT('aten::linspace', [3, 9, 0]).shape).toEqual([0]);
    expectValues(callT('aten::logspace', [0, 2, 3]), [3], ([i]) => [1, 10, 100][i]);
    expectValues(callT('aten::logspace', [0, 3, 4], { base: 2 }), [4], ([i]) => 2 ** i);
  });

  it('eye / tensor / scalar_tensor', () => {
    expectValues(callT('aten::eye', [3]), [3, 3], ([i, j]) => (i === j ? 1 : 0));
    expectValues(callT('aten::eye', [2, 3]), [2, 3], ([i, j]) => (i === j ? 1 : 0));
    expect(callT('aten::eye', [2]).nz).toBeNull();
    const t = callT('aten::tensor', [
      [
        [1, 2],
        [3, 4.5],
      ],
    ]);
    expectValues(t, [2, 2], ([i, j]) => [1, 2, 3, 4.5][i * 2 + j]);
    expect(t.kind).toBe('float');
    expect(callT('aten::tensor', [[1, 2]]).kind).toBe('int');
    expect(callT('aten::tensor', [[true, false]]).kind).toBe('bool');
    expect(callT('aten::tensor', [3], { dtype: 7 }).shape).toEqual([]);
    expect(() => call('aten::tensor', [[[1], [2, 3]]])).toThrow(/ragged/);
    const s = callT('aten::scalar_tensor', [2.5]);
    expect(s.shape).toEqual([]);
    expect(s.re[0]).toBe(2.5);
    const c = callT('aten::as_tensor', [fromArrays([2], Float64Array.of(1.7, -2.2))], { dtype: 4 });
    expect(values(c)).toEqual([1, -2]);
  });
});
