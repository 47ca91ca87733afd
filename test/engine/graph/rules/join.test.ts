import { describe, expect, it } from 'vitest';
import { tangentOf } from '../../../../src/engine/graph/dispatch';
import { boxed, boxOf, tan } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays, zerosTensor } from '../../../../src/engine/graph/tensor';
import { checkJvp, randTensor } from '../jvp-check';
import { T, at, call, callT, checkSeq, expectValues, iota, tanValues } from './shape-fd';

/** x [B, T, C] whose tangent is constant over T (stride 0): p broadcast over time. */
function timeConstant(B: number, Tn: number, C: number, P = 3, seed = 5): GTensor {
  const x = randTensor([B, Tn, C], seed);
  const row = randTensor([P, B, 1, C], seed + 1);
  x.tan = tan(new GTensor([P, B, Tn, C], [row.strides[0], row.strides[1], 0, 1], 0, row.re, null, 'float'));
  return x;
}

describe('cat / stack', () => {
  it('forward values, legacy empty inputs, kind promotion', () => {
    const a = iota([2, 3]);
    const b = iota([2, 1]);
    expectValues(callT('aten::cat', [[a, b], 1]), [2, 4], ([i, j]) => (j < 3 ? i * 3 + j : i));
    expectValues(callT('aten::cat', [[a, a]]), [4, 3], ([i, j]) => (i % 2) * 3 + j + 0 * i);
    const e = zerosTensor([0]);
    expectValues(callT('aten::cat', [[e, a, e], -1]), [2, 3], ([i, j]) => i * 3 + j);
    const ints = fromArrays([2, 1], Float64Array.of(7, 8), null, 'int');
    const c = callT('aten::cat', [[ints, b], 1]);
    expect(c.kind).toBe('float');
    expect(callT('aten::cat', [[ints, ints], 0]).kind).toBe('int');
    const z = callT('aten::cat', [[iota([2], 'complex'), iota([1])], 0]);
    expect(z.kind).toBe('complex');
    expectValues(z, [3], ([i]) => (i < 2 ? -i / 2 : 0), true);
  });

  it('stack / hstack / vstack', () => {
    const a = iota([2, 3]);
    const b = callT('aten::slice', [iota([2, 4]), 1, 1]);
    expectValues(callT('aten::stack', [[a, b], 1]), [2, 2, 3], ([i, k, j]) =>
      k === 0 ? i * 3 + j : i * 4 + 1 + j,
    );
    expectValues(callT('aten::stack', [[a, b], -1]), [2, 3, 2], ([i, j, k]) =>
      k === 0 ? i * 3 + j : i * 4 + 1 + j,
    );
    expectValues(callT('aten::hstack', [[iota([2]), iota([3])]]), [5], ([i]) => (i < 2 ? i : i - 2));
    expectValues(callT('aten::hstack', [[a, a]]), [2, 6], ([i, j]) => i * 3 + (j % 3));
    expectValues(callT('aten::vstack', [[iota([3]), a]]), [3, 3], ([i, j]) =>
      i === 0 ? j : (i - 1) * 3 + j,
    );
  });

  it('JVP vs central differences (real, complex, with and without tangents)', () => {
    checkJvp(T, 'aten::cat', () => ({ args: [[randTensor([2, 3], 1), randTensor([2, 2], 2)], 1] }));
    checkJvp(T, 'aten::cat', () => ({
      args: [[randTensor([2, 3], 1, 'complex'), randTensor([1, 3], 2)], 0],
    }));
    checkJvp(T, 'aten::cat', () => ({ args: [[randTensor([2, 3], 1), randTensor([2, 2], 2)], -1] }), {
      perturb: (i) => i === 1,
    });
    checkJvp(T, 'aten::stack', () => ({ args: [[randTensor([2, 3], 1), randTensor([2, 3], 2)], 1] }));
    checkJvp(T, 'aten::hstack', () => ({ args: [[randTensor([2, 3], 1), randTensor([2, 1], 2)]] }));
    checkJvp(T, 'aten::vstack', () => ({ args: [[randTensor([3], 1), randTensor([2, 3], 2)]] }));
  });

  it('a stride-0 tangent cat with a null one stays stride 0 (x ‖ grid)', () => {
    const x = timeConstant(2, 50, 3);
    const grid = randTensor([2, 50, 1], 9);
    const out = callT('aten::cat', [[x, grid], -1]);
    const t = tangentOf(out)!;
    expect(t.full).toEqual([2, 50, 4]);
    expect(t.data.strides[2]).toBe(0);
    expect(t.data.re.length).toBeLessThanOrEqual(3 * 2 * 4);
    // box along the cat axis ends with the last tangent
    expect(boxOf(t)).toEqual([2, 50, 3]);
    const dx = tanValues(tangentOf(x), 3, [2, 50, 3]);
    const got = tanValues(t, 3, [2, 50, 4]);
    for (let k = 0; k < 3; k++)
      for (let b = 0; b < 2; b++)
        for (let s = 0; s < 50; s++)
          for (let c = 0; c < 4; c++)
            expect(got[((k * 2 + b) * 50 + s) * 4 + c]).toBe(c < 3 ? dx[((k * 2 + b) * 50 + s) * 3 + c] : 0);
    // a null tangent first: zeros ahead of the tangent, still stride 0
    const out2 = callT('aten::cat', [[grid, x], 2]);
    const t2 = tangentOf(out2)!;
    expect(t2.data.strides[2]).toBe(0);
    expect(boxOf(t2)).toEqual([2, 50, 4]);
    // no tangent anywhere: none
    expect(tangentOf(callT('aten::cat', [[grid, grid], 2]))).toBeNull();
  });

  it('cat of a stride-0 tangent with a full one is dense, and matches differences', () => {
    checkSeq(
      () => [randTensor([2, 1, 3], 1), randTensor([2, 6, 2], 2)],
      ([a, b], tg) => {
        const e = call('aten::expand', [a, [2, 6, 3]], {}, tg) as GTensor;
        return call('aten::cat', [[e, b], 2], {}, tg) as GTensor;
      },
    );
  });

  it('cat keeps leading boxes', () => {
    const a = randTensor([4, 5], 1);
    a.tan = boxed(randTensor([2, 1, 2], 2), [4, 5]);
    const b = randTensor([3, 5], 3);
    const out = callT('aten::cat', [[a, b], 0]);
    expect(boxOf(tangentOf(out)!)).toEqual([1, 2]);
    const out2 = callT('aten::cat', [[b, a], 0]);
    expect(boxOf(tangentOf(out2)!)).toEqual([4, 2]);
    expect(
      tanValues(tangentOf(out2), 2, [7, 5])
        .slice(0, 15)
        .every((v) => v === 0),
    ).toBe(true);
  });
});

