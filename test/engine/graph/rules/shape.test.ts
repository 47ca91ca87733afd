import { describe, expect, it } from 'vitest';
import { tangentOf } from '../../../../src/engine/graph/dispatch';
import { boxed, boxOf, dense, tan } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays, lazyTensor, sizeOf } from '../../../../src/engine/graph/tensor';
import { checkJvp, randTensor } from '../jvp-check';
import { T, at, call, callT, checkSeq, expectValues, indices, iota, tanValues, values } from './shape-fd';

describe('view rules: forward values (index loops)', () => {
  it('view / reshape / flatten / unflatten keep row-major order and infer -1', () => {
    const x = iota([2, 3, 4]);
    expectValues(callT('aten::view', [x, [4, -1]]), [4, 6], ([i, j]) => i * 6 + j);
    expectValues(callT('aten::reshape', [x, [-1]]), [24], ([i]) => i);
    expectValues(callT('aten::flatten', [x, 1]), [2, 12], ([i, j]) => i * 12 + j);
    expectValues(callT('aten::flatten', [x], { start_dim: 0, end_dim: 1 }), [6, 4], ([i, j]) => i * 4 + j);
    expectValues(
      callT('aten::unflatten', [x, -1, [2, 2]]),
      [2, 3, 2, 2],
      ([a, b, c, d]) => a * 12 + b * 4 + c * 2 + d,
    );
    expectValues(callT('aten::flatten', [fromArrays([], Float64Array.of(5))]), [1], () => 5);
    expectValues(callT('aten::view_as', [x, iota([6, 4])]), [6, 4], ([i, j]) => i * 4 + j);
  });

  it('permute / transpose / t / movedim / swapaxes', () => {
    const x = iota([2, 3, 4]);
    const v = (i: number, j: number, k: number) => i * 12 + j * 4 + k;
    expectValues(callT('aten::permute', [x, [2, 0, 1]]), [4, 2, 3], ([k, i, j]) => v(i, j, k));
    expectValues(callT('aten::permute', [x, [-1, 0, 1]]), [4, 2, 3], ([k, i, j]) => v(i, j, k));
    expectValues(callT('aten::transpose', [x, 0, -1]), [4, 3, 2], ([k, j, i]) => v(i, j, k));
    expectValues(callT('aten::swapaxes', [x, 1, 2]), [2, 4, 3], ([i, k, j]) => v(i, j, k));
    expectValues(callT('aten::movedim', [x, 0, 2]), [3, 4, 2], ([j, k, i]) => v(i, j, k));
    expectValues(callT('aten::movedim', [x, [0, 1], [2, 0]]), [3, 4, 2], ([j, k, i]) => v(i, j, k));
    expectValues(callT('aten::t', [iota([3, 5])]), [5, 3], ([j, i]) => i * 5 + j);
    expectValues(callT('aten::t', [iota([3])]), [3], ([i]) => i);
  });

  it('squeeze / unsqueeze / expand / expand_as', () => {
    const x = iota([3, 1, 2]);
    expectValues(callT('aten::squeeze', [x]), [3, 2], ([i, k]) => i * 2 + k);
    expectValues(callT('aten::squeeze', [x, 1]), [3, 2], ([i, k]) => i * 2 + k);
    expectValues(callT('aten::squeeze', [x, 0]), [3, 1, 2], ([i, , k]) => i * 2 + k);
    expectValues(callT('aten::squeeze', [x, [1, 2]]), [3, 2], ([i, k]) => i * 2 + k);
    expectValues(callT('aten::unsqueeze', [x, -1]), [3, 1, 2, 1], ([i, , k]) => i * 2 + k);
    expectValues(callT('aten::unsqueeze', [x, 0]), [1, 3, 1, 2], ([, i, , k]) => i * 2 + k);
    const e = callT('aten::expand', [x, [2, -1, 4, 2]]);
    expectValues(e, [2, 3, 4, 2], ([, i, , k]) => i * 2 + k);
    expect(e.strides[0]).toBe(0);
    expect(e.strides[2]).toBe(0);
    expectValues(callT('aten::expand_as', [x, iota([3, 5, 2])]), [3, 5, 2], ([i, , k]) => i * 2 + k);
  });

  it('slice (negative, None, int64 max, steps) / narrow / select', () => {
    const x = iota([4, 10]);
    const s = (args: unknown[]) => callT('aten::slice', [x, ...args]);
    expectValues(s([1, 2, 8, 3]), [4, 2], ([i, j]) => i * 10 + 2 + 3 * j);
    expectValues(s([1, -3, 2 ** 63, 1]), [4, 3], ([i, j]) => i * 10 + 7 + j);
    expectValues(s([1, -3, 9223372036854775807n, 1]), [4, 3], ([i, j]) => i * 10 + 7 + j);
    expectValues(s([1, null, null, 4]), [4, 3], ([i, j]) => i * 10 + 4 * j);
    expectValues(s([0, 1]), [3, 10], ([i, j]) => (i + 1) * 10 + j);
    expectValues(s([1, 8, 3]), [4, 0], () => 0);
    expectValues(s([-1, -100, 100]), [4, 10], ([i, j]) => i * 10 + j);
    expectValues(callT('aten::narrow', [x, 1, -4, 2]), [4, 2], ([i, j]) => i * 10 + 6 + j);
    expectValues(callT('aten::select', [x, 1, -1]), [4], ([i]) => i * 10 + 9);
    expectValues(callT('aten::select', [x, 0, 2]), [10], ([j]) => 20 + j);
  });

  it('chunk / split / split_with_sizes / unbind return views of the pieces', () => {
    const x = iota([3, 7]);
    const pieces = (v: unknown) => v as GTensor[];
    const c = pieces(call('aten::chunk', [x, 3, 1]));
    expect(c.map((p) => p.shape[1])).toEqual([3, 3, 1]);
    expectValues(c[1], [3, 3], ([i, j]) => i * 7 + 3 + j);
    const s = pieces(call('aten::split', [x, 2], { dim: -1 }));
    expect(s.map((p) => p.shape[1])).toEqual([2, 2, 2, 1]);
    expectValues(s[3], [3, 1], ([i]) => i * 7 + 6);
    const l = pieces(call('aten::split', [x, [4, 3], 1]));
    expectValues(l[1], [3, 3], ([i, j]) => i * 7 + 4 + j);
    const w = pieces(call('aten::split_with_sizes', [x, [1, 2], 0]));
    expectValues(w[1], [2, 7], ([i, j]) => (i + 1) * 7 + j);
    const u = pieces(call('aten::unbind', [x, 1]));
    expect(u).toHaveLength(7);
    expectValues(u[5], [3], ([i]) => i * 7 + 5);
    for (const p of [...c, ...s, ...u]) expect(p.parent).toBe(x);
  });

  it('contiguous / clone / detach / alias', () => {
    const x = iota([3, 4]);
    const xt = callT('aten::t', [x]);
    const c = callT('aten::contiguous', [xt]);
    expect(c.parent).toBeNull();
    expect(c.strides).toEqual([3, 1]);
    expectValues(c, [4, 3], ([j, i]) => i * 4 + j);
    expect(callT('aten::contiguous', [x])).toBe(x);
    const k = callT('aten::clone', [xt]);
    expect(k.parent).toBeNull();
    expect(values(k)).toEqual(values(xt));
    const d = callT('aten::detach', [x]);
    expect(d.parent).toBe(x);
    expect(values(d)).toEqual(values(x));
    expect(callT('aten::alias', [x]).parent).toBe(x);
  });

  it('views share storage: writing the root shows through every view', () => {
    const x = iota([2, 3, 4]);
    const views = [
      callT('aten::view', [x, [6, 4]]),
      callT('aten::permute', [x, [2, 0, 1]]),
      callT('aten::slice', [x, 2, 1, 3]),
      callT('aten::select', [x, 1, 2]),
      callT('aten::expand', [callT('aten::unsqueeze', [x, 0]), [5, 2, 3, 4]]),
      callT('aten::detach', [x]),
    ];
    const before = views.map((v) => values(v));
    x.re.fill(0);
    for (const v of views) {
      expect(v.root).toBe(x);
      expect(values(v).every((e) => e === 0)).toBe(true);
    }
    expect(before[0][5]).toBe(5);
  });
});

