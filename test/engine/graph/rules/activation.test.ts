import { describe, expect, it } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import { activationRules as R } from '../../../../src/engine/graph/rules/activation';
import { tanh } from '../../../../src/engine/kernels/tanh';
import { boxOf, dense, isFull, tan } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays, zerosTensor } from '../../../../src/engine/graph/tensor';
import { checkJvp } from '../jvp-check';
import {
  boxedTangent,
  checkStructured,
  constantAlong,
  expectClose,
  randTensor,
  run,
  sliceView,
  tanStrides,
  values,
} from './structured';

const rt = randTensor;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const sp = (x: number) => Math.log(1 + Math.exp(x));

/** The tangent of op at the given points for a unit tangent (each point its own element). */
function derivAt(
  op: string,
  xs: number[],
  kwargs: Record<string, unknown> = {},
  extra: unknown[] = [],
): number[] {
  const x = fromArrays([xs.length], Float64Array.from(xs));
  x.tan = tan(fromArrays([1, xs.length], new Float64Array(xs.length).fill(1)));
  const out = callOp(R, op, [x, ...extra], kwargs, { P: 1 }, true) as GTensor;
  const t = tangentOf(out);
  return t ? values(dense(t)) : xs.map(() => 0);
}

describe('activation values against their formulas', () => {
  const x = rt([3, 5], 1, 'float', 2.5);
  const xv = values(x);
  const cases: [string, Record<string, unknown>, (v: number) => number][] = [
    ['tanh', {}, Math.tanh],
    ['sigmoid', {}, sig],
    ['relu', {}, (v) => Math.max(v, 0)],
    ['leaky_relu', {}, (v) => (v > 0 ? v : 0.01 * v)],
    ['leaky_relu', { negative_slope: 0.2 }, (v) => (v > 0 ? v : 0.2 * v)],
    ['elu', {}, (v) => (v > 0 ? v : Math.exp(v) - 1)],
    [
      'elu',
      { alpha: 0.5, scale: 2, input_scale: 1.5 },
      (v) => (v > 0 ? 2 * v : 2 * 0.5 * (Math.exp(1.5 * v) - 1)),
    ],
    ['selu', {}, (v) => 1.0507009873554805 * (v > 0 ? v : 1.6732632423543772 * (Math.exp(v) - 1))],
    ['celu', { alpha: 2 }, (v) => Math.max(0, v) + Math.min(0, 2 * (Math.exp(v / 2) - 1))],
    ['silu', {}, (v) => v * sig(v)],
    ['mish', {}, (v) => v * Math.tanh(sp(v))],
    ['softplus', {}, sp],
    ['softplus', { beta: 2, threshold: 3 }, (v) => (2 * v > 3 ? v : sp(2 * v) / 2)],
    ['log_sigmoid', {}, (v) => Math.log(sig(v))],
    ['hardsigmoid', {}, (v) => Math.min(Math.max(v + 3, 0), 6) / 6],
    ['hardswish', {}, (v) => (v * Math.min(Math.max(v + 3, 0), 6)) / 6],
    [
      'gelu',
      { approximate: 'tanh' },
      (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3))),
    ],
    ['hardtanh', {}, (v) => Math.min(Math.max(v, -1), 1)],
    ['hardtanh', { min_val: -0.5, max_val: 2 }, (v) => Math.min(Math.max(v, -0.5), 2)],
    ['relu6', {}, (v) => Math.min(Math.max(v, 0), 6)],
    ['clamp', { min: -0.5, max: 1 }, (v) => Math.min(Math.max(v, -0.5), 1)],
    ['clamp', { min: -0.5 }, (v) => Math.max(v, -0.5)],
    ['clamp', { max: 0.25 }, (v) => Math.min(v, 0.25)],
    ['clamp', { min: 1, max: -1 }, () => -1],
    ['clip', { min: 0, max: 1 }, (v) => Math.min(Math.max(v, 0), 1)],
    ['clamp_min', { min: 0.3 }, (v) => Math.max(v, 0.3)],
    ['clamp_max', { max: 0.3 }, (v) => Math.min(v, 0.3)],
  ];
  for (const [name, kw, f] of cases)
    it(`${name} ${JSON.stringify(kw)}`, () => {
      expectClose(values(run(R, `aten::${name}`, [x], kw)), xv.map(f), 1e-13);
      if (name === 'softplus' || name === 'log_sigmoid') return;
      // in-place: same values written into the argument
      const y = rt([3, 5], 1, 'float', 2.5);
      expect(run(R, `aten::${name}_`, [y], kw)).toBe(y);
      expectClose(values(y), xv.map(f), 1e-13);
    });

  it('gelu (exact) at known values x·Φ(x)', () => {
    const xs = [0, 0.5, 1, -1, 2, -3];
    const phi = [
      0.5, 0.6914624612740131, 0.8413447460685429, 0.15865525393145707, 0.9772498680518208,
      0.0013498980316301,
    ];
    expectClose(
      values(run(R, 'aten::gelu', [fromArrays([6], Float64Array.from(xs))])),
      xs.map((v, i) => v * phi[i]),
      1e-13,
    );
    expectClose(
      values(run(R, 'aten::gelu', [fromArrays([1], Float64Array.of(1))], { approximate: 'none' })),
      [phi[2]],
    );
    expect(() => run(R, 'aten::gelu', [x], { approximate: 'erf' })).toThrow(/approximate/);
  });

  it('large arguments do not overflow', () => {
    const big = fromArrays([2], Float64Array.of(-800, 800));
    expectClose(values(run(R, 'aten::sigmoid', [big])), [0, 1]);
    expectClose(values(run(R, 'aten::softplus', [big])), [0, 800]);
    expectClose(values(run(R, 'aten::log_sigmoid', [big])), [-800, 0]);
    expectClose(values(run(R, 'aten::silu', [big])), [-0, 800]);
  });

  it('relu and clamp keep integers', () => {
    const i = fromArrays([3], Float64Array.of(-2, 0, 5), null, 'int');
    const r = run(R, 'aten::relu', [i]);
    expect(r.kind).toBe('int');
    expectClose(values(r), [0, 0, 5]);
    expect(run(R, 'aten::clamp', [i], { min: 0, max: 3 }).kind).toBe('int');
  });
});

