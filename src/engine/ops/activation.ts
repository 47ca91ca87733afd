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
      const out = alloc(x.data.length);
      for (let i = 0; i < out.length; i++) out[i] = fn.f(x.data[i]);
      return { B: x.B, T: x.T, C: x.C, data: out };
    },
    jvp(x, y, dx, P) {
      if (dx.kind === 'zero') return ZERO;
      const { B, T, C } = x;
      const d = alloc(B * T * C);
      for (let i = 0; i < d.length; i++) d[i] = fn.df(x.data[i], y.data[i]);
      const out = alloc(B * T * P * C);
      switch (dx.kind) {
        case 'const':
          for (let b = 0; b < B; b++)
            for (let t = 0; t < T; t++) {
              const dRow = (b * T + t) * C;
              for (let k = 0; k < P; k++) {
                const src = (b * P + k) * C;
                const dst = ((b * T + t) * P + k) * C;
                for (let c = 0; c < C; c++) out[dst + c] = d[dRow + c] * dx.data[src + c];
              }
            }
          break;
        case 'dense':
          for (let bt = 0; bt < B * T; bt++)
            for (let k = 0; k < P; k++) {
              const o = (bt * P + k) * C;
              for (let c = 0; c < C; c++) out[o + c] = d[bt * C + c] * dx.data[o + c];
            }
          break;
        default:
          return unreachable(dx);
      }
      return { kind: 'dense', data: out };
    },
  };
}
