/**
 * Tangent arithmetic the linear rules share: sums of tangents with different boxes, broadcasting a
 * tangent (a bias, addmm's `self`) to an output shape with stride 0, and the JVP of a product
 * (einsum, matmul, linear) with boxes carried letter by letter.
 */
import { binary, scale } from '../elementwise';
import { physicalOrder } from '../strided';
import { boxed, type Tan, type TanT } from '../tangent';
import { GTensor, scalarTensor } from '../tensor';
import { contract, type ContractOptions, type Operand } from './contract';
import { deferredFactors } from './deferred';
import { addInto, leadAlong, leadBlock, raw, zerosInOrder } from './layout';

/** a + b; boxes may differ (the sum covers their union); stride-0 axes common to both stay. */
export function addTan(a: Tan, b: Tan): Tan {
  if (!a) return b;
  if (!b) return a;
  const da = a.data;
  const db = b.data;
  if (da.shape.every((d, i) => d === db.shape[i]))
    return { data: binary(da, db, 'add', { compact: true }), full: a.full };
  const u = da.shape.map((d, i) => Math.max(d, db.shape[i]));
  const kind = da.kind === 'complex' || db.kind === 'complex' ? 'complex' : 'float';
  const out = zerosInOrder(u, physicalOrder(u, da.strides), kind);
  addInto(leadBlock(out, da.shape), da, 1, true);
  addInto(leadBlock(out, db.shape), db, 1, true);
  return boxed(out, a.full);
}

/** s · t (structure kept). */
export function scaleTan(t: Tan, s: number): Tan {
  if (!t || s === 1) return t;
  return { data: scale(t.data, s, { compact: true }), full: t.full };
}

/**
 * The tangent of a value of shape t.full broadcast (NumPy rules) to `shape`: new leading axes and
 * size-1 axes become stride-0 axes of the data.
 */
export function broadcastTan(t: Tan, shape: readonly number[]): Tan {
  if (!t) return null;
  const d = t.data;
  const r = shape.length;
  const off = r - t.full.length;
  const dShape = [d.shape[0]];
  const dStrides = [d.strides[0]];
  for (let i = 0; i < r; i++) {
    const j = i - off;
    if (j < 0) {
      dShape.push(shape[i]);
      dStrides.push(0);
    } else if (t.full[j] === 1 && shape[i] !== 1) {
      if (d.shape[j + 1] === 0) return null;
      dShape.push(shape[i]);
      dStrides.push(0);
    } else {
      dShape.push(d.shape[j + 1]);
      dStrides.push(d.strides[j + 1]);
    }
  }
  return boxed(raw(d, dShape, dStrides, d.offset), shape);
}

/** The label the tangent's leading P axis gets in products (distinct from every other label). */
export const P_LABEL = -100;

/**
 * The JVP of a product of operands (contract / einsum over labels): for each operand with a
 * tangent, the product with that operand replaced by its tangent data (labels [P, ...]) and the
 * others cut to the tangent's box along the labels they share, so a box along a batch or
 * contracted letter shrinks the work and a box along any output letter is kept. `run` computes a
 * product of operands (2 or more) into labels.
 */
export function productJvp(
  ops: readonly Operand[],
  tans: readonly Tan[],
  outLabels: readonly number[],
  outFull: readonly number[],
  run: (ops: Operand[], outLabels: number[], opts: ContractOptions) => GTensor,
  opts: ContractOptions = {},
): Tan {
  let acc: Tan = null;
  ops.forEach((op, i) => {
    const t = tans[i];
    if (!t) return;
    const data = t.data;
    // labels along which the tangent covers less than its operand
    const cut = new Map<number, number>();
    op.labels.forEach((l, k) => {
      const e = data.shape[k + 1];
      if (e < op.t.shape[k]) cut.set(l, Math.min(e, cut.get(l) ?? Infinity));
    });
    if ([...cut.values()].some((e) => e === 0)) return;
    // a deferred product (an activation's JVP) enters as its two factors
    const factors = deferredFactors(data);
    const list: Operand[] = ops.flatMap((o, j): Operand[] => {
      if (j === i) return (factors ?? [data]).map((f) => ({ t: f, labels: [P_LABEL, ...o.labels] }));
      let tt = o.t;
      o.labels.forEach((l, k) => {
        const e = cut.get(l);
        if (e !== undefined && tt.shape[k] > e) tt = leadAlong(tt, k, e);
      });
      return [{ t: tt, labels: o.labels, negIm: tt === o.t ? o.negIm : null }];
    });
    const runOpts = { ...opts, compact: true, out: undefined, accumulate: false };
    const res = factors
      ? contractChain(list, [P_LABEL, ...outLabels], runOpts)
      : run(list, [P_LABEL, ...outLabels], runOpts);
    acc = addTan(acc, boxed(res, outFull));
  });
  return acc;
}

/**
 * The product of several operands, two at a time, each time the pair whose result is smallest
 * (counting only the labels either of the two is not broadcast along): how a deferred tangent
 * product meets a weight before the large factor it was deferred to avoid.
 */
export function contractChain(
  ops: readonly Operand[],
  outLabels: readonly number[],
  opts: ContractOptions,
): GTensor {
  let list = [...ops];
  const extent = (l: number, pair: Operand[]) => {
    let n = 1;
    for (const o of pair)
      o.labels.forEach((m, k) => {
        if (m === l && o.t.shape[k] > 1 && o.t.strides[k] !== 0) n = Math.max(n, o.t.shape[k]);
      });
    return n;
  };
  while (list.length > 2) {
    let best: { i: number; j: number; labels: number[]; size: number } | null = null;
    for (let i = 0; i < list.length; i++)
      for (let j = i + 1; j < list.length; j++) {
        const rest = list.filter((_, k) => k !== i && k !== j);
        const later = new Set([...outLabels, ...rest.flatMap((o) => o.labels)]);
        const labels = [...new Set([...list[i].labels, ...list[j].labels])].filter((l) => later.has(l));
        const size = labels.reduce((p, l) => p * extent(l, [list[i], list[j]]), 1);
        if (!best || size < best.size) best = { i, j, labels, size };
      }
    const { i, j, labels } = best!;
    const t = contract(list[i], list[j], labels, { compact: true, gemm: opts.gemm });
    list = [...list.filter((_, k) => k !== i && k !== j), { t, labels }];
  }
  return list.length === 1
    ? contract(list[0], { t: scalarTensor(1), labels: [] }, outLabels, opts)
    : contract(list[0], list[1], outLabels, opts);
}

/** Two-operand `run` for productJvp. */
export function runPair(ops: Operand[], outLabels: number[], opts: ContractOptions): GTensor {
  return contract(ops[0], ops[1], outLabels, opts);
}

export type { TanT };
