/**
 * Slicing views: slice, narrow, select, and the splits (split, split_with_sizes, chunk, unbind),
 * each piece a view of its input. A leading slice [0:n] of a lazily computed root (an rfft whose
 * values have not been read) is the exception: `lead` computes only those n entries, as a fresh
 * root that may not be written in place, and its tangent likewise from the tangent's `lead`.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import type { Rule, RuleTable } from '../rule';
import { type GTensor, isWholeRoot, shapeString } from '../tensor';
import { dimOf, geoOf, gSelect, gSlice } from './shape-geo';
import { tSelect, tSlice, viewOf, viewRule, viewTan } from './shape-view';

/** An optional int argument that may be None or the int64 maximum (any huge value clamps). */
function optBound(a: Args, name: string): number | null {
  const v = a.raw(name);
  if (v === undefined || v === null) return null;
  if (typeof v === 'bigint') return Number(v);
  return a.number(name);
}

/** Slice `count` entries from `start` every `step` along `ax`; a leading slice of a lazy root computes only those. */
export function sliceView(x: GTensor, ax: number, start: number, count: number, step: number): GTensor {
  // A view over the whole root (traced code slices every axis [0:MAX] first) counts as the root.
  const root = x.root;
  if (start === 0 && step === 1 && count < x.shape[ax] && root.lead && root.deferred && isWholeRoot(x)) {
    const out = root.lead(ax, count);
    if (out.parent === null && out.readonlyReason === null)
      out.readonlyReason =
        'a leading block of a lazily computed tensor (such as an rfft) cannot be written in place';
    return out;
  }
  return viewOf(x, gSlice(geoOf(x), ax, start, count, step), (t) => tSlice(t, ax, start, count, step));
}

function sliceBounds(a: Args, x: GTensor): [number, number, number, number] {
  if (x.rank === 0) throw new ShapeError(`${a.op}: cannot slice a 0-d tensor`);
  const ax = dimOf(a.int('dim', 0), x.rank, a.op);
  const n = x.shape[ax];
  const step = a.int('step', 1);
  if (step <= 0) throw new ShapeError(`${a.op}: slice step must be positive, got ${step}`);
  let start = optBound(a, 'start') ?? 0;
  let end = optBound(a, 'end') ?? n;
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = Math.min(Math.max(start, 0), n);
  end = Math.min(Math.max(end, start), n);
  return [ax, start, Math.ceil((end - start) / step), step];
}

function selectView(x: GTensor, d: number, index: number, op: string): GTensor {
  if (x.rank === 0) throw new ShapeError(`${op}: cannot select from a 0-d tensor`);
  const ax = dimOf(d, x.rank, op);
  const n = x.shape[ax];
  if (!Number.isInteger(index) || index < -n || index >= n)
    throw new ShapeError(`${op}: index ${index} is out of range for dimension ${ax} of size ${n}`);
  const i = index < 0 ? index + n : index;
  return viewOf(x, gSelect(geoOf(x), ax, i), (t) => tSelect(t, ax, i));
}

/** Consecutive pieces of the given sizes along `dim`. */
function splitSizes(x: GTensor, sizes: number[], ax: number, op: string): GTensor[] {
  const total = sizes.reduce((s, v) => s + v, 0);
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== x.shape[ax])
    throw new ShapeError(
      `${op}: split sizes ${shapeString(sizes)} do not add up to ${x.shape[ax]} (dimension ${ax} of ${shapeString(x.shape)})`,
    );
  let at = 0;
  return sizes.map((s) => {
    const v = sliceViewNoLead(x, ax, at, s);
    at += s;
    return v;
  });
}

/** A slice that is always a view (the pieces of a split share storage with their input). */
function sliceViewNoLead(x: GTensor, ax: number, start: number, count: number): GTensor {
  return viewOf(x, gSlice(geoOf(x), ax, start, count, 1), (t) => tSlice(t, ax, start, count, 1));
}

