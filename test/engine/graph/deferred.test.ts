/**
 * Deferred tangent products (kernels/deferred.ts): an activation's JVP on a tangent constant along
 * an axis keeps the product as its factors, and the linear maps that follow contract the factors
 * in the cheapest order. Checked against the same computation with the product formed eagerly.
 */
import { describe, expect, it } from 'vitest';
import { callOp, tangentOf } from '../../../src/engine/graph/dispatch';
import { binary } from '../../../src/engine/graph/elementwise';
import { contract } from '../../../src/engine/graph/kernels/contract';
import { deferredFactors, deferredProduct } from '../../../src/engine/graph/kernels/deferred';
import { P_LABEL, contractChain } from '../../../src/engine/graph/kernels/tangents';
import { RULES } from '../../../src/engine/graph/table';
import { dense } from '../../../src/engine/graph/tangent';
import { GTensor } from '../../../src/engine/graph/tensor';
import { randTensor } from './jvp-check';
import { constantAlong, expectClose, values } from './rules/structured';

/** `t` with stride 0 along the given axes of a [P, ...] tangent (constant there). */
function expandAlong(t: GTensor, shape: number[]): GTensor {
  return new GTensor(
    shape,
    shape.map((d, i) => (t.shape[i] === d ? t.strides[i] : 0)),
    t.offset,
    t.re,
    t.im,
    t.kind,
  );
}

describe('deferred products', () => {
  const P = 3;
  const v = expandAlong(randTensor([P, 1, 5, 1], 1), [P, 1, 5, 7]); // [P,B,C,T], constant over T
  const g = randTensor([1, 5, 7], 2); // [B,C,T]

  it('reads as the eager product, in the same layout', () => {
    const eager = binary(v, g, 'mul', { compact: true });
    const lazy = deferredProduct(v, g, { compact: true });
    expect(lazy.deferred).toBe(true);
    expect(lazy.shape).toEqual(eager.shape);
    expect(lazy.strides).toEqual(eager.strides);
    expectClose(values(lazy), values(eager), 0);
    expect(lazy.deferred).toBe(false);
    expect(deferredFactors(lazy)).toBeNull();
  });

  it('gives its factors through a permuted view, and contracts them in the cheapest order', () => {
    const lazy = deferredProduct(v, g, { compact: true });
    const [s0, s1, s2, s3] = lazy.strides;
    const view = lazy.view([P, 1, 7, 5], [s0, s1, s3, s2], 0, () => null); // [P,B,T,C]
    const f = deferredFactors(view)!;
    expect(f).not.toBeNull();
    const w = randTensor([4, 5], 3); // [H, C]
    const [B, T, C, H] = [1, 2, 3, 4];
    const got = contractChain(
      [
        { t: f[0], labels: [P_LABEL, B, T, C] },
        { t: f[1], labels: [P_LABEL, B, T, C] },
        { t: w, labels: [H, C] },
      ],
      [P_LABEL, B, T, H],
      { compact: true },
    );
    expect(lazy.deferred).toBe(true); // never formed
    const want = contract({ t: view, labels: [P_LABEL, B, T, C] }, { t: w, labels: [H, C] }, [
      P_LABEL,
      B,
      T,
      H,
    ]);
    expect(lazy.deferred).toBe(false);
    expectClose(values(got), values(want), 1e-13);
    expectClose(values(binary(f[0], f[1], 'mul')), values(view), 0);
  });

  it('no factors for a view that is not a reordering of the whole product', () => {
    const lazy = deferredProduct(v, g, { compact: true });
    const part = lazy.view([P, 1, 5, 3], lazy.strides, 0, () => null); // a slice along T
    expect(deferredFactors(part)).toBeNull();
    expect(deferredFactors(lazy)).not.toBeNull();
  });

  it('an activation followed by a linear map: the same J as with the product formed', () => {
    // x [1, C=6, T=9] with a tangent constant over time; tanh, permute to [1, T, C], linear
    const x = randTensor([1, 6, 9], 4);
    const w = randTensor([5, 6], 5);
    const bias = randTensor([5], 6);
    const run = (force: boolean) => {
      x.tan = constantAlong([1, 6, 9], [2], 4, 7);
      const y = callOp(RULES, 'aten::tanh', [x], {}, { P: 4 }, true) as GTensor;
      if (force) void tangentOf(y)!.data.re; // materialise: the eager path
      const yp = callOp(RULES, 'aten::permute', [y, [0, 2, 1]], {}, { P: 4 }, true) as GTensor;
      const z = callOp(RULES, 'aten::linear', [yp, w, bias], {}, { P: 4 }, true) as GTensor;
      return { deferred: !force && tangentOf(y)!.data.deferred, t: values(dense(tangentOf(z)!)) };
    };
    const eager = run(true);
    const lazy = run(false);
    expect(lazy.deferred).toBe(true);
    expectClose(lazy.t, eager.t, 1e-13);
  });

  it("lays f'(x) out like x when the product is deferred: computed contiguously, not transposed", () => {
    // x [B=2, C=6, T=9] channels-first, its tangent [P, B, C] broadcast over T
    const x = randTensor([2, 6, 9], 8);
    x.tan = constantAlong([2, 6, 9], [2], 4, 9);
    const y = callOp(RULES, 'aten::tanh', [x], {}, { P: 4 }, true) as GTensor;
    const f = deferredFactors(tangentOf(y)!.data)!;
    expect(f).not.toBeNull();
    const factor = f.find((t) => t.strides[3] !== 0)!; // the one varying over time
    expect(factor.strides.slice(1)).toEqual([54, 9, 1]); // x's own [B, C, T] layout
  });
});
