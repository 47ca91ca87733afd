/**
 * Tangents of graph values, all P directions at once, and the structure they keep.
 *
 * The tangent of a tensor v of shape S is a tensor of shape [P, ...S] (direction k = ∂v/∂p_k):
 * the extra axis leads, so every forward kernel runs unchanged on a tangent (broadcasting lines a
 * primal [S] up with a tangent [P,S]), and a JVP rule is usually the forward op on the tangent.
 *
 * Structure, which is what keeps the seed model's Jacobian at the cost of about two forward passes:
 *  - `null`: a symbolic zero (weights, constants and x never depend on p);
 *  - stride-0 axes in `data`: p broadcast over time stays one row through everything linear;
 *  - a leading block: `data` may cover only the leading `box[d] = data.shape[d+1]` entries of each
 *    axis of S, the rest being zero. The rfft of a time-constant tangent is its DC bin alone (box 1
 *    along frequency), the spectral mix keeps that, and the irfft of a DC-only spectrum is constant
 *    over time again.
 * Rules that have no use for the structure call `dense()`.
 */
import { ShapeError } from '../errors';
import { GTensor, sizeOf, zerosTensor } from './tensor';
import { assignInto } from './copy';

export interface TanT {
  /** [P, ...box]; box[d] ≤ full[d], entries beyond the box are zero. */
  readonly data: GTensor;
  /** The primal's shape S. */
  readonly full: readonly number[];
}
export type Tan = TanT | null;

/** The box of a tangent: the leading block of S its data covers. */
export function boxOf(t: TanT): number[] {
  return t.data.shape.slice(1);
}

export function isFull(t: TanT): boolean {
  return t.full.every((d, i) => t.data.shape[i + 1] === d);
}

/** A tangent whose data covers all of S. */
export function tan(data: GTensor): TanT {
  return { data, full: data.shape.slice(1) };
}

/** A tangent covering the leading block data.shape[1:] of `full`. */
export function boxed(data: GTensor, full: readonly number[]): Tan {
  if (data.shape.length !== full.length + 1) throw new Error('internal: box rank differs from the full rank');
  if (data.shape.some((d, i) => i > 0 && d > full[i - 1])) throw new Error('internal: box exceeds the shape');
  if (data.shape.some((d, i) => i > 0 && d === 0) && sizeOf(full) > 0) return null;
  return { data, full: [...full] };
}

/** The tangent's data over all of S, [P, ...S] (zero-padded beyond the box). */
export function dense(t: TanT): GTensor {
  if (isFull(t)) return t.data;
  const out = zerosTensor([t.data.shape[0], ...t.full], t.data.kind);
  const lead = leadingView(out, t.data.shape);
  assignInto(lead, t.data);
  return out;
}

/** Dense tangent data or zeros of [P, ...shape] for a symbolic zero. */
export function denseOrZeros(t: Tan, P: number, shape: readonly number[], complex = false): GTensor {
  return t ? dense(t) : zerosTensor([P, ...shape], complex ? 'complex' : 'float');
}

/** The view of `x`'s leading block of the given shape (same rank). */
export function leadingView(x: GTensor, shape: readonly number[]): GTensor {
  if (shape.length !== x.rank) throw new ShapeError('internal: leading block of another rank');
  return x.view([...shape], [...x.strides], x.offset, () => {
    throw new Error('internal: tangent of a tangent');
  });
}

/** A tangent restricted to a leading block of its primal (for pairing primal and tangent data). */
export function primalBox(x: GTensor, t: TanT): GTensor {
  return isFull(t) ? x : leadingView(x, boxOf(t));
}
