/**
 * Joins and copies with a new layout: cat/stack (and hstack/vstack), repeat/tile, and (from
 * join-pad.ts) the pads (constant, reflect, replicate, circular), flip and roll. Results are fresh
 * roots.
 *
 * Tangents keep their structure: cat of tangents that are all stride 0 along some other axis (p
 * broadcast over time) stays stride 0 there, and inputs without a tangent become zeros only when
 * another input has one; repeat along a size-1 (or new) axis is a stride-0 view of the tangent; a
 * right-only constant pad leaves the tangent's data as it is (the padding lies outside its box).
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { assignInto } from '../copy';
import type { Rule, RuleTable, TanOf } from '../rule';
import { boxed, boxOf, type Tan, type TanT } from '../tangent';
import { type GTensor, type Kind, emptyTensor, shapeString, sizeOf, zerosTensor } from '../tensor';
import { addInto } from '../kernels/layout';
import { asBroadcast, broadcastBesides, deferredCat, deferredExpand } from '../lazy-join';
import { padRules } from './join-pad';
import { dimOf, geoOf, gSlice, gUnsqueeze } from './shape-geo';
import { dataView, fillBox, raw, tUnsqueeze } from './shape-view';

const ORDER: Kind[] = ['bool', 'int', 'float', 'complex'];

/** The kind of a result combining tensors of the given kinds (PyTorch's category promotion). */
export function promoteKinds(kinds: readonly Kind[]): Kind {
  return ORDER[Math.max(0, ...kinds.map((k) => ORDER.indexOf(k)))];
}

/** Tangent data's kind for a primal of kind `k`. */
function tanKind(k: Kind): Kind {
  return k === 'complex' ? 'complex' : 'float';
}

// ---------------------------------------------------------------- cat, stack

/** Inputs of cat with PyTorch's legacy rule: 1-d empty tensors are skipped. */
function catInputs(a: Args): GTensor[] {
  const all = a.tensors('tensors');
  if (all.length === 0) throw new ShapeError(`${a.op}: expects a non-empty list of tensors`);
  const kept = all.filter((x) => !(x.rank === 1 && x.shape[0] === 0));
  return kept.length ? kept : [all[0]];
}

function catShape(xs: GTensor[], ax: number, op: string): number[] {
  const ref = xs[0];
  const out = [...ref.shape];
  out[ax] = 0;
  xs.forEach((x, i) => {
    if (x.rank !== ref.rank || x.shape.some((d, k) => k !== ax && d !== ref.shape[k]))
      throw new ShapeError(
        `${op}: tensor ${i} has shape ${shapeString(x.shape)}, which does not match ${shapeString(ref.shape)} except along dimension ${ax}`,
      );
    out[ax] += x.shape[ax];
  });
  return out;
}

export function catForward(xs: GTensor[], ax: number, op: string): GTensor {
  if (xs[0].rank === 0) throw new ShapeError(`${op}: zero-dimensional tensors cannot be concatenated`);
  const shape = catShape(xs, ax, op);
  // A part broadcast along another axis (a repeated embedding): joined when read, so that the
  // products that follow can keep that part compact (lazy-join.ts).
  const parts = xs.map((x) => asBroadcast(x) ?? x);
  if (parts.length > 1 && parts.some((p) => broadcastBesides(p, ax)))
    return deferredCat(parts, ax, shape, promoteKinds(xs.map((x) => x.kind)));
  // the inputs cover the output: no zero fill
  const out = emptyTensor(shape, promoteKinds(xs.map((x) => x.kind)));
  const g = geoOf(out);
  let at = 0;
  for (const x of xs) {
    const s = gSlice(g, ax, at, x.shape[ax], 1);
    if (x.numel > 0) addInto(raw(out, s.shape, s.strides, s.offset), x, 1, false);
    at += x.shape[ax];
  }
  return out;
}

/**
 * The tangent of cat along `ax` of tensors with sizes `sizes` there. The result covers the box
 * that holds every input's box; axes where every tangent is stride 0 over the same extent stay so.
 */
export function catTangent(ts: Tan[], sizes: number[], ax: number, full: number[], kind: Kind): Tan {
  const live = ts.flatMap((t, i) => (t ? [i] : []));
  if (live.length === 0) return null;
  const r = full.length;
  const offs: number[] = [];
  sizes.reduce((at, s, i) => ((offs[i] = at), at + s), 0);
  const box = new Array<number>(r).fill(0);
  for (const i of live) {
    const b = boxOf(ts[i]!);
    for (let d = 0; d < r; d++) box[d] = d === ax ? Math.max(box[d], offs[i] + b[d]) : Math.max(box[d], b[d]);
  }
  const flat = box.map(
    (n, d) =>
      d !== ax &&
      n > 1 &&
      live.every((i) => ts[i]!.data.strides[d + 1] === 0 && ts[i]!.data.shape[d + 1] === n),
  );
  const P = ts[live[0]]!.data.shape[0];
  const work = zerosTensor([P, ...box.map((n, d) => (flat[d] ? 1 : n))], tanKind(kind));
  for (const i of live) {
    const d = ts[i]!.data;
    const shape = d.shape.map((n, k) => (k > 0 && flat[k - 1] ? 1 : n));
    const dst = raw(work, shape, [...work.strides], offs[i] * work.strides[ax + 1]);
    assignInto(dst, raw(d, shape, [...d.strides], d.offset));
  }
  const data = raw(
    work,
    [P, ...box],
    work.strides.map((s, k) => (k > 0 && flat[k - 1] ? 0 : s)),
    0,
  );
  return boxed(data, full);
}

