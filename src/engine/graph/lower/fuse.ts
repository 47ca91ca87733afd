/**
 * Fusing elementwise chains of a tape: a record whose results only the next elementwise record over
 * the same elements reads is folded into that record's expressions, and its buffers disappear. An
 * activation's f(x) and f'(x), a bias add followed by an activation, the tangent products that
 * follow — each pass over memory saved is one kernel launch and one round trip of its buffer.
 *
 * A record r1 folds into a later r2 when:
 *  - both are elementwise over the same shape;
 *  - every buffer r1 writes is a fresh one (zero-initialised, neither input, constant nor output),
 *    written by r1 alone and read by r2 alone, through exactly the view r1 wrote it with;
 *  - nothing between them writes a buffer r1 reads (its inputs still hold the values r1 saw), and
 *    r2 writes such a buffer only through the view r1 reads it with (element by element, in place);
 *  - the fused record binds at most MAX_BUFFERS distinct buffers.
 * Siblings are merged too (mergeSiblings): an activation's f(x) and f'(x) read x once. Last, an
 * elementwise record that alone reads a product's fresh result becomes that product's epilogue
 * (foldEpilogues): a bias add, f'(x)·dz after the tangent's product, stored as the product is.
 * The values are the same to the bit: the same operations on the same operands, in one kernel.
 */
import type { Expr } from './expr';
import {
  readsOf,
  withoutUnusedBuffers,
  writesOf,
  type Access,
  type ContractRec,
  type EwiseRec,
  type Rec,
  type Tape,
} from './tape';

/** Distinct buffers one fused record may bind (WebGPU guarantees 8 storage buffers per stage). */
const MAX_BUFFERS = 7;

const same = (a: Access, b: Access) =>
  a.buf === b.buf && a.offset === b.offset && a.strides.every((s, i) => s === b.strides[i]);

function substitute(e: Expr, inputs: readonly Expr[]): Expr {
  switch (e.k) {
    case 'in':
      return inputs[e.i];
    case 'const':
      return e;
    case 'un':
      return { ...e, x: substitute(e.x, inputs) };
    case 'bin':
      return { ...e, x: substitute(e.x, inputs), y: substitute(e.y, inputs) };
    case 'select':
      return { ...e, c: substitute(e.c, inputs), t: substitute(e.t, inputs), e: substitute(e.e, inputs) };
  }
}

/** Readers and writers of every buffer, by record index. */
function uses(recs: readonly Rec[], nbufs: number): { readers: number[][]; writers: number[][] } {
  const readers = Array.from({ length: nbufs }, () => [] as number[]);
  const writers = Array.from({ length: nbufs }, () => [] as number[]);
  recs.forEach((r, i) => {
    for (const a of readsOf(r)) readers[a.buf].push(i);
    for (const a of writesOf(r)) writers[a.buf].push(i);
  });
  return { readers, writers };
}

/** r2 with r1's results replaced by r1's expressions over r1's inputs. */
function fold(r1: EwiseRec, r2: EwiseRec): EwiseRec | null {
  const ins: Access[] = [];
  const index = (a: Access) => {
    let i = ins.findIndex((x) => same(x, a));
    if (i < 0) i = ins.push(a) - 1;
    return { k: 'in', i } as Expr;
  };
  const r1In = r1.ins.map(index);
  const r1Out = r1.exprs.map((e) => substitute(e, r1In));
  const r2In = r2.ins.map((a) => {
    const j = r1.outs.findIndex((o) => same(o, a));
    return j >= 0 ? r1Out[j] : index(a);
  });
  const exprs = r2.exprs.map((e) => substitute(e, r2In));
  const bufs = new Set([...ins, ...r2.outs].map((a) => a.buf));
  if (bufs.size > MAX_BUFFERS) return null;
  return { ...r2, ins, exprs };
}

/** r1 and r2 (independent, same shape) as one record: r2's inputs after r1's, both results. */
function merge(r1: EwiseRec, r2: EwiseRec): EwiseRec | null {
  const ins = [...r1.ins];
  const map = r2.ins.map((a) => {
    let i = ins.findIndex((x) => same(x, a));
    if (i < 0) i = ins.push(a) - 1;
    return { k: 'in', i } as Expr;
  });
  const bufs = new Set([...ins, ...r1.outs, ...r2.outs].map((a) => a.buf));
  if (bufs.size > MAX_BUFFERS) return null;
  return {
    ...r1,
    ins,
    outs: [...r1.outs, ...r2.outs],
    exprs: [...r1.exprs, ...r2.exprs.map((e) => substitute(e, map))],
  };
}

