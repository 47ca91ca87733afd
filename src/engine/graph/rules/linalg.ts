/**
 * Matrix products: linear, matmul (every 1-D/2-D/batched/broadcast case of torch.matmul), mm, bmm,
 * addmm; real and complex.
 *
 * All go through kernels/contract.ts, so a linear map along the last axis of a strided tensor is one
 * GEMM over all its rows when they lie at a uniform stride, or one GEMM per outer index when the
 * axis is not innermost, without copying the input, and the result keeps the input's physical axis
 * order. The JVP is the same product on the tangent (with a P letter), which keeps the tangent's
 * structure: stride-0 axes (p broadcast over time) stay one row, a box along an output axis stays a
 * box, and a box along the contracted axis uses only the matching columns of the weight. A bias's
 * tangent broadcasts with stride 0.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { contract, type Operand } from '../kernels/contract';
import { addInto } from '../kernels/layout';
import { addTan, broadcastTan, productJvp, runPair, scaleTan } from '../kernels/tangents';
import type { Rule, RuleTable, TanOf } from '../rule';
import type { Tan } from '../tangent';
import type { GTensor } from '../tensor';

const M = -20;
const K = -21;
const N = -22;
/** Batch dims: 2000 + position from the right, so broadcasting lines them up. */
const BATCH = 2000;

function batchLabels(count: number): number[] {
  return Array.from({ length: count }, (_, j) => BATCH + (count - 1 - j));
}

interface Product {
  a: Operand;
  b: Operand;
  out: number[];
}

function checkInner(op: string, a: GTensor, ka: number, b: GTensor, kb: number): void {
  if (a.shape[ka] !== b.shape[kb])
    throw new ShapeError(
      `${op}: shapes [${a.shape}] and [${b.shape}] cannot be multiplied (${a.shape[ka]} vs ${b.shape[kb]})`,
    );
}

/** torch.matmul's cases as labels. */
function matmulLabels(op: string, a: GTensor, b: GTensor): Product {
  const ra = a.rank;
  const rb = b.rank;
  if (ra === 0 || rb === 0) throw new ShapeError(`${op}: both arguments to matmul need to be at least 1D`);
  checkInner(op, a, ra - 1, b, rb === 1 ? 0 : rb - 2);
  const la = ra === 1 ? [K] : [...batchLabels(ra - 2), M, K];
  const lb = rb === 1 ? [K] : [...batchLabels(rb - 2), K, N];
  const out = [...batchLabels(Math.max(ra - 2, rb - 2, 0)), ...(ra > 1 ? [M] : []), ...(rb > 1 ? [N] : [])];
  for (let i = 0; i < Math.min(ra, rb) - 2; i++) {
    const da = a.shape[ra - 3 - i];
    const db = b.shape[rb - 3 - i];
    if (da !== db && da !== 1 && db !== 1)
      throw new ShapeError(`${op}: batch dimensions of [${a.shape}] and [${b.shape}] do not broadcast`);
  }
  return { a: { t: a, labels: la }, b: { t: b, labels: lb }, out };
}

/** A rule computing one product (plus an optional broadcast addend) and its JVP. */
function productRule(
  params: readonly string[],
  labels: (a: Args) => Product,
  extra?: { name: string; scale: (a: Args) => number; prodScale: (a: Args) => number },
): Rule {
  return {
    params,
    forward(a) {
      const p = labels(a);
      const alpha = extra ? extra.prodScale(a) : 1;
      const y = contract(p.a, p.b, p.out, { scale: alpha });
      if (extra) {
        const add = a.optTensor(extra.name);
        const beta = extra.scale(a);
        if (add && beta !== 0) addInto(y, add, beta, true);
      }
      return y;
    },
    jvp(a, out, t: TanOf): Tan {
      const p = labels(a);
      const y = out as GTensor;
      const alpha = extra ? extra.prodScale(a) : 1;
      let res = productJvp([p.a, p.b], [t(p.a.t), t(p.b.t)], p.out, y.shape, runPair, { scale: alpha });
      if (extra) {
        const add = a.optTensor(extra.name);
        const beta = extra.scale(a);
        if (add && beta !== 0) res = addTan(res, scaleTan(broadcastTan(t(add), y.shape), beta));
      }
      return res;
    },
  };
}

const linear = productRule(
  ['input', 'weight', 'bias='],
  (a) => {
    const x = a.tensor('input');
    const w = a.tensor('weight');
    if (x.rank === 0) throw new ShapeError(`${a.op}: the input must have at least one dimension`);
    if (w.rank !== 1 && w.rank !== 2)
      throw new ShapeError(`${a.op}: the weight must be 1-D or 2-D, got [${w.shape}]`);
    checkInner(a.op, x, x.rank - 1, w, w.rank - 1);
    const lead = x.shape.slice(0, -1).map((_, i) => i);
    return {
      a: { t: x, labels: [...lead, K] },
      b: { t: w, labels: w.rank === 2 ? [N, K] : [K] },
      out: w.rank === 2 ? [...lead, N] : lead,
    };
  },
  { name: 'bias', scale: () => 1, prodScale: () => 1 },
);

const matmul = productRule(['self', 'other'], (a) => matmulLabels(a.op, a.tensor('self'), a.tensor('other')));

const mm = productRule(['self', 'mat2'], (a) => {
  const x = a.tensor('self');
  const y = a.tensor('mat2');
  if (x.rank !== 2 || y.rank !== 2)
    throw new ShapeError(`${a.op}: both arguments must be 2-D, got [${x.shape}] and [${y.shape}]`);
  return matmulLabels(a.op, x, y);
});

const bmm = productRule(['self', 'mat2'], (a) => {
  const x = a.tensor('self');
  const y = a.tensor('mat2');
  if (x.rank !== 3 || y.rank !== 3)
    throw new ShapeError(`${a.op}: both arguments must be 3-D, got [${x.shape}] and [${y.shape}]`);
  if (x.shape[0] !== y.shape[0])
    throw new ShapeError(`${a.op}: batch sizes ${x.shape[0]} and ${y.shape[0]} differ`);
  return matmulLabels(a.op, x, y);
});

const addmm = productRule(
  ['self', 'mat1', 'mat2', 'beta=', 'alpha='],
  (a) => {
    const x = a.tensor('mat1');
    const y = a.tensor('mat2');
    if (x.rank !== 2 || y.rank !== 2)
      throw new ShapeError(`${a.op}: mat1 and mat2 must be 2-D, got [${x.shape}] and [${y.shape}]`);
    return matmulLabels(a.op, x, y);
  },
  { name: 'self', scale: (a) => a.number('beta', 1), prodScale: (a) => a.number('alpha', 1) },
);

export const linalgRules = {
  'aten::linear': linear,
  'aten::matmul': matmul,
  'aten::mm': mm,
  'aten::bmm': bmm,
  'aten::addmm': addmm,
} satisfies RuleTable;
