/**
 * The geometry of views (shape, strides, offset): what permute, slice, select, (un)squeeze, expand
 * and view do to a tensor's strides, applied alike to primal values and to tangent data (whose
 * axes lie one further along).
 */
import { ShapeError } from '../../errors';
import { type GTensor, contiguousStrides, shapeString, sizeOf } from '../tensor';

export interface Geo {
  shape: number[];
  strides: number[];
  offset: number;
}

export function geoOf(x: GTensor): Geo {
  return { shape: [...x.shape], strides: [...x.strides], offset: x.offset };
}

// ---------------------------------------------------------------- geometry

export function gPermute(g: Geo, perm: readonly number[]): Geo {
  return { shape: perm.map((p) => g.shape[p]), strides: perm.map((p) => g.strides[p]), offset: g.offset };
}

/** `count` entries along `ax` from `start` every `step`. */
export function gSlice(g: Geo, ax: number, start: number, count: number, step: number): Geo {
  const shape = [...g.shape];
  const strides = [...g.strides];
  const offset = count > 0 ? g.offset + start * g.strides[ax] : g.offset;
  shape[ax] = count;
  strides[ax] = g.strides[ax] * step;
  return { shape, strides, offset };
}

export function gSelect(g: Geo, ax: number, i: number): Geo {
  return {
    shape: g.shape.filter((_, k) => k !== ax),
    strides: g.strides.filter((_, k) => k !== ax),
    offset: g.offset + i * g.strides[ax],
  };
}

/** A size-1 axis inserted before `ax` (PyTorch's stride for it). */
export function gUnsqueeze(g: Geo, ax: number): Geo {
  const stride = ax >= g.shape.length ? 1 : g.shape[ax] * g.strides[ax];
  const shape = [...g.shape];
  const strides = [...g.strides];
  shape.splice(ax, 0, 1);
  strides.splice(ax, 0, stride);
  return { shape, strides, offset: g.offset };
}

export function gDrop(g: Geo, axes: readonly number[]): Geo {
  return {
    shape: g.shape.filter((_, k) => !axes.includes(k)),
    strides: g.strides.filter((_, k) => !axes.includes(k)),
    offset: g.offset,
  };
}

/** Broadcast to `shape` (-1 keeps a size): new leading axes and size-1 axes get stride 0. */
export function gExpand(g: Geo, shape: readonly number[], op: string): Geo {
  const n = shape.length;
  const r = g.shape.length;
  if (n < r)
    throw new ShapeError(
      `${op}: the number of sizes provided (${n}) must be at least the tensor's rank (${r}) (expanding ${shapeString(g.shape)} to ${shapeString(shape)})`,
    );
  const outShape: number[] = [];
  const strides: number[] = [];
  for (let j = 0; j < n; j++) {
    const i = j - (n - r);
    if (i < 0) {
      if (!Number.isInteger(shape[j]) || shape[j] < 0)
        throw new ShapeError(`${op}: size ${shape[j]} is not allowed for a new leading dimension ${j}`);
      outShape.push(shape[j]);
      strides.push(0);
      continue;
    }
    const s = g.shape[i];
    const want = shape[j] === -1 ? s : shape[j];
    if (want === s) strides.push(g.strides[i]);
    else if (s === 1 && Number.isInteger(want) && want >= 0) strides.push(0);
    else
      throw new ShapeError(
        `${op}: the expanded size (${want}) must match the existing size (${s}) at non-singleton dimension ${j} (expanding ${shapeString(g.shape)} to ${shapeString(shape)})`,
      );
    outShape.push(want);
  }
  return { shape: outShape, strides, offset: g.offset };
}

/**
 * Strides viewing `g` as `shape` without copying, or null when the layout does not allow it
 * (PyTorch's computeStride).
 */
export function gReshape(g: Geo, shape: readonly number[]): Geo | null {
  const old = g.shape;
  const os = g.strides;
  if (old.length === 0) return { shape: [...shape], strides: shape.map(() => 1), offset: g.offset };
  const numel = sizeOf(old);
  if (numel === 0) return { shape: [...shape], strides: contiguousStrides(shape), offset: g.offset };
  const strides = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = os[old.length - 1];
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = old.length - 1; d >= 0; d--) {
    tensorNumel *= old[d];
    if (d === 0 || (old[d - 1] !== 1 && os[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        strides[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = os[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return { shape: [...shape], strides, offset: g.offset };
}

/** A shape with at most one -1 resolved against `numel` elements. */
export function inferShape(
  shape: readonly number[],
  numel: number,
  op: string,
  from: readonly number[],
): number[] {
  let free = -1;
  let known = 1;
  shape.forEach((d, i) => {
    if (d === -1) {
      if (free >= 0)
        throw new ShapeError(`${op}: only one dimension can be inferred (-1) in ${shapeString(shape)}`);
      free = i;
    } else if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(`${op}: invalid size ${d} in ${shapeString(shape)}`);
    else known *= d;
  });
  const out = [...shape];
  if (free >= 0) {
    if (known === 0 || numel % known !== 0)
      throw new ShapeError(
        `${op}: shape ${shapeString(shape)} is invalid for an input of shape ${shapeString(from)} (${numel} elements)`,
      );
    out[free] = numel / known;
  } else if (known !== numel)
    throw new ShapeError(
      `${op}: shape ${shapeString(shape)} is invalid for an input of shape ${shapeString(from)} (${numel} elements)`,
    );
  return out;
}

/** Normalise a dim for a tensor of rank r (PyTorch's wrap rule), naming the op on failure. */
export function dimOf(d: number, r: number, op: string): number {
  const rr = Math.max(r, 1);
  if (!Number.isInteger(d) || d < -rr || d >= rr)
    throw new ShapeError(`${op}: dim ${d} is out of range for a tensor of rank ${r}`);
  return d < 0 ? d + rr : d;
}