describe('repeat / tile', () => {
  it('forward values', () => {
    const x = iota([2, 3]);
    expectValues(callT('aten::repeat', [x, [2, 1, 2]]), [2, 2, 6], ([, i, j]) => i * 3 + (j % 3));
    expectValues(callT('aten::repeat', [x, [3, 1]]), [6, 3], ([i, j]) => (i % 2) * 3 + j);
    expectValues(callT('aten::tile', [x, [2]]), [2, 6], ([i, j]) => i * 3 + (j % 3));
    const xt = callT('aten::t', [x]);
    expectValues(callT('aten::repeat', [xt, [2, 2]]), [6, 4], ([j, i]) => (i % 2) * 3 + (j % 3));
    expect(callT('aten::repeat', [x, [0, 1]]).shape).toEqual([0, 3]);
  });

  it('JVP vs central differences', () => {
    checkJvp(T, 'aten::repeat', () => ({ args: [randTensor([2, 3], 1), [2, 1, 3]] }));
    checkJvp(T, 'aten::repeat', () => ({ args: [randTensor([2, 1], 1, 'complex'), [2, 4]] }));
    checkJvp(T, 'aten::tile', () => ({ args: [randTensor([2, 3], 1), [3]] }));
  });

  it('repeat along new and size-1 axes is a stride-0 view of the tangent', () => {
    const p = randTensor([2, 4], 1); // [B, P-features]
    p.tan = tan(randTensor([4, 2, 4], 2));
    const u = callT('aten::unsqueeze', [p, 1]); // [B, 1, 4]
    const rep = callT('aten::repeat', [u, [1, 600, 1]]); // p broadcast over time
    const t = tangentOf(rep)!;
    expect(t.data.shape).toEqual([4, 2, 600, 4]);
    expect(t.data.strides[2]).toBe(0);
    expect(t.data.re.length).toBe(4 * 2 * 4);
    const rep2 = callT('aten::repeat', [u, [3, 600, 1]]);
    expect(tangentOf(rep2)!.data.strides.slice(1, 3)).toEqual([tangentOf(rep2)!.data.strides[1], 0]);
    // tiling a time-constant tangent along another axis copies only the rows
    const x = timeConstant(2, 30, 3);
    const tiled = callT('aten::repeat', [x, [1, 2, 2]]);
    const tt = tangentOf(tiled)!;
    expect(tt.data.strides[2]).toBe(0);
    expect(tanValues(tt, 3, [2, 60, 6])[5]).toBe(tanValues(tangentOf(x), 3, [2, 30, 3])[2]);
    checkSeq(
      () => [randTensor([2, 1, 3], 4)],
      ([a], tg) => {
        const e = call('aten::expand', [a, [2, 5, 3]], {}, tg) as GTensor;
        return call('aten::repeat', [e, [2, 3, 2]], {}, tg) as GTensor;
      },
    );
  });

  it('repeat of a boxed tangent fills the box where it tiles', () => {
    const x = randTensor([4, 5], 1);
    x.tan = boxed(randTensor([2, 2, 3], 2), [4, 5]);
    const y = randTensor([4, 5], 1);
    y.tan = tan(randTensor([2, 4, 5], 0));
    const yd = tanValues(x.tan, 2, [4, 5]);
    y.tan = tan(fromArrays([2, 4, 5], Float64Array.from(yd)));
    const a = callT('aten::repeat', [x, [2, 1, 3]]);
    const b = callT('aten::repeat', [y, [2, 1, 3]]);
    expect(tanValues(tangentOf(a), 2, [2, 4, 15])).toEqual(tanValues(tangentOf(b), 2, [2, 4, 15]));
    expect(boxOf(tangentOf(a)!)).toEqual([2, 2, 15]);
  });
});

