/**
 * Shared by the linalg, einsum, conv, fft and complex rule tests: structured tangents (stride 0
 * along an axis, a leading box) checked against central differences along their dense values,
 * and naive references.
 */
import { expect } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import type { RuleTable } from '../../../../src/engine/graph/rule';
import { dense, type Tan, type TanT } from '../../../../src/engine/graph/tangent';
import { GTensor, contiguous, type Kind } from '../../../../src/engine/graph/tensor';
import { randTensor, type Call } from '../jvp-check';

export { randTensor };

function tensorsIn(v: unknown, out: GTensor[] = []): GTensor[] {
  if (v instanceof GTensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => tensorsIn(e, out));
  return out;
}

/** [re, im] of a tensor in row-major order. */
export function vals(t: GTensor): [Float64Array, Float64Array | null] {
  const c = contiguous(t);
  return [
    Float64Array.from(c.re.subarray(0, c.numel)),
    c.kind === 'complex' && c.im ? Float64Array.from(c.im.subarray(0, c.numel)) : null,
  ];
}

/**
 * Tangent data [P, ...shape] constant along `axes` (stride 0 there), random elsewhere, boxed to
 * `box` (default: full).
 */
export function structuredTan(
  shape: number[],
  P: number,
  seed: number,
  opts: { const?: number[]; box?: number[]; kind?: Kind } = {},
): TanT {
  const box = opts.box ?? shape;
  const cs = new Set(opts.const ?? []);
  const coreShape = [P, ...box.map((d, i) => (cs.has(i) ? 1 : d))];
  const core = randTensor(coreShape, seed, opts.kind ?? 'float');
  const strides = core.strides.map((s, i) => (i > 0 && cs.has(i - 1) ? 0 : s));
  const data = new GTensor([P, ...box], strides, 0, core.re, core.im, core.kind);
  return { data, full: [...shape] };
}

export interface StructuredOptions {
  P?: number;
  h?: number;
  tol?: number;
  /** Structural assertions on the output tangent. */
  check?: (t: Tan) => void;
  /** Compare the output's forward value against this reference (real, imag row-major). */
}

/**
 * The op's tangent for the given input tangents (by order of appearance; undefined: none) against
 * central differences along their dense values.
 */
export function checkStructured(
  table: RuleTable,
  op: string,
  build: () => Call,
  tangents: (inputs: GTensor[]) => (Tan | undefined)[],
  opts: StructuredOptions = {},
): void {
  const P = opts.P ?? 2;
  const h = opts.h ?? 1e-6;
  const tol = opts.tol ?? 1e-6;
  const ctx = { P };
  const base = build();
  const inputs = tensorsIn([base.args, Object.values(base.kwargs ?? {})]);
  const tans = tangents(inputs);
  const dirs = tans.map((t) => (t ? vals(dense(t)) : null));
  inputs.forEach((x, i) => {
    x.tan = tans[i] ?? null;
  });
  const out = callOp(table, op, base.args, base.kwargs ?? {}, ctx, true) as GTensor;
  const ot = tangentOf(out);
  opts.check?.(ot);
  const tv = ot ? vals(dense(ot)) : null;
  const evalAt = (k: number, s: number) => {
    const c = build();
    const ins = tensorsIn([c.args, Object.values(c.kwargs ?? {})]);
    ins.forEach((x, i) => {
      const d = dirs[i];
      if (!d) return;
      const n = x.numel;
      const xc = contiguous(x);
      expect(xc).toBe(x);
      for (let j = 0; j < n; j++) {
        x.re[j] += s * h * d[0][k * n + j];
        if (x.kind === 'complex' && d[1]) x.im![j] += s * h * d[1][k * n + j];
      }
    });
    return vals(callOp(table, op, c.args, c.kwargs ?? {}, ctx, false) as GTensor);
  };
  const n = out.numel;
  for (let k = 0; k < P; k++) {
    const plus = evalAt(k, 1);
    const minus = evalAt(k, -1);
    let err = 0;
    let ref = 1;
    for (let part = 0; part < 2; part++) {
      const p = plus[part];
      const m = minus[part];
      if (!p || !m) continue;
      const an = tv ? tv[part] : null;
      for (let e = 0; e < n; e++) {
        const fd = (p[e] - m[e]) / (2 * h);
        const a = an ? an[k * n + e] : 0;
        err = Math.max(err, Math.abs(fd - a));
        ref = Math.max(ref, Math.abs(fd));
      }
    }
    expect(err / ref, `${op}: direction ${k}: structured JVP vs central differences`).toBeLessThan(tol);
  }
}