describe('activation JVPs', () => {
  const ops: [string, Record<string, unknown>][] = [
    ['tanh', {}],
    ['sigmoid', {}],
    ['relu', {}],
    ['leaky_relu', { negative_slope: 0.1 }],
    ['elu', { alpha: 0.7, scale: 1.3, input_scale: 0.8 }],
    ['selu', {}],
    ['celu', { alpha: 1.5 }],
    ['gelu', {}],
    ['gelu', { approximate: 'tanh' }],
    ['silu', {}],
    ['mish', {}],
    ['softplus', {}],
    ['softplus', { beta: 3, threshold: 2 }],
    ['log_sigmoid', {}],
    ['hardsigmoid', {}],
    ['hardswish', {}],
    ['hardtanh', { min_val: -1.5, max_val: 2 }],
    ['relu6', {}],
    ['clamp', { min: -1, max: 1 }],
    ['clamp_min', { min: 0.2 }],
    ['clamp_max', { max: 0.2 }],
  ];
  for (const [name, kw] of ops)
    it(`${name} ${JSON.stringify(kw)}: dense, in-place and boxed`, () => {
      const build = () => ({ args: [rt([4, 6], 3, 'float', 3)], kwargs: kw });
      checkJvp(R, `aten::${name}`, build);
      if (name !== 'softplus' && name !== 'log_sigmoid') checkJvp(R, `aten::${name}_`, build);
      const t = checkStructured(R, `aten::${name}`, build, () => [boxedTangent([4, 6], [2, 3], 2, 5)]);
      expect(boxOf(t!)).toEqual([2, 3]);
    });

  it("derivatives at the kinks are PyTorch's", () => {
    expectClose(derivAt('aten::relu', [0, -1, 1]), [0, 0, 1]);
    expectClose(derivAt('aten::leaky_relu', [0], { negative_slope: 0.3 }), [0.3]);
    expectClose(derivAt('aten::elu', [0], { alpha: 2 }), [2]);
    // hardtanh: 0 at the bounds; clamp: 1 at the bounds
    expectClose(derivAt('aten::hardtanh', [-1, 1, 0]), [0, 0, 1]);
    expectClose(derivAt('aten::relu6', [0, 6, 3]), [0, 0, 1]);
    expectClose(derivAt('aten::clamp', [-1, 1, 2], { min: -1, max: 1 }), [1, 1, 0]);
    expectClose(derivAt('aten::clamp', [0, 5], { min: 1, max: -1 }), [0, 0]);
    // hardswish: PyTorch's backward takes x/3 + 1/2 on the closed interval [-3, 3]
    expectClose(derivAt('aten::hardswish', [-3, 3, -4]), [-0.5, 1.5, 0]);
    expectClose(derivAt('aten::hardsigmoid', [-3, 3, 0]), [0, 0, 1 / 6]);
    expectClose(derivAt('aten::softplus', [25, 1]), [1, sig(1)]);
  });

  it('clamp with tensor bounds: values and derivatives in all three arguments', () => {
    const x = rt([3, 4], 1, 'float', 2);
    const lo = rt([4], 2, 'float', 0.5);
    const hi = rt([3, 1], 3, 'float', 0.5);
    for (let i = 0; i < 3; i++) hi.re[i] += 0.8;
    const [xv, lv, hv] = [values(x), values(lo), values(hi)];
    const want = xv.map((v, k) => {
      const [i, j] = [Math.floor(k / 4), k % 4];
      return Math.min(Math.max(v, lv[j]), hv[i]);
    });
    expectClose(values(run(R, 'aten::clamp', [x, lo, hi])), want);
    const build = () => {
      const h = rt([3, 1], 3, 'float', 0.5);
      for (let i = 0; i < 3; i++) h.re[i] += 0.8;
      return { args: [rt([3, 4], 1, 'float', 2), rt([4], 2, 'float', 0.5), h] };
    };
    checkJvp(R, 'aten::clamp', build);
    checkJvp(R, 'aten::clamp_', build);
    checkJvp(R, 'aten::clamp', build, { perturb: (i) => i !== 0 });
    checkJvp(R, 'aten::clamp', () => ({ args: [rt([3, 4], 1, 'float', 2)], kwargs: { min: rt([4], 2) } }));
    checkJvp(R, 'aten::clamp_max', () => ({ args: [rt([3, 4], 1, 'float', 2), rt([3, 1], 2)] }));
    checkJvp(R, 'aten::clamp_min', () => ({ args: [rt([3, 4], 1, 'float', 2), rt([3, 4], 2)] }));
    // one tensor bound, one number
    checkJvp(R, 'aten::clamp', () => ({ args: [rt([3, 4], 1, 'float', 2), rt([4], 2), 0.5] }));
    // min > max selects max's tangent
    const a = fromArrays([1], Float64Array.of(0));
    const l = fromArrays([1], Float64Array.of(1));
    const h = fromArrays([1], Float64Array.of(-1));
    h.tan = tan(fromArrays([1, 1], Float64Array.of(7)));
    const out = callOp(R, 'aten::clamp', [a, l, h], {}, { P: 1 }, true) as GTensor;
    expectClose(values(out), [-1]);
    expectClose(values(dense(tangentOf(out)!)), [7]);
    expect(() => run(R, 'aten::clamp', [x])).toThrow(/min/);
    // a boxed input tangent against tensor bounds stays boxed
    const t = checkStructured(R, 'aten::clamp', build, () => [
      boxedTangent([3, 4], [2, 2], 2, 4),
      null,
      null,
    ]);
    expect(boxOf(t!)).toEqual([2, 2]);
  });

  it('complex inputs are refused with a message', () => {
    expect(() => run(R, 'aten::tanh', [rt([2], 1, 'complex')])).toThrow(/complex/);
    expect(() => run(R, 'aten::clamp', [rt([2], 1, 'complex')], { min: 0 })).toThrow(/complex/);
  });

  it('a tangent constant over time stays one row where the input is broadcast over time', () => {
    const P = 2;
    const base = rt([2, 1, 3], 1);
    const x = base.view(
      [2, 7, 3],
      [3, 0, 1],
      0,
      (pt) =>
        pt && { data: pt.data.view([P, 2, 7, 3], [6, 3, 0, 1], pt.data.offset, () => null), full: [2, 7, 3] },
    );
    base.tan = tan(rt([P, 2, 1, 3], 4));
    for (const op of ['aten::tanh', 'aten::gelu', 'aten::relu', 'aten::sigmoid']) {
      const t = tangentOf(callOp(R, op, [x], {}, { P }, true) as GTensor);
      expect(tanStrides(t)[1]).toBe(0);
      expect(t!.data.re.length).toBe(P * 6);
    }
    // and through a constant-over-time tangent on a primal that varies: dense, checked
    checkStructured(
      R,
      'aten::tanh',
      () => ({ args: [rt([2, 7, 3], 1)] }),
      () => [constantAlong([2, 7, 3], [1], 2, 3)],
    );
  });

  it('relu_ through a slice of a root', () => {
    const root = rt([4, 3], 1);
    const before = values(root);
    const dr = rt([2, 4, 3], 2);
    root.tan = tan(dr);
    const v = sliceView(root, [2, 0], [2, 3]);
    callOp(R, 'aten::relu_', [v], {}, { P: 2 }, true);
    expectClose(
      values(root),
      before.map((x, k) => (k >= 6 ? Math.max(x, 0) : x)),
    );
    const dv = values(dr);
    expectClose(
      values(dense(root.tan!)),
      dv.map((d, k) => (k % 12 >= 6 && before[k % 12] <= 0 ? 0 : d)),
    );
  });
});

