import { describe, expect, it } from 'vitest';
import { callOp } from '../../../../src/engine/graph/dispatch';
import { contract } from '../../../../src/engine/graph/kernels/contract';
import { linalgRules } from '../../../../src/engine/graph/rules/linalg';
import { GTensor, type Kind } from '../../../../src/engine/graph/tensor';
import { gemmJs, type Gemm, type GemmArgs } from '../../../../src/engine/kernels/gemm';
import { checkJvp } from '../jvp-check';
import { checkStructured, naiveEinsum, randTensor, relDiff, structuredTan, vals } from './linear-check';

const fwd = (op: string, args: unknown[], kwargs: Record<string, unknown> = {}) =>
  callOp(linalgRules, `aten::${op}`, args, kwargs, { P: 1 }, false) as GTensor;

/** A tensor of logical shape `shape` stored with axes in `order` (outermost first). */
function stored(shape: number[], order: number[], seed: number, kind: Kind = 'float'): GTensor {
  const phys = order.map((a) => shape[a]);
  const base = randTensor(phys, seed, kind);
  const strides = new Array<number>(shape.length);
  order.forEach((a, i) => (strides[a] = base.strides[i]));
  return new GTensor(shape, strides, 0, base.re, base.im, kind);
}

function counting(): { gemm: Gemm; calls: GemmArgs[] } {
  const calls: GemmArgs[] = [];
  return {
    calls,
    gemm: (g) => {
      calls.push(g);
      gemmJs(g);
    },
  };
}

