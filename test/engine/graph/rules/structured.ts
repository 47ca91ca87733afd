/**
 * Test helpers for the rule tables: structured input tangents (a stride-0 axis, a leading box)
 * checked against central differences along their dense directions, independent value readers and
 * broadcasting references written with plain index arithmetic.
 */
import { expect } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import type { RuleTable } from '../../../../src/engine/graph/rule';
import { boxed, dense, tan, type Tan, type TanT } from '../../../../src/engine/graph/tangent';
import { GTensor, fromArrays, type Kind } from '../../../../src/engine/graph/tensor';
import { randTensor, type Call } from '../jvp-check';

export { randTensor };

/** Row-major values of any strided tensor (real part, or imaginary with `imag`), read by hand. */
export function values(t: GTensor, imag = false): number[] {
  const src = imag ? t.im : t.re;
  if (!src) return new Array<number>(t.numel).fill(0);
  const out: number[] = [];
  const idx = new Array<number>(t.rank).fill(0);
  const n = t.shape.reduce((a, b) => a * b, 1);
  for (let k = 0; k < n; k++) {
    let s = t.offset;
    for (let d = 0; d < t.rank; d++) s += idx[d] * t.strides[d];
    out.push(src[s]);
    for (let d = t.rank - 1; d >= 0; d--) {
      if (++idx[d] < t.shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** f over two row-major arrays with NumPy broadcasting, by index arithmetic. */
export function broadcast2(
  as: number[],
  a: ArrayLike<number>,
  bs: number[],
  b: ArrayLike<number>,
  f: (x: number, y: number) => number,
): { shape: number[]; v: number[] } {
  const r = Math.max(as.length, bs.length);
  const pa = [...new Array<number>(r - as.length).fill(1), ...as];
  const pb = [...new Array<number>(r - bs.length).fill(1), ...bs];
  const shape = pa.map((d, i) => Math.max(d, pb[i]));
  const n = shape.reduce((x, y) => x * y, 1);
  const v: number[] = [];
  for (let k = 0; k < n; k++) {
    let rem = k;
    let ia = 0;
    let ib = 0;
    let sa = 1;
    let sb = 1;
    for (let d = r - 1; d >= 0; d--) {
      const i = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
      ia += (pa[d] === 1 ? 0 : i) * sa;
      ib += (pb[d] === 1 ? 0 : i) * sb;
      sa *= pa[d];
      sb *= pb[d];
    }
    v.push(f(a[ia], b[ib]));
  }
  return { shape, v };
}

export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol = 1e-12): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const w = want[i];
    const g = got[i];
    if (Number.isNaN(w)) expect(g).toBeNaN();
    else if (!Number.isFinite(w)) expect(g).toBe(w);
    else
      expect(Math.abs(g - w), `entry ${i}: ${g} vs ${w}`).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(w)));
  }
}

/** A tangent of a primal of `shape` constant along the given axes (stride 0 in its data). */
export function constantAlong(
  shape: number[],
  axes: number[],
  P: number,
  seed: number,
  kind: Kind = 'float',
): TanT {
  const small = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const d = randTensor([P, ...small], seed, kind);
  const strides = d.strides.map((s, i) => (i > 0 && axes.includes(i - 1) ? 0 : s));
  const data = d.view([P, ...shape], strides, 0, () => {
    throw new Error('tangent of a tangent');
  });
  return { data, full: [...shape] };
}

/** A tangent of a primal of `shape` that is zero beyond the leading block `box`. */
export function boxedTangent(
  shape: number[],
  box: number[],
  P: number,
  seed: number,
  kind: Kind = 'float',
): TanT {
  return boxed(randTensor([P, ...box], seed, kind), shape)!;
}

function tensorsIn(v: unknown, out: GTensor[] = []): GTensor[] {
  if (v instanceof GTensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => tensorsIn(e, out));
  return out;
}

/**
 * Give the argument tensors (in order of appearance) the tangents `tangents(inputs)` returns, run
 * the op, and check its tangent against central differences along the dense directions. Returns
 * the output's tangent, for checks of its structure.
 */