describe('view rules: JVP vs central differences', () => {
  const unary: [string, number[], unknown[], Record<string, unknown>?][] = [
    ['aten::view', [2, 3, 4], [[4, 6]]],
    ['aten::reshape', [2, 3, 4], [[-1, 2]]],
    ['aten::flatten', [2, 3, 4], [1, 2]],
    ['aten::unflatten', [2, 6], [1, [3, 2]]],
    ['aten::permute', [2, 3, 4], [[1, 2, 0]]],
    ['aten::transpose', [2, 3, 4], [0, 2]],
    ['aten::t', [3, 5], []],
    ['aten::movedim', [2, 3, 4], [0, -1]],
    ['aten::squeeze', [3, 1, 2], []],
    ['aten::squeeze', [3, 1, 2], [1]],
    ['aten::unsqueeze', [3, 2], [1]],
    ['aten::expand', [3, 1], [[2, 3, 4]]],
    ['aten::slice', [4, 9], [1, 1, 8, 3]],
    ['aten::slice', [4, 9], [0, -2]],
    ['aten::narrow', [4, 9], [1, 2, 5]],
    ['aten::select', [4, 9], [1, 3]],
    ['aten::chunk', [4, 9], [2, 1]],
    ['aten::split', [4, 9], [[2, 7], 1]],
    ['aten::unbind', [3, 2], [0]],
    ['aten::contiguous', [3, 4], []],
    ['aten::clone', [3, 4], []],
    ['aten::alias', [3, 4], []],
  ];
  for (const [op, shape, args] of unary)
    it(`${op}${JSON.stringify(args)}`, () => {
      checkJvp(T, op, () => ({ args: [randTensor(shape, 3), ...args] }));
      checkJvp(T, op, () => ({ args: [randTensor(shape, 4, 'complex'), ...args] }));
    });

  it('expand_as / view_as (second argument has no derivative)', () => {
    checkJvp(T, 'aten::expand_as', () => ({ args: [randTensor([3, 1], 1), randTensor([2, 3, 5], 2)] }), {
      perturb: (i) => i === 0,
    });
    checkJvp(T, 'aten::view_as', () => ({ args: [randTensor([6], 1), randTensor([2, 3], 2)] }), {
      perturb: (i) => i === 0,
    });
  });

  it('detach has a null tangent', () => {
    const x = randTensor([3], 1);
    x.tan = tan(randTensor([2, 3], 2));
    expect(tangentOf(callT('aten::detach', [x]))).toBeNull();
  });

  it('chains of views, and reshape of a layout that cannot be viewed (a copy)', () => {
    checkSeq(
      () => [randTensor([3, 4, 5], 1)],
      ([x], tg) => {
        const c = (op: string, args: unknown[]) => call(op, args, {}, tg) as GTensor;
        const p = c('aten::permute', [x, [2, 0, 1]]);
        const rs = c('aten::reshape', [p, [15, 4]]);
        expect(rs.parent).toBeNull();
        const s = c('aten::slice', [rs, 0, 1, 14, 2]);
        return c('aten::select', [c('aten::unsqueeze', [s, 0]), 2, 3]);
      },
    );
  });
});

