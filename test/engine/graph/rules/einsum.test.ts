import { describe, expect, it } from 'vitest';
import { callOp } from '../../../../src/engine/graph/dispatch';
import { einsumRules, parseEinsum } from '../../../../src/engine/graph/rules/einsum';
import { GTensor, type Kind } from '../../../../src/engine/graph/tensor';
import { checkJvp } from '../jvp-check';
import { checkStructured, naiveEinsum, randTensor, relDiff, structuredTan, vals } from './linear-check';

const einsum = (eq: string, ts: GTensor[]) =>
  callOp(einsumRules, 'aten::einsum', [eq, ts], {}, { P: 1 }, false) as GTensor;

const CASES: [string, number[][]][] = [
  [
    'bix,iox->box',
    [
      [2, 3, 4],
      [3, 5, 4],
    ],
  ],
  [
    'ij,jk->ik',
    [
      [3, 4],
      [4, 5],
    ],
  ],
  ['ij->ji', [[3, 4]]],
  ['ij->', [[3, 4]]],
  ['ii->i', [[4, 4]]],
  ['ii', [[4, 4]]],
  ['iij->j', [[3, 3, 2]]],
  ['i,i->', [[5], [5]]],
  ['i,j->ij', [[3], [4]]],
  [
    'ij,ij->ij',
    [
      [1, 3],
      [2, 3],
    ],
  ],
  [
    'ij,ij->i',
    [
      [2, 3],
      [2, 3],
    ],
  ],
  [
    'bij,bjk->bik',
    [
      [2, 3, 4],
      [2, 4, 5],
    ],
  ],
  [
    '...ij,...jk->...ik',
    [
      [2, 1, 3, 4],
      [5, 4, 2],
    ],
  ],
  ['...i,i', [[2, 3, 4], [4]]],
  [
    'ij,jk,kl->il',
    [
      [2, 3],
      [3, 4],
      [4, 2],
    ],
  ],
  [
    'ij,jk',
    [
      [2, 3],
      [3, 4],
    ],
  ],
  ['ba', [[2, 3]]],
  [
    'bi,bi,bj->bj',
    [
      [2, 3],
      [2, 3],
      [2, 4],
    ],
  ],
  [
    'Ab,bA->',
    [
      [3, 2],
      [2, 3],
    ],
  ],
];

describe('einsum: forward against a naive reference', () => {
  it('equations: diagonals, ellipsis, broadcasting, implicit output, 3 operands', () => {
    let seed = 1;
    for (const [eq, shapes] of CASES)
      for (const kind of ['float', 'complex'] as Kind[]) {
        const ts = shapes.map((s) => randTensor(s, seed++, kind));
        const y = einsum(eq, ts);
        const ref = naiveEinsum(eq, ts);
        expect(y.shape, eq).toEqual(ref.shape);
        expect(relDiff(vals(y), [ref.re, kind === 'complex' ? ref.im : null]), eq).toBeLessThan(1e-13);
      }
  });

  it('mixed real/complex operands and strided layouts', () => {
    // x [B, I, X] stored modes-major (the layout of an rfft slice), weights [I, O, X] contiguous
    const B = 3;
    const I = 4;
    const X = 5;
    const base = randTensor([X, B, I], 1, 'complex');
    const x = new GTensor([B, I, X], [I, 1, B * I], 0, base.re, base.im, 'complex');
    const w = randTensor([I, 6, X], 2, 'complex');
    const ref = naiveEinsum('bix,iox->box', [x, w]);
    expect(relDiff(vals(einsum('bix,iox->box', [x, w])), [ref.re, ref.im])).toBeLessThan(1e-13);
    const wr = randTensor([I, 6, X], 3);
    const r2 = naiveEinsum('bix,iox->box', [x, wr]);
    expect(relDiff(vals(einsum('bix,iox->box', [x, wr])), [r2.re, r2.im])).toBeLessThan(1e-13);
    // a transposed, sliced operand
    const m = randTensor([6, 8], 4);
    const mt = new GTensor([4, 6], [2, 8], 1, m.re, null, 'float');
    const v = randTensor([6, 3], 5);
    const r3 = naiveEinsum('ij,jk->ik', [mt, v]);
    expect(relDiff(vals(einsum('ij,jk->ik', [mt, v])), [r3.re, null])).toBeLessThan(1e-13);
  });

  it('parses like torch and rejects bad equations', () => {
    expect(parseEinsum('ij,jk', [2, 2]).out).toEqual([34, 36]); // i, k
    expect(parseEinsum('...ij->...ji', [4]).out).toEqual([1001, 1000, 35, 34]);
    expect(() => einsum('ij,jk->ik', [randTensor([2, 3], 1), randTensor([4, 5], 2)])).toThrow(/do not match/);
    expect(() => einsum('ij->q', [randTensor([2, 3], 1)])).toThrow(/no operand/);
    expect(() => einsum('ijk->i', [randTensor([2, 3], 1)])).toThrow(/dimensions/);
    expect(() => einsum('ii->i', [randTensor([2, 3], 1)])).toThrow(/repeated/);
  });
});

