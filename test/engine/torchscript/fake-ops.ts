/** More ops of the tests' fake host: those the committed graph fixtures use beyond the basics. */
import { type Value, PyFloat, dtypeName } from '../../../src/engine/torchscript';
import type { Ops } from './fake-host';
import {
  FT,
  cat,
  contiguous,
  elementwise,
  expandTo,
  ints,
  make,
  norm,
  num,
  positions,
  real,
  reduce,
  reshape,
  resultDtype,
  values,
} from './fake-tensor';

export function extraOps(ops: Ops): Ops {
  const call = (op: string, ...args: Value<FT>[]): FT => ops[op](args, {}) as FT;
  const inplace = (dst: FT, src: FT): FT => {
    const v = values(expandTo(src, dst.shape));
    positions(dst).forEach((q, i) => {
      dst.re[q] = v.re[i];
      if (dst.im) dst.im[q] = v.im ? v.im[i] : 0;
    });
    return dst;
  };
  const softmax = (x: FT, d: number, log: boolean): FT => {
    const k = norm(d, x.shape.length);
    const m = reduce(elementwise([x], real(Math.exp)), [k], true, false);
    const lse = elementwise([m], real(Math.log));
    const y = call('aten::sub', x, lse);
    return log ? y : elementwise([y], real(Math.exp));
  };
  const split = (x: FT, sizes: number[], d: number): FT[] => {
    const k = norm(d, x.shape.length);
    let at = 0;
    return sizes.map((s) => {
      const part = call('aten::slice', x, k, at, at + s, 1);
      at += s;
      return part;
    });
  };
  return {
    'aten::sin': ([a]) => elementwise([a], real(Math.sin)),
    'aten::cos': ([a]) => elementwise([a], real(Math.cos)),
    'aten::exp': ([a]) => elementwise([a], real(Math.exp)),
    'aten::log': ([a]) => elementwise([a], real(Math.log)),
    'aten::sqrt': ([a]) => elementwise([a], real(Math.sqrt)),
    'aten::rsqrt': ([a]) =>
      elementwise(
        [a],
        real((x) => 1 / Math.sqrt(x)),
      ),
    'aten::abs': ([a]) =>
      elementwise(
        [a],
        ([x]) => [Math.hypot(x[0], x[1]), 0],
        resultDtype([a]).replace('complex128', 'float64'),
      ),
    'aten::prod': ([x, d, keep]) => {
      const t = x as FT;
      const k = norm(d as number, t.shape.length);
      const moved = contiguous(ops['aten::transpose']([t, k, t.shape.length - 1], {}) as FT);
      const n = t.shape[k];
      const re = new Float64Array(moved.size / n).map((_, i) =>
        moved.re.slice(i * n, i * n + n).reduce((a, b) => a * b, 1),
      );
      const shape = t.shape.filter((_, i) => i !== k);
      if (keep) shape.splice(k, 0, 1);
      return make(shape, re);
    },
    'aten::transpose': ([x, a, b]) => {
      const t = x as FT;
      const ds = t.shape.map((_, i) => i);
      const [i, j] = [norm(a as number, ds.length), norm(b as number, ds.length)];
      [ds[i], ds[j]] = [ds[j], ds[i]];
      return ops['aten::permute']([t, ds], {});
    },
    'aten::expand': ([x, sh]) => {
      const t = x as FT;
      const s = ints(sh);
      const k = s.length - t.shape.length;
      return expandTo(
        t,
        s.map((v, i) => (v === -1 ? t.shape[i - k] : v)),
      );
    },
    'aten::repeat': ([x, reps]) => {
      let t = x as FT;
      ints(reps).forEach((r, d) => {
        if (r !== 1)
          t = cat(
            Array.from({ length: r }, () => t),
            d,
          );
      });
      return t;
    },
    'aten::flatten': ([x, start, end]) => {
      const t = x as FT;
      const a = norm(num(start, 0), t.shape.length);
      const b = norm(num(end, -1), t.shape.length);
      const mid = t.shape.slice(a, b + 1).reduce((p, q) => p * q, 1);
      return reshape(t, [...t.shape.slice(0, a), mid, ...t.shape.slice(b + 1)]);
    },
    'aten::linspace': ([lo, hi, steps]) => {
      const [a, b, n] = [num(lo, 0), num(hi, 0), num(steps, 0)];
      return make(
        [n],
        Float64Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1))),
      );
    },
    'aten::leaky_relu': ([a, slope]) =>
      elementwise(
        [a],
        real((x) => (x > 0 ? x : num(slope, 0.01) * x)),
      ),
    'aten::elu': ([a, alpha]) =>
      elementwise(
        [a],
        real((x) => (x > 0 ? x : num(alpha, 1) * Math.expm1(x))),
      ),
    'aten::hardtanh': ([a, lo, hi]) =>
      elementwise(
        [a],
        real((x) => Math.min(Math.max(x, num(lo, -1)), num(hi, 1))),
      ),
    'aten::sigmoid': ([a]) =>
      elementwise(
        [a],
        real((x) => 1 / (1 + Math.exp(-x))),
      ),
    'aten::silu': ([a]) =>
      elementwise(
        [a],
        real((x) => x / (1 + Math.exp(-x))),
      ),
    'aten::softplus': ([a]) =>
      elementwise(
        [a],
        real((x) => Math.log1p(Math.exp(x))),
      ),
    'aten::softmax': ([x, d]) => softmax(x as FT, d as number, false),
    'aten::log_softmax': ([x, d]) => softmax(x as FT, d as number, true),
    'aten::dropout': ([x]) => x,
    'aten::clone': ([x]) => contiguous(x as FT),
    'aten::expand_as': ([x, y]) => expandTo(x as FT, (y as FT).shape),
    'aten::t': ([x]) => call('aten::transpose', x, 0, 1),
    'aten::mm': ([a, b]) => call('aten::matmul', a, b),
    'aten::bmm': ([a, b]) => ops['aten::einsum'](['bij,bjk->bik', [a, b]], {}),
    'aten::addmm': ([c, a, b]) => call('aten::add', c, call('aten::matmul', a, b)),
    'aten::narrow': ([x, d, s, n]) => call('aten::slice', x, d, s, (s as number) + (n as number), 1),
    'aten::chunk': ([x, n, d]) => {
      const t = x as FT;
      const k = norm(num(d, 0), t.shape.length);
      const size = Math.ceil(t.shape[k] / (n as number));
      return split(
        t,
        Array.from({ length: Math.ceil(t.shape[k] / size) }, (_, i) => Math.min(size, t.shape[k] - i * size)),
        k,
      );
    },
    'aten::split': ([x, s, d]) => {
      const t = x as FT;
      const k = norm(num(d, 0), t.shape.length);
      if (Array.isArray(s)) return split(t, ints(s), k);
      const size = s as number;
      return split(
        t,
        Array.from({ length: Math.ceil(t.shape[k] / size) }, (_, i) => Math.min(size, t.shape[k] - i * size)),
        k,
      );
    },
    'aten::split_with_sizes': ([x, s, d]) => split(x as FT, ints(s), num(d, 0)),
    'aten::unbind': ([x, d]) => {
      const t = x as FT;
      const k = norm(num(d, 0), t.shape.length);
      return Object.freeze(Array.from({ length: t.shape[k] }, (_, i) => call('aten::select', t, k, i)));
    },
    'aten::ones': ([size], kw) => {
      const s = ints(size);
      return make(
        s,
        new Float64Array(s.reduce((a, b) => a * b, 1)).fill(1),
        null,
        dtypeName(kw.dtype) ?? 'float32',
      );
    },
    'aten::ones_like': ([x]) => make((x as FT).shape, new Float64Array((x as FT).size).fill(1)),
    'aten::zeros_like': ([x]) => make((x as FT).shape, new Float64Array((x as FT).size)),
    'aten::fill_': ([x, v]) => inplace(x as FT, make([], Float64Array.of(num(v, 0)))),
    'aten::zero_': ([x]) => inplace(x as FT, make([], Float64Array.of(0))),
    'aten::mul_': ([x, y]) => inplace(x as FT, call('aten::mul', x, y)),
    'aten::add_': ([x, y, alpha], kw) =>
      inplace(x as FT, ops['aten::add']([x, y, alpha ?? kw.alpha ?? 1], {}) as FT),
    'aten::constant_pad_nd': ([x, p, v]) => ops['aten::pad']([x, p, 'constant', v ?? 0], {}),
    'aten::batch_norm': ([x, w, b, mean, variance, , , eps]) => {
      const t = x as FT;
      const shape = t.shape.map((s, i) => (i === 1 ? s : 1));
      const r = (v: Value<FT>): FT => reshape(v as FT, shape);
      const y = elementwise(
        [t, r(mean), r(variance)],
        real((a, m, s) => (a - m) / Math.sqrt(s + num(eps, 1e-5))),
      );
      return call('aten::add', call('aten::mul', y, r(w)), r(b));
    },
    'aten::group_norm': ([x, groups, w, b, eps]) => {
      const t = x as FT;
      const g = groups as number;
      const grouped = reshape(t, [t.shape[0], g, -1]);
      const mu = reduce(grouped, [2], true, true);
      const xc = call('aten::sub', grouped, mu);
      const v = reduce(call('aten::mul', xc, xc), [2], true, true);
      const y = reshape(
        elementwise(
          [xc, v],
          real((a, s) => a / Math.sqrt(s + num(eps, 1e-5))),
        ),
        t.shape,
      );
      const shape = t.shape.map((s, i) => (i === 1 ? s : 1));
      return call('aten::add', call('aten::mul', y, reshape(w as FT, shape)), reshape(b as FT, shape));
    },
    'aten::view_as_complex': ([x]) => {
      const t = contiguous(x as FT);
      const n = t.size / 2;
      const re = new Float64Array(n).map((_, i) => t.re[2 * i]);
      const im = new Float64Array(n).map((_, i) => t.re[2 * i + 1]);
      return make(t.shape.slice(0, -1), re, im, 'complex128');
    },
    'aten::view_as_real': ([x]) => {
      const t = contiguous(x as FT);
      const re = new Float64Array(2 * t.size);
      for (let i = 0; i < t.size; i++) [re[2 * i], re[2 * i + 1]] = [t.re[i], t.im ? t.im[i] : 0];
      return make([...t.shape, 2], re);
    },
    'aten::real': ([x]) => make((x as FT).shape, values(x as FT).re),
    'aten::imag': ([x]) => make((x as FT).shape, values(x as FT).im ?? new Float64Array((x as FT).size)),
    'aten::fft_fft': ([x, n, d, nrm]) => fftAlong(x as FT, n, d, nrm, false),
    'aten::fft_ifft': ([x, n, d, nrm]) => fftAlong(x as FT, n, d, nrm, true),
    'aten::ScalarImplicit': ([x]) => {
      const t = x as FT;
      const v = values(t).re[0];
      return t.dtype.startsWith('int') ? v : new PyFloat(v);
    },
  };

  /** Complex DFT along dim d (moved last and back), zero-padded or cropped to n. */
  function fftAlong(x: FT, n: Value<FT>, d: Value<FT>, nrm: Value<FT>, inverse: boolean): FT {
    const k = norm(num(d, -1), x.shape.length);
    const last = x.shape.length - 1;
    const moved = contiguous(call('aten::transpose', x, k, last));
    const len = num(n, moved.shape[last]);
    const norm0 = (nrm ?? 'backward') as string;
    // Conjugation trick: ifft(z) = conj(fft(conj(z))) / n, with the normalisations swapped.
    const conj = (t: FT): FT =>
      make(t.shape, t.re, t.im ? t.im.map((v) => -v) : new Float64Array(t.size), 'complex128');
    const inv = { backward: 'forward', forward: 'backward', ortho: 'ortho' }[norm0] ?? 'forward';
    const full = fullDft(inverse ? conj(moved) : moved, len, inverse ? inv : norm0);
    const out = inverse ? conj(full) : full;
    return call('aten::transpose', out, k, last);
  }

  function fullDft(x: FT, n: number, normName: string): FT {
    const v = values(x);
    const last = x.shape[x.shape.length - 1];
    const rows = v.re.length / last;
    const re = new Float64Array(rows * n);
    const im = new Float64Array(rows * n);
    const f = normName === 'forward' ? 1 / n : normName === 'ortho' ? 1 / Math.sqrt(n) : 1;
    for (let r = 0; r < rows; r++)
      for (let k = 0; k < n; k++) {
        let sr = 0;
        let si = 0;
        for (let j = 0; j < Math.min(n, last); j++) {
          const ang = (-2 * Math.PI * j * k) / n;
          const a = v.re[r * last + j];
          const b = v.im ? v.im[r * last + j] : 0;
          sr += a * Math.cos(ang) - b * Math.sin(ang);
          si += a * Math.sin(ang) + b * Math.cos(ang);
        }
        re[r * n + k] = sr * f;
        im[r * n + k] = si * f;
      }
    return make([...x.shape.slice(0, -1), n], re, im, 'complex128');
  }
}