const cat: Rule = {
  params: ['tensors', 'dim='],
  forward(a) {
    const xs = catInputs(a);
    return catForward(xs, dimOf(a.int('dim', 0), xs[0].rank, a.op), a.op);
  },
  jvp(a, out, t) {
    const xs = catInputs(a);
    const ax = dimOf(a.int('dim', 0), xs[0].rank, a.op);
    const o = out as GTensor;
    return catTangent(
      xs.map((x) => t(x)),
      xs.map((x) => x.shape[ax]),
      ax,
      [...o.shape],
      o.kind,
    );
  },
};

/** stack = cat of the inputs each unsqueezed at `dim` (a new axis). */
function stackParts(a: Args): { xs: GTensor[]; ax: number } {
  const xs = a.tensors('tensors');
  if (xs.length === 0) throw new ShapeError(`${a.op}: expects a non-empty list of tensors`);
  xs.forEach((x, i) => {
    if (x.rank !== xs[0].rank || x.shape.some((d, k) => d !== xs[0].shape[k]))
      throw new ShapeError(
        `${a.op}: expects each tensor to be equal size, but got ${shapeString(xs[0].shape)} at entry 0 and ${shapeString(x.shape)} at entry ${i}`,
      );
  });
  return { xs, ax: dimOf(a.int('dim', 0), xs[0].rank + 1, a.op) };
}

function unsqueezed(x: GTensor, ax: number): GTensor {
  const g = gUnsqueeze(geoOf(x), ax);
  return raw(x, g.shape, g.strides, g.offset);
}

/** A rule for cat after reshaping each input (`prep` maps a primal, `prepTan` its tangent). */
function joinRule(
  parts: (a: Args) => { xs: GTensor[]; ax: number },
  prep: (x: GTensor, ax: number) => GTensor,
  prepTan: (t: Tan, x: GTensor, ax: number) => Tan,
): Rule {
  return {
    params: ['tensors', 'dim='],
    forward(a) {
      const { xs, ax } = parts(a);
      return catForward(
        xs.map((x) => prep(x, ax)),
        ax,
        a.op,
      );
    },
    jvp(a, out, t: TanOf) {
      const { xs, ax } = parts(a);
      const o = out as GTensor;
      const ps = xs.map((x) => prep(x, ax));
      return catTangent(
        xs.map((x) => prepTan(t(x), x, ax)),
        ps.map((p) => p.shape[ax]),
        ax,
        [...o.shape],
        o.kind,
      );
    },
  };
}

const stack = joinRule(stackParts, unsqueezed, (t, _x, ax) => tUnsqueeze(t, ax));

/** hstack: cat along dim 1 (dim 0 when every input is 1-d), 0-d inputs as [1]. */
const hstack = joinRule(
  (a) => {
    const xs = a.tensors('tensors');
    return { xs, ax: xs.every((x) => x.rank <= 1) ? 0 : 1 };
  },
  (x) => (x.rank === 0 ? unsqueezed(x, 0) : x),
  (t, x) => (x.rank === 0 ? tUnsqueeze(t, 0) : t),
);

/** vstack: cat along dim 0 of the inputs made at least 2-d ([n] → [1, n]). */
const vstack = joinRule(
  (a) => ({ xs: a.tensors('tensors'), ax: 0 }),
  (x) => (x.rank === 0 ? raw(x, [1, 1], [1, 1], x.offset) : x.rank === 1 ? unsqueezed(x, 0) : x),
  (t, x) => (x.rank === 0 ? tUnsqueeze(tUnsqueeze(t, 0), 0) : x.rank === 1 ? tUnsqueeze(t, 0) : t),
);

// ---------------------------------------------------------------- repeat, tile

