/**
 * A small tensor host for the interpreter's tests, over the strided tensors of fake-tensor.ts:
 * `slice`, `select`, `permute`, `unsqueeze`, `transpose`, `expand` are views sharing storage, so
 * `copy_` into a slice writes the base tensor, as PyTorch's slice assignment does. Only the ops the
 * test archives and fixtures use; anything else is `unsupported op <name>`.
 */
import type { HostTensor } from '../../../src/engine/tensor';
import {
  type TensorHost,
  type Value,
  PyFloat,
  dtypeName,
  scalarTypeCode,
} from '../../../src/engine/torchscript';
import {
  FT,
  asTensor,
  cat,
  cmul,
  cdiv,
  contiguous,
  conv1d,
  dft,
  einsum,
  elementwise,
  erf,
  expandTo,
  ints,
  isComplexT,
  make,
  matmul,
  norm,
  num,
  pad,
  positions,
  real,
  reduce,
  reshape,
  resultDtype,
  values,
  view,
} from './fake-tensor';
import { extraOps } from './fake-ops';

export { FT, make, values, tensor } from './fake-tensor';

export type Ops = Record<string, (a: Value<FT>[], kw: Record<string, Value<FT>>) => Value<FT>>;

export function fakeHost(log?: string[]): TensorHost<FT> {
  const ops: Ops = {
    'aten::linear': ([x, w, b]) => {
      const X = x as FT;
      const W = w as FT;
      const lead = X.shape.slice(0, -1);
      const flat = make([lead.reduce((p, q) => p * q, 1), X.shape[X.shape.length - 1]], values(X).re);
      const out = einsum('ni,oi->no', [flat, W]);
      const r = make([...lead, W.shape[0]], out.re);
      return b ? ops['aten::add']([r, b], {}) : r;
    },
    'aten::add': ([a, b, alpha], kw) => {
      const al = num(alpha ?? kw.alpha, 1);
      return elementwise([a, b], ([x, y]) => [x[0] + al * y[0], x[1] + al * y[1]]);
    },
    'aten::sub': ([a, b, alpha], kw) => {
      const al = num(alpha ?? kw.alpha, 1);
      return elementwise([a, b], ([x, y]) => [x[0] - al * y[0], x[1] - al * y[1]]);
    },
    'aten::rsub': ([a, b]) => elementwise([b, a], ([x, y]) => [x[0] - y[0], x[1] - y[1]]),
    'aten::mul': ([a, b]) => elementwise([a, b], ([x, y]) => cmul(x, y)),
    'aten::div': ([a, b]) => elementwise([a, b], ([x, y]) => cdiv(x, y), resultDtype([a, b, new PyFloat(0)])),
    'aten::floor_divide': ([a, b]) =>
      elementwise(
        [a, b],
        real((x, y) => Math.floor(x / y)),
      ),
    'aten::remainder': ([a, b]) =>
      elementwise(
        [a, b],
        real((x, y) => x - y * Math.floor(x / y)),
      ),
    'aten::pow': ([a, b]) =>
      elementwise(
        [a, b],
        real((x, y) => x ** y),
      ),
    'aten::neg': ([a]) => elementwise([a], ([x]) => [-x[0], -x[1]]),
    'aten::tanh': ([a]) => elementwise([a], real(Math.tanh)),
    'aten::relu': ([a]) =>
      elementwise(
        [a],
        real((x) => Math.max(x, 0)),
      ),
    'aten::gelu': ([a, appr], kw) =>
      (appr ?? kw.approximate) === 'tanh'
        ? elementwise(
            [a],
            real((x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)))),
          )
        : elementwise(
            [a],
            real((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))),
          ),
    'aten::clamp': ([a, lo, hi], kw) => {
      const l = num(lo ?? kw.min, -Infinity);
      const h = num(hi ?? kw.max, Infinity);
      return elementwise(
        [a],
        real((x) => Math.min(Math.max(x, l), h)),
      );
    },
    'aten::permute': ([x, d]) => {
      const t = x as FT;
      const ds = ints(d).map((i) => norm(i, t.shape.length));
      return view(
        t,
        ds.map((i) => t.shape[i]),
        ds.map((i) => t.strides[i]),
        t.offset,
      );
    },
    'aten::unsqueeze': ([x, d]) => {
      const t = x as FT;
      const k = norm(d as number, t.shape.length + 1);
      const s = [...t.shape];
      const st = [...t.strides];
      s.splice(k, 0, 1);
      st.splice(k, 0, 0);
      return view(t, s, st, t.offset);
    },
    'aten::squeeze': ([x, d]) => {
      const t = x as FT;
      const k = norm(d as number, t.shape.length);
      if (t.shape[k] !== 1) return t;
      return view(
        t,
        t.shape.filter((_, i) => i !== k),
        t.strides.filter((_, i) => i !== k),
        t.offset,
      );
    },
    'aten::select': ([x, d, i]) => {
      const t = x as FT;
      const k = norm(d as number, t.shape.length);
      const j = norm(i as number, t.shape[k]);
      return view(
        t,
        t.shape.filter((_, q) => q !== k),
        t.strides.filter((_, q) => q !== k),
        t.offset + j * t.strides[k],
      );
    },
    'aten::slice': ([x, d, start, end, step]) => {
      const t = x as FT;
      const k = norm((d as number) ?? 0, t.shape.length);
      const n = t.shape[k];
      const clampI = (v: unknown, dflt: number): number => {
        if (v === null || v === undefined) return dflt;
        const q = (v as number) < 0 ? (v as number) + n : (v as number);
        return Math.min(Math.max(q, 0), n);
      };
      const lo = clampI(start, 0);
      const hi = clampI(end, n);
      const st = (step as number) ?? 1;
      const s = [...t.shape];
      const str = [...t.strides];
      s[k] = Math.max(0, Math.ceil((hi - lo) / st));
      str[k] *= st;
      return view(t, s, str, t.offset + lo * t.strides[k]);
    },
    'aten::view': ([x, sh]) => reshape(x as FT, ints(sh)),
    'aten::reshape': ([x, sh]) => reshape(x as FT, ints(sh)),
    'aten::contiguous': ([x]) => contiguous(x as FT),
    'aten::detach': ([x]) => x,
    'aten::to': ([x, ...rest], kw) => {
      const code = [...rest, kw.dtype].find((v) => typeof v === 'number');
      const t = contiguous(x as FT);
      if (code !== undefined) t.dtype = dtypeName(code) ?? t.dtype;
      return t;
    },
    'aten::sum': ([x, d = null, keep], kw) =>
      reduce(
        x as FT,
        (d ?? kw.dim ?? null) === null ? null : ints(d ?? kw.dim),
        !!(keep ?? kw.keepdim),
        false,
      ),
    'aten::mean': ([x, d = null, keep], kw) =>
      reduce(
        x as FT,
        (d ?? kw.dim ?? null) === null ? null : ints(d ?? kw.dim),
        !!(keep ?? kw.keepdim),
        true,
      ),
    'aten::stack': ([list, d]) => {
      const ts = list as FT[];
      const k = norm((d as number) ?? 0, ts[0].shape.length + 1);
      const parts = ts.map((t) => ops['aten::unsqueeze']([t, k], {}) as FT);
      return cat(parts, k);
    },
    'aten::cat': ([list, d]) => cat(list as FT[], norm((d as number) ?? 0, (list as FT[])[0].shape.length)),
    'aten::layer_norm': ([x, shape, w, b, eps]) => {
      const t = x as FT;
      const k = ints(shape).length;
      const dims = Array.from({ length: k }, (_, i) => t.shape.length - k + i);
      const mu = reduce(t, dims, true, true);
      const xc = ops['aten::sub']([t, mu], {}) as FT;
      const varr = reduce(ops['aten::mul']([xc, xc], {}) as FT, dims, true, true);
      const e = num(eps, 1e-5);
      let y = elementwise(
        [xc, varr],
        real((a, v) => a / Math.sqrt(v + e)),
      );
      if (w) y = ops['aten::mul']([y, w], {}) as FT;
      if (b) y = ops['aten::add']([y, b], {}) as FT;
      return y;
    },
    'aten::pad': ([x, p, mode, value]) =>
      pad(x as FT, ints(p), (mode as string) ?? 'constant', num(value, 0)),
    'aten::zeros': ([size], kw) => {
      const s = ints(size);
      const n = s.reduce((a, b) => a * b, 1);
      const d = dtypeName(kw.dtype) ?? 'float32';
      return make(s, new Float64Array(n), isComplexT(d) ? new Float64Array(n) : null, d);
    },
    'aten::copy_': ([dst, src]) => {
      const d = dst as FT;
      const s = values(expandTo(src as FT, d.shape));
      positions(d).forEach((q, i) => {
        d.re[q] = s.re[i];
        if (d.im) d.im[q] = s.im ? s.im[i] : 0;
      });
      return d;
    },
    'aten::fft_rfft': ([x, n, , nrm], kw) => {
      const t = x as FT;
      return dft(
        t,
        num(n ?? kw.n, t.shape[t.shape.length - 1]),
        false,
        false,
        (nrm ?? kw.norm ?? 'backward') as string,
      );
    },
    'aten::fft_irfft': ([x, n, , nrm], kw) => {
      const t = x as FT;
      const len = num(n ?? kw.n, 2 * (t.shape[t.shape.length - 1] - 1));
      return dft(t, len, true, true, (nrm ?? kw.norm ?? 'backward') as string);
    },
    'aten::einsum': ([eq, list]) => einsum(eq as string, list as FT[]),
    'aten::_convolution': ([x, w, b, stride, padding, dilation, , , groups]) =>
      conv1d(
        x as FT,
        w as FT,
        b as FT | null,
        ints(stride)[0],
        ints(padding)[0],
        ints(dilation)[0],
        num(groups, 1),
      ),
    'aten::conv1d': ([x, w, b, stride, padding, dilation]) =>
      conv1d(
        x as FT,
        w as FT,
        b as FT | null,
        ints(stride ?? 1)[0],
        ints(padding ?? 0)[0],
        ints(dilation ?? 1)[0],
      ),
    'aten::matmul': ([a, b]) => matmul(a as FT, b as FT),
    'aten::arange': ([end]) => {
      const n = num(end, 0);
      return make(
        [n],
        Float64Array.from({ length: n }, (_, i) => i),
        null,
        end instanceof PyFloat ? 'float32' : 'int64',
      );
    },
    'aten::full': ([size, value]) => {
      const s = ints(size);
      return make(
        s,
        new Float64Array(s.reduce((a, b) => a * b, 1)).fill(num(value, 0)),
        null,
        value instanceof PyFloat ? 'float32' : 'int64',
      );
    },
    'aten::upsample_linear1d': ([x, size]) => {
      const t = x as FT;
      const L = t.shape[2];
      const Lo = ints(size)[0];
      const v = values(t).re;
      const rows = v.length / L;
      const re = new Float64Array(rows * Lo);
      for (let r = 0; r < rows; r++)
        for (let i = 0; i < Lo; i++) {
          const src = Math.max(0, ((i + 0.5) * L) / Lo - 0.5);
          const i0 = Math.min(Math.floor(src), L - 1);
          const i1 = Math.min(i0 + 1, L - 1);
          const f = src - i0;
          re[r * Lo + i] = v[r * L + i0] * (1 - f) + v[r * L + i1] * f;
        }
      return make([...t.shape.slice(0, 2), Lo], re);
    },
    'prim::NumToTensor': ([n]) => asTensor(n),
    'prim::dtype': ([x]) => scalarTypeCode((x as FT).dtype) ?? 7,
    'aten::Int': ([x]) => Math.trunc(values(x as FT).re[0]),
    'aten::Float': ([x]) => new PyFloat(values(x as FT).re[0]),
    'aten::Bool': ([x]) => values(x as FT).re[0] !== 0,
  };
  Object.assign(ops, extraOps(ops));
  return {
    isTensor: (v): v is FT => v instanceof FT,
    fromHost: (t: HostTensor) =>
      make(t.shape, Float64Array.from(t.data), t.imag ? Float64Array.from(t.imag) : null, t.dtype),
    shape: (t) => t.shape,
    call(op, args, kwargs) {
      log?.push(op);
      const f = ops[op];
      if (!f) throw new Error(`unsupported op ${op}`);
      return f(args, kwargs);
    },
  };
}
