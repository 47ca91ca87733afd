/**
 * Views applied to tangents, whose data has the extra leading P axis and may cover only a leading
 * box of the primal (tangent.ts), and the copies the view and join rules make. Shared by the view
 * rules (shape.ts, shape-slice.ts), the joins (join.ts, join-pad.ts) and copy_ (inplace.ts).
 *
 * Tangent data is never written after it is made, so a view's tangent is a view of its parent's
 * tangent data whenever the geometry allows; copies happen only where a box must be filled in or a
 * layout cannot be viewed, and they keep stride-0 axes (p broadcast over time) at stride 0.
 */
import type { Args } from '../args';
import { assignInto } from '../copy';
import type { Rule } from '../rule';
import { boxed, boxOf, type Tan, type TanT } from '../tangent';
import { GTensor, type ViewStep, contiguousStrides, isWholeRoot, sizeOf, zerosTensor } from '../tensor';
import { type Geo, geoOf, gDrop, gPermute, gReshape, gSelect, gSlice, gUnsqueeze } from './shape-geo';

const noTangent: ViewStep = () => {
  throw new Error('internal: tangent of a tangent');
};

/** A view of tangent data (tangent data has no tangent of its own). */
export function dataView(x: GTensor, g: Geo): GTensor {
  return x.view(g.shape, g.strides, g.offset, noTangent);
}

/** A working descriptor over `x`'s storage (internal use: copies, never returned as a primal view). */
export function raw(x: GTensor, shape: number[], strides: number[], offset: number): GTensor {
  return new GTensor(shape, strides, offset, x.re, x.im, x.kind);
}

/** A view step that returns the same result for the same parent tangent (steps run on every read). */
export function memoStep(f: (t: TanT) => Tan): ViewStep {
  let lastIn: TanT | null = null;
  let lastOut: Tan = null;
  return (t) => {
    if (t === null) return null;
    if (t !== lastIn) {
      lastOut = f(t);
      lastIn = t;
    }
    return lastOut;
  };
}

/** A view of `x` with geometry `g` whose tangent is `step` of x's. */
export function viewOf(x: GTensor, g: Geo, step: (t: Tan) => Tan): GTensor {
  return x.view(g.shape, g.strides, g.offset, memoStep(step));
}

/**
 * A rule returning views of `self`. The host takes their tangents from the views' steps; `tanOf`
 * gives the tangent of a result that is a fresh root instead (a copy, or `self` itself).
 */
export function viewRule(
  params: string[],
  forward: (a: Args, x: GTensor) => GTensor | GTensor[],
  tanOf: (a: Args, x: GTensor, t: Tan, out: GTensor) => Tan,
): Rule {
  return {
    params,
    view: true,
    forward: (a) => forward(a, a.tensor('self')),
    jvp(a, out, t) {
      const x = a.tensor('self');
      if (Array.isArray(out)) return out.map((o: GTensor) => tanOf(a, x, t(x), o));
      return tanOf(a, x, t(x), out as GTensor);
    },
  };
}

/** `tanOf` for rules whose results are always views (a fresh result can only be `self`). */
export function viewTan(_a: Args, x: GTensor, t: Tan, out: GTensor): Tan {
  return out === x ? t : null;
}

// ---------------------------------------------------------------- copies

/** Zeros of `shape` for tangent data or primal values of `kind`. */
function alloc(shape: number[], kind: GTensor['kind']): GTensor {
  return zerosTensor(shape, kind);
}

/**
 * A fresh copy of `x` in row-major layout. With `compact`, axes along which `x` is broadcast
 * (stride 0) are stored once and stay stride 0.
 */
export function materialize(x: GTensor, compact = false): GTensor {
  const flat = x.shape.map((d, i) => compact && d > 1 && x.strides[i] === 0);
  const workShape = x.shape.map((d, i) => (flat[i] ? 1 : d));
  const work = alloc(workShape, x.kind);
  assignInto(work, raw(x, workShape, [...x.strides], x.offset));
  if (!flat.some((f) => f)) return work;
  return raw(
    work,
    [...x.shape],
    work.strides.map((s, i) => (flat[i] ? 0 : s)),
    0,
  );
}

