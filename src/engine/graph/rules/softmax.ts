/**
 * softmax and log_softmax along one axis (max-subtracted, as PyTorch computes them). With
 * y = softmax(x):  dy = y ⊙ (dx − Σ_dim y ⊙ dx);  d log_softmax(x) = dx − Σ_dim y ⊙ dx.
 * The tangent is made dense: every entry along the axis depends on every other.
 */
import { UnsupportedError, type Args } from '../args';
import type { Rule, RuleTable } from '../rule';
import { dense, tan } from '../tangent';
import { GTensor, axis, contiguous, fromArrays } from '../tensor';

/** x as [outer, n, inner] around axis d, contiguous. */
function lines(a: Args, x: GTensor): { v: Float64Array; outer: number; n: number; inner: number; d: number } {
  if (x.isComplex) throw new UnsupportedError(`${a.op}: complex tensors are not supported`);
  const d = axis(a.int('dim'), x.rank);
  const shape = x.rank === 0 ? [1] : x.shape;
  let outer = 1;
  let inner = 1;
  for (let i = 0; i < d; i++) outer *= shape[i];
  for (let i = d + 1; i < shape.length; i++) inner *= shape[i];
  return { v: contiguous(x).re, outer, n: shape[d], inner, d };
}

/** softmax (log: log_softmax) of x along its lines. */
function forward(x: Float64Array, outer: number, n: number, inner: number, log: boolean): Float64Array {
  const out = new Float64Array(outer * n * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let m = -Infinity;
      for (let j = 0, k = base; j < n; j++, k += inner) if (x[k] > m) m = x[k];
      if (m === -Infinity) m = 0;
      let s = 0;
      for (let j = 0, k = base; j < n; j++, k += inner) {
        const e = Math.exp(x[k] - m);
        out[k] = e;
        s += e;
      }
      if (log) {
        const ls = Math.log(s) + m;
        for (let j = 0, k = base; j < n; j++, k += inner) out[k] = x[k] - ls;
      } else for (let j = 0, k = base; j < n; j++, k += inner) out[k] /= s;
    }
  return out;
}

function softmaxRule(log: boolean): Rule {
  return {
    params: ['self', 'dim', 'dtype='],
    forward(a) {
      const x = a.tensor('self');
      const { v, outer, n, inner } = lines(a, x);
      return fromArrays([...x.shape], forward(v, outer, n, inner, log));
    },
    jvp(a, out, t) {
      const x = a.tensor('self');
      const tx = t(x);
      if (!tx) return null;
      const { outer, n, inner } = lines(a, x);
      const yv = (out as GTensor).re;
      const y = log ? yv.map(Math.exp) : yv;
      const dx = contiguous(dense(tx)).re;
      const P = tx.data.shape[0];
      const size = outer * n * inner;
      const dy = new Float64Array(P * size);
      for (let p = 0; p < P; p++)
        for (let o = 0; o < outer; o++)
          for (let i = 0; i < inner; i++) {
            const base = o * n * inner + i;
            const pb = p * size + base;
            let s = 0;
            for (let j = 0, k = base, q = pb; j < n; j++, k += inner, q += inner) s += y[k] * dx[q];
            if (log) for (let j = 0, q = pb; j < n; j++, q += inner) dy[q] = dx[q] - s;
            else
              for (let j = 0, k = base, q = pb; j < n; j++, k += inner, q += inner)
                dy[q] = y[k] * (dx[q] - s);
          }
      return tan(fromArrays([P, ...x.shape], dy));
    },
  };
}

export const softmaxRules = {
  'aten::softmax': softmaxRule(false),
  'aten::log_softmax': softmaxRule(true),
} satisfies RuleTable;
