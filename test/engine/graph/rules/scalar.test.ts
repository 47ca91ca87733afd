import { describe, expect, it } from 'vitest';
import { tangentOf } from '../../../../src/engine/graph/dispatch';
import { tan } from '../../../../src/engine/graph/tangent';
import { fromArrays, scalarTensor } from '../../../../src/engine/graph/tensor';
import { checkJvp, randTensor } from '../jvp-check';
import { T, call, callT, iota, tanValues, values } from './shape-fd';

describe('sizes and scalars', () => {
  it('size / dim / numel / len / stride / shape', () => {
    const x = iota([2, 3, 4]);
    expect(call('aten::size', [x])).toEqual([2, 3, 4]);
    expect(call('aten::size', [x, -1])).toBe(4);
    expect(call('aten::size', [x], { dim: 1 })).toBe(3);
    expect(() => call('aten::size', [x, 3])).toThrow(/aten::size: dim 3 is out of range/);
    expect(call('prim::shape', [x])).toEqual([2, 3, 4]);
    expect(call('aten::dim', [x])).toBe(3);
    expect(call('aten::numel', [x])).toBe(24);
    expect(call('aten::len', [x])).toBe(2);
    expect(call('aten::len', [[1, 2, 3]])).toBe(3);
    expect(call('aten::stride', [x, 0])).toBe(12);
    expect(call('aten::is_complex', [iota([1], 'complex')])).toBe(true);
    expect(call('aten::is_floating_point', [x])).toBe(true);
  });

  it('sizes of a tensor with a tangent are plain numbers', () => {
    const x = randTensor([2, 3], 1);
    x.tan = tan(randTensor([2, 2, 3], 2));
    expect(call('aten::size', [x, 0])).toBe(2);
    expect(call('aten::numel', [x])).toBe(6);
  });

  it('NumToTensor / Int / Float / Bool / item / ScalarImplicit', () => {
    const n = callT('prim::NumToTensor', [5]);
    expect(n.shape).toEqual([]);
    expect(n.kind).toBe('int');
    expect(callT('prim::NumToTensor', [2.5]).kind).toBe('float');
    expect(callT('prim::NumToTensor', [true]).kind).toBe('bool');
    expect(call('aten::Int', [n])).toBe(5);
    expect(call('aten::Int', [scalarTensor(-2.7)])).toBe(-2);
    expect(call('aten::Int', [3.9])).toBe(3);
    expect(call('aten::Float', [n])).toBe(5);
    expect(call('aten::Float', [fromArrays([1, 1], Float64Array.of(1.5))])).toBe(1.5);
    expect(call('aten::Bool', [scalarTensor(0)])).toBe(false);
    expect(call('aten::ScalarImplicit', [scalarTensor(0.25)])).toBe(0.25);
    expect(call('aten::item', [scalarTensor(4)])).toBe(4);
    expect(call('aten::item', [scalarTensor(1, 'bool')])).toBe(true);
    expect(() => call('aten::Float', [iota([2])])).toThrow(/aten::Float: a tensor of shape \[2\]/);
    // a value that depends on p becomes a plain number (as .item() does under autograd)
    const x = scalarTensor(2);
    x.tan = tan(randTensor([2], 1));
    expect(call('aten::Float', [x])).toBe(2);
  });

  it('prim::dtype / device / layout', () => {
    expect(call('prim::dtype', [iota([1])])).toBe(6);
    expect(call('prim::dtype', [iota([1], 'complex')])).toBe(9);
    expect(call('prim::dtype', [fromArrays([1], Float64Array.of(1), null, 'int')])).toBe(4);
    expect(call('prim::device', [iota([1])])).toBe('cpu');
    expect(call('prim::layout', [iota([1])])).toBe(0);
  });
});

describe('dtype conversions', () => {
  it('to: same kind returns self; every overload', () => {
    const x = iota([3]);
    expect(call('aten::to', [x, 6, false, false, null])).toBe(x);
    expect(call('aten::to', [x, 7])).toBe(x);
    expect(call('aten::to', [x, 'cpu', 6, false, false])).toBe(x);
    expect(call('aten::to', [x], { dtype: { dtype: 'float32' } })).toBe(x);
    expect(call('aten::to', [x, { dtype: 'float64' }])).toBe(x);
    expect(call('aten::to', [x, 6, false, true])).not.toBe(x);
    expect(call('aten::to', [x, x])).toBe(x);
    const c = callT('aten::to', [x, 9]);
    expect(c.kind).toBe('complex');
    expect(values(c)).toEqual([0, 1, 2]);
    expect(values(c, true)).toEqual([0, 0, 0]);
    expect(callT('aten::to', [x, iota([1], 'complex')]).kind).toBe('complex');
    expect(callT('aten::to', [x, null, 9]).kind).toBe('complex');
    expect(callT('aten::to', [x], { device: 'cpu', dtype: 4 }).kind).toBe('int');
    expect(() => call('aten::to', [x, 12])).toThrow(/aten::to: unsupported dtype 12/);
  });

  it('integer and bool casts round toward zero', () => {
    const x = fromArrays([4], Float64Array.of(-1.5, 0, 0.2, 2.9));
    const i = callT('aten::to', [x, 4]);
    expect(i.kind).toBe('int');
    expect(values(i)).toEqual([-1, 0, 0, 2]);
    expect(values(callT('aten::to', [x, 11]))).toEqual([1, 0, 1, 1]);
    expect(values(callT('aten::long', [x]))).toEqual([-1, 0, 0, 2]);
    expect(values(callT('aten::bool', [x]))).toEqual([1, 0, 1, 1]);
    const z = fromArrays([2], Float64Array.of(0, 0), Float64Array.of(0, 1));
    expect(values(callT('aten::bool', [z]))).toEqual([0, 1]);
    const back = callT('aten::float', [i]);
    expect(back.kind).toBe('float');
    expect(values(back)).toEqual([-1, 0, 0, 2]);
  });

  it('tangents: float↔complex carry (real part), int/bool drop, same kind keeps', () => {
    checkJvp(T, 'aten::to', () => ({ args: [randTensor([2, 3], 1), 9] }));
    checkJvp(T, 'aten::to', () => ({ args: [randTensor([2, 3], 1, 'complex'), 7] }));
    checkJvp(T, 'aten::to', () => ({ args: [randTensor([2, 3], 1), 6, false, true] }));
    checkJvp(T, 'aten::type_as', () => ({ args: [randTensor([2, 3], 1), iota([1], 'complex')] }));
    checkJvp(T, 'aten::double', () => ({ args: [randTensor([2, 3], 1)] }));
    checkJvp(T, 'aten::cfloat', () => ({ args: [randTensor([2, 3], 1)] }));
    const x = randTensor([3], 1);
    x.tan = tan(randTensor([2, 3], 2));
    expect(tangentOf(callT('aten::to', [x, 4]))).toBeNull();
    expect(tangentOf(callT('aten::long', [x]))).toBeNull();
    const v = callT('aten::slice', [x, 0, 1]);
    const same = callT('aten::float', [v]);
    expect(same).toBe(v);
    expect(tanValues(tangentOf(same), 2, [2])).toEqual(tanValues(tangentOf(v), 2, [2]));
  });
});