describe('pads', () => {
  it('constant_pad_nd / pad forward values (positive, negative, value)', () => {
    const x = iota([2, 4]);
    expectValues(callT('aten::constant_pad_nd', [x, [1, 2]]), [2, 7], ([i, j]) =>
      j >= 1 && j < 5 ? i * 4 + j - 1 : 0,
    );
    expectValues(callT('aten::constant_pad_nd', [x, [0, 0, 1, 0], 9]), [3, 4], ([i, j]) =>
      i === 0 ? 9 : (i - 1) * 4 + j,
    );
    expectValues(callT('aten::constant_pad_nd', [x, [-1, 1]]), [2, 4], ([i, j]) =>
      j < 3 ? i * 4 + j + 1 : 0,
    );
    expectValues(callT('aten::pad', [x, [0, 3]]), [2, 7], ([i, j]) => (j < 4 ? i * 4 + j : 0));
    expectValues(callT('aten::pad', [x, [0, 3], 'constant', null]), [2, 7], ([i, j]) =>
      j < 4 ? i * 4 + j : 0,
    );
  });

  it('reflect / replicate / circular forward values', () => {
    const x = iota([2, 4]);
    const refl = [2, 1, 0, 1, 2, 3, 2, 1];
    expectValues(callT('aten::pad', [x, [2, 2], 'reflect']), [2, 8], ([i, j]) => i * 4 + refl[j]);
    expectValues(callT('aten::reflection_pad1d', [x, [2, 2]]), [2, 8], ([i, j]) => i * 4 + refl[j]);
    const rep = [0, 0, 0, 1, 2, 3, 3];
    expectValues(callT('aten::pad', [x, [2, 1], 'replicate']), [2, 7], ([i, j]) => i * 4 + rep[j]);
    const circ = [3, 0, 1, 2, 3, 0, 1];
    expectValues(callT('aten::pad', [x, [1, 2], 'circular']), [2, 7], ([i, j]) => i * 4 + circ[j]);
    expectValues(callT('aten::_pad_circular', [x, [1, 2]]), [2, 7], ([i, j]) => i * 4 + circ[j]);
    expectValues(
      callT('aten::replication_pad2d', [iota([1, 2, 2]), [1, 0, 0, 1]]),
      [1, 3, 3],
      ([, i, j]) => Math.min(i, 1) * 2 + Math.max(j - 1, 0),
    );
    expect(() => call('aten::pad', [x, [4, 0], 'reflect'])).toThrow(/aten::pad: reflect padding/);
    expect(() => call('aten::pad', [x, [1], 'constant'])).toThrow(/aten::pad: padding/);
    expect(() => call('aten::pad', [x, [1, 1], 'wrap'])).toThrow(/unsupported padding mode 'wrap'/);
  });

  it('JVP vs central differences', () => {
    const cases: [string, unknown[]][] = [
      ['aten::constant_pad_nd', [[1, 2, 0, 1], 3]],
      ['aten::constant_pad_nd', [[-1, 2]]],
      ['aten::pad', [[2, 2], 'reflect']],
      ['aten::pad', [[1, 3, 1, 0], 'replicate']],
      ['aten::pad', [[2, 1], 'circular']],
    ];
    for (const [op, args] of cases) {
      checkJvp(T, op, () => ({ args: [randTensor([3, 5], 1), ...args] }));
      checkJvp(T, op, () => ({ args: [randTensor([3, 5], 2, 'complex'), ...args] }));
    }
  });

  it('a right-only pad keeps the tangent data as it is; a left pad keeps stride 0', () => {
    const x = timeConstant(2, 40, 3);
    const right = callT('aten::pad', [x, [0, 0, 0, 8]]);
    const t = tangentOf(right)!;
    expect(t.data).toBe(tangentOf(x)!.data);
    expect(t.full).toEqual([2, 48, 3]);
    expect(boxOf(t)).toEqual([2, 40, 3]);
    const left = callT('aten::pad', [x, [1, 0]]);
    const tl = tangentOf(left)!;
    expect(tl.data.strides[2]).toBe(0);
    expect(tanValues(tl, 3, [2, 40, 4])[1]).toBe(tanValues(tangentOf(x), 3, [2, 40, 3])[0]);
    // and the crop back (x[..., :T]) recovers it
    const back = callT('aten::slice', [right, 1, 0, -8]);
    expect(tanValues(tangentOf(back), 3, [2, 40, 3])).toEqual(tanValues(tangentOf(x), 3, [2, 40, 3]));
  });
});