describe('view rules: structured tangents', () => {
  /** x [4, 5] with a tangent covering the leading [2, 3] box. */
  function boxedInput(P = 2): GTensor {
    const x = randTensor([4, 5], 1);
    x.tan = boxed(randTensor([P, 2, 3], 2), [4, 5]);
    return x;
  }
  /** The op on x's structured tangent equals the op on its dense tangent. */
  function sameAsDense(op: string, args: unknown[]): GTensor {
    const x = boxedInput();
    const y = randTensor([4, 5], 1);
    y.tan = tan(dense(x.tan!));
    const a = callT(op, [x, ...args]);
    const b = callT(op, [y, ...args]);
    expect(tanValues(tangentOf(a), 2, a.shape)).toEqual(tanValues(tangentOf(b), 2, b.shape));
    return a;
  }

  it('slice intersects the box; a slice past the box is a null tangent', () => {
    const a = sameAsDense('aten::slice', [1, 1, 5, 1]);
    expect(boxOf(tangentOf(a)!)).toEqual([2, 2]);
    const b = sameAsDense('aten::slice', [1, 0, 5, 2]);
    expect(boxOf(tangentOf(b)!)).toEqual([2, 2]);
    const c = sameAsDense('aten::slice', [0, 2, 4]);
    expect(tangentOf(c)).toBeNull();
    const d = sameAsDense('aten::slice', [1, 0, 2]);
    expect(boxOf(tangentOf(d)!)).toEqual([2, 2]);
  });

  it('select inside and outside the box', () => {
    expect(boxOf(tangentOf(sameAsDense('aten::select', [0, 1]))!)).toEqual([3]);
    expect(tangentOf(sameAsDense('aten::select', [0, 3]))).toBeNull();
    expect(tangentOf(sameAsDense('aten::select', [1, 4]))).toBeNull();
  });

  it('permute / transpose / unsqueeze / squeeze / expand carry the box', () => {
    expect(boxOf(tangentOf(sameAsDense('aten::transpose', [0, 1]))!)).toEqual([3, 2]);
    expect(boxOf(tangentOf(sameAsDense('aten::unsqueeze', [1]))!)).toEqual([2, 1, 3]);
    const u = sameAsDense('aten::unsqueeze', [0]);
    const e = callT('aten::expand', [u, [6, 4, 5]]);
    const te = tangentOf(e)!;
    expect(boxOf(te)).toEqual([6, 2, 3]);
    expect(te.data.strides[1]).toBe(0);
    const sq = callT('aten::squeeze', [u, 0]);
    expect(boxOf(tangentOf(sq)!)).toEqual([2, 3]);
  });

  it('reshape keeps the box of axes it leaves alone and fills merged ones', () => {
    const a = sameAsDense('aten::reshape', [[4, 1, 5]]);
    expect(boxOf(tangentOf(a)!)).toEqual([2, 1, 3]);
    const b = sameAsDense('aten::reshape', [[20]]);
    expect(boxOf(tangentOf(b)!)).toEqual([20]);
    const c = sameAsDense('aten::view', [[2, 2, 5]]);
    expect(tangentOf(c)!.full).toEqual([2, 2, 5]);
  });

  it('expand of a tangent keeps stride 0; reshape keeps stride-0 axes it does not merge', () => {
    const x = randTensor([1, 3], 1);
    x.tan = tan(randTensor([2, 1, 3], 2));
    const e = callT('aten::expand', [x, [7, 3]]);
    const t = tangentOf(e)!;
    expect(t.data.shape).toEqual([2, 7, 3]);
    expect(t.data.strides[1]).toBe(0);
    const v = callT('aten::reshape', [e, [7, 3, 1]]);
    expect(tangentOf(v)!.data.strides[1]).toBe(0);
    const f = callT('aten::reshape', [e, [21]]);
    expect(tanValues(tangentOf(f), 2, [21])).toEqual(values(dense(t)));
  });
});

