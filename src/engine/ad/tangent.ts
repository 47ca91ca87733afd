/**
 * Tangents for forward mode with all P directions at once, and the structure they carry.
 *
 * A time-domain value h [B,T,C] has a tangent dh [B,T,P,C] (direction k = ∂h/∂p_k). Two shapes of
 * it are common enough in an FNO to deserve their own representation, because the JVP rules can
 * then skip work that would only multiply zeros or repeat one row T times:
 *   - zero:  h does not depend on p at all (everything computed from x alone);
 *   - const: dh[b,t,k,c] is the same for every t (p broadcast over time, and what linear maps of it
 *            give) — stored once as [B,P,C];
 *   - dense: the general case [B,T,P,C].
 * A spectrum S [modes,B,C] has the analogous tangents: zero; dc (only bin 0 non-zero, which is what
 * the rfft of a time-constant tangent is) stored as re/im [B,P,C]; dense re/im [modes,B,P,C].
 */

export interface Zero {
  readonly kind: 'zero';
}
export interface ConstT {
  readonly kind: 'const';
  /** [B,P,C] */
  readonly data: Float64Array;
}
export interface DenseT {
  readonly kind: 'dense';
  /** [B,T,P,C] */
  readonly data: Float64Array;
}
export type TimeTangent = Zero | ConstT | DenseT;

export interface DcS {
  readonly kind: 'dc';
  /** [B,P,C] each */
  readonly re: Float64Array;
  readonly im: Float64Array;
}
export interface DenseS {
  readonly kind: 'dense';
  /** [modes,B,P,C] each */
  readonly re: Float64Array;
  readonly im: Float64Array;
}
export type SpecTangent = Zero | DcS | DenseS;

export const ZERO: Zero = { kind: 'zero' };

/** For exhaustive switches: the type system proves every tangent kind is handled. */
export function unreachable(x: never): never {
  throw new Error(`unhandled tangent kind ${(x as { kind?: string }).kind}`);
}

/** A time-domain tangent written out in full [B,T,P,C] (for rules that need it dense). */
export function densify(
  t: TimeTangent,
  B: number,
  T: number,
  P: number,
  C: number,
  alloc: (n: number) => Float64Array = (n) => new Float64Array(n),
): Float64Array {
  if (t.kind === 'dense') return t.data;
  const out = alloc(B * T * P * C);
  switch (t.kind) {
    case 'zero':
      return out;
    case 'const': {
      const row = P * C;
      for (let b = 0; b < B; b++) {
        const src = t.data.subarray(b * row, (b + 1) * row);
        for (let s = 0; s < T; s++) out.set(src, (b * T + s) * row);
      }
      return out;
    }
    default:
      return unreachable(t);
  }
}