const bufsOf = (r: Rec) => ({
  ins: new Set(readsOf(r).map((a) => a.buf)),
  outs: new Set(writesOf(r).map((a) => a.buf)),
});

/**
 * Elementwise records over the same shape that share an input and do not depend on each other
 * become one (an activation's f and f'), when moving the later one up past the records between is
 * safe: none of them writes what it reads, or reads or writes what it writes.
 */
function mergeSiblings(recs: Rec[]): boolean {
  for (let i = 0; i < recs.length; i++) {
    const r1 = recs[i];
    if (r1.kind !== 'ewise') continue;
    const b1 = bufsOf(r1);
    for (let j = i + 1; j < recs.length && j < i + 8; j++) {
      const r2 = recs[j];
      if (r2.kind !== 'ewise') continue;
      if (r2.shape.length !== r1.shape.length || r2.shape.some((d, k) => d !== r1.shape[k])) continue;
      const b2 = bufsOf(r2);
      if (![...b2.ins].some((b) => b1.ins.has(b))) continue;
      if (
        [...b2.ins].some((b) => b1.outs.has(b)) ||
        [...b2.outs].some((b) => b1.ins.has(b) || b1.outs.has(b))
      )
        continue;
      let safe = true;
      for (let k = i + 1; k < j && safe; k++) {
        const bk = bufsOf(recs[k]);
        if ([...bk.outs].some((b) => b2.ins.has(b) || b2.outs.has(b))) safe = false;
        if ([...bk.ins].some((b) => b2.outs.has(b))) safe = false;
      }
      if (!safe) continue;
      const m = merge(r1, r2);
      if (!m) continue;
      recs[i] = m;
      recs.splice(j, 1);
      return true;
    }
  }
  return false;
}

/** Which inputs an expression reads. */
function reads(e: Expr, into: Set<number>): Set<number> {
  switch (e.k) {
    case 'in':
      into.add(e.i);
      break;
    case 'const':
      break;
    case 'un':
      reads(e.x, into);
      break;
    case 'bin':
      reads(e.x, into);
      reads(e.y, into);
      break;
    case 'select':
      reads(e.c, into);
      reads(e.t, into);
      reads(e.e, into);
  }
  return into;
}

/** The record without the inputs its expressions do not read (f'(x) given x and y reads x alone). */
function pruneInputs(r: Rec): Rec {
  if (r.kind !== 'ewise') return r;
  const used = new Set<number>();
  for (const e of r.exprs) reads(e, used);
  if (used.size === r.ins.length) return r;
  const kept = r.ins.map((_, i) => i).filter((i) => used.has(i));
  const map: Expr[] = [];
  kept.forEach((i, k) => (map[i] = { k: 'in', i: k }));
  return { ...r, ins: kept.map((i) => r.ins[i]), exprs: r.exprs.map((e) => substitute(e, map)) };
}

/**
 * r2 (elementwise, one result) folded into the product r1 before it as its epilogue, when r2 reads
 * r1's result element for element: r2's dimensions are r1's output ones (matched by size and by
 * r2's stride into the result), and r2's other views are carried over to r1's dimensions (0 along
 * the summed ones). Null when they do not line up.
 */
function foldIntoProduct(r1: ContractRec, r2: EwiseRec): ContractRec | null {
  const res = r1.out;
  const reads = r2.ins.filter((a) => a.buf === res.buf);
  if (reads.some((a) => a.offset !== res.offset)) return null;
  // r2's dimensions (size > 1) → r1's, by size and stride into the result
  const used = new Set<number>();
  const to: number[] = [];
  for (let d = 0; d < r2.shape.length; d++) {
    if (r2.shape[d] === 1) continue;
    const s = reads[0].strides[d];
    if (reads.some((a) => a.strides[d] !== s)) return null;
    const j = r1.shape.findIndex(
      (n, k) => !used.has(k) && n === r2.shape[d] && res.strides[k] === s && s !== 0,
    );
    if (j < 0) return null;
    used.add(j);
    to[d] = j;
  }
  const outDims = r1.shape.filter((n, k) => n > 1 && res.strides[k] !== 0).length;
  if (used.size !== outDims) return null;
  const carry = (a: Access): Access => {
    const strides = r1.shape.map(() => 0);
    r2.shape.forEach((n, d) => n > 1 && (strides[to[d]] = a.strides[d]));
    return { buf: a.buf, strides, offset: a.offset };
  };
  // An epilogue r1 already has stays: its value replaces r2's reads of the result.
  const ins: Access[] = [...(r1.epilogue?.ins ?? [])];
  const value: Expr = r1.epilogue?.expr ?? { k: 'in', i: 0 };
  const inputs = r2.ins.map((a): Expr => {
    if (a.buf === res.buf) return value;
    const v = carry(a);
    let i = ins.findIndex((x) => same(x, v));
    if (i < 0) i = ins.push(v) - 1;
    return { k: 'in', i: i + 1 };
  });
  const out = carry(r2.outs[0]);
  // in place (a bias added into the product's own result): the same element, the same view
  const sameElements = (x: Access, y: Access) =>
    x.buf === y.buf &&
    x.offset === y.offset &&
    r1.shape.every((n, k) => n === 1 || x.strides[k] === y.strides[k]);
  if (out.buf === res.buf && !sameElements(out, res)) return null;
  const bufs = new Set([r1.a, r1.b, out, ...ins].map((a) => a.buf));
  if (bufs.size > MAX_BUFFERS) return null;
  return { ...r1, out, epilogue: { ins, expr: substitute(r2.exprs[0], inputs) } };
}