describe('softmax and log_softmax', () => {
  function ref(x: GTensor, dim: number, log: boolean): number[] {
    const v = values(x);
    const shape = x.shape;
    const d = dim < 0 ? dim + shape.length : dim;
    const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const n = shape[d];
    const out = new Array<number>(v.length);
    for (let k = 0; k < v.length; k++) {
      const start = k - (Math.floor(k / inner) % n) * inner;
      let s = 0;
      for (let j = 0; j < n; j++) s += Math.exp(v[start + j * inner]);
      out[k] = log ? v[k] - Math.log(s) : Math.exp(v[k]) / s;
    }
    return out;
  }
  for (const dim of [0, 1, 2, -1])
    for (const log of [false, true]) {
      const op = log ? 'aten::log_softmax' : 'aten::softmax';
      it(`${op} dim ${dim}`, () => {
        const x = rt([2, 3, 4], 1);
        expectClose(values(run(R, op, [x, dim])), ref(x, dim, log), 1e-14);
        checkJvp(R, op, () => ({ args: [rt([2, 3, 4], 1), dim, null] }));
        const t = checkStructured(
          R,
          op,
          () => ({ args: [rt([2, 3, 4], 1), dim] }),
          () => [boxedTangent([2, 3, 4], [1, 2, 4], 2, 3)],
        );
        expect(isFull(t!)).toBe(true);
        checkStructured(
          R,
          op,
          () => ({ args: [rt([2, 3, 4], 1), dim] }),
          () => [constantAlong([2, 3, 4], [1], 2, 3)],
        );
      });
    }

  it('is stable for large inputs, and works on a permuted view and a 0-d tensor', () => {
    const big = fromArrays([3], Float64Array.of(1000, 1001, 999));
    const e = [Math.exp(0), Math.exp(1), Math.exp(-1)];
    const s = e[0] + e[1] + e[2];
    expectClose(
      values(run(R, 'aten::softmax', [big, 0])),
      e.map((v) => v / s),
    );
    const base = rt([3, 4], 2);
    const tr = base.view([4, 3], [1, 4], 0, () => null);
    const want = ref(fromArrays([4, 3], Float64Array.from(values(tr))), 1, false);
    expectClose(values(run(R, 'aten::softmax', [tr, 1])), want);
    expectClose(values(run(R, 'aten::softmax', [fromArrays([], Float64Array.of(3)), 0])), [1]);
  });
});

