import { describe, expect, it } from 'vitest';
import { callOp } from '../../../../src/engine/graph/dispatch';
import { complexRules } from '../../../../src/engine/graph/rules/complex';
import { GTensor } from '../../../../src/engine/graph/tensor';
import { checkJvp } from '../jvp-check';
import { checkStructured, randTensor, structuredTan, vals } from './linear-check';

const call = (op: string, x: GTensor) =>
  callOp(complexRules, `aten::${op}`, [x], {}, { P: 1 }, false) as GTensor;

describe('complex ↔ real', () => {
  it('forward values, strided inputs', () => {
    const base = randTensor([3, 4], 1, 'complex');
    const x = new GTensor([4, 3], [1, 4], 0, base.re, base.im, 'complex'); // transposed
    const [xr, xi] = vals(x);
    const r = call('view_as_real', x);
    expect(r.shape).toEqual([4, 3, 2]);
    const rv = vals(r)[0];
    for (let i = 0; i < 12; i++) {
      expect(rv[2 * i]).toBe(xr[i]);
      expect(rv[2 * i + 1]).toBe(xi![i]);
    }
    const c = call('view_as_complex', r);
    expect(c.kind).toBe('complex');
    expect(vals(c)).toEqual([xr, xi]);
    expect(vals(call('real', x))[0]).toEqual(xr);
    expect(vals(call('imag', x))[0]).toEqual(xi);
    const cj = vals(call('conj', x));
    expect(cj[0]).toEqual(xr);
    expect(Array.from(cj[1]!)).toEqual(Array.from(xi!).map((v) => -v));
    // real inputs: real and conj return the tensor itself
    const y = randTensor([3], 2);
    expect(call('real', y)).toBe(y);
    expect(call('conj', y)).toBe(y);
    expect(call('resolve_conj', x)).toBe(x);
    expect(() => call('imag', y)).toThrow(/non-complex/);
    expect(() => call('view_as_real', y)).toThrow(/complex/);
    expect(() => call('view_as_complex', randTensor([3, 3], 1))).toThrow(/size 2/);
    // results are copies: writing them in place is refused
    expect(r.readonlyReason).toMatch(/copy/);
  });

  it('JVP of every op', () => {
    for (const op of ['view_as_real', 'real', 'imag', 'conj', 'conj_physical', 'resolve_conj'])
      checkJvp(complexRules, `aten::${op}`, () => ({ args: [randTensor([2, 3], 1, 'complex')] }));
    checkJvp(complexRules, 'aten::view_as_complex', () => ({ args: [randTensor([2, 3, 2], 1)] }));
    checkJvp(complexRules, 'aten::real', () => ({ args: [randTensor([2, 3], 1)] }));
  });

  it('structured tangents: stride-0 axes and boxes survive', () => {
    const shape = [2, 5];
    checkStructured(
      complexRules,
      'aten::view_as_real',
      () => ({ args: [randTensor(shape, 1, 'complex')] }),
      () => [structuredTan(shape, 2, 3, { const: [1], kind: 'complex' })],
      {
        check: (t) => {
          expect(t!.data.shape).toEqual([2, 2, 5, 2]);
          expect(t!.data.strides[2]).toBe(0);
        },
      },
    );
    // a real-valued tangent of a complex value: the imaginary half stays out of the box
    checkStructured(
      complexRules,
      'aten::view_as_real',
      () => ({ args: [randTensor(shape, 1, 'complex')] }),
      () => [structuredTan(shape, 2, 3, { box: [1, 5] })],
      { check: (t) => expect(t!.data.shape).toEqual([2, 1, 5, 1]) },
    );
    checkStructured(
      complexRules,
      'aten::view_as_complex',
      () => ({ args: [randTensor([2, 5, 2], 1)] }),
      () => [structuredTan([2, 5, 2], 2, 3, { const: [1], box: [2, 5, 1] })],
      { check: (t) => expect(t!.data.strides[2]).toBe(0) },
    );
    for (const op of ['real', 'imag', 'conj'])
      checkStructured(
        complexRules,
        `aten::${op}`,
        () => ({ args: [randTensor(shape, 1, 'complex')] }),
        () => [structuredTan(shape, 2, 3, { const: [0], box: [2, 3], kind: 'complex' })],
        { check: (t) => expect(t!.data.strides[1]).toBe(0) },
      );
  });
});
