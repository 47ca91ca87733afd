import type { Act, Primitive } from '../ad/primitive';
import { unreachable, ZERO, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';
import type { ActivationFn } from './activations';

/**
 * y = f(x) elementwise. JVP: dy[b,t,k,c] = f'(x[b,t,c]) · dx[b,t,k,c]. A time-constant tangent
 * becomes dense here — f' varies in time — which is where the Jacobian's real work begins.
 */
export function activation(
  fn: ActivationFn,
  alloc: Alloc = freshAlloc,
): Primitive<Act, Act, TimeTangent, TimeTangent> {
  return {
    name: fn.name,
    forward(x) {
      const out = alloc(x.data.length, false);
      const f = fn.f;
      const xd = x.data;
      for (let i = 0; i < out.length; i++) out[i] = f(xd[i]);
      return { B: x.B, T: x.T, C: x.C, data: out };
    },
    jvp(x, y, dx, P) {
      if (dx.kind === 'zero') return ZERO;
      const { B, T, C } = x;
      const d = alloc(B * T * C, false);
      const df = fn.df;
      for (let i = 0; i < d.length; i++) d[i] = df(x.data[i], y.data[i]);
      const out = alloc(B * T * P * C, false);
      switch (dx.kind) {
        case 'const':
          scaleConst(out, d, dx.data, B, T, P, C);
          break;
        case 'dense':
          scaleDense(out, d, dx.data, B * T, P, C);
          break;
        default:
          return unreachable(dx);
      }
      return { kind: 'dense', data: out };
    },
  };
}

/** out[b,t,k,c] = d[b,t,c] · v[b,k,c] */
function scaleConst(
  out: Float64Array,
  d: Float64Array,
  v: Float64Array,
  B: number,
  T: number,
  P: number,
  C: number,
): void {
  for (let b = 0; b < B; b++)
    for (let t = 0; t < T; t++) {
      const dRow = (b * T + t) * C;
      for (let k = 0; k < P; k++) {
        const src = (b * P + k) * C;
        const dst = ((b * T + t) * P + k) * C;
        for (let c = 0; c < C; c++) out[dst + c] = d[dRow + c] * v[src + c];
      }
    }
}

/** out[bt,k,c] = d[bt,c] · v[bt,k,c] */
function scaleDense(
  out: Float64Array,
  d: Float64Array,
  v: Float64Array,
  BT: number,
  P: number,
  C: number,
): void {
  for (let bt = 0; bt < BT; bt++) {
    const dRow = bt * C;
    for (let k = 0; k < P; k++) {
      const o = (bt * P + k) * C;
      for (let c = 0; c < C; c++) out[o + c] = d[dRow + c] * v[o + c];
    }
  }
}
