/**
 * Tensors of the tests' fake host: float64 (and complex) strided tensors with real views, and the
 * kernels its ops use (broadcasting elementwise, reductions, naive DFT, einsum, conv1d, pad).
 * Slow and simple; not the engine's runtime.
 */
import { PyFloat, scalarArg } from '../../../src/engine/torchscript';

export class FT {
  constructor(
    public re: Float64Array,
    public im: Float64Array | null,
    public shape: number[],
    public strides: number[],
    public offset: number,
    public dtype: string,
  ) {}
  get size(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

export const stridesOf = (shape: number[]): number[] => {
  const s = shape.map(() => 1);
  for (let i = shape.length - 2; i >= 0; i--) s[i] = s[i + 1] * shape[i + 1];
  return s;
};
export const isComplexT = (d: string): boolean => d.startsWith('complex');
export const isFloatT = (d: string): boolean => d.startsWith('float') || d === 'bfloat16';

export function make(
  shape: number[],
  re: Float64Array,
  im: Float64Array | null = null,
  dtype = 'float64',
): FT {
  return new FT(
    re,
    im,
    [...shape],
    stridesOf(shape),
    0,
    im ? (isComplexT(dtype) ? dtype : 'complex128') : dtype,
  );
}

/** Storage positions of `t`'s elements in row-major order. */
export function positions(t: FT): Int32Array {
  const n = t.size;
  const out = new Int32Array(n);
  const idx = t.shape.map(() => 0);
  let at = t.offset;
  for (let i = 0; i < n; i++) {
    out[i] = at;
    for (let d = t.shape.length - 1; d >= 0; d--) {
      at += t.strides[d];
      if (++idx[d] < t.shape[d]) break;
      at -= t.strides[d] * t.shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

export function values(t: FT): { re: Float64Array; im: Float64Array | null } {
  const p = positions(t);
  const re = new Float64Array(p.length);
  const im = t.im ? new Float64Array(p.length) : null;
  p.forEach((q, i) => {
    re[i] = t.re[q];
    if (im) im[i] = t.im![q];
  });
  return { re, im };
}

export const contiguous = (t: FT): FT => {
  const v = values(t);
  return make(t.shape, v.re, v.im, t.dtype);
};
export const view = (t: FT, shape: number[], strides: number[], offset: number): FT =>
  new FT(t.re, t.im, shape, strides, offset, t.dtype);
export const norm = (d: number, n: number): number => (d < 0 ? d + n : d);

export function broadcast(a: number[], b: number[]): number[] {
  const n = Math.max(a.length, b.length);
  return Array.from({ length: n }, (_, i) => {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x !== y && x !== 1 && y !== 1) throw new Error(`shapes [${a}] and [${b}] do not broadcast`);
    return Math.max(x, y);
  });
}

export function expandTo(t: FT, shape: number[]): FT {
  const k = shape.length - t.shape.length;
  const strides = shape.map((s, i) => (i < k || t.shape[i - k] === 1 ? 0 : t.strides[i - k]));
  return view(t, shape, strides, t.offset);
}

export type C = [number, number];
export function resultDtype(xs: unknown[]): string {
  const ts = xs.filter((x): x is FT => x instanceof FT);
  if (ts.some((t) => isComplexT(t.dtype))) return 'complex128';
  if (ts.some((t) => isFloatT(t.dtype)) || xs.some((x) => x instanceof PyFloat)) return 'float64';
  return ts.length ? 'int64' : 'float64';
}

export function asTensor(x: unknown): FT {
  if (x instanceof FT) return x;
  return make([], Float64Array.of(scalarArg(x)), null, x instanceof PyFloat ? 'float64' : 'int64');
}

export function elementwise(args: unknown[], f: (xs: C[]) => C, dtype = resultDtype(args)): FT {
  const ts = args.map(asTensor);
  const shape = ts.map((t) => t.shape).reduce(broadcast);
  const vs = ts.map((t) => values(expandTo(t, shape)));
  const n = shape.reduce((a, b) => a * b, 1);
  const re = new Float64Array(n);
  const im = isComplexT(dtype) ? new Float64Array(n) : null;
  for (let i = 0; i < n; i++) {
    const r = f(vs.map((v): C => [v.re[i], v.im ? v.im[i] : 0]));
    re[i] = dtype === 'int64' ? Math.trunc(r[0]) : r[0];
    if (im) im[i] = r[1];
  }
  return make(shape, re, im, dtype);
}

export const real =
  (f: (...x: number[]) => number) =>
  (xs: C[]): C => [f(...xs.map((x) => x[0])), 0];
export const cmul = (a: C, b: C): C => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
export const cdiv = (a: C, b: C): C => {
  const d = b[0] * b[0] + b[1] * b[1];
  return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
};
export const erf = (x: number): number => {
  // Abramowitz-Stegun 7.1.26 refined by two Newton steps on erf' = 2/sqrt(pi) exp(-x^2) is overkill;
  // a 30-term Taylor series is exact to 1e-15 for |x| < 3 and erf saturates beyond.
  if (Math.abs(x) > 5) return Math.sign(x);
  let s = 0;
  let term = x;
  for (let n = 0; n < 200; n++) {
    s += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
    if (Math.abs(term) < 1e-18) break;
  }
  return (2 / Math.sqrt(Math.PI)) * s;
};

export function reduce(t: FT, dims: number[] | null, keepdim: boolean, mean: boolean): FT {
  const n = t.shape.length;
  const ds = new Set((dims ?? t.shape.map((_, i) => i)).map((d) => norm(d, n)));
  const outShape = t.shape.map((s, i) => (ds.has(i) ? 1 : s));
  const v = values(t);
  const size = outShape.reduce((a, b) => a * b, 1);
  const re = new Float64Array(size);
  const im = v.im ? new Float64Array(size) : null;
  const os = stridesOf(outShape);
  const is = stridesOf(t.shape);
  let count = 1;
  ds.forEach((d) => (count *= t.shape[d]));
  for (let i = 0; i < v.re.length; i++) {
    let o = 0;
    for (let d = 0; d < n; d++) if (!ds.has(d)) o += (Math.floor(i / is[d]) % t.shape[d]) * os[d];
    re[o] += v.re[i];
    if (im) im[o] += v.im![i];
  }
  if (mean) {
    for (let i = 0; i < size; i++) {
      re[i] /= count;
      if (im) im[i] /= count;
    }
  }
  const shape = keepdim ? outShape : t.shape.filter((_, i) => !ds.has(i));
  return make(shape, re, im, mean && t.dtype === 'int64' ? 'float64' : t.dtype);
}

export function dft(x: FT, n: number, inverse: boolean, realOut: boolean, norm = 'backward'): FT {
  const v = values(x);
  const last = x.shape[x.shape.length - 1];
  const rows = v.re.length / last;
  const outLen = realOut ? n : inverse ? n : Math.floor(n / 2) + 1;
  const re = new Float64Array(rows * outLen);
  const im = realOut ? null : new Float64Array(rows * outLen);
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < outLen; k++) {
      let sr = 0;
      let si = 0;
      if (realOut) {
        // irfft: Hermitian extension of the half spectrum (length last) to n points.
        for (let j = 0; j < n; j++) {
          const h = j <= n / 2 ? j : n - j;
          if (h >= last) continue;
          const a = v.re[r * last + h];
          const b = (j <= n / 2 ? 1 : -1) * (v.im ? v.im[r * last + h] : 0);
          const ang = (2 * Math.PI * j * k) / n;
          sr += a * Math.cos(ang) - b * Math.sin(ang);
        }
        re[r * outLen + k] = sr * (norm === 'forward' ? 1 : norm === 'ortho' ? 1 / Math.sqrt(n) : 1 / n);
      } else {
        for (let j = 0; j < Math.min(n, last); j++) {
          const ang = (-2 * Math.PI * j * k) / n;
          const a = v.re[r * last + j];
          const b = v.im ? v.im[r * last + j] : 0;
          sr += a * Math.cos(ang) - b * Math.sin(ang);
          si += a * Math.sin(ang) + b * Math.cos(ang);
        }
        const f = norm === 'forward' ? 1 / n : norm === 'ortho' ? 1 / Math.sqrt(n) : 1;
        re[r * outLen + k] = sr * f;
        im![r * outLen + k] = si * f;
      }
    }
  }
  return make([...x.shape.slice(0, -1), outLen], re, im, realOut ? 'float64' : 'complex128');
}

export function einsum(eq: string, ts: FT[]): FT {
  const [lhs, out] = eq.replace(/\s/g, '').split('->');
  const ins = lhs.split(',');
  const dims = new Map<string, number>();
  ins.forEach((s, k) => [...s].forEach((c, i) => dims.set(c, ts[k].shape[i])));
  const letters = [...dims.keys()];
  const outShape = [...out].map((c) => dims.get(c)!);
  const vs = ts.map(values);
  const size = outShape.reduce((a, b) => a * b, 1);
  const complex = vs.some((v) => v.im);
  const re = new Float64Array(size);
  const im = complex ? new Float64Array(size) : null;
  const total = letters.reduce((a, c) => a * dims.get(c)!, 1);
  const idx = new Map<string, number>();
  for (let flat = 0; flat < total; flat++) {
    let rem = flat;
    for (let i = letters.length - 1; i >= 0; i--) {
      const d = dims.get(letters[i])!;
      idx.set(letters[i], rem % d);
      rem = Math.floor(rem / d);
    }
    let prod: C = [1, 0];
    ins.forEach((s, k) => {
      const st = stridesOf(ts[k].shape);
      const o = [...s].reduce((a, c, i) => a + idx.get(c)! * st[i], 0);
      prod = cmul(prod, [vs[k].re[o], vs[k].im ? vs[k].im![o] : 0]);
    });
    const st = stridesOf(outShape);
    const o = [...out].reduce((a, c, i) => a + idx.get(c)! * st[i], 0);
    re[o] += prod[0];
    if (im) im[o] += prod[1];
  }
  return make(outShape, re, im, complex ? 'complex128' : 'float64');
}

export function conv1d(
  x: FT,
  w: FT,
  b: FT | null,
  stride: number,
  padding: number,
  dilation: number,
  groups = 1,
): FT {
  const [B, Ci, L] = x.shape;
  const [Co, Cg, K] = w.shape;
  const perGroup = Co / groups;
  const Lo = Math.floor((L + 2 * padding - dilation * (K - 1) - 1) / stride) + 1;
  const xv = values(x).re;
  const wv = values(w).re;
  const bv = b ? values(b).re : null;
  const re = new Float64Array(B * Co * Lo);
  for (let n = 0; n < B; n++)
    for (let o = 0; o < Co; o++)
      for (let l = 0; l < Lo; l++) {
        let s = bv ? bv[o] : 0;
        const g = Math.floor(o / perGroup);
        for (let c = 0; c < Cg; c++)
          for (let k = 0; k < K; k++) {
            const p = l * stride - padding + k * dilation;
            if (p >= 0 && p < L) s += xv[(n * Ci + g * Cg + c) * L + p] * wv[(o * Cg + c) * K + k];
          }
        re[(n * Co + o) * Lo + l] = s;
      }
  return make([B, Co, Lo], re);
}

/** Batched matrix product over equal leading dims (or a 2-D right operand). */
export function matmul(a: FT, b: FT): FT {
  const batch = 'abcdef'.slice(0, a.shape.length - 2);
  const rhs = b.shape.length === 2 ? 'jk' : batch + 'jk';
  return einsum(`${batch}ij,${rhs}->${batch}ik`, [a, b]);
}

export function pad(x: FT, p: number[], mode: string, value: number): FT {
  let t = x;
  for (let k = 0; k < p.length / 2; k++) {
    const d = t.shape.length - 1 - k;
    const [lo, hi] = [p[2 * k], p[2 * k + 1]];
    const shape = [...t.shape];
    shape[d] += lo + hi;
    const out = make(shape, new Float64Array(shape.reduce((a, b) => a * b, 1)).fill(value));
    const src = values(t);
    const os = stridesOf(shape);
    const is = stridesOf(t.shape);
    const n = t.shape[d];
    for (let i = 0; i < src.re.length; i++) {
      const j = Math.floor(i / is[d]) % n;
      const base = i - j * is[d];
      let o = 0;
      for (let e = 0; e < t.shape.length; e++) o += (Math.floor(base / is[e]) % t.shape[e]) * os[e];
      out.re[o + (j + lo) * os[d]] = src.re[i];
      if (mode === 'reflect') {
        for (let q = 1; q <= lo; q++) if (j === q) out.re[o + (lo - q) * os[d]] = src.re[i];
        for (let q = 1; q <= hi; q++) if (j === n - 1 - q) out.re[o + (lo + n - 1 + q) * os[d]] = src.re[i];
      }
    }
    t = out;
  }
  return t;
}

export const num = (v: unknown, dflt: number): number =>
  v === undefined || v === null ? dflt : scalarArg(v);
export const ints = (v: unknown): number[] => (typeof v === 'number' ? [v] : (v as number[]));

export function reshape(t: FT, shape: number[]): FT {
  const n = t.size;
  const known = shape.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
  const s = shape.map((x) => (x === -1 ? n / known : x));
  const v = values(t);
  return make(s, v.re, v.im, t.dtype);
}

export function cat(ts: FT[], k: number): FT {
  const shape = [...ts[0].shape];
  shape[k] = ts.reduce((a, t) => a + t.shape[k], 0);
  const complex = ts.some((t) => t.im);
  const out = make(
    shape,
    new Float64Array(shape.reduce((a, b) => a * b, 1)),
    complex ? new Float64Array(shape.reduce((a, b) => a * b, 1)) : null,
    ts[0].dtype,
  );
  let at = 0;
  for (const t of ts) {
    const dst = view(out, t.shape, out.strides, out.offset + at * out.strides[k]);
    const s = values(t);
    positions(dst).forEach((q, i) => {
      out.re[q] = s.re[i];
      if (out.im) out.im[q] = s.im ? s.im[i] : 0;
    });
    at += t.shape[k];
  }
  return out;
}

/** A host tensor from nested data. */
export function tensor(shape: number[], data: number[]): FT {
  return make(shape, Float64Array.from(data), null, 'float32');
}
