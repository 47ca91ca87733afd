/**
 * Views: view/reshape/flatten, permute/transpose, (un)squeeze, expand, plus contiguous/clone/detach,
 * and (from shape-slice.ts) slice/select/narrow and the splits. Every view shares its input's storage (GTensor.view), so
 * an in-place write through it reaches the root, and its step replays the same view on the tangent
 * (one axis further along, intersected with the tangent's box).
 *
 * Two results are fresh roots instead: a reshape of a layout that cannot be viewed (a copy), and a
 * leading slice [0:n] of a lazily computed spectrum (`lead`), which computes only those n entries.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import type { Rule, RuleTable } from '../rule';
import { type GTensor, isContiguous, shapeString, sizeOf } from '../tensor';
import { dimOf, gDrop, gExpand, geoOf, gPermute, gReshape, gUnsqueeze, inferShape } from './shape-geo';
import { sliceRules } from './shape-slice';
import {
  copyAs,
  tDrop,
  tExpand,
  tPermute,
  tReshape,
  tUnsqueeze,
  viewOf,
  viewRule,
  viewTan,
} from './shape-view';

// ---------------------------------------------------------------- reshape

/** x viewed (or, when `copy` and the layout does not allow a view, copied) as `shape`. */
function reshapeTo(x: GTensor, shape: readonly number[], op: string, copy: boolean): GTensor {
  const target = inferShape(shape, x.numel, op, x.shape);
  const g = gReshape(geoOf(x), target);
  if (g) return viewOf(x, g, (t) => tReshape(t, target));
  if (!copy)
    throw new ShapeError(
      `${op}: a view of shape ${shapeString(target)} is not compatible with the input's shape ${shapeString(x.shape)} and strides ${shapeString(x.strides)} (at least one dimension spans two contiguous subspaces); use reshape instead`,
    );
  return copyAs(x, target);
}

function reshapeRule(param: string, copy: boolean, shapeOf: (a: Args, x: GTensor) => number[]): Rule {
  return viewRule(
    ['self', param],
    (a, x) => reshapeTo(x, shapeOf(a, x), a.op, copy),
    (_a, _x, t, out) => tReshape(t, out.shape),
  );
}

function flattenShape(a: Args, x: GTensor): number[] {
  if (x.rank === 0) return [1];
  const s = dimOf(a.int('start_dim', 0), x.rank, a.op);
  const e = dimOf(a.int('end_dim', -1), x.rank, a.op);
  if (s > e) throw new ShapeError(`${a.op}: start_dim ${s} comes after end_dim ${e}`);
  return [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
}

function unflattenShape(a: Args, x: GTensor): number[] {
  const d = dimOf(a.int('dim'), x.rank, a.op);
  const sizes = inferShape(a.ints('sizes'), x.shape[d], a.op, [x.shape[d]]);
  return [...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)];
}

// ---------------------------------------------------------------- permutations

function permuteView(x: GTensor, perm: number[], op: string): GTensor {
  const seen = new Set(perm);
  if (perm.length !== x.rank || seen.size !== perm.length || perm.some((p) => p < 0 || p >= x.rank))
    throw new ShapeError(
      `${op}: dims ${shapeString(perm)} are not a permutation of a tensor of rank ${x.rank}`,
    );
  return viewOf(x, gPermute(geoOf(x), perm), (t) => tPermute(t, perm));
}

function swapPerm(r: number, i: number, j: number): number[] {
  const perm = Array.from({ length: r }, (_, k) => k);
  perm[i] = j;
  perm[j] = i;
  return perm;
}

function transposeRule(p0: string, p1: string): Rule {
  return viewRule(
    ['self', p0, p1],
    (a, x) => {
      if (x.rank === 0) return viewOf(x, geoOf(x), (t) => t);
      const i = dimOf(a.int(p0), x.rank, a.op);
      const j = dimOf(a.int(p1), x.rank, a.op);
      return permuteView(x, swapPerm(x.rank, i, j), a.op);
    },
    (_a, x, t, out) => (out === x ? t : null),
  );
}

function movedimPerm(a: Args, x: GTensor): number[] {
  const src = a.ints('source').map((d) => dimOf(d, x.rank, a.op));
  const dst = a.ints('destination').map((d) => dimOf(d, x.rank, a.op));
  if (src.length !== dst.length || new Set(src).size !== src.length || new Set(dst).size !== dst.length)
    throw new ShapeError(
      `${a.op}: source ${shapeString(src)} and destination ${shapeString(dst)} do not match`,
    );
  const perm = new Array<number>(x.rank).fill(-1);
  src.forEach((s, i) => (perm[dst[i]] = s));
  const rest = Array.from({ length: x.rank }, (_, k) => k).filter((k) => !src.includes(k));
  for (let k = 0, r = 0; k < x.rank; k++) if (perm[k] < 0) perm[k] = rest[r++];
  return perm;
}