/**
 * Products whose fresh result one elementwise record alone reads — and perhaps writes back in
 * place, as a bias added into a linear map's result — with that record as (the rest of) their
 * epilogue.
 */
function foldEpilogues(recs: Rec[], tape: Tape): boolean {
  const { readers, writers } = uses(recs, tape.bufs.length);
  for (let i = 0; i < recs.length; i++) {
    const r1 = recs[i];
    if (r1.kind !== 'contract' || r1.accumulate) continue;
    const b = r1.out.buf;
    if (tape.bufs[b].init.k !== 'zero' || readers[b].length === 0) continue;
    const j = readers[b][0];
    const r2 = recs[j];
    if (r2.kind !== 'ewise' || r2.outs.length !== 1 || j <= i) continue;
    // Written back in place, the result's later readers read what the fused record stores.
    const inPlace = r2.outs[0].buf === b;
    if (inPlace ? writers[b].length !== 2 || writers[b][1] !== j : readers[b].length !== 1) continue;
    // The product moves down to r2: its operands must be unchanged until then, and r2 must not
    // write them (other threads of the fused kernel still read them).
    const operands = [r1.a.buf, r1.b.buf];
    if (operands.some((o) => writers[o].some((w) => w > i && w < j))) continue;
    if (operands.includes(r2.outs[0].buf)) continue;
    const f = foldIntoProduct(r1, r2);
    if (!f) continue;
    recs[j] = f;
    recs.splice(i, 1);
    return true;
  }
  return false;
}

export function fuseElementwise(tape: Tape): Tape {
  let recs: (Rec | null)[] = tape.recs.map(pruneInputs);
  for (let changed = true; changed;) {
    const live = recs.filter((r): r is Rec => r !== null);
    changed = mergeSiblings(live);
    recs = live;
    const { readers, writers } = uses(live, tape.bufs.length);
    for (let i = 0; i < live.length; i++) {
      const r1 = live[i];
      if (r1.kind !== 'ewise' || recs[i] === null) continue;
      // every result: fresh, written by r1 alone, read by one record alone
      const fresh = r1.outs.every((o) => {
        const k = tape.bufs[o.buf].init.k;
        return k === 'zero' && writers[o.buf].length === 1 && readers[o.buf].length === 1;
      });
      if (!fresh) continue;
      const j = readers[r1.outs[0].buf][0];
      const r2 = recs[j];
      if (!r2 || r2.kind !== 'ewise' || j <= i) continue;
      if (!r1.outs.every((o) => readers[o.buf][0] === j)) continue;
      if (r2.shape.length !== r1.shape.length || r2.shape.some((d, k) => d !== r1.shape[k])) continue;
      // r2 must read each result through the view r1 wrote it with
      if (!r2.ins.every((a) => r1.outs.every((o) => o.buf !== a.buf || same(o, a)))) continue;
      // r1's inputs unchanged until r2, and r2 writes none of them but through the same view
      const inBufs = new Set(r1.ins.map((a) => a.buf));
      let hazard = false;
      for (const b of inBufs) if (writers[b].some((w) => w > i && w < j)) hazard = true;
      for (const o of r2.outs) if (r1.ins.some((a) => a.buf === o.buf && !same(a, o))) hazard = true;
      if (hazard) continue;
      const f = fold(r1, r2);
      if (!f) continue;
      recs[i] = null;
      recs[j] = f;
      changed = true;
    }
  }
  const kept = recs.filter((r): r is Rec => r !== null);
  while (foldEpilogues(kept, tape));
  return withoutUnusedBuffers({ ...tape, recs: kept });
}
