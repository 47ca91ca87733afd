import { describe, expect, it } from 'vitest';
import { callOp } from '../../../../src/engine/graph/dispatch';
import { convRules } from '../../../../src/engine/graph/rules/conv';
import { GTensor, type Kind } from '../../../../src/engine/graph/tensor';
import { checkJvp } from '../jvp-check';
import { checkStructured, randTensor, relDiff, structuredTan, vals } from './linear-check';

interface Cfg {
  stride?: number;
  padding?: number | 'same' | 'valid';
  dilation?: number;
  groups?: number;
}

/** Direct loops: torch.nn.functional.conv1d. */
function naiveConv(x: GTensor, w: GTensor, b: GTensor | null, c: Cfg) {
  const unbatched = x.rank === 2;
  const [N, C, L] = unbatched ? [1, ...x.shape] : x.shape;
  const [Co, Cg, K] = w.shape;
  const s = c.stride ?? 1;
  const d = c.dilation ?? 1;
  const G = c.groups ?? 1;
  let pl = 0;
  let pr = 0;
  if (c.padding === 'same') {
    pl = Math.floor((d * (K - 1)) / 2);
    pr = d * (K - 1) - pl;
  } else if (typeof c.padding === 'number') pl = pr = c.padding;
  const Lo = Math.floor((L + pl + pr - d * (K - 1) - 1) / s) + 1;
  const [xr, xi] = vals(x);
  const [wr, wi] = vals(w);
  const bv = b ? vals(b) : null;
  const re = new Float64Array(N * Co * Lo);
  const im = new Float64Array(N * Co * Lo);
  const Cog = Co / G;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < Co; o++)
      for (let t = 0; t < Lo; t++) {
        let ar = bv ? bv[0][o] : 0;
        let ai = bv && bv[1] ? bv[1][o] : 0;
        const g = Math.floor(o / Cog);
        for (let ci = 0; ci < Cg; ci++)
          for (let j = 0; j < K; j++) {
            const p = t * s + j * d - pl;
            if (p < 0 || p >= L) continue;
            const xo = (n * C + g * Cg + ci) * L + p;
            const wo = (o * Cg + ci) * K + j;
            const a = xr[xo];
            const bI = xi ? xi[xo] : 0;
            const e = wr[wo];
            const f = wi ? wi[wo] : 0;
            ar += a * e - bI * f;
            ai += a * f + bI * e;
          }
        re[(n * Co + o) * Lo + t] = ar;
        im[(n * Co + o) * Lo + t] = ai;
      }
  return { re, im, shape: unbatched ? [Co, Lo] : [N, Co, Lo] };
}

const conv1d = (x: GTensor, w: GTensor, b: GTensor | null, c: Cfg) =>
  callOp(
    convRules,
    'aten::conv1d',
    [x, w, b],
    {
      stride: [c.stride ?? 1],
      padding: typeof c.padding === 'string' ? c.padding : [c.padding ?? 0],
      dilation: [c.dilation ?? 1],
      groups: c.groups ?? 1,
    },
    { P: 1 },
    false,
  ) as GTensor;

const convolution = (x: GTensor, w: GTensor, b: GTensor | null, c: Cfg, transposed = false) =>
  callOp(
    convRules,
    'aten::_convolution',
    [
      x,
      w,
      b,
      [c.stride ?? 1],
      [c.padding ?? 0],
      [c.dilation ?? 1],
      transposed,
      [0],
      c.groups ?? 1,
      false,
      false,
      true,
      true,
    ],
    {},
    { P: 1 },
    false,
  ) as GTensor;

const CFGS: [number[], number[], Cfg][] = [
  [[2, 4, 11], [6, 4, 3], {}],
  [[2, 4, 11], [6, 4, 3], { stride: 2, padding: 1 }],
  [[2, 4, 12], [6, 4, 3], { stride: 3, padding: 2, dilation: 2 }],
  [[2, 4, 11], [8, 2, 3], { groups: 2, padding: 1 }],
  [[2, 4, 11], [4, 1, 5], { groups: 4, padding: 2 }], // depthwise
  [[2, 4, 11], [8, 1, 2], { groups: 4, stride: 2 }],
  [[2, 4, 9], [5, 4, 1], {}], // kernel 1
  [[4, 9], [5, 4, 3], { padding: 1 }], // unbatched
  [[1, 3, 10], [4, 3, 4], { padding: 'same', dilation: 2 }],
  [[1, 3, 10], [4, 3, 4], { padding: 'valid' }],
];