/** A fresh row-major root of `shape` (same element count) holding `x`'s values in row-major order. */
export function copyAs(x: GTensor, shape: readonly number[] = x.shape): GTensor {
  const out = alloc([...shape], x.kind);
  assignInto(raw(out, [...x.shape], contiguousStrides(x.shape), 0), x);
  return out;
}

/** The tangent with its box filled out to the full size along the given primal axes. */
export function fillBox(t: TanT, axes: readonly number[]): TanT {
  const d = t.data;
  const target = [...d.shape];
  for (const ax of axes) target[ax + 1] = t.full[ax];
  if (target.every((n, i) => n === d.shape[i])) return t;
  const flat = d.shape.map((n, i) => n > 1 && d.strides[i] === 0 && target[i] === n);
  const workShape = target.map((n, i) => (flat[i] ? 1 : n));
  const work = alloc(workShape, d.kind);
  const srcShape = d.shape.map((n, i) => (flat[i] ? 1 : n));
  assignInto(raw(work, srcShape, [...work.strides], 0), raw(d, srcShape, [...d.strides], d.offset));
  const data = raw(
    work,
    target,
    work.strides.map((s, i) => (flat[i] ? 0 : s)),
    0,
  );
  return { data, full: [...t.full] };
}

/**
 * `x` gathered along `ax` at the given indices (out[..., j, ...] = x[..., idx[j], ...]), copied
 * run by run (runs of evenly spaced indices are one strided copy each). With `compact`, stride-0
 * axes of `x` stay stride 0 in the result.
 */
export function gatherAxis(x: GTensor, ax: number, idx: readonly number[], compact = false): GTensor {
  const flat = x.shape.map((d, i) => compact && i !== ax && d > 1 && x.strides[i] === 0);
  const shape = [...x.shape];
  shape[ax] = idx.length;
  const workShape = shape.map((d, i) => (flat[i] ? 1 : d));
  const work = alloc(workShape, x.kind);
  const srcShape = x.shape.map((d, i) => (flat[i] ? 1 : d));
  const src = raw(x, srcShape, [...x.strides], x.offset);
  const sg = geoOf(src);
  const wg = geoOf(work);
  for (let j = 0; j < idx.length;) {
    let k = j + 1;
    const step = k < idx.length ? idx[k] - idx[j] : 0;
    while (k < idx.length && idx[k] - idx[k - 1] === step) k++;
    const len = k - j;
    const s = gSlice(sg, ax, idx[j], len, 1);
    s.strides[ax] = sg.strides[ax] * step;
    const w = gSlice(wg, ax, j, len, 1);
    assignInto(raw(work, w.shape, w.strides, w.offset), raw(src, s.shape, s.strides, s.offset));
    j = k;
  }
  if (!flat.some((f) => f)) return work;
  return raw(
    work,
    shape,
    work.strides.map((s, i) => (flat[i] ? 0 : s)),
    0,
  );
}

// ---------------------------------------------------------------- tangents of views

export function tPermute(t: Tan, perm: readonly number[]): Tan {
  if (!t) return null;
  const g = gPermute(geoOf(t.data), [0, ...perm.map((p) => p + 1)]);
  return { data: dataView(t.data, g), full: perm.map((p) => t.full[p]) };
}

/**
 * Entries start, start+step, … (count of them) along `ax`: the box keeps the selected entries that
 * lie inside it, which are the leading ones. A lazily computed tangent (`lead`) computes only them.
 */
export function tSlice(t: Tan, ax: number, start: number, count: number, step: number): Tan {
  if (!t) return null;
  const d = t.data;
  const b = d.shape[ax + 1];
  const nb = start >= b ? 0 : Math.min(count, Math.ceil((b - start) / step));
  const full = [...t.full];
  full[ax] = count;
  if (nb === 0)
    return sizeOf(full) === 0 ? { data: dataView(d, gSlice(geoOf(d), ax + 1, 0, 0, 1)), full } : null;
  if (start === 0 && step === 1 && nb === b) return { data: d, full };
  const root = d.root;
  if (start === 0 && step === 1 && root.lead && root.deferred && isWholeRoot(d)) {
    const data = root.lead(ax + 1, nb);
    return boxed(data, full);
  }
  return boxed(dataView(d, gSlice(geoOf(d), ax + 1, start, nb, step)), full);
}

