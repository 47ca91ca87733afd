/**
 * Tangent plumbing for the elementwise rules (pointwise, activations, norms): a tangent broadcast to
 * an output shape without copying (new and size-1 axes become stride-0 axes of its data), a primal
 * factor restricted to a tangent's box, and sums of tangents that keep the box when they can.
 *
 * Tangent data are never written after they are made, so a tangent may share storage with another.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { binary, scale } from '../elementwise';
import { boxOf, boxed, leadingView, type Tan, type TanT } from '../tangent';
import { GTensor, type Kind, scalarTensor, shapeString, zerosTensor } from '../tensor';
import { assignInto } from '../copy';

function noTangent(): never {
  throw new Error('internal: tangent of a tangent');
}

/** A view of `x`'s storage with other shape, strides and offset (storage indices). */
export function restride(x: GTensor, shape: number[], strides: number[], offset = x.offset): GTensor {
  return x.view(shape, strides, offset, noTangent);
}

/** An argument that is a tensor or a Python number (a 0-d tensor then). */
export function operand(a: Args, name: string): GTensor {
  const v = a.tensorOrScalar(name);
  if (v instanceof GTensor) return v;
  return scalarTensor(v, Number.isInteger(v) ? 'int' : 'float');
}

/** The argument's tangent, or null for a Python number. */
export function tanOfArg(a: Args, name: string, t: (x: GTensor) => Tan): Tan {
  const v = a.raw(name);
  return v instanceof GTensor ? t(v) : null;
}

/**
 * `t` seen as the tangent of its primal broadcast to `shape`: leading axes and size-1 axes that
 * broadcast get stride 0 (and full extent in the box). No copy.
 */
export function expandTan(t: TanT, shape: readonly number[]): TanT {
  const r = shape.length;
  const k = t.full.length;
  const off = r - k;
  if (off === 0 && t.full.every((d, i) => d === shape[i])) return t;
  if (off < 0) throw new ShapeError(`${shapeString(t.full)} cannot broadcast to ${shapeString(shape)}`);
  const d = t.data;
  const ds = [d.shape[0]];
  const st = [d.strides[0]];
  for (let i = 0; i < r; i++) {
    const j = i - off;
    if (j >= 0 && t.full[j] === shape[i]) {
      ds.push(d.shape[j + 1]);
      st.push(d.strides[j + 1]);
    } else if (j < 0 || t.full[j] === 1) {
      ds.push(shape[i]);
      st.push(0);
    } else throw new ShapeError(`${shapeString(t.full)} cannot broadcast to ${shapeString(shape)}`);
  }
  return { data: restride(d, ds, st), full: [...shape] };
}

/**
 * The part of a primal `x` (broadcasting to `shape`) that meets a tangent's `box` of `shape`:
 * axes that are not broadcast are cut to the box.
 */
export function primalIn(x: GTensor, box: readonly number[], shape: readonly number[]): GTensor {
  const off = shape.length - x.rank;
  let cut = false;
  const s = x.shape.map((d, j) => {
    const b = box[j + off];
    if (d !== 1 && b < d) {
      cut = true;
      return b;
    }
    return d;
  });
  return cut ? leadingView(x, s) : x;
}

/** t · f (or t / f) for a primal factor f broadcasting to the output `shape`; keeps the box. */
export function mulTan(t: Tan, f: GTensor, shape: readonly number[], op: 'mul' | 'div' = 'mul'): Tan {
  if (!t) return null;
  const e = expandTan(t, shape);
  return boxed(binary(e.data, primalIn(f, boxOf(e), shape), op, { compact: true }), shape);
}

/** s · t for a real number s. */
export function scaleTan(t: Tan, s: number): Tan {
  if (!t || s === 1) return t;
  return boxed(scale(t.data, s, { compact: true }), t.full);
}

/** `t`'s data zero-padded to a larger leading box. */
function padTo(t: TanT, box: readonly number[]): GTensor {
  const d = t.data;
  if (box.every((b, i) => b === d.shape[i + 1])) return d;
  const out = zerosTensor([d.shape[0], ...box], d.kind === 'complex' ? 'complex' : 'float');
  assignInto(leadingView(out, d.shape), d);
  return out;
}

/** a + alpha·b (or a − alpha·b) for tangents of primals broadcasting to `shape`. */
export function addTans(a: Tan, b: Tan, shape: readonly number[], alpha = 1, op: 'add' | 'sub' = 'add'): Tan {
  if (!a && !b) return null;
  const sign = op === 'sub' ? -alpha : alpha;
  if (!b) return expandTan(a!, shape);
  if (!a) return scaleTan(expandTan(b, shape), sign);
  const ea = expandTan(a, shape);
  const eb = expandTan(b, shape);
  const ba = boxOf(ea);
  const bb = boxOf(eb);
  if (ba.every((d, i) => d === bb[i]))
    return boxed(binary(ea.data, eb.data, op, { compact: true, alpha }), shape);
  // Different boxes: both zero-padded to the smallest box covering both.
  const box = ba.map((d, i) => Math.max(d, bb[i]));
  return boxed(binary(padTo(ea, box), padTo(eb, box), op, { alpha }), shape);
}

/** The sum of several tangents of one shape. */
export function sumTans(ts: readonly Tan[], shape: readonly number[]): Tan {
  let acc: Tan = null;
  for (const t of ts) acc = addTans(acc, t, shape);
  return acc;
}

/** Real and imaginary parts of a (complex) tensor as real tensors sharing its storage. */
export function realPart(x: GTensor): GTensor {
  if (!x.isComplex) return x;
  return new GTensor(x.shape, x.strides, x.offset, x.re, null, 'float');
}

export function imagPart(x: GTensor): GTensor | null {
  const im = x.im;
  if (!x.isComplex || !im) return null;
  return new GTensor(x.shape, x.strides, x.offset, im, null, 'float');
}

/** Kind of an elementwise result: integers stay integers only where the op keeps them. */
export function floatKind(k: Kind): Kind {
  return k === 'complex' ? 'complex' : 'float';
}
