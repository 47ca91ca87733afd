/**
 * The recorder: while installed (`withRecorder`), the graph engine's kernels report what they
 * compute as tape records (tape.ts) besides computing it. Storage arrays are the buffers: an array
 * first seen being read is a constant (its values are copied then: parameters, DFT bases, anything
 * made from them alone) unless it was declared an input; one first seen being written starts as
 * zeros, as every fresh tensor of the engine does.
 *
 * Only the outermost kernel records: a kernel made of others (a product packing its operands, a
 * DFT through a product) reports itself and runs its parts `quiet`. A kernel with no lowering says
 * so (`unlowered`), naming the aten op; the first such reason makes the recording unusable.
 */
import type { Expr } from './expr';
import {
  readsOf,
  withoutUnusedBuffers,
  writesOf,
  type Access,
  type BufInfo,
  type BufInit,
  type ContractRec,
  type EwiseRec,
  type Rec,
  type Tape,
} from './tape';

/** The storage of a tensor: its real part and, for complex ones, its imaginary part. */
export interface StridedArray {
  readonly arr: Float64Array;
  readonly strides: readonly number[];
  readonly offset: number;
}

export class Recorder {
  private readonly ids = new Map<Float64Array, number>();
  private readonly bufs: { len: number; init: BufInit; op: string }[] = [];
  private readonly recs: Rec[] = [];
  /** Buffers a record writes (constants so written are re-initialised per run by executors). */
  readonly written = new Set<number>();
  /** Buffers whose values depend on the inputs (written by a record from such buffers, or inputs). */
  private readonly tainted = new Set<number>();
  private depth = 0;
  /** The op that allocated each array (allocData), to name what computed a constant. */
  private readonly allocOp = new WeakMap<Float64Array, string>();
  /** The aten op being run (dispatch.ts sets it). */
  op = '(setup)';
  /** Why this recording cannot be run by a tape executor; null while it can. */
  problem: string | null = null;

  /** Declare a program input (before the run). */
  input(arr: Float64Array, init: BufInit): number {
    const id = this.add(arr, init);
    this.tainted.add(id);
    return id;
  }

  /** Note the op allocating `arr` (tensor.ts allocData). */
  allocated(arr: Float64Array): void {
    this.allocOp.set(arr, this.op);
  }

  /** The buffer of an array read by a record (a constant when first seen here). */
  read(arr: Float64Array): number {
    const id = this.ids.get(arr);
    if (id !== undefined) return id;
    // All zeros (a fresh tensor a product accumulates into, say): a buffer like any other, whose
    // size may follow the batch; other values are constants, copied as they are now.
    const zero = arr.every((v) => v === 0 && !Object.is(v, -0));
    return this.add(arr, zero ? { k: 'zero' } : { k: 'const', data: arr.slice() });
  }

  /** The buffer of an array a record writes. */
  write(arr: Float64Array): number {
    const id = this.ids.get(arr) ?? this.add(arr, { k: 'zero' });
    this.written.add(id);
    return id;
  }

  /** A fresh buffer for a result the lowering adds (y, J). */
  output(len: number, name: 'y' | 'J'): number {
    this.bufs.push({ len, init: { k: 'output', name }, op: '(output)' });
    return this.bufs.length - 1;
  }

  /** The array's buffer if it has been seen; null otherwise. */
  known(arr: Float64Array): number | null {
    return this.ids.get(arr) ?? null;
  }

  /**
   * Whether values of `arr` depend on the inputs: an input, or written by a record that read one
   * (sizes computed as tensors, as traced code does, do not).
   */
  derived(arr: Float64Array): boolean {
    const id = this.ids.get(arr);
    return id !== undefined && this.tainted.has(id);
  }

  ewise(shape: readonly number[], ins: StridedArray[], outs: StridedArray[], exprs: Expr[]): void {
    const rec: EwiseRec = {
      kind: 'ewise',
      op: this.op,
      shape: [...shape],
      ins: ins.map((v) => this.access(v, false)),
      outs: outs.map((v) => this.access(v, true)),
      exprs,
    };
    this.push(rec, rec.ins, rec.outs);
  }

