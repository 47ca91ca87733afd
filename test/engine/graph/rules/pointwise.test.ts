import { describe, expect, it } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import { pointwiseRules as R } from '../../../../src/engine/graph/rules/pointwise';
import { boxOf, dense, isFull, tan } from '../../../../src/engine/graph/tangent';
import { fromArrays, scalarTensor, zerosTensor } from '../../../../src/engine/graph/tensor';
import { erf } from '../../../../src/engine/ops/erf';
import { checkJvp } from '../jvp-check';
import { expandTan } from '../../../../src/engine/graph/rules/pointwise-tan';
import {
  boxedTangent,
  broadcast2,
  checkStructured,
  constantAlong,
  expectClose,
  positive,
  randTensor,
  run,
  sliceView,
  tanStrides,
  values,
} from './structured';

const rt = randTensor;

describe('binary arithmetic: forward values', () => {
  const a = rt([2, 3, 4], 1);
  const b0 = rt([3, 1], 2);
  const cases: [string, (x: number, y: number) => number, Record<string, unknown>][] = [
    ['aten::add', (x, y) => x + y, {}],
    ['aten::add', (x, y) => x + 2.5 * y, { alpha: 2.5 }],
    ['aten::sub', (x, y) => x - y, {}],
    ['aten::sub', (x, y) => x - 3 * y, { alpha: 3 }],
    ['aten::rsub', (x, y) => y - x, {}],
    ['aten::rsub', (x, y) => y - 2 * x, { alpha: 2 }],
    ['aten::mul', (x, y) => x * y, {}],
    ['aten::div', (x, y) => x / y, {}],
    ['aten::div', (x, y) => Math.floor(x / y), { rounding_mode: 'floor' }],
    ['aten::div', (x, y) => Math.trunc(x / y), { rounding_mode: 'trunc' }],
    ['aten::floor_divide', (x, y) => Math.floor(x / y), {}],
    ['aten::pow', Math.pow, {}],
  ];
  for (const [op, f, kw] of cases)
    it(`${op} ${JSON.stringify(kw)} broadcasts [2,3,4] with [3,1] and [3,1] with [2,3,4]`, () => {
      const abs = (t: typeof a) => fromArrays([...t.shape], Float64Array.from(values(t), Math.abs));
      const x = op === 'aten::pow' ? abs(a) : a;
      const b = op === 'aten::pow' ? abs(b0) : b0;
      const ref = broadcast2(x.shape, values(x), b.shape, values(b), f);
      const out = run(R, op, [x, b], kw);
      expect(out.shape).toEqual(ref.shape);
      expectClose(values(out), ref.v);
      const ref2 = broadcast2(b.shape, values(b), x.shape, values(x), f);
      expectClose(values(run(R, op, [b, x], kw)), ref2.v);
    });

  it('takes Python numbers where aten takes a Scalar', () => {
    expectClose(
      values(run(R, 'aten::add', [a, 2])),
      values(a).map((v) => v + 2),
    );
    expectClose(
      values(run(R, 'aten::mul', [a, -1.5])),
      values(a).map((v) => -1.5 * v),
    );
    expectClose(
      values(run(R, 'aten::rsub', [a, 1])),
      values(a).map((v) => 1 - v),
    );
    expectClose(
      values(run(R, 'aten::div', [a, 4])),
      values(a).map((v) => v / 4),
    );
    expectClose(
      values(run(R, 'aten::pow', [a, 2])),
      values(a).map((v) => v * v),
    );
    expectClose(
      values(run(R, 'aten::pow', [2, a])),
      values(a).map((v) => 2 ** v),
    );
    expectClose(
      values(run(R, 'aten::sub', [a, 1], { alpha: 2 })),
      values(a).map((v) => v - 2),
    );
  });

  it('Python numbers alone give Python numbers (TorchScript int and float arithmetic)', () => {
    const num = (op: string, args: unknown[], kw: Record<string, unknown> = {}) =>
      callOp(R, op, args, kw, { P: 1 }, false);
    expect(num('aten::add', [2, 3])).toBe(5);
    expect(num('aten::add', [2, 3], { alpha: 2 })).toBe(8);
    expect(num('aten::sub', [2, 3])).toBe(-1);
    expect(num('aten::rsub', [2, 3])).toBe(1);
    expect(num('aten::mul', [2.5, 4])).toBe(10);
    expect(num('aten::div', [7, 2])).toBe(3.5);
    expect(num('aten::div', [-7, 2], { rounding_mode: 'floor' })).toBe(-4);
    expect(num('aten::div', [-7, 2], { rounding_mode: 'trunc' })).toBe(-3);
    expect(num('aten::floor_divide', [-7, 2])).toBe(-4);
    expect(num('aten::neg', [3])).toBe(-3);
    expect(num('aten::pow', [2, 10])).toBe(1024);
    expect(num('aten::add', [[1, 2], [3]])).toEqual([1, 2, 3]);
  });

  it('integers: true division is float, floor division and products stay integers', () => {
    const i = fromArrays([4], Float64Array.of(7, -7, 6, 1), null, 'int');
    const j = fromArrays([4], Float64Array.of(2, 2, 4, 3), null, 'int');
    const q = run(R, 'aten::div', [i, j]);
    expect(q.kind).toBe('float');
    expectClose(values(q), [3.5, -3.5, 1.5, 1 / 3]);
    const f = run(R, 'aten::div', [i, j], { rounding_mode: 'floor' });
    expect(f.kind).toBe('int');
    expectClose(values(f), [3, -4, 1, 0]);
    expectClose(values(run(R, 'aten::div', [i, j], { rounding_mode: 'trunc' })), [3, -3, 1, 0]);
    expect(run(R, 'aten::mul', [i, j]).kind).toBe('int');
    expect(run(R, 'aten::add', [i, 2]).kind).toBe('int');
    expect(run(R, 'aten::add', [i, 0.5]).kind).toBe('float');
    expect(() =>
      run(R, 'aten::floor_divide', [i, fromArrays([4], new Float64Array(4), null, 'int')]),
    ).toThrow(/zero/);
    expect(() => run(R, 'aten::div', [i, j], { rounding_mode: 'round' })).toThrow(/rounding_mode/);
  });

  it('complex add, sub, mul, div, neg against hand-written complex arithmetic', () => {
    const z = rt([3, 2], 3, 'complex');
    const w = rt([2], 4, 'complex');
    const [zr, zi, wr, wi] = [values(z), values(z, true), values(w), values(w, true)];
    const ref = (f: (a: number, b: number, c: number, d: number) => [number, number]) => {
      const re: number[] = [];
      const im: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [r, m] = f(zr[i], zi[i], wr[i % 2], wi[i % 2]);
        re.push(r);
        im.push(m);
      }
      return [re, im];
    };
    const check = (op: string, f: (a: number, b: number, c: number, d: number) => [number, number]) => {
      const out = run(R, op, [z, w]);
      expect(out.kind).toBe('complex');
      const [re, im] = ref(f);
      expectClose(values(out), re);
      expectClose(values(out, true), im);
    };
    check('aten::add', (a, b, c, d) => [a + c, b + d]);
    check('aten::sub', (a, b, c, d) => [a - c, b - d]);
    check('aten::mul', (a, b, c, d) => [a * c - b * d, a * d + b * c]);
    check('aten::div', (a, b, c, d) => [
      (a * c + b * d) / (c * c + d * d),
      (b * c - a * d) / (c * c + d * d),
    ]);
    const n = run(R, 'aten::neg', [z]);
    expectClose(
      values(n),
      zr.map((v) => -v),
    );
    expectClose(
      values(n, true),
      zi.map((v) => -v),
    );
    // real ⊗ complex promotes
    expect(run(R, 'aten::mul', [rt([2], 5), w]).kind).toBe('complex');
  });
});