describe('dropout', () => {
  const names = ['dropout', 'feature_dropout', 'alpha_dropout', 'feature_alpha_dropout'];
  for (const n of names)
    it(`${n}: identity in eval mode, refused in training`, () => {
      const x = rt([2, 3], 1);
      expect(run(R, `aten::${n}`, [x, 0.5, false])).toBe(x);
      expect(run(R, `aten::${n}_`, [x, 0.5, false])).toBe(x);
      expect(run(R, `aten::${n}`, [x, 0, true])).toBe(x);
      expect(() => run(R, `aten::${n}`, [x, 0.5, true])).toThrow(new RegExp(`${n} in training mode`));
      expect(() => run(R, `aten::${n}_`, [x, 0.5, true])).toThrow(/training/);
      checkJvp(R, `aten::${n}`, () => ({ args: [rt([2, 3], 1), 0.1, false] }));
      checkJvp(R, `aten::${n}_`, () => ({ args: [rt([2, 3], 1), 0.1, false] }));
      const t = checkStructured(
        R,
        `aten::${n}`,
        () => ({ args: [rt([2, 3], 1), 0.1, false] }),
        () => [boxedTangent([2, 3], [1, 2], 2, 3)],
      );
      expect(boxOf(t!)).toEqual([1, 2]);
    });

  it('keeps the tangent of a view', () => {
    const root = zerosTensor([3, 4]);
    root.tan = tan(rt([2, 3, 4], 1));
    const v = sliceView(root, [1, 1], [2, 2]);
    const out = callOp(R, 'aten::dropout', [v, 0.2, false], {}, { P: 2 }, true) as GTensor;
    expectClose(values(dense(tangentOf(out)!)), values(dense(tangentOf(v)!)));
  });
});