  contract(
    shape: readonly number[],
    a: StridedArray,
    b: StridedArray,
    out: StridedArray,
    scale: number,
    accumulate: boolean,
  ): void {
    const rec: ContractRec = {
      kind: 'contract',
      op: this.op,
      shape: [...shape],
      a: this.access(a, false),
      b: this.access(b, false),
      out: this.access(out, true),
      scale,
      accumulate,
    };
    this.push(rec, [rec.a, rec.b], [rec.out]);
  }

  private push(rec: Rec, ins: readonly Access[], outs: readonly Access[]): void {
    this.recs.push(rec);
    if (ins.some((a) => this.tainted.has(a.buf))) for (const o of outs) this.tainted.add(o.buf);
  }

  /** out buffer (from `output`) = src, element by element over `shape` (the results' copy-out). */
  copyOut(
    shape: readonly number[],
    src: StridedArray,
    out: number,
    strides: readonly number[],
    offset = 0,
  ): void {
    const rec: EwiseRec = {
      kind: 'ewise',
      op: '(output)',
      shape: [...shape],
      ins: [this.access(src, false)],
      outs: [{ buf: out, strides: [...strides], offset }],
      exprs: [{ k: 'in', i: 0 }],
    };
    this.recs.push(rec);
  }

  /** Note that the current op computed something no record describes. */
  unlowered(what: string): void {
    this.problem ??= `${this.op}: ${what}`;
  }

  /** Run `f` with recording suspended (the parts of a kernel that recorded itself). */
  quiet<R>(f: () => R): R {
    this.depth++;
    try {
      return f();
    } finally {
      this.depth--;
    }
  }

  get nested(): boolean {
    return this.depth > 0;
  }

  /**
   * The tape of what reaches y and J: records whose results nothing later reads are left out
   * (the size arithmetic traced code does on tensors), and buffers no record uses.
   */
  tape(y: number, J: number | null): Tape {
    const live = new Set<number>(J === null ? [y] : [y, J]);
    const keep: Rec[] = [];
    for (let i = this.recs.length - 1; i >= 0; i--) {
      const r = this.recs[i];
      const ins = readsOf(r);
      const outs = writesOf(r);
      if (!outs.some((o) => live.has(o.buf))) continue;
      keep.push(r);
      // a kept record's other results need their buffers too (clamp's value and code)
      for (const a of [...ins, ...outs]) live.add(a.buf);
    }
    keep.reverse();
    const bufs: BufInfo[] = this.bufs.map((b) => ({ len: b.len, init: b.init, op: b.op }));
    return withoutUnusedBuffers({ bufs, recs: keep, y, J });
  }

  private access(v: StridedArray, write: boolean): Access {
    const buf = write ? this.write(v.arr) : this.read(v.arr);
    return { buf, strides: [...v.strides], offset: v.offset };
  }

  private add(arr: Float64Array, init: BufInit): number {
    if (this.ids.has(arr)) throw new Error('internal: a buffer declared twice');
    this.bufs.push({ len: arr.length, init, op: this.allocOp.get(arr) ?? this.op });
    this.ids.set(arr, this.bufs.length - 1);
    return this.bufs.length - 1;
  }
}

let active: Recorder | null = null;

/** Run f with `r` recording every kernel. */
export function withRecorder<R>(r: Recorder, f: () => R): R {
  const prev = active;
  active = r;
  try {
    return f();
  } finally {
    active = prev;
  }
}

/** The recorder a kernel reports to: null when none is installed or the kernel is part of another. */
export function recorder(): Recorder | null {
  return active && !active.nested ? active : null;
}

/** The installed recorder, nested or not (dispatch.ts names the op on it). */
export function activeRecorder(): Recorder | null {
  return active;
}