describe('linear', () => {
  it('forward against a naive reference: layouts, 1-D weight, complex', () => {
    const cases: [GTensor, GTensor, GTensor | null][] = [
      [randTensor([2, 5, 7], 1), randTensor([4, 7], 2), randTensor([4], 3)],
      [stored([2, 5, 7], [2, 0, 1], 4), randTensor([4, 7], 5), randTensor([4], 6)], // features outermost
      [stored([2, 5, 7], [0, 2, 1], 7), stored([4, 7], [1, 0], 8), null], // features not innermost
      [randTensor([7], 9), randTensor([3, 7], 10), randTensor([3], 11)],
      [randTensor([3, 7], 12), randTensor([7], 13), null],
      [
        randTensor([2, 3, 4], 14, 'complex'),
        randTensor([5, 4], 15, 'complex'),
        randTensor([5], 16, 'complex'),
      ],
      [randTensor([2, 3, 4], 17), randTensor([5, 4], 18, 'complex'), null],
    ];
    for (const [x, w, b] of cases) {
      const y = fwd('linear', [x, w, b]);
      const ref = naiveEinsum(w.rank === 2 ? '...i,oi->...o' : '...i,i->...', [x, w]);
      if (b) {
        const bv = vals(b);
        const O = b.numel;
        for (let i = 0; i < ref.re.length; i++) {
          ref.re[i] += bv[0][i % O];
          if (bv[1]) ref.im[i] += bv[1][i % O];
        }
      }
      expect(y.shape).toEqual(ref.shape);
      const complex = x.kind === 'complex' || w.kind === 'complex';
      expect(relDiff(vals(y), [ref.re, complex ? ref.im : null])).toBeLessThan(1e-13);
    }
  });

  it('JVP: every argument, real and complex', () => {
    checkJvp(linalgRules, 'aten::linear', () => ({
      args: [randTensor([2, 3, 4], 1), randTensor([5, 4], 2), randTensor([5], 3)],
    }));
    checkJvp(linalgRules, 'aten::linear', () => ({ args: [randTensor([4], 1), randTensor([5, 4], 2)] }));
    checkJvp(linalgRules, 'aten::linear', () => ({
      args: [
        randTensor([3, 4], 1, 'complex'),
        randTensor([2, 4], 2, 'complex'),
        randTensor([2], 3, 'complex'),
      ],
    }));
    checkJvp(linalgRules, 'aten::linear', () => ({ args: [randTensor([3, 4], 1), randTensor([2, 4], 2)] }), {
      perturb: (i) => i === 1,
    });
  });

  it('a tangent constant over time stays one row; boxes stay boxes', () => {
    const shape = [2, 9, 4];
    checkStructured(
      linalgRules,
      'aten::linear',
      () => ({ args: [randTensor(shape, 1), randTensor([3, 4], 2), randTensor([3], 3)] }),
      () => [structuredTan(shape, 3, 4, { const: [1] })],
      {
        P: 3,
        check: (t) => {
          expect(t!.data.shape).toEqual([3, 2, 9, 3]);
          expect(t!.data.strides[2]).toBe(0);
          expect(t!.data.re.length).toBe(3 * 2 * 3);
        },
      },
    );
    // box along the batch (kept) and along the features (fewer weight columns)
    checkStructured(
      linalgRules,
      'aten::linear',
      () => ({ args: [randTensor(shape, 1), randTensor([3, 4], 2)] }),
      () => [structuredTan(shape, 2, 4, { box: [1, 9, 2] })],
      { check: (t) => expect(t!.data.shape).toEqual([2, 1, 9, 3]) },
    );
    // weight tangent boxed along outputs, bias tangent broadcast with stride 0
    checkStructured(
      linalgRules,
      'aten::linear',
      () => ({ args: [randTensor(shape, 1), randTensor([3, 4], 2), randTensor([3], 3)] }),
      (ins) => [undefined, structuredTan(ins[1].shape, 2, 5, { box: [2, 4] }), structuredTan([3], 2, 6)],
    );
  });

  it('lays the work out as few GEMMs without copying the input', () => {
    // features innermost: one GEMM over all B·T rows
    const x = randTensor([3, 50, 8], 1);
    const w = randTensor([6, 8], 2);
    let c = counting();
    contract({ t: x, labels: [0, 1, -1] }, { t: w, labels: [-2, -1] }, [0, 1, -2], {
      gemm: c.gemm,
      path: 'gemm',
    });
    expect(c.calls.length).toBe(1);
    expect(c.calls[0].M).toBe(150);
    expect(c.calls[0].A).toBe(x.re);
    // features in the middle ([B, C, T] contiguous): one GEMM per batch entry, W·X[C, T]
    const xm = randTensor([3, 8, 50], 3);
    c = counting();
    const y = contract({ t: xm, labels: [0, -1, 1] }, { t: w, labels: [-2, -1] }, [0, -2, 1], {
      gemm: c.gemm,
      path: 'gemm',
    });
    expect(c.calls.length).toBe(3);
    expect(c.calls[0].B).toBe(xm.re);
    expect(y.strides).toEqual([6 * 50, 50, 1]); // the input's physical order
    // a time-constant tangent: computed once, stride 0 in the result
    const xt = new GTensor([3, 50, 8], [8, 0, 1], 0, randTensor([3, 8], 4).re, null, 'float');
    c = counting();
    const yt = contract({ t: xt, labels: [0, 1, -1] }, { t: w, labels: [-2, -1] }, [0, 1, -2], {
      gemm: c.gemm,
      compact: true,
      path: 'gemm',
    });
    // one product of the 3 stored rows with W (either orientation), not of all 150
    expect(c.calls.length).toBe(1);
    expect(c.calls[0].M * c.calls[0].N).toBe(3 * 6);
    expect(yt.strides[1]).toBe(0);
  });

  it('rejects mismatched shapes', () => {
    expect(() => fwd('linear', [randTensor([2, 3], 1), randTensor([4, 5], 2)])).toThrow(
      /cannot be multiplied/,
    );
  });
});