describe('flip / roll', () => {
  it('forward values', () => {
    const x = iota([3, 4]);
    expectValues(callT('aten::flip', [x, [1]]), [3, 4], ([i, j]) => i * 4 + 3 - j);
    expectValues(callT('aten::flip', [x, [0, -1]]), [3, 4], ([i, j]) => (2 - i) * 4 + 3 - j);
    expectValues(callT('aten::roll', [x, [1], [1]]), [3, 4], ([i, j]) => i * 4 + ((j + 3) % 4));
    expectValues(
      callT('aten::roll', [x, [-1, 2], [0, 1]]),
      [3, 4],
      ([i, j]) => ((i + 1) % 3) * 4 + ((j + 2) % 4),
    );
    expectValues(callT('aten::roll', [x, [5]]), [3, 4], ([i, j]) => (i * 4 + j + 12 - 5) % 12);
    const xt = callT('aten::t', [x]);
    expectValues(callT('aten::roll', [xt, [1]]), [4, 3], ([j, i]) => {
      const k = (j * 3 + i + 11) % 12;
      return at(xt, [Math.floor(k / 3), k % 3]);
    });
  });

  it('JVP vs central differences', () => {
    checkJvp(T, 'aten::flip', () => ({ args: [randTensor([3, 4], 1), [0, 1]] }));
    checkJvp(T, 'aten::roll', () => ({ args: [randTensor([3, 4], 1), [1, -2], [0, 1]] }));
    checkJvp(T, 'aten::roll', () => ({ args: [randTensor([3, 4], 1, 'complex'), [3]] }));
  });
});

describe('an FNO front end keeps p broadcast over time as one row', () => {
  it('p → unsqueeze → repeat over T → cat with x → permute → pad → crop', () => {
    const B = 2;
    const Tn = 64;
    const P = 3;
    const run = ([p, x]: GTensor[], tg: boolean) => {
      const c = (op: string, args: unknown[]) => call(op, args, {}, tg, P) as GTensor;
      const rep = c('aten::repeat', [c('aten::unsqueeze', [p, 1]), [1, Tn, 1]]);
      const h = c('aten::cat', [[x, rep], -1]);
      const perm = c('aten::permute', [h, [0, 2, 1]]);
      const padded = c('aten::pad', [perm, [0, 9]]);
      return c('aten::slice', [padded, 2, 0, -9]);
    };
    const p = randTensor([B, P], 1);
    p.tan = tan(
      fromArrays(
        [P, B, P],
        Float64Array.from({ length: P * B * P }, (_, i) => Number(i % 4 === 0)),
      ),
    );
    const out = run([p, randTensor([B, Tn, 2], 2)], true);
    const t = tangentOf(out)!;
    expect(t.full).toEqual([B, 2 + P, Tn]);
    expect(t.data.strides[3]).toBe(0);
    expect(t.data.re.length).toBeLessThanOrEqual(P * B * (2 + P));
    checkSeq(() => [randTensor([B, P], 1), randTensor([B, Tn, 2], 2)], run, { P, perturb: [true, false] });
  });
});