export function checkStructured(
  table: RuleTable,
  op: string,
  build: () => Call,
  tangents: (inputs: GTensor[]) => Tan[],
  opts: { h?: number; tol?: number } = {},
): Tan {
  const h = opts.h ?? 1e-6;
  const tol = opts.tol ?? 1e-6;
  const base = build();
  const inputs = tensorsIn([base.args, Object.values(base.kwargs ?? {})]);
  const ts = tangents(inputs);
  const P = ts.find((t) => t)!.data.shape[0];
  inputs.forEach((x, i) => (x.tan = ts[i] ?? null));
  const out = callOp(table, op, base.args, base.kwargs ?? {}, { P }, true) as GTensor;
  const tOut = tangentOf(out);
  if (tOut) expect(tOut.full).toEqual(out.shape);
  const dirs = ts.map((t) =>
    t
      ? fromArrays(
          [P, ...t.full],
          Float64Array.from(values(dense(t))),
          t.data.im ? Float64Array.from(values(dense(t), true)) : null,
        )
      : null,
  );
  const got = tOut ? dense(tOut) : null;
  const gotRe = got ? values(got) : null;
  const gotIm = got && got.im ? values(got, true) : null;
  const at = (k: number, s: number): GTensor => {
    const c = build();
    const ins = tensorsIn([c.args, Object.values(c.kwargs ?? {})]);
    ins.forEach((x, i) => {
      const d = dirs[i];
      if (!d) return;
      const n = x.numel;
      for (let j = 0; j < n; j++) {
        x.re[j] += s * h * d.re[k * n + j];
        if (x.im && d.im) x.im[j] += s * h * d.im[k * n + j];
      }
    });
    return callOp(table, op, c.args, c.kwargs ?? {}, { P }, false) as GTensor;
  };
  for (let k = 0; k < P; k++) {
    const plus = at(k, 1);
    const minus = at(k, -1);
    const n = plus.numel;
    const parts: [number[], number[], number[] | null][] = [[values(plus), values(minus), gotRe]];
    if (plus.im) parts.push([values(plus, true), values(minus, true), gotIm]);
    let err = 0;
    let ref = 1;
    for (const [p, m, g] of parts)
      for (let e = 0; e < n; e++) {
        const fd = (p[e] - m[e]) / (2 * h);
        err = Math.max(err, Math.abs(fd - (g ? g[k * n + e] : 0)));
        ref = Math.max(ref, Math.abs(fd));
      }
    expect(err / ref, `${op}: direction ${k}`).toBeLessThan(tol);
  }
  return tOut;
}

/** The strides of a tangent's data along the primal's axes (0: broadcast). */
export function tanStrides(t: Tan): number[] {
  return t ? t.data.strides.slice(1) : [];
}

/** The op's output without tangents. */
export function run(
  table: RuleTable,
  op: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
): GTensor {
  return callOp(table, op, args, kwargs, { P: 1 }, false) as GTensor;
}

/** A random tensor with entries in [lo, lo + |N(0,1)|) (for logs, roots, divisors). */
export function positive(shape: number[], seed: number, lo = 0.5): GTensor {
  const t = randTensor(shape, seed);
  for (let i = 0; i < t.numel; i++) t.re[i] = lo + Math.abs(t.re[i]);
  return t;
}

/** root[starts : starts + sizes] as a view whose tangent follows the root's (dense). */
export function sliceView(root: GTensor, starts: number[], sizes: number[]): GTensor {
  const off = root.offset + starts.reduce((s, st, i) => s + st * root.strides[i], 0);
  return root.view([...sizes], [...root.strides], off, (pt) => {
    if (!pt) return null;
    const d = dense(pt);
    const o = d.offset + starts.reduce((s, st, i) => s + st * d.strides[i + 1], 0);
    return tan(
      d.view([d.shape[0], ...sizes], [...d.strides], o, () => {
        throw new Error('tangent of a tangent');
      }),
    );
  });
}
