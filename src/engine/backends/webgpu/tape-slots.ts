/**
 * Which tape buffers can share GPU memory: buffers a run makes (init 'zero') whose lives — from the
 * first record that touches them to the last — do not overlap take turns in one slot, so a chunk
 * needs the memory of what is live at once, not of every intermediate (the seed's Jacobian: 136 of
 * 216 MB at 64 samples). Constants, inputs, the seed and the outputs keep buffers of their own.
 *
 * Every slot is cleared when a run starts, which serves its first tenant. A later tenant that
 * relies on starting at zero — its first record reads it, or writes only part of it (a `zeros`
 * spectrum with its leading modes written) — gets its slot cleared again right before that record.
 */
import { readsOf, writesOf, type Access, type Rec, type Tape } from '../../graph/lower/tape';

export interface SlotPlan {
  /** The slot of each tape buffer; −1 for one with a buffer of its own. */
  readonly slotOf: readonly number[];
  /** Elements of each slot (its largest tenant). */
  readonly slotLen: readonly number[];
  /** Slots to clear before record i (a later tenant that starts at zero), with the elements to clear. */
  readonly clearBefore: ReadonlyMap<number, readonly { slot: number; len: number }[]>;
}

/** Whether writing `a` over `shape` sets every element of a buffer of `len` (each once). */
export function coversWhole(shape: readonly number[], a: Access, len: number): boolean {
  if (a.offset !== 0) return false;
  const dims = shape
    .map((n, d) => [n, a.strides[d]] as const)
    .filter(([n]) => n > 1)
    .sort((x, y) => x[1] - y[1]);
  let next = 1;
  for (const [n, s] of dims) {
    if (s !== next) return false;
    next *= n;
  }
  return next === len;
}

/** The view through which record r writes buffer b, for the whole-coverage test (r's own shape). */
function writeShape(r: Rec): readonly number[] {
  if (r.kind === 'ewise') return r.shape;
  // a product writes each output element once: its summed dimensions do not count
  return r.shape.map((n, d) => (r.out.strides[d] === 0 ? 1 : n));
}

export function planSlots(tape: Tape): SlotPlan {
  const first = new Array<number>(tape.bufs.length).fill(-1);
  const last = new Array<number>(tape.bufs.length).fill(-1);
  tape.recs.forEach((r, i) => {
    for (const a of [...readsOf(r), ...writesOf(r)]) {
      if (first[a.buf] < 0) first[a.buf] = i;
      last[a.buf] = i;
    }
  });
  /** Whether buffer b must start at zero: its first record reads it, or does not write all of it. */
  const needsZero = (b: number): boolean => {
    const r = tape.recs[first[b]];
    if (readsOf(r).some((a) => a.buf === b)) return true;
    const writes = writesOf(r).filter((a) => a.buf === b);
    return !writes.some((a) => coversWhole(writeShape(r), a, tape.bufs[b].len));
  };

  const slotOf = new Array<number>(tape.bufs.length).fill(-1);
  const slotLen: number[] = [];
  const tenants: number[] = []; // tenants so far per slot
  const free: number[] = [];
  const clearBefore = new Map<number, { slot: number; len: number }[]>();
  const byFirst = new Map<number, number[]>();
  const byLast = new Map<number, number[]>();
  tape.bufs.forEach((b, k) => {
    if (b.init.k !== 'zero' || first[k] < 0) return;
    byFirst.set(first[k], [...(byFirst.get(first[k]) ?? []), k]);
    byLast.set(last[k], [...(byLast.get(last[k]) ?? []), k]);
  });
  for (let i = 0; i < tape.recs.length; i++) {
    // Largest first, so that big buffers take the big free slots.
    const starting = (byFirst.get(i) ?? []).sort((a, b) => tape.bufs[b].len - tape.bufs[a].len);
    for (const k of starting) {
      const len = tape.bufs[k].len;
      // the smallest free slot that holds it, else the largest free one (grown), else a new one
      let pick = -1;
      for (const s of free) if (slotLen[s] >= len && (pick < 0 || slotLen[s] < slotLen[pick])) pick = s;
      if (pick < 0) for (const s of free) if (pick < 0 || slotLen[s] > slotLen[pick]) pick = s;
      if (pick < 0) {
        pick = slotLen.push(0) - 1;
        tenants.push(0);
      } else free.splice(free.indexOf(pick), 1);
      slotLen[pick] = Math.max(slotLen[pick], len);
      slotOf[k] = pick;
      if (tenants[pick] > 0 && needsZero(k))
        clearBefore.set(i, [...(clearBefore.get(i) ?? []), { slot: pick, len }]);
      tenants[pick]++;
    }
    for (const k of byLast.get(i) ?? []) free.push(slotOf[k]);
  }
  return { slotOf, slotLen, clearBefore };
}

/** Float32 bytes a run of `tape` allocates with its buffers shared as planned. */
export function plannedBytes(tape: Tape): number {
  const plan = planSlots(tape);
  let n = plan.slotLen.reduce((a, b) => a + b, 0);
  tape.bufs.forEach((b, k) => {
    if (plan.slotOf[k] < 0) n += b.len;
  });
  return n * 4;
}