export function tSelect(t: Tan, ax: number, i: number): Tan {
  if (!t) return null;
  const full = t.full.filter((_, k) => k !== ax);
  if (i >= t.data.shape[ax + 1]) return null;
  return boxed(dataView(t.data, gSelect(geoOf(t.data), ax + 1, i)), full);
}

export function tUnsqueeze(t: Tan, ax: number): Tan {
  if (!t) return null;
  const full = [...t.full];
  full.splice(ax, 0, 1);
  return { data: dataView(t.data, gUnsqueeze(geoOf(t.data), ax + 1)), full };
}

/** Size-1 axes removed. */
export function tDrop(t: Tan, axes: readonly number[]): Tan {
  if (!t) return null;
  return {
    data: dataView(
      t.data,
      gDrop(
        geoOf(t.data),
        axes.map((a) => a + 1),
      ),
    ),
    full: t.full.filter((_, k) => !axes.includes(k)),
  };
}

/** Broadcast to `shape` (the primal's expand): expanded axes and new ones are stride 0, full size. */
export function tExpand(t: Tan, shape: readonly number[]): Tan {
  if (!t) return null;
  const d = t.data;
  const n = shape.length;
  const r = t.full.length;
  const dshape = [d.shape[0]];
  const dstrides = [d.strides[0]];
  for (let j = 0; j < n; j++) {
    const i = j - (n - r);
    if (i < 0 || (t.full[i] === 1 && shape[j] !== 1)) {
      dshape.push(shape[j]);
      dstrides.push(0);
    } else {
      dshape.push(d.shape[i + 1]);
      dstrides.push(d.strides[i + 1]);
    }
  }
  if (n === r && dshape.every((s, i) => s === d.shape[i])) return { data: d, full: [...shape] };
  return boxed(dataView(d, { shape: dshape, strides: dstrides, offset: d.offset }), shape);
}

/** Axis groups of two shapes of one size (size-1 axes left out) whose products agree. */
function reshapeGroups(a: readonly number[], b: readonly number[]): [number[], number[]][] {
  const groups: [number[], number[]][] = [];
  let i = 0;
  let j = 0;
  const next = (s: readonly number[], k: number): number => {
    while (k < s.length && s[k] === 1) k++;
    return k;
  };
  for (;;) {
    i = next(a, i);
    j = next(b, j);
    if (i >= a.length || j >= b.length) return groups;
    const ga = [i];
    const gb = [j];
    let pa = a[i++];
    let pb = b[j++];
    while (pa !== pb) {
      if (pa < pb) {
        i = next(a, i);
        ga.push(i);
        pa *= a[i++];
      } else {
        j = next(b, j);
        gb.push(j);
        pb *= b[j++];
      }
    }
    groups.push([ga, gb]);
  }
}

/**
 * The tangent of a reshape to `shape` (same element count). An axis that maps to one axis of the
 * same size keeps its box; axes merged or split have their box filled in first.
 */
export function tReshape(t: Tan, shape: readonly number[]): Tan {
  if (!t) return null;
  if (sizeOf(shape) === 0) return null;
  const box = boxOf(t);
  const newBox = [...shape];
  const fill: number[] = [];
  for (const [ga, gb] of reshapeGroups(t.full, shape)) {
    if (ga.length === 1 && gb.length === 1) newBox[gb[0]] = box[ga[0]];
    else for (const k of ga) if (box[k] < t.full[k]) fill.push(k);
  }
  const u = fill.length ? fillBox(t, fill) : t;
  const data = u.data;
  const target = [data.shape[0], ...newBox];
  let g = gReshape(geoOf(data), target);
  if (g) return boxed(dataView(data, g), shape);
  const compact = materialize(data, true);
  g = gReshape(geoOf(compact), target);
  if (g) return boxed(raw(compact, g.shape, g.strides, g.offset), shape);
  const c = materialize(data, false);
  return boxed(raw(c, target, contiguousStrides(target), 0), shape);
}
