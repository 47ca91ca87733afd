/**
 * softmax and log_softmax along one axis (max-subtracted, as PyTorch computes them). With
 * y = softmax(x):  dy = y ⊙ (dx − Σ_dim y ⊙ dx);  d log_softmax(x) = dx − Σ_dim y ⊙ dx.
 * The tangent is made dense: every entry along the axis depends on every other.
 */
import { UnsupportedError, type Args } from '../args';
import type { Rule, RuleTable } from '../rule';
import { dense, tan } from '../tangent';
import { GTensor, axis, contiguous, fromArrays } from '../tensor';
import { E } from '../lower/expr';
import { recorder, type Recorder, type StridedArray } from '../lower/record';
import { recordMax, recordSum } from '../lower/record-reduce';

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
  const rec = recorder();
  if (rec) recordForward(rec, x, out, [outer, n, inner], log);
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

const view = (arr: Float64Array, strides: number[]): StridedArray => ({ arr, strides, offset: 0 });

/** The forward pass as records: the line maximum, e^{x−m}, its sum, then y or log y. */
function recordForward(
  rec: Recorder,
  x: Float64Array,
  out: Float64Array,
  shape: number[],
  log: boolean,
): void {
  const [outer, n, inner] = shape;
  const full = [n * inner, inner, 1];
  const perLine = [inner, 0, 1];
  const m = view(new Float64Array(outer * inner), perLine);
  const e = view(new Float64Array(x.length), full);
  const s = view(new Float64Array(outer * inner), perLine);
  recordMax(rec, shape, 1, view(x, full), m);
  // an all −∞ line has m = −∞: use 0, as the loop does (WGSL has no infinite literal: m·0 ≠ 0 there)
  const M = E.select(E.bin('gt', E.in(1), E.c(-3.4e38)), E.in(1), E.c(0));
  rec.ewise(shape, [view(x, full), m], [e], [E.un('exp', E.sub(E.in(0), M))]);
  recordSum(rec, shape, e, s);
  const y = log ? E.sub(E.in(0), E.add(E.un('log', E.in(2)), M)) : E.div(E.in(3), E.in(2));
  rec.ewise(shape, [view(x, full), m, s, e], [view(out, full)], [y]);
}

/** The JVP as records: s = Σ y·dx along the line, then y·(dx − s) or dx − s. */
function recordJvp(
  rec: Recorder,
  out: Float64Array,
  dx: Float64Array,
  dy: Float64Array,
  shape: number[],
  log: boolean,
): void {
  const [P, outer, n, inner] = shape;
  const size = outer * n * inner;
  const full = [size, n * inner, inner, 1];
  const y = view(log ? new Float64Array(size) : out, [0, n * inner, inner, 1]);
  if (log) rec.ewise([size], [view(out, [1])], [view(y.arr, [1])], [E.un('exp', E.in(0))]);
  const s = view(new Float64Array(P * outer * inner), [outer * inner, inner, 0, 1]);
  recordSum(rec, shape, view(dx, full), s, 1, y);
  const r = log ? E.sub(E.in(0), E.in(1)) : E.mul(E.in(2), E.sub(E.in(0), E.in(1)));
  rec.ewise(shape, [view(dx, full), s, y], [view(dy, full)], [r]);
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
      const rec = recorder();
      if (rec) recordJvp(rec, yv, dx, dy, [P, outer, n, inner], log);
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