describe('conv1d / _convolution: forward against direct loops', () => {
  it('kernels, stride, padding, dilation, groups, unbatched, same/valid', () => {
    let seed = 1;
    for (const [xs, ws, c] of CFGS) {
      const x = randTensor(xs, seed++);
      const w = randTensor(ws, seed++);
      const b = randTensor([ws[0]], seed++);
      const ref = naiveConv(x, w, b, c);
      const y = conv1d(x, w, b, c);
      expect(y.shape).toEqual(ref.shape);
      expect(relDiff(vals(y), [ref.re, null]), JSON.stringify(c)).toBeLessThan(1e-13);
      if (typeof c.padding !== 'string') {
        const y2 = convolution(x, w, null, c);
        expect(relDiff(vals(y2), [naiveConv(x, w, null, c).re, null])).toBeLessThan(1e-13);
      }
    }
  });

  it('strided inputs (channels innermost, a time slice) and complex', () => {
    const base = randTensor([2, 20, 4], 1); // [N, L, C] storage
    const x = new GTensor([2, 4, 10], [80, 1, 8], 0, base.re, null, 'float'); // every other step
    const w = randTensor([6, 4, 3], 2);
    for (const c of [{}, { padding: 1 }, { stride: 2 }] as Cfg[]) {
      const ref = naiveConv(x, w, null, c);
      expect(relDiff(vals(conv1d(x, w, null, c)), [ref.re, null])).toBeLessThan(1e-13);
    }
    const w1 = randTensor([6, 4, 1], 3);
    expect(relDiff(vals(conv1d(x, w1, null, {})), [naiveConv(x, w1, null, {}).re, null])).toBeLessThan(1e-13);
    const xc = randTensor([2, 3, 8], 4, 'complex');
    const wc = randTensor([2, 3, 3], 5, 'complex');
    const bc = randTensor([2], 6, 'complex');
    const rc = naiveConv(xc, wc, bc, { padding: 1 });
    expect(relDiff(vals(conv1d(xc, wc, bc, { padding: 1 })), [rc.re, rc.im])).toBeLessThan(1e-13);
  });

  it('refuses transposed and 2-D convolutions and bad shapes', () => {
    const x = randTensor([1, 2, 5], 1);
    expect(() => convolution(x, randTensor([2, 2, 3], 2), null, {}, true)).toThrow(/transposed/);
    expect(() => conv1d(randTensor([1, 2, 5, 5], 1), randTensor([2, 2, 3, 3], 2), null, {})).toThrow(/1-D/);
    expect(() => conv1d(x, randTensor([2, 3, 3], 2), null, {})).toThrow(/channels/);
    expect(() => conv1d(x, randTensor([2, 2, 7], 2), null, {})).toThrow(/shorter/);
    expect(() => conv1d(x, randTensor([2, 2, 3], 2), null, { padding: 'same', stride: 2 })).toThrow(/same/);
  });
});

describe('conv JVP', () => {
  it('dense tangents on input, weight and bias', () => {
    let seed = 10;
    for (const [xs, ws, c] of CFGS) {
      const s0 = seed;
      seed += 3;
      checkJvp(convRules, 'aten::conv1d', () => ({
        args: [randTensor(xs, s0), randTensor(ws, s0 + 1), randTensor([ws[0]], s0 + 2)],
        kwargs: {
          stride: [c.stride ?? 1],
          padding: typeof c.padding === 'string' ? c.padding : [c.padding ?? 0],
          dilation: [c.dilation ?? 1],
          groups: c.groups ?? 1,
        },
      }));
    }
    checkJvp(convRules, 'aten::conv1d', () => ({
      args: [randTensor([1, 2, 6], 1, 'complex' as Kind), randTensor([3, 2, 2], 2, 'complex'), null],
    }));
  });

  it('a tangent constant over time stays one row through an unpadded conv', () => {
    for (const [ws, c] of [
      [[5, 4, 1], {}],
      [[5, 4, 3], { stride: 2, dilation: 2 }],
    ] as [number[], Cfg][]) {
      const xs = [2, 4, 15];
      checkStructured(
        convRules,
        'aten::conv1d',
        () => ({
          args: [randTensor(xs, 1), randTensor(ws, 2), randTensor([5], 3)],
          kwargs: { stride: [c.stride ?? 1], dilation: [c.dilation ?? 1] },
        }),
        (ins) => [structuredTan(xs, 3, 4, { const: [2] }), undefined, structuredTan(ins[2].shape, 3, 5)],
        {
          P: 3,
          check: (t) => {
            expect(t!.data.strides[3]).toBe(0);
            expect(t!.data.re.length).toBe(3 * 2 * 5);
          },
        },
      );
    }
    // with padding the edges differ: still right
    checkStructured(
      convRules,
      'aten::conv1d',
      () => ({ args: [randTensor([2, 4, 9], 1), randTensor([3, 4, 3], 2)], kwargs: { padding: [1] } }),
      () => [structuredTan([2, 4, 9], 2, 4, { const: [2] })],
    );
  });

  it('boxed tangents: channels, time, weight boxes, grouped weight tangents', () => {
    const xs = [2, 4, 9];
    checkStructured(
      convRules,
      'aten::conv1d',
      () => ({ args: [randTensor(xs, 1), randTensor([3, 4, 3], 2)], kwargs: { padding: [1], stride: [2] } }),
      () => [structuredTan(xs, 2, 4, { box: [1, 2, 5] })],
      { check: (t) => expect(t!.data.shape[1]).toBe(1) },
    );
    checkStructured(
      convRules,
      'aten::conv1d',
      () => ({ args: [randTensor(xs, 1), randTensor([6, 2, 3], 2)], kwargs: { groups: 2 } }),
      () => [structuredTan(xs, 2, 4, { box: [2, 3, 9] })],
    );
    checkStructured(
      convRules,
      'aten::conv1d',
      () => ({ args: [randTensor(xs, 1), randTensor([3, 4, 3], 2)], kwargs: { padding: [2] } }),
      (ins) => [undefined, structuredTan(ins[1].shape, 2, 5, { box: [2, 3, 2] })],
      { check: (t) => expect(t!.data.shape).toEqual([2, 2, 2, 11]) },
    );
    checkStructured(
      convRules,
      'aten::conv1d',
      () => ({ args: [randTensor(xs, 1), randTensor([6, 2, 3], 2)], kwargs: { groups: 2 } }),
      (ins) => [undefined, structuredTan(ins[1].shape, 2, 5, { box: [4, 2, 3] })],
    );
  });
});