/** max |a − b| / max(1, max |b|) over real and imaginary parts. */
export function relDiff(
  a: [Float64Array, Float64Array | null],
  b: [ArrayLike<number>, ArrayLike<number> | null],
): number {
  let err = 0;
  let ref = 1;
  for (let part = 0; part < 2; part++) {
    const x = a[part];
    const y = b[part];
    if (!y) {
      if (x) for (let i = 0; i < x.length; i++) err = Math.max(err, Math.abs(x[i]));
      continue;
    }
    expect(y.length).toBe(a[0].length);
    for (let i = 0; i < y.length; i++) {
      const xv = x ? x[i] : 0;
      err = Math.max(err, Math.abs(xv - y[i]));
      ref = Math.max(ref, Math.abs(y[i]));
    }
  }
  return err / ref;
}

/** Row-major index helpers for naive references. */
export function stridesOf(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

export function unravel(i: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return idx;
}

/**
 * Naive einsum by loops over every index combination (broadcasting size-1 dims, `...`, implicit
 * output, repeated letters as diagonals); real or complex.
 */
export function naiveEinsum(
  eq: string,
  tensors: GTensor[],
): { re: Float64Array; im: Float64Array; shape: number[] } {
  const [lhs, rhs] = eq.replace(/ /g, '').split('->');
  const terms = lhs.split(',');
  const ellRank = Math.max(
    0,
    ...terms.map((t, i) => (t.includes('...') ? tensors[i].rank - (t.length - 3) : 0)),
  );
  const ellLetters = Array.from({ length: ellRank }, (_, j) => String.fromCharCode(0x3b1 + j)); // α, β, …
  const expand = (t: string, rank: number) => {
    if (!t.includes('...')) return t.split('');
    const e = rank - (t.length - 3);
    const [a, b] = t.split('...');
    return [...a.split(''), ...ellLetters.slice(ellRank - e), ...b.split('')];
  };
  const ins = terms.map((t, i) => expand(t, tensors[i].rank));
  let out: string[];
  if (rhs !== undefined) out = expand(rhs, ellRank + rhs.replace('...', '').length);
  else {
    const count = new Map<string, number>();
    for (const t of terms) for (const c of t.replace('...', '')) count.set(c, (count.get(c) ?? 0) + 1);
    out = [
      ...ellLetters,
      ...[...count.entries()]
        .filter(([, c]) => c === 1)
        .map(([c]) => c)
        .sort(),
    ];
  }
  const size = new Map<string, number>();
  ins.forEach((ls, i) =>
    ls.forEach((l, k) => {
      const n = tensors[i].shape[k];
      if (!size.has(l) || size.get(l) === 1) size.set(l, n);
    }),
  );
  const all = [...size.keys()];
  const sizes = all.map((l) => size.get(l)!);
  const oshape = out.map((l) => size.get(l)!);
  const ostr = stridesOf(oshape);
  const total = oshape.reduce((a, b) => a * b, 1);
  const re = new Float64Array(total);
  const im = new Float64Array(total);
  const data = tensors.map((t) => vals(t));
  const strs = tensors.map((t) => stridesOf(t.shape));
  const n = sizes.reduce((a, b) => a * b, 1);
  for (let it = 0; it < n; it++) {
    const idx = unravel(it, sizes);
    const at = new Map(all.map((l, i) => [l, idx[i]]));
    let pr = 1;
    let pi = 0;
    tensors.forEach((t, i) => {
      let o = 0;
      ins[i].forEach((l, k) => {
        o += (t.shape[k] === 1 ? 0 : at.get(l)!) * strs[i][k];
      });
      const vr = data[i][0][o];
      const vi = data[i][1] ? data[i][1]![o] : 0;
      const nr = pr * vr - pi * vi;
      pi = pr * vi + pi * vr;
      pr = nr;
    });
    let oo = 0;
    out.forEach((l, k) => (oo += at.get(l)! * ostr[k]));
    re[oo] += pr;
    im[oo] += pi;
  }
  return { re, im, shape: oshape };
}