function splitBy(x: GTensor, size: number, ax: number, op: string): GTensor[] {
  const n = x.shape[ax];
  if (!Number.isInteger(size) || size < 0 || (size === 0 && n > 0))
    throw new ShapeError(`${op}: split size must be a positive integer, got ${size}`);
  if (n === 0) return [sliceViewNoLead(x, ax, 0, 0)];
  const sizes: number[] = [];
  for (let at = 0; at < n; at += size) sizes.push(Math.min(size, n - at));
  return splitSizes(x, sizes, ax, op);
}

function splitAxis(a: Args, x: GTensor): number {
  if (x.rank === 0) throw new ShapeError(`${a.op}: cannot split a 0-d tensor`);
  return dimOf(a.int('dim', 0), x.rank, a.op);
}

function splitRule(param: string, forward: (a: Args, x: GTensor, ax: number) => GTensor[]): Rule {
  return viewRule(['self', param, 'dim='], (a, x) => forward(a, x, splitAxis(a, x)), viewTan);
}

const split = splitRule('split_size', (a, x, ax) => {
  const v = a.raw('split_size');
  return Array.isArray(v)
    ? splitSizes(x, a.ints('split_size'), ax, a.op)
    : splitBy(x, a.int('split_size'), ax, a.op);
});
const splitWithSizes = splitRule('split_sizes', (a, x, ax) => splitSizes(x, a.ints('split_sizes'), ax, a.op));
const chunk = splitRule('chunks', (a, x, ax) => {
  const chunks = a.int('chunks');
  if (chunks <= 0) throw new ShapeError(`${a.op}: chunks must be positive, got ${chunks}`);
  return splitBy(x, Math.max(1, Math.ceil(x.shape[ax] / chunks)), ax, a.op);
});

export const sliceRules = {
  'aten::slice': viewRule(
    ['self', 'dim=', 'start=', 'end=', 'step='],
    (a, x) => sliceView(x, ...sliceBounds(a, x)),
    (a, x, t) => {
      const [ax, start, count, step] = sliceBounds(a, x);
      return tSlice(t, ax, start, count, step);
    },
  ),
  'aten::narrow': viewRule(
    ['self', 'dim', 'start', 'length'],
    (a, x) => {
      if (x.rank === 0) throw new ShapeError(`${a.op}: cannot narrow a 0-d tensor`);
      const ax = dimOf(a.int('dim'), x.rank, a.op);
      const n = x.shape[ax];
      let start = a.int('start');
      const len = a.int('length');
      if (start < -n || start > n)
        throw new ShapeError(`${a.op}: start ${start} is out of range for dimension ${ax} of size ${n}`);
      if (start < 0) start += n;
      if (len < 0 || start + len > n)
        throw new ShapeError(
          `${a.op}: start (${start}) + length (${len}) exceeds dimension ${ax} of size ${n}`,
        );
      return sliceView(x, ax, start, len, 1);
    },
    (a, x, t) => {
      const ax = dimOf(a.int('dim'), x.rank, a.op);
      const start = a.int('start') < 0 ? a.int('start') + x.shape[ax] : a.int('start');
      return tSlice(t, ax, start, a.int('length'), 1);
    },
  ),
  'aten::select': viewRule(
    ['self', 'dim', 'index'],
    (a, x) => selectView(x, a.int('dim'), a.int('index'), a.op),
    viewTan,
  ),
  'aten::unbind': viewRule(
    ['self', 'dim='],
    (a, x) => {
      const ax = splitAxis(a, x);
      return Array.from({ length: x.shape[ax] }, (_, i) => selectView(x, ax, i, a.op));
    },
    viewTan,
  ),
  'aten::split': split,
  'aten::unsafe_split': split,
  'aten::split_with_sizes': splitWithSizes,
  'aten::unsafe_split_with_sizes': splitWithSizes,
  'aten::chunk': chunk,
  'aten::unsafe_chunk': chunk,
} satisfies RuleTable;