describe('view rules: lazily computed roots (lead)', () => {
  function lazy(shape: number[], seed: number, spy: { calls: [number, number][] }): GTensor {
    const full = randTensor(shape, seed, 'complex');
    return lazyTensor(
      shape,
      'complex',
      () => ({ re: full.re, im: full.im }),
      (dim, count) => {
        spy.calls.push([dim, count]);
        return callT('aten::contiguous', [callT('aten::slice', [full, dim, 0, count])]);
      },
    );
  }

  it('a leading slice of a deferred root computes only that block, values and tangent', () => {
    const spy = { calls: [] as [number, number][] };
    const tspy = { calls: [] as [number, number][] };
    const x = lazy([2, 3, 9], 1, spy);
    const tdata = lazy([2, 2, 3, 9], 2, tspy);
    x.tan = tan(tdata);
    const s = callT('aten::slice', [x, 2, 0, 4]);
    expect(spy.calls).toEqual([[2, 4]]);
    expect(s.parent).toBeNull();
    expect(s.readonlyReason).toMatch(/in place/);
    expect(x.deferred).toBe(true);
    const t = tangentOf(s)!;
    expect(tspy.calls).toEqual([[3, 4]]);
    expect(tdata.deferred).toBe(true);
    expect(t.full).toEqual([2, 3, 4]);
    const ref = randTensor([2, 3, 9], 1, 'complex');
    expectValues(s, [2, 3, 4], ([a, b, c]) => at(ref, [a, b, c]));
    expectValues(s, [2, 3, 4], ([a, b, c]) => at(ref, [a, b, c], true), true);
    const tref = randTensor([2, 2, 3, 9], 2, 'complex');
    expect(tanValues(t, 2, [2, 3, 4], true)).toEqual(indices([2, 2, 3, 4]).map((i) => at(tref, i, true)));
    expect(() => call('aten::fill_', [s, 0])).toThrow(/in place/);
  });

  it('other slices of a lazy root are views', () => {
    const spy = { calls: [] as [number, number][] };
    const x = lazy([2, 5], 3, spy);
    const s = callT('aten::slice', [x, 1, 1, 4]);
    expect(s.parent).toBe(x);
    expect(spy.calls).toEqual([]);
    const whole = callT('aten::slice', [x, 1, 0, 5]);
    expect(whole.parent).toBe(x);
  });
});