describe('einsum: JVP', () => {
  it('dense tangents on every operand, real and complex', () => {
    let seed = 100;
    for (const [eq, shapes] of CASES)
      for (const kind of ['float', 'complex'] as Kind[]) {
        const s0 = seed;
        seed += shapes.length;
        checkJvp(einsumRules, 'aten::einsum', () => ({
          args: [eq, shapes.map((s, i) => randTensor(s, s0 + i, kind))],
        }));
      }
  });

  it('a tangent boxed along a batch letter cuts the other operand and stays boxed', () => {
    // the spectral mix of a DC-only spectrum: box 1 along x
    const xs = [2, 6, 5];
    checkStructured(
      einsumRules,
      'aten::einsum',
      () => ({ args: ['bix,iox->box', [randTensor(xs, 1, 'complex'), randTensor([6, 3, 5], 2, 'complex')]] }),
      () => [structuredTan(xs, 3, 4, { box: [2, 6, 1], kind: 'complex' })],
      {
        P: 3,
        check: (t) => {
          expect(t!.data.shape).toEqual([3, 2, 3, 1]);
          expect(t!.full).toEqual([2, 3, 5]);
        },
      },
    );
    // boxes along a contracted letter (full result) and an output letter (kept)
    checkStructured(
      einsumRules,
      'aten::einsum',
      () => ({ args: ['bix,iox->box', [randTensor(xs, 1, 'complex'), randTensor([6, 3, 5], 2, 'complex')]] }),
      () => [structuredTan(xs, 2, 4, { box: [1, 2, 5], kind: 'complex' })],
      { check: (t) => expect(t!.data.shape).toEqual([2, 1, 3, 5]) },
    );
    // both operands with tangents, different boxes: the sum covers their union
    checkStructured(
      einsumRules,
      'aten::einsum',
      () => ({ args: ['bix,iox->box', [randTensor(xs, 1, 'complex'), randTensor([6, 3, 5], 2, 'complex')]] }),
      () => [
        structuredTan(xs, 2, 4, { box: [2, 6, 1], kind: 'complex' }),
        structuredTan([6, 3, 5], 2, 5, { box: [6, 2, 3], kind: 'complex' }),
      ],
      { check: (t) => expect(t!.data.shape).toEqual([2, 2, 3, 3]) },
    );
  });

  it('a tangent constant along an output letter stays stride 0', () => {
    const xs = [2, 7, 4];
    checkStructured(
      einsumRules,
      'aten::einsum',
      () => ({ args: ['bti,io->bto', [randTensor(xs, 1), randTensor([4, 3], 2)]] }),
      () => [structuredTan(xs, 2, 4, { const: [1] })],
      {
        check: (t) => {
          expect(t!.data.strides[2]).toBe(0);
          expect(t!.data.re.length).toBe(2 * 2 * 3);
        },
      },
    );
    // constant along a contracted letter: the other operand is summed first
    checkStructured(
      einsumRules,
      'aten::einsum',
      () => ({ args: ['bti,io->bo', [randTensor(xs, 1), randTensor([4, 3], 2)]] }),
      () => [structuredTan(xs, 2, 4, { const: [2] })],
    );
  });

  it('diagonals of boxed tangents', () => {
    checkStructured(
      einsumRules,
      'aten::einsum',
      () => ({ args: ['ii->i', [randTensor([4, 4], 1)]] }),
      () => [structuredTan([4, 4], 2, 4, { box: [3, 2] })],
    );
  });
});
