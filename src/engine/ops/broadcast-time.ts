import type { Act, Primitive } from '../ad/primitive';
import { unreachable, ZERO, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';

/**
 * [B,1,C] → [B,T,C], the scalar branch repeated over time. The tangent of the result is the
 * input's tangent, constant along time: stored once, never T times.
 */
export function broadcastTime(
  T: number,
  alloc: Alloc = freshAlloc,
): Primitive<Act, Act, TimeTangent, TimeTangent> {
  return {
    name: 'broadcastTime',
    forward(x) {
      if (x.T !== 1) throw new Error(`broadcastTime: input must have T = 1, got ${x.T}`);
      const out = alloc(x.B * T * x.C, false);
      for (let b = 0; b < x.B; b++) {
        const row = x.data.subarray(b * x.C, (b + 1) * x.C);
        for (let t = 0; t < T; t++) out.set(row, (b * T + t) * x.C);
      }
      return { B: x.B, T, C: x.C, data: out };
    },
    jvp(_x, _y, dx) {
      switch (dx.kind) {
        case 'zero':
          return ZERO;
        case 'const':
        case 'dense': // [B,1,P,C] is [B,P,C]
          return { kind: 'const', data: dx.data };
        default:
          return unreachable(dx);
      }
    },
  };
}