describe('view rules: errors', () => {
  it('view with an incompatible size names the op and the sizes', () => {
    const x = iota([3, 4]);
    expect(() => call('aten::view', [x, [5, 2]])).toThrow(/aten::view.*\[5,2\].*\[3,4\].*12 elements/);
    expect(() => call('aten::view', [x, [-1, -1]])).toThrow(/aten::view: only one dimension/);
    expect(() => call('aten::reshape', [x, [-1, 5]])).toThrow(/aten::reshape.*\[-1,5\]/);
  });
  it('view of a layout that needs a copy says to use reshape', () => {
    const xt = callT('aten::t', [iota([3, 4])]);
    expect(() => call('aten::view', [xt, [12]])).toThrow(/aten::view.*\[12\].*\[4,3\].*reshape/);
    expect(callT('aten::reshape', [xt, [12]]).parent).toBeNull();
  });
  it('bad dims, indices, sizes', () => {
    const x = iota([3, 4]);
    expect(() => call('aten::select', [x, 1, 4])).toThrow(/aten::select: index 4 is out of range/);
    expect(() => call('aten::permute', [x, [0, 0]])).toThrow(/aten::permute/);
    expect(() => call('aten::transpose', [x, 0, 2])).toThrow(/aten::transpose: dim 2 is out of range/);
    expect(() => call('aten::expand', [x, [3, 5]])).toThrow(
      /aten::expand.*expanded size \(5\).*existing size \(4\)/,
    );
    expect(() => call('aten::split', [x, [1, 1], 0])).toThrow(/aten::split.*\[1,1\]/);
    expect(() => call('aten::slice', [x, 0, 0, 2, 0])).toThrow(/step must be positive/);
    expect(() => call('aten::narrow', [x, 1, 2, 3])).toThrow(/aten::narrow/);
    expect(() => call('aten::t', [iota([2, 2, 2])])).toThrow(/aten::t/);
  });
});

describe('view rules: many random shapes agree with index loops', () => {
  it('permute then slice then reshape', () => {
    for (let seed = 0; seed < 20; seed++) {
      const shape = [2 + (seed % 3), 3, 1 + (seed % 4)];
      const x = iota(shape);
      const p = callT('aten::permute', [x, [1, 2, 0]]);
      const s = callT('aten::slice', [p, 2, 1, null, 1]);
      const flat = callT('aten::reshape', [s, [-1]]);
      const want = indices(s.shape).map(([a, b, c]) => at(x, [c + 1, a, b]));
      expect(values(flat)).toEqual(want);
      expect(sizeOf(flat.shape)).toBe(want.length);
    }
  });
});