describe('binary arithmetic: JVP', () => {
  const shapes: [number[], number[]][] = [
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [
      [2, 3, 4],
      [3, 1],
    ],
    [[4], [2, 3, 4]],
    [[], [2, 3]],
    [
      [2, 1, 3],
      [4, 1],
    ],
  ];
  for (const op of ['aten::add', 'aten::sub', 'aten::rsub', 'aten::mul', 'aten::div'])
    for (const [sa, sb] of shapes)
      it(`${op} ${JSON.stringify(sa)} ∘ ${JSON.stringify(sb)}`, () => {
        const kw = op === 'aten::div' ? {} : op === 'aten::mul' ? {} : { alpha: 1.5 };
        const b = () => (op === 'aten::div' ? positive(sb, 12) : rt(sb, 12));
        checkJvp(R, op, () => ({ args: [rt(sa, 11), b()], kwargs: kw }));
        // one argument without a tangent
        checkJvp(R, op, () => ({ args: [rt(sa, 11), b()], kwargs: kw }), { perturb: (i) => i === 0 });
        checkJvp(R, op, () => ({ args: [rt(sa, 11), b()], kwargs: kw }), { perturb: (i) => i === 1 });
      });

  for (const op of ['aten::add', 'aten::sub', 'aten::mul', 'aten::div'])
    it(`${op} complex (and complex with real)`, () => {
      checkJvp(R, op, () => ({ args: [rt([3, 2], 1, 'complex'), rt([2], 2, 'complex')] }));
      checkJvp(R, op, () => ({ args: [rt([3, 2], 1), rt([2], 2, 'complex')] }));
      checkJvp(R, op, () => ({ args: [rt([3, 2], 1, 'complex'), positive([3, 2], 2)] }));
    });

  it('scalar operands (Python numbers) carry no tangent', () => {
    checkJvp(R, 'aten::add', () => ({ args: [rt([3, 2], 1), 2], kwargs: { alpha: 3 } }));
    checkJvp(R, 'aten::mul', () => ({ args: [rt([3, 2], 1), -2.5] }));
    checkJvp(R, 'aten::div', () => ({ args: [rt([3, 2], 1), 0.25] }));
    checkJvp(R, 'aten::rsub', () => ({ args: [rt([3, 2], 1), 7] }));
    checkJvp(R, 'aten::sub', () => ({ args: [rt([3, 2], 1), scalarTensor(2)] }));
  });

  it('rounded division and floor_divide have zero derivative', () => {
    for (const mode of ['floor', 'trunc'])
      checkJvp(R, 'aten::div', () => ({
        args: [rt([5], 1), positive([5], 2)],
        kwargs: { rounding_mode: mode },
      }));
    checkJvp(R, 'aten::floor_divide', () => ({ args: [rt([5], 1), positive([5], 2)] }));
    const x = rt([3], 1);
    x.tan = tan(rt([2, 3], 3));
    const out = callOp(R, 'aten::div', [x, 2], { rounding_mode: 'floor' }, { P: 2 }, true);
    expect(tangentOf(out as never)).toBeNull();
  });

  it('neg, pow (tensor ** number, number ** tensor, tensor ** tensor)', () => {
    checkJvp(R, 'aten::neg', () => ({ args: [rt([2, 3], 1)] }));
    checkJvp(R, 'aten::neg', () => ({ args: [rt([2, 3], 1, 'complex')] }));
    for (const e of [2, 3, 0.5, -1.5, 0, 1])
      checkJvp(R, 'aten::pow', () => ({ args: [positive([2, 3], 1), e] }));
    checkJvp(R, 'aten::pow', () => ({ args: [rt([2, 3], 1), 3] }));
    checkJvp(R, 'aten::pow', () => ({ args: [2.5, rt([2, 3], 1)] }));
    checkJvp(R, 'aten::pow', () => ({ args: [positive([2, 3], 1), rt([3], 2)] }));
    checkJvp(R, 'aten::pow', () => ({ args: [positive([3], 1), rt([2, 3], 2)] }));
    // pow's derivative conventions at 0 (PyTorch's): x**0 has derivative 0 even at x = 0
    const z = fromArrays([2], Float64Array.of(0, 2));
    z.tan = tan(fromArrays([1, 2], Float64Array.of(1, 1)));
    const o = callOp(R, 'aten::pow', [z, 0], {}, { P: 1 }, true) as never;
    expectClose(values(dense(tangentOf(o)!)), [0, 0]);
    const e = fromArrays([2], Float64Array.of(1, 2));
    e.tan = tan(fromArrays([1, 2], Float64Array.of(1, 1)));
    const o2 = callOp(R, 'aten::pow', [0, e], {}, { P: 1 }, true) as never;
    expectClose(values(dense(tangentOf(o2)!)), [0, 0]);
  });
});

