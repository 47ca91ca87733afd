/**
 * A lowered program: what the graph engine did for one batch, as a list of kernels over flat real
 * buffers, for a backend that does not run the rules itself (WebGPU). The recorder (record.ts)
 * writes it while the CPU engine runs the program, so the rules' decisions — which tangents are
 * symbolic zeros, which axes stay at stride 0, which leading blocks are non-zero — are the CPU's,
 * made once; the tape holds only the arithmetic that is left.
 *
 * Two kernels cover every recorded op:
 *  - `ewise`: outs[j][idx] = exprs[j](ins[0][idx], ins[1][idx], ...) over one shape, every view
 *    strided (stride 0: broadcast). All reads of an element happen before its writes, so an
 *    in-place op (the output one of the inputs, same index map) is fine.
 *  - `contract`: out[idx] (+)= scale · Σ a[idx, k] · b[idx, k]: one list of dimensions, each with
 *    a stride in a, b and out; a dimension with out stride 0 is summed over. Products, matmuls,
 *    einsums, convolution taps, DFT bases and sums are all this.
 * Complex values are two buffers (real and imaginary parts); a complex op is several real records.
 *
 * Every integer of a tape (buffer lengths, shapes, strides, offsets) is affine in the batch n when
 * the program is batch-polymorphic (affine.ts checks that on recordings at several n).
 */
import type { Expr } from './expr';

/** Where a buffer's values come from before the first record runs. */
export type BufInit =
  /** Written by a record before it is read (or zeros: every buffer starts zeroed). */
  | { readonly k: 'zero' }
  /** Model parameters and everything computed from them alone: uploaded once. */
  | { readonly k: 'const'; readonly data: Float64Array }
  /** A program input [n, ...], row-major (the named argument's values for the batch). */
  | { readonly k: 'input'; readonly name: string }
  /** The tangent seed of p: [P, n, P], the identity in every sample. */
  | { readonly k: 'seed' }
  /** Where the executor leaves a result: y [n, ...S] or J [n, ...S, P], row-major. */
  | { readonly k: 'output'; readonly name: 'y' | 'J' };

export interface BufInfo {
  /** Elements (float64 on the CPU, float32 on WebGPU). */
  readonly len: number;
  readonly init: BufInit;
  /** The op that allocated it, for messages. */
  readonly op: string;
}

/** A strided view of one buffer, over the record's shape. */
export interface Access {
  readonly buf: number;
  readonly strides: readonly number[];
  readonly offset: number;
}

export interface EwiseRec {
  readonly kind: 'ewise';
  /** The aten op that emitted it. */
  readonly op: string;
  readonly shape: readonly number[];
  readonly ins: readonly Access[];
  readonly outs: readonly Access[];
  /** One per output. */
  readonly exprs: readonly Expr[];
}

/**
 * What a product stores (fuse.ts folds the elementwise record after it in): out = expr with in0
 * the product's value (scale · sum, plus out's old value when accumulating) and in(1+k) = ins[k]
 * at the output's index (strides over the product's dimensions, 0 along the summed ones).
 */
export interface Epilogue {
  readonly ins: readonly Access[];
  readonly expr: Expr;
}

export interface ContractRec {
  readonly kind: 'contract';
  readonly op: string;
  /** The sizes of all dimensions, output and summed. */
  readonly shape: readonly number[];
  readonly a: Access;
  readonly b: Access;
  /** Stride 0 along a dimension: summed over. */
  readonly out: Access;
  readonly scale: number;
  /** Add into out instead of overwriting it. */
  readonly accumulate: boolean;
  readonly epilogue?: Epilogue;
}

export type Rec = EwiseRec | ContractRec;

export interface Tape {
  readonly bufs: readonly BufInfo[];
  readonly recs: readonly Rec[];
  /** The output buffers (init 'output'). */
  readonly y: number;
  readonly J: number | null;
}

/** Rebuild `tape` with every integer (lengths, shapes, strides, offsets) replaced by f(value, index). */
export function mapInts(tape: Tape, f: (v: number, i: number) => number): Tape {
  let i = 0;
  const g = (v: number) => f(v, i++);
  const acc = (a: Access): Access => ({ buf: a.buf, strides: a.strides.map(g), offset: g(a.offset) });
  const bufs = tape.bufs.map((b) => ({ ...b, len: g(b.len) }));
  const recs = tape.recs.map((r): Rec => {
    const shape = r.shape.map(g);
    if (r.kind === 'ewise') return { ...r, shape, ins: r.ins.map(acc), outs: r.outs.map(acc) };
    const c = { ...r, shape, a: acc(r.a), b: acc(r.b), out: acc(r.out) };
    return r.epilogue ? { ...c, epilogue: { ...r.epilogue, ins: r.epilogue.ins.map(acc) } } : c;
  });
  return { ...tape, bufs, recs };
}

/** The views a record reads (a product's epilogue inputs included; its out when accumulating). */
export function readsOf(r: Rec): Access[] {
  if (r.kind === 'ewise') return [...r.ins];
  return [r.a, r.b, ...(r.accumulate ? [r.out] : []), ...(r.epilogue?.ins ?? [])];
}

/** The views a record writes. */
export function writesOf(r: Rec): Access[] {
  return r.kind === 'ewise' ? [...r.outs] : [r.out];
}

/** The record with every view's buffer renumbered by `to`. */
export function renumber(r: Rec, to: (buf: number) => number): Rec {
  const v = (a: Access): Access => ({ ...a, buf: to(a.buf) });
  if (r.kind === 'ewise') return { ...r, ins: r.ins.map(v), outs: r.outs.map(v) };
  const c = { ...r, a: v(r.a), b: v(r.b), out: v(r.out) };
  return r.epilogue ? { ...c, epilogue: { ...r.epilogue, ins: r.epilogue.ins.map(v) } } : c;
}

/** Every integer of the tape, in mapInts' order. */
export function intsOf(tape: Tape): number[] {
  const out: number[] = [];
  mapInts(tape, (v) => (out.push(v), v));
  return out;
}

/** The tape without buffers no record uses (outputs kept), renumbered. */
export function withoutUnusedBuffers(tape: Tape): Tape {
  const used = new Set<number>([tape.y, ...(tape.J === null ? [] : [tape.J])]);
  for (const r of tape.recs) for (const a of [...readsOf(r), ...writesOf(r)]) used.add(a.buf);
  if (used.size === tape.bufs.length) return tape;
  const id = new Map<number, number>();
  const bufs = tape.bufs.filter((_, i) => used.has(i) && id.set(i, id.size));
  const recs = tape.recs.map((r) => renumber(r, (b) => id.get(b)!));
  return { bufs, recs, y: id.get(tape.y)!, J: tape.J === null ? null : id.get(tape.J)! };
}