describe('matmul, mm, bmm, addmm', () => {
  const matmulCases: [number[], number[], string][] = [
    [[4], [4], 'i,i->'],
    [[3, 4], [4], 'mi,i->m'],
    [[4], [4, 5], 'i,in->n'],
    [[3, 4], [4, 5], 'mi,in->mn'],
    [[2, 3, 4], [4, 5], '...mi,in->...mn'],
    [[4], [2, 4, 5], 'i,...in->...n'],
    [[2, 1, 3, 4], [5, 4, 2], '...mi,...in->...mn'],
    [[1, 3, 4], [2, 4, 5], '...mi,...in->...mn'],
    [[2, 3, 4], [4], '...mi,i->...m'],
  ];
  it('matmul: every case against a naive reference, real and complex', () => {
    let seed = 1;
    for (const [sa, sb, eq] of matmulCases)
      for (const kind of ['float', 'complex'] as Kind[]) {
        const a = randTensor(sa, seed++, kind);
        const b = randTensor(sb, seed++, kind);
        const y = fwd('matmul', [a, b]);
        const ref = naiveEinsum(eq, [a, b]);
        expect(y.shape, eq).toEqual(ref.shape);
        expect(relDiff(vals(y), [ref.re, kind === 'complex' ? ref.im : null]), eq).toBeLessThan(1e-13);
      }
  });

  it('matmul JVP', () => {
    for (const [sa, sb] of matmulCases) {
      checkJvp(linalgRules, 'aten::matmul', () => ({ args: [randTensor(sa, 1), randTensor(sb, 2)] }));
    }
    checkJvp(linalgRules, 'aten::matmul', () => ({
      args: [randTensor([2, 3, 4], 1, 'complex'), randTensor([4, 2], 2, 'complex')],
    }));
  });

  it('mm, bmm, addmm: values and JVP', () => {
    const a = randTensor([3, 4], 1);
    const b = randTensor([4, 5], 2);
    expect(relDiff(vals(fwd('mm', [a, b])), [naiveEinsum('ij,jk->ik', [a, b]).re, null])).toBeLessThan(1e-13);
    const ba = randTensor([2, 3, 4], 3, 'complex');
    const bb = randTensor([2, 4, 5], 4, 'complex');
    const r = naiveEinsum('bij,bjk->bik', [ba, bb]);
    expect(relDiff(vals(fwd('bmm', [ba, bb])), [r.re, r.im])).toBeLessThan(1e-13);
    const s = randTensor([5], 5);
    const y = fwd('addmm', [s, a, b], { beta: 0.5, alpha: -2 });
    const ref = naiveEinsum('ij,jk->ik', [a, b]);
    const sv = vals(s)[0];
    for (let i = 0; i < 15; i++) ref.re[i] = 0.5 * sv[i % 5] - 2 * ref.re[i];
    expect(relDiff(vals(y), [ref.re, null])).toBeLessThan(1e-13);

    checkJvp(linalgRules, 'aten::mm', () => ({ args: [randTensor([3, 4], 1), randTensor([4, 5], 2)] }));
    checkJvp(linalgRules, 'aten::bmm', () => ({
      args: [randTensor([2, 3, 4], 1), randTensor([2, 4, 5], 2)],
    }));
    checkJvp(linalgRules, 'aten::addmm', () => ({
      args: [randTensor([3, 5], 0), randTensor([3, 4], 1), randTensor([4, 5], 2)],
      kwargs: { beta: 0.3, alpha: 1.7 },
    }));
    checkJvp(linalgRules, 'aten::addmm', () => ({
      args: [randTensor([5], 0), randTensor([3, 4], 1), randTensor([4, 5], 2)],
    }));
    expect(() => fwd('mm', [randTensor([3], 1), b])).toThrow(/2-D/);
    expect(() => fwd('bmm', [randTensor([2, 3, 4], 1), randTensor([3, 4, 5], 2)])).toThrow(/batch/);
    expect(() => fwd('matmul', [randTensor([2, 3, 4], 1), randTensor([3, 4, 5], 2)])).toThrow(/broadcast/);
  });
});

