import type { Act, Primitive } from '../ad/primitive';
import { densify, ZERO, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';

/** Interleave row blocks: out[r] = a[r] ++ b[r] for `rows` rows (a missing side is zeros). */
function concatRows(
  a: Float64Array | null,
  Ca: number,
  b: Float64Array | null,
  Cb: number,
  rows: number,
  alloc: Alloc,
): Float64Array {
  const C = Ca + Cb;
  const out = alloc(rows * C);
  for (let r = 0; r < rows; r++) {
    if (a) out.set(a.subarray(r * Ca, (r + 1) * Ca), r * C);
    if (b) out.set(b.subarray(r * Cb, (r + 1) * Cb), r * C + Ca);
  }
  return out;
}

/**
 * Concatenation along channels: [B,T,Ca] ++ [B,T,Cb] → [B,T,Ca+Cb]. The tangent keeps the
 * weakest structure of its parts: zero ++ const stays const (the x-channels filled with zeros).
 */
export function concatChannels(
  alloc: Alloc = freshAlloc,
): Primitive<[Act, Act], Act, [TimeTangent, TimeTangent], TimeTangent> {
  return {
    name: 'concatChannels',
    forward([a, b]) {
      if (a.B !== b.B || a.T !== b.T) throw new Error('concatChannels: batch or time sizes differ');
      return { B: a.B, T: a.T, C: a.C + b.C, data: concatRows(a.data, a.C, b.data, b.C, a.B * a.T, alloc) };
    },
    jvp([a, b], _y, [da, db], P) {
      if (da.kind === 'zero' && db.kind === 'zero') return ZERO;
      if (da.kind !== 'dense' && db.kind !== 'dense') {
        const pa = da.kind === 'const' ? da.data : null;
        const pb = db.kind === 'const' ? db.data : null;
        return { kind: 'const', data: concatRows(pa, a.C, pb, b.C, a.B * P, alloc) };
      }
      const fa = da.kind === 'zero' ? null : densify(da, a.B, a.T, P, a.C, alloc);
      const fb = db.kind === 'zero' ? null : densify(db, b.B, b.T, P, b.C, alloc);
      return { kind: 'dense', data: concatRows(fa, a.C, fb, b.C, a.B * a.T * P, alloc) };
    },
  };
}