describe('structured tangents through arithmetic', () => {
  it('a tangent constant over an axis stays stride 0 through add with a primal constant', () => {
    const t = checkStructured(
      R,
      'aten::add',
      () => ({ args: [rt([2, 5, 3], 1), rt([3], 2)] }),
      () => [constantAlong([2, 5, 3], [1], 3, 9), null],
    );
    expect(tanStrides(t)[1]).toBe(0);
    expect(isFull(t!)).toBe(true);
  });

  it("a broadcast argument's tangent is broadcast, not copied (stride 0 over new axes)", () => {
    const t = checkStructured(
      R,
      'aten::sub',
      () => ({ args: [rt([4, 6, 3], 1), rt([4, 1, 3], 2)], kwargs: { alpha: 2 } }),
      () => [null, tan(rt([2, 4, 1, 3], 5))],
    );
    expect(tanStrides(t)[1]).toBe(0);
  });

  it('mul by a factor that is constant along the same axis keeps it stride 0', () => {
    const t = checkStructured(
      R,
      'aten::mul',
      () => ({ args: [rt([2, 5, 3], 1), rt([2, 1, 3], 2)] }),
      () => [constantAlong([2, 5, 3], [1], 2, 9), null],
    );
    expect(tanStrides(t)[1]).toBe(0);
    // but not when the factor varies along it
    const t2 = checkStructured(
      R,
      'aten::mul',
      () => ({ args: [rt([2, 5, 3], 1), rt([5, 3], 2)] }),
      () => [constantAlong([2, 5, 3], [1], 2, 9), null],
    );
    expect(tanStrides(t2)[1]).not.toBe(0);
  });

  it('a boxed tangent keeps its box through mul, div, neg and a broadcast add', () => {
    const shape = [4, 6];
    for (const op of ['aten::mul', 'aten::div', 'aten::add']) {
      const t = checkStructured(
        R,
        op,
        () => ({ args: [rt(shape, 1), positive([6], 2)] }),
        () => [boxedTangent(shape, [2, 3], 2, 4), null],
      );
      expect(boxOf(t!)).toEqual([2, 3]);
    }
    const t = checkStructured(
      R,
      'aten::div',
      () => ({ args: [rt([6], 1), positive(shape, 2)] }),
      () => [null, boxedTangent(shape, [2, 3], 2, 4)],
    );
    expect(boxOf(t!)).toEqual([2, 3]);
    const n = checkStructured(
      R,
      'aten::neg',
      () => ({ args: [rt(shape, 1)] }),
      () => [boxedTangent(shape, [1, 6], 2, 4)],
    );
    expect(boxOf(n!)).toEqual([1, 6]);
  });

  it('two boxed tangents: equal boxes add box to box, different boxes meet in their union', () => {
    const shape = [4, 6];
    const same = checkStructured(
      R,
      'aten::add',
      () => ({ args: [rt(shape, 1), rt(shape, 2)] }),
      () => [boxedTangent(shape, [2, 3], 2, 4), boxedTangent(shape, [2, 3], 2, 5)],
    );
    expect(boxOf(same!)).toEqual([2, 3]);
    const union = checkStructured(
      R,
      'aten::mul',
      () => ({ args: [rt(shape, 1), rt(shape, 2)] }),
      () => [boxedTangent(shape, [3, 2], 2, 4), boxedTangent(shape, [1, 5], 2, 5)],
    );
    expect(boxOf(union!)).toEqual([3, 5]);
    // a boxed tangent against a broadcast (constant-over-rows) tangent
    checkStructured(
      R,
      'aten::sub',
      () => ({ args: [rt(shape, 1), rt([6], 2)] }),
      () => [boxedTangent(shape, [2, 3], 2, 4), tan(rt([2, 6], 7))],
    );
  });

  it('complex boxed tangents', () => {
    const t = checkStructured(
      R,
      'aten::mul',
      () => ({ args: [rt([3, 4], 1, 'complex'), rt([4], 2, 'complex')] }),
      () => [boxedTangent([3, 4], [1, 2], 2, 3, 'complex'), null],
    );
    expect(boxOf(t!)).toEqual([1, 2]);
  });
});