describe('contract (the kernel under every product): random labels, layouts and paths', () => {
  it('matches a naive einsum on both paths, compact or not, into fresh or given outputs', async () => {
    const { rng } = await import('../../helpers');
    const r = rng(12345);
    const pick = (n: number) => Math.floor(r() * n);
    const letters = 'abcdef';
    /** A tensor of `shape` with a random physical order, maybe a gap, maybe a broadcast axis. */
    const laidOut = (shape: number[], kind: Kind, seed: number): GTensor => {
      const order = shape.map((_, i) => i).sort(() => r() - 0.5);
      const gap = pick(3) === 0 ? 1 : 0;
      const phys = order.map((a) => shape[a]);
      if (phys.length) phys[phys.length - 1] += gap;
      const base = randTensor(phys.length ? phys : [1], seed, kind);
      const strides = new Array<number>(shape.length);
      let acc = 1;
      for (let k = order.length - 1; k >= 0; k--) {
        strides[order[k]] = acc;
        acc *= phys[k];
      }
      // a broadcast axis
      const b = shape.findIndex((d) => d > 1);
      if (b >= 0 && pick(4) === 0) strides[b] = 0;
      return new GTensor(shape, strides, 0, base.re, base.im, kind);
    };
    for (let trial = 0; trial < 150; trial++) {
      const n = 1 + pick(5);
      const sizes = Array.from({ length: n }, () => 1 + pick(4));
      const inA: number[] = [];
      const inB: number[] = [];
      const out: number[] = [];
      for (let l = 0; l < n; l++) {
        const role = pick(6);
        if (role === 0 || role === 2 || role === 3 || role === 4) inA.push(l);
        if (role === 1 || role === 2 || role === 3 || role === 5) inB.push(l);
        if (role <= 2) out.push(l);
      }
      const shuffle = (xs: number[]) => xs.sort(() => r() - 0.5);
      shuffle(inA);
      shuffle(inB);
      shuffle(out);
      const kindA: Kind = pick(2) ? 'complex' : 'float';
      const kindB: Kind = pick(2) ? 'complex' : 'float';
      const A = laidOut(
        inA.map((l) => sizes[l]),
        kindA,
        trial * 2,
      );
      const Bt = laidOut(
        inB.map((l) => sizes[l]),
        kindB,
        trial * 2 + 1,
      );
      const eq = `${inA.map((l) => letters[l]).join('')},${inB.map((l) => letters[l]).join('')}->${out.map((l) => letters[l]).join('')}`;
      const ref = naiveEinsum(eq, [A, Bt]);
      const complex = kindA === 'complex' || kindB === 'complex';
      for (const path of ['gemm', 'direct'] as const)
        for (const compact of [false, true]) {
          const y = contract({ t: A, labels: inA }, { t: Bt, labels: inB }, out, { path, compact });
          expect(y.shape, eq).toEqual(ref.shape);
          expect(relDiff(vals(y), [ref.re, complex ? ref.im : null]), `${eq} ${path}`).toBeLessThan(1e-13);
        }
      // into a given output, accumulating
      const o = laidOut(ref.shape, complex ? 'complex' : 'float', 999 + trial);
      if (o.strides.some((s, i) => s === 0 && o.shape[i] > 1)) continue;
      const before = vals(o);
      contract({ t: A, labels: inA }, { t: Bt, labels: inB }, out, {
        out: o,
        accumulate: true,
        path: pick(2) ? 'gemm' : 'direct',
      });
      const want = [
        ref.re.map((v, i) => v + before[0][i]),
        complex ? ref.im.map((v, i) => v + before[1]![i]) : null,
      ] as [Float64Array, Float64Array | null];
      expect(relDiff(vals(o), want), `${eq} into out`).toBeLessThan(1e-13);
    }
  });
});

describe('contraction plans', () => {
  it('packs a factor broadcast along the rows so its direction axis joins the columns: one GEMM per sample', () => {
    // The seed's linear after its first activation, as deferred.ts leaves it: d[b,t,c] (broadcast over
    // the P directions) times G[k,b,c,e] (broadcast over t), summed over c. G's k and e do not merge
    // in place; packed (G holds P·B·C·E values, not P·B·T·C·E), they are one column axis.
    const [P, Bn, T, C, E] = [14, 2, 601, 64, 32]; // the seed model's sizes
    const d = randTensor([Bn, T, C], 11);
    const g = randTensor([P, Bn, C, E], 12);
    // d as [k,b,t,c] with stride 0 on k; G as [k,b,t,c,e] with stride 0 on t, k and e not adjacent
    const dv = new GTensor([P, Bn, T, C], [0, T * C, C, 1], 0, d.re, null, 'float');
    const gPadded = new Float64Array(P * Bn * C * (E + 8));
    for (let k = 0; k < P; k++)
      for (let b = 0; b < Bn; b++)
        for (let c = 0; c < C; c++)
          for (let e = 0; e < E; e++)
            gPadded[((k * Bn + b) * C + c) * (E + 8) + e] = g.re[((k * Bn + b) * C + c) * E + e];
    const gv = new GTensor(
      [P, Bn, T, C, E],
      [Bn * C * (E + 8), C * (E + 8), 0, E + 8, 1],
      0,
      gPadded,
      null,
      'float',
    );
    const c = counting();
    const y = contract(
      { t: dv, labels: [0, 1, 2, -1] },
      { t: gv, labels: [0, 1, 2, -1, -2] },
      [0, 1, 2, -2],
      {
        gemm: c.gemm,
        path: 'gemm',
      },
    );
    expect(c.calls.length).toBe(Bn);
    let err = 0;
    for (let k = 0; k < P; k++)
      for (let b = 0; b < Bn; b++)
        for (let t = 0; t < T; t++)
          for (let e = 0; e < E; e++) {
            let want = 0;
            for (let cc = 0; cc < C; cc++)
              want += d.re[(b * T + t) * C + cc] * g.re[((k * Bn + b) * C + cc) * E + e];
            const got =
              y.re[y.offset + k * y.strides[0] + b * y.strides[1] + t * y.strides[2] + e * y.strides[3]];
            err = Math.max(err, Math.abs(got - want));
          }
    expect(err).toBeLessThan(1e-12);
  });
});