function repeatForward(x: GTensor, reps: number[], op: string): GTensor {
  if (reps.length < x.rank)
    throw new ShapeError(
      `${op}: the number of repeats (${reps.length}) cannot be smaller than the tensor's rank (${x.rank}, shape ${shapeString(x.shape)})`,
    );
  if (reps.some((r) => !Number.isInteger(r) || r < 0))
    throw new ShapeError(`${op}: invalid repeats ${shapeString(reps)}`);
  const lead = reps.length - x.rank;
  const shape = [...reps.slice(0, lead).map(() => 1), ...x.shape];
  const xs = [...reps.slice(0, lead).map(() => 0), ...x.strides];
  // Along size-1 axes only, the copy is an expand: made when read (lazy-join.ts).
  if (shape.every((d, i) => d === 1 || reps[i] === 1) && reps.some((r, i) => r > 1 && shape[i] === 1)) {
    const outShape = shape.map((d, i) => d * reps[i]);
    if (sizeOf(outShape) > 0)
      return deferredExpand(
        x,
        raw(
          x,
          outShape,
          xs.map((st, i) => (shape[i] === 1 ? 0 : st)),
          x.offset,
        ),
      );
  }
  // every element is written below: no zero fill
  const out = emptyTensor(
    shape.map((s, i) => s * reps[i]),
    x.kind,
  );
  if (out.numel === 0) return out;
  const os = out.strides;
  const dst = raw(
    out,
    shape.flatMap((s, i) => [reps[i], s]),
    shape.flatMap((s, i) => [s * os[i], os[i]]),
    0,
  );
  const src = raw(
    x,
    shape.flatMap((s, i) => [reps[i], s]),
    xs.flatMap((s) => [0, s]),
    x.offset,
  );
  addInto(dst, src, 1, false);
  return out;
}

type Mode = 'keep' | 'expand' | 'const' | 'tile';

/**
 * The tangent of repeat: along a size-1 (or new) axis, or one the tangent is constant along, a
 * stride-0 view; only axes that really tile are copied, the stride-0 ones staying compact.
 */
export function tRepeat(t0: Tan, reps: number[]): Tan {
  if (!t0) return null;
  const lead = reps.length - t0.full.length;
  const full = [...reps.slice(0, lead).map(() => 1), ...t0.full];
  const outFull = full.map((s, i) => s * reps[i]);
  if (sizeOf(outFull) === 0) return null;
  const fill = t0.full.flatMap((s, k) =>
    reps[k + lead] > 1 && s > 1 && t0.data.shape[k + 1] < s ? [k] : [],
  );
  const t: TanT = fill.length ? fillBox(t0, fill) : t0;
  const d = t.data;
  const P = d.shape[0];
  const box = [...reps.slice(0, lead).map(() => 1), ...boxOf(t)];
  const ds = [...reps.slice(0, lead).map(() => 0), ...d.strides.slice(1)];
  const modes: Mode[] = full.map((s, i) =>
    reps[i] === 1 ? 'keep' : s === 1 ? 'expand' : ds[i] === 0 ? 'const' : 'tile',
  );
  const outBox = box.map((b, i) => (modes[i] === 'keep' ? b : outFull[i]));
  if (!modes.includes('tile')) {
    const strides = modes.map((m, i) => (m === 'keep' ? ds[i] : 0));
    return boxed(
      dataView(d, { shape: [P, ...outBox], strides: [d.strides[0], ...strides], offset: d.offset }),
      outFull,
    );
  }
  const compact = modes.map((m) => m === 'expand' || m === 'const');
  const work = zerosTensor([P, ...outBox.map((b, i) => (compact[i] ? 1 : b))], d.kind);
  const ws = work.strides.slice(1);
  const dshape = [P];
  const dstr = [work.strides[0]];
  const sstr = [d.strides[0]];
  modes.forEach((m, i) => {
    if (m === 'tile') {
      dshape.push(reps[i], full[i]);
      dstr.push(full[i] * ws[i], ws[i]);
      sstr.push(0, ds[i]);
    } else {
      dshape.push(compact[i] ? 1 : box[i]);
      dstr.push(ws[i]);
      sstr.push(ds[i]);
    }
  });
  assignInto(raw(work, dshape, dstr, 0), raw(d, dshape, sstr, d.offset));
  const data = raw(work, [P, ...outBox], [work.strides[0], ...ws.map((s, i) => (compact[i] ? 0 : s))], 0);
  return boxed(data, outFull);
}

function repeatRule(param: string, repsOf: (a: Args, x: GTensor) => number[]): Rule {
  return {
    params: ['self', param],
    forward: (a) => repeatForward(a.tensor('self'), repsOf(a, a.tensor('self')), a.op),
    jvp: (a, _out, t) => tRepeat(t(a.tensor('self')), repsOf(a, a.tensor('self'))),
  };
}

const tileReps = (a: Args, x: GTensor): number[] => {
  const dims = a.ints('dims');
  return [...new Array<number>(Math.max(0, x.rank - dims.length)).fill(1), ...dims];
};

export const joinRules = {
  'aten::cat': cat,
  'aten::concat': cat,
  'aten::concatenate': cat,
  'aten::stack': stack,
  'aten::hstack': hstack,
  'aten::vstack': vstack,
  'aten::repeat': repeatRule('repeats', (a) => a.ints('repeats')),
  'aten::tile': repeatRule('dims', tileReps),
  ...padRules,
} satisfies RuleTable;