// Contiguous runs of tanh go to WebAssembly (kernels/tanh-wasm.ts), short and strided ones to the
// scalar loop: every path must give the scalar function's bits.
describe('tanh gives the scalar tanh bit for bit on every path', () => {
  /** [rows, 64] values of mixed magnitude with zeros, infinities, NaN and the branch cut-offs sprinkled in. */
  function inputs(rows: number, seed: number): GTensor {
    const t = rt([rows, 64], seed, 'float', 4);
    const specials = [0, -0, NaN, Infinity, -Infinity, 0.625, -0.625, 19.1, -19.1, 5e-324, -25];
    specials.forEach((v, i) => (t.re[(i * 997) % t.numel] = v));
    return t;
  }

  function expectScalar(got: number[], xs: number[]): void {
    expect(got.length).toBe(xs.length);
    const bad = xs.findIndex((x, i) => !Object.is(got[i], tanh(x)));
    const show = (v: number) => (Object.is(v, -0) ? '-0' : String(v));
    expect(bad, `tanh(${show(xs[bad])}) gave ${show(got[bad])}, the scalar tanh ${show(tanh(xs[bad]))}`).toBe(
      -1,
    );
  }

  it('on a whole tensor (the seed model’s first activation) and on a slice of rows with an offset', () => {
    const x = inputs(601, 21);
    expectScalar(values(run(R, 'aten::tanh', [x])), values(x));
    const v = sliceView(x, [3, 0], [597, 64]);
    expectScalar(values(run(R, 'aten::tanh', [v])), values(v));
  });

  it('on short and strided runs', () => {
    const x = inputs(100, 22);
    // rows of 5 with gaps, and every other element
    const cols = sliceView(x, [0, 10], [100, 5]);
    expectScalar(values(run(R, 'aten::tanh', [cols])), values(cols));
    const odd = x.view([3200], [2], 1, () => null);
    expectScalar(values(run(R, 'aten::tanh', [odd])), values(odd));
  });

  it('in place', () => {
    const y = inputs(601, 23);
    const before = values(y);
    expect(run(R, 'aten::tanh_', [y])).toBe(y);
    expectScalar(values(y), before);
  });
});