describe('elementwise functions', () => {
  const x = rt([3, 4], 21);
  const p = positive([3, 4], 22);
  const cases: [string, (v: number) => number, 'any' | 'pos'][] = [
    ['sqrt', Math.sqrt, 'pos'],
    ['rsqrt', (v) => 1 / Math.sqrt(v), 'pos'],
    ['exp', Math.exp, 'any'],
    ['expm1', Math.expm1, 'any'],
    ['log', Math.log, 'pos'],
    ['log1p', Math.log1p, 'pos'],
    ['log2', Math.log2, 'pos'],
    ['log10', Math.log10, 'pos'],
    ['abs', Math.abs, 'any'],
    ['sin', Math.sin, 'any'],
    ['cos', Math.cos, 'any'],
    ['tan', Math.tan, 'any'],
    ['atan', Math.atan, 'any'],
    ['erf', erf, 'any'],
    ['square', (v) => v * v, 'any'],
    ['reciprocal', (v) => 1 / v, 'pos'],
  ];
  for (const [name, f, dom] of cases)
    it(`${name}: values, JVP, boxed and in-place`, () => {
      const arg = dom === 'pos' ? p : x;
      expectClose(values(run(R, `aten::${name}`, [arg])), values(arg).map(f), 1e-14);
      const build = () => ({ args: [dom === 'pos' ? positive([3, 4], 22) : rt([3, 4], 21)] });
      checkJvp(R, `aten::${name}`, build);
      checkJvp(R, `aten::${name}_`, build);
      const t = checkStructured(R, `aten::${name}`, build, () => [boxedTangent([3, 4], [2, 1], 2, 5)]);
      expect(boxOf(t!)).toEqual([2, 1]);
    });

  it('abs: derivative 0 at 0; integers stay integers', () => {
    const z = fromArrays([3], Float64Array.of(-2, 0, 3));
    z.tan = tan(fromArrays([1, 3], Float64Array.of(1, 1, 1)));
    const o = callOp(R, 'aten::abs', [z], {}, { P: 1 }, true) as never;
    expectClose(values(dense(tangentOf(o)!)), [-1, 0, 1]);
    expect(run(R, 'aten::abs', [fromArrays([2], Float64Array.of(-1, 2), null, 'int')]).kind).toBe('int');
  });

  it('complex exp, abs, square', () => {
    const z = rt([2, 3], 8, 'complex');
    const [zr, zi] = [values(z), values(z, true)];
    const e = run(R, 'aten::exp', [z]);
    expectClose(
      values(e),
      zr.map((r, i) => Math.exp(r) * Math.cos(zi[i])),
    );
    expectClose(
      values(e, true),
      zr.map((r, i) => Math.exp(r) * Math.sin(zi[i])),
    );
    const a = run(R, 'aten::abs', [z]);
    expect(a.kind).toBe('float');
    expectClose(
      values(a),
      zr.map((r, i) => Math.hypot(r, zi[i])),
    );
    const s = run(R, 'aten::square', [z]);
    expectClose(
      values(s),
      zr.map((r, i) => r * r - zi[i] * zi[i]),
    );
    expectClose(
      values(s, true),
      zr.map((r, i) => 2 * r * zi[i]),
    );
    for (const op of ['aten::exp', 'aten::abs', 'aten::square', 'aten::exp_'])
      checkJvp(R, op, () => ({ args: [rt([2, 3], 8, 'complex')] }));
    const t = checkStructured(
      R,
      'aten::abs',
      () => ({ args: [rt([3, 4], 8, 'complex')] }),
      () => [boxedTangent([3, 4], [2, 2], 2, 3, 'complex')],
    );
    expect(boxOf(t!)).toEqual([2, 2]);
    // |z| at z = 0: derivative 0
    const zero = fromArrays([1], Float64Array.of(0), Float64Array.of(0));
    zero.tan = tan(fromArrays([1, 1], Float64Array.of(1), Float64Array.of(1)));
    expectClose(values(dense(tangentOf(callOp(R, 'aten::abs', [zero], {}, { P: 1 }, true) as never)!)), [0]);
    expect(() => run(R, 'aten::sqrt', [z])).toThrow(/complex/);
  });

  it('a tangent constant along an axis stays stride 0 where the primal is broadcast too', () => {
    // x = base expanded along axis 1 (stride 0), so exp'(x) is constant along it as well
    const P = 2;
    const base = rt([2, 1, 3], 1);
    const x = base.view([2, 5, 3], [3, 0, 1], 0, (pt) => pt && expandTan(pt, [2, 5, 3]));
    const dbase = rt([P, 2, 1, 3], 4);
    base.tan = tan(dbase);
    const out = callOp(R, 'aten::exp', [x], {}, { P }, true) as never;
    const t = tangentOf(out)!;
    expect(tanStrides(t)[1]).toBe(0);
    const bv = values(base);
    const dv = values(dbase);
    const want: number[] = [];
    for (let p = 0; p < P; p++)
      for (let i = 0; i < 2; i++)
        for (let k = 0; k < 5; k++)
          for (let j = 0; j < 3; j++) want.push(Math.exp(bv[i * 3 + j]) * dv[p * 6 + i * 3 + j]);
    expectClose(values(dense(t)), want);
  });
});