// ---------------------------------------------------------------- squeeze, expand

function squeezeView(x: GTensor, dims: number[] | null, op: string): GTensor {
  const axes =
    dims === null
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : [...new Set(dims.map((d) => dimOf(d, x.rank, op)))].filter((i) => x.rank > 0 && x.shape[i] === 1);
  return viewOf(x, gDrop(geoOf(x), axes), (t) => tDrop(t, axes));
}

function unsqueezeView(x: GTensor, d: number, op: string): GTensor {
  const ax = dimOf(d, x.rank + 1, op);
  return viewOf(x, gUnsqueeze(geoOf(x), ax), (t) => tUnsqueeze(t, ax));
}

export function expandView(x: GTensor, shape: readonly number[], op: string): GTensor {
  const g = gExpand(geoOf(x), shape, op);
  return viewOf(x, g, (t) => tExpand(t, g.shape));
}

// ---------------------------------------------------------------- copies and identities

/** The same tensor seen again (PyTorch's alias): shares storage and tangent. */
function aliasView(x: GTensor): GTensor {
  return viewOf(x, geoOf(x), (t) => t);
}

const contiguous: Rule = viewRule(
  ['self', 'memory_format='],
  (_a, x) => (isContiguous(x) ? x : copyAs(x)),
  (_a, _x, t) => t,
);

export const shapeRules = {
  'aten::view': reshapeRule('size', false, (a) => a.ints('size')),
  'aten::reshape': reshapeRule('shape', true, (a) => a.ints('shape')),
  'aten::view_as': reshapeRule('other', false, (a) => [...a.tensor('other').shape]),
  'aten::reshape_as': reshapeRule('other', true, (a) => [...a.tensor('other').shape]),
  'aten::flatten': viewRule(
    ['self', 'start_dim=', 'end_dim='],
    (a, x) => reshapeTo(x, flattenShape(a, x), a.op, true),
    (_a, _x, t, out) => tReshape(t, out.shape),
  ),
  'aten::unflatten': viewRule(
    ['self', 'dim', 'sizes'],
    (a, x) => reshapeTo(x, unflattenShape(a, x), a.op, true),
    (_a, _x, t, out) => tReshape(t, out.shape),
  ),
  'aten::permute': viewRule(
    ['self', 'dims'],
    (a, x) =>
      permuteView(
        x,
        a.ints('dims').map((d) => dimOf(d, x.rank, a.op)),
        a.op,
      ),
    viewTan,
  ),
  'aten::transpose': transposeRule('dim0', 'dim1'),
  'aten::swapdims': transposeRule('dim0', 'dim1'),
  'aten::swapaxes': transposeRule('axis0', 'axis1'),
  'aten::t': viewRule(
    ['self'],
    (a, x) => {
      if (x.rank > 2)
        throw new ShapeError(
          `${a.op}: expects a tensor of at most 2 dimensions, got ${shapeString(x.shape)}`,
        );
      return x.rank < 2 ? aliasView(x) : permuteView(x, [1, 0], a.op);
    },
    viewTan,
  ),
  'aten::movedim': viewRule(
    ['self', 'source', 'destination'],
    (a, x) => permuteView(x, movedimPerm(a, x), a.op),
    viewTan,
  ),
  'aten::moveaxis': viewRule(
    ['self', 'source', 'destination'],
    (a, x) => permuteView(x, movedimPerm(a, x), a.op),
    viewTan,
  ),
  'aten::squeeze': viewRule(['self', 'dim='], (a, x) => squeezeView(x, a.optInts('dim'), a.op), viewTan),
  'aten::unsqueeze': viewRule(['self', 'dim'], (a, x) => unsqueezeView(x, a.int('dim'), a.op), viewTan),
  'aten::expand': viewRule(
    ['self', 'size', 'implicit='],
    (a, x) => expandView(x, a.ints('size'), a.op),
    viewTan,
  ),
  'aten::broadcast_to': viewRule(['self', 'size'], (a, x) => expandView(x, a.ints('size'), a.op), viewTan),
  'aten::expand_as': viewRule(
    ['self', 'other'],
    (a, x) => expandView(x, a.tensor('other').shape, a.op),
    viewTan,
  ),
  ...sliceRules,
  'aten::alias': viewRule(['self'], (_a, x) => aliasView(x), viewTan),
  'aten::detach': viewRule(
    ['self'],
    (_a, x) => viewOf(x, geoOf(x), () => null),
    () => null,
  ),
  'aten::contiguous': contiguous,
  'aten::clone': {
    params: ['self', 'memory_format='],
    forward: (a) => copyAs(a.tensor('self')),
    // Tangent data is never written in place, so the copy shares it.
    jvp: (a, _out, t) => t(a.tensor('self')),
  },
} satisfies RuleTable;