describe('in-place arithmetic', () => {
  it('add_/sub_/mul_/div_ on roots: values and JVP', () => {
    for (const op of ['add_', 'sub_', 'mul_', 'div_']) {
      const a = rt([2, 3], 1);
      const b = positive([3], 2);
      const want = broadcast2([2, 3], values(a), [3], values(b), (x, y) =>
        op === 'add_' ? x + y : op === 'sub_' ? x - y : op === 'mul_' ? x * y : x / y,
      ).v;
      const out = run(R, `aten::${op}`, [a, b]);
      expect(out).toBe(a);
      expectClose(values(a), want);
      checkJvp(R, `aten::${op}`, () => ({ args: [rt([2, 3], 1), positive([3], 2)] }));
      checkJvp(R, `aten::${op}`, () => ({ args: [rt([2, 3], 1), positive([3], 2)] }), {
        perturb: (i) => i === 1,
      });
      checkJvp(R, `aten::${op}`, () => ({ args: [rt([2, 3], 1), positive([3], 2)] }), {
        perturb: (i) => i === 0,
      });
    }
    checkJvp(R, 'aten::add_', () => ({ args: [rt([2, 3], 1, 'complex'), rt([3], 2, 'complex')] }));
    checkJvp(R, 'aten::mul_', () => ({ args: [rt([2, 3], 1, 'complex'), rt([3], 2)] }));
  });

  it('refuses what PyTorch refuses: broadcasting self up, complex into real', () => {
    expect(() => run(R, 'aten::add_', [rt([3], 1), rt([2, 3], 2)])).toThrow(/shape/);
    expect(() => run(R, 'aten::mul_', [rt([3], 1), rt([3], 2, 'complex')])).toThrow(/complex/);
  });

  it('add_ into a slice of a root lands in the root, values and tangent', () => {
    const P = 2;
    const root = rt([4, 5], 1);
    const r0 = values(root);
    const t0 = rt([P, 4, 5], 2);
    root.tan = tan(t0);
    const v = sliceView(root, [1, 1], [2, 3]);
    const o = rt([2, 3], 3);
    const to = rt([P, 2, 3], 4);
    o.tan = tan(to);
    const out = callOp(R, 'aten::add_', [v, o], { alpha: 2 }, { P }, true);
    expect(out).toBe(v);
    const inSlice = (i: number, j: number) => i >= 1 && i < 3 && j >= 1 && j < 4;
    const want = r0.map((x, k) => {
      const [i, j] = [Math.floor(k / 5), k % 5];
      return inSlice(i, j) ? x + 2 * values(o)[(i - 1) * 3 + (j - 1)] : x;
    });
    expectClose(values(root), want);
    const tv = values(dense(root.tan!));
    const tw = values(t0).map((x, k) => {
      const p = Math.floor(k / 20);
      const [i, j] = [Math.floor((k % 20) / 5), k % 5];
      return inSlice(i, j) ? x + 2 * values(to)[p * 6 + (i - 1) * 3 + (j - 1)] : x;
    });
    expectClose(tv, tw);
    // the view's tangent reads through the root's
    expectClose(
      values(dense(tangentOf(v)!)),
      [0, 1].flatMap((p) => [1, 2].flatMap((i) => [1, 2, 3].map((j) => tw[p * 20 + i * 5 + j]))),
    );
  });

  it('mul_ through a slice of a root without a tangent: the rest of the root has tangent zero', () => {
    const root = rt([3, 4], 1);
    const v = sliceView(root, [1, 0], [2, 4]);
    const o = rt([4], 2);
    o.tan = tan(rt([2, 4], 3));
    callOp(R, 'aten::mul_', [v, o], {}, { P: 2 }, true);
    const t = values(dense(root.tan!));
    // row 0 of the root: zero; rows 1, 2: root values (before) · do
    for (let p = 0; p < 2; p++) for (let j = 0; j < 4; j++) expect(t[p * 12 + j]).toBe(0);
    expect(t.some((x) => x !== 0)).toBe(true);
  });

  it('add_ into the leading block of zeros keeps the tangent boxed', () => {
    const root = zerosTensor([4, 6]);
    const v = sliceView(root, [0, 0], [2, 3]);
    const o = rt([2, 3], 2);
    o.tan = tan(rt([2, 2, 3], 3));
    callOp(R, 'aten::add_', [v, o], {}, { P: 2 }, true);
    expect(root.tan!.full).toEqual([4, 6]);
    expect(boxOf(root.tan!)).toEqual([2, 3]);
    expectClose(values(root).slice(0, 3), values(o).slice(0, 3));
    expectClose(values(root.tan!.data), values(o.tan!.data));
  });
});
