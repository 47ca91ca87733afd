/**
 * torch.fft: rfft, irfft, fft, ifft along one dim, any length, every norm mode, with `n` padding
 * (zeros) or truncating the input along the dim, and irfft's C2R semantics (the imaginary parts of
 * the DC bin and, for even n, of the Nyquist bin are ignored), exactly as PyTorch.
 *
 * Cheap structure, which is what keeps the FNO's spectral layers near free:
 *  - rfft / fft / ifft results are lazy roots: a leading slice (the kept modes) computes only those
 *    bins, a truncated DFT (kernels/dft.ts). Their tangents likewise.
 *  - A tangent constant along the transformed dim (stride 0: p broadcast over time) transforms to
 *    its DC bin alone: a tangent boxed to 1 along frequency, no big allocation.
 *  - irfft reads only the leading bins that can be non-zero: the root's `nz` (a spectrum built by
 *    copy_ into a slice of zeros) for the primal, the box for a tangent; a tangent boxed to the DC
 *    bin gives a tangent constant over time (stride 0).
 *
 * Lazy results read their input when first used; like PyTorch's views, they do not snapshot it, so
 * the input must not be written in place in between (no FNO does).
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { map, mapComplex } from '../elementwise';
import {
  dftAlong,
  dftInLength,
  dftOutLength,
  dftScale,
  parseNorm,
  type DftKind,
  type DftSpec,
} from '../kernels/dft';
import { expandTo, leadAlong, pickAlong } from '../kernels/layout';
import type { Rule, RuleTable, TanOf } from '../rule';
import { boxed, type Tan } from '../tangent';
import { GTensor, axis, contiguousData, lazyTensor } from '../tensor';
import { E } from '../lower/expr';

const PARAMS = ['self', 'n=', 'dim=', 'norm='] as const;

interface Setup {
  x: GTensor;
  ax: number;
  spec: DftSpec;
  outShape: number[];
}

function setup(a: Args, kind: DftKind): Setup {
  const op = a.op;
  const x = a.tensor('self');
  if (x.rank === 0) throw new ShapeError(`${op}: expected a tensor with at least one dimension`);
  if (kind === 'rfft' && x.kind === 'complex')
    throw new ShapeError(`${op}: rfft expects a real input tensor, got a complex one`);
  const ax = axis(a.int('dim', -1), x.rank, `${op}: dim`);
  const m = x.shape[ax];
  const nArg = a.optInt('n');
  const n = nArg ?? (kind === 'irfft' ? 2 * (m - 1) : m);
  if (n < 1) throw new ShapeError(`${op}: invalid number of data points (${n}) specified`);
  const spec: DftSpec = { kind, n, norm: parseNorm(a.optString('norm'), op) };
  const outShape = [...x.shape];
  outShape[ax] = dftOutLength(spec);
  return { x, ax, spec, outShape };
}

/**
 * How many leading entries of x along `ax` can be non-zero: its extent, or less when x is (a
 * leading block of) a root known to be zero beyond `nz`.
 */
function nonzeroExtent(x: GTensor, ax: number): number {
  const r = x.root;
  const n = x.shape[ax];
  if (!r.nz || r.rank !== x.rank || x.offset !== r.offset) return n;
  const leading = x.shape.every((d, i) => d <= r.shape[i] && (d === 1 || x.strides[i] === r.strides[i]));
  return leading ? Math.min(n, r.nz[ax]) : n;
}

/** A lazy root for the transform of `x` (already cut to what it reads) along `ax`. */
function lazyTransform(x: GTensor, ax: number, spec: DftSpec, outShape: number[], compact: boolean): GTensor {
  const rows = dftOutLength(spec);
  const opts = { compact };
  return lazyTensor(
    outShape,
    'complex',
    () => contiguousData(dftAlong(x, ax, spec, rows, opts)),
    (dim, count) =>
      dim === ax
        ? dftAlong(x, ax, spec, count, opts)
        : dftAlong(leadAlong(x, dim, count), ax, spec, rows, opts),
  );
}

/** s·v as complex data, stride-0 axes kept. */
function complexScaled(v: GTensor, s: number): GTensor {
  return mapComplex(
    v,
    (r, i, o) => {
      o[0] = s * r;
      o[1] = s * i;
    },
    { compact: true, lower: [E.mul(E.c(s), E.in(0)), E.mul(E.c(s), E.in(1))] },
  );
}

function forwardRule(kind: 'rfft' | 'fft' | 'ifft'): Rule {
  return {
    params: PARAMS,
    forward(a) {
      const { x, ax, spec, outShape } = setup(a, kind);
      const e = Math.min(nonzeroExtent(x, ax), spec.n);
      return lazyTransform(leadAlong(x, ax, e), ax, spec, outShape, false);
    },
    jvp(a, out, t: TanOf): Tan {
      const { x, ax, spec } = setup(a, kind);
      const tx = t(x);
      if (!tx) return null;
      const full = (out as GTensor).shape;
      const d = tx.data;
      const dax = ax + 1;
      const e = Math.min(d.shape[dax], spec.n);
      if (e === 0) return null;
      const sc = dftScale(spec);
      const bins = dftOutLength(spec);
      if (d.strides[dax] === 0 && e === spec.n && e > 1) {
        // constant over the whole signal: the DC bin alone, n·v
        return boxed(complexScaled(pickAlong(d, dax, 0), sc * spec.n), full);
      }
      if (e === 1) {
        // one sample: the same value s·v in every bin
        const c = complexScaled(pickAlong(d, dax, 0), sc);
        const shape = [...c.shape];
        shape[dax] = bins;
        return boxed(expandTo(c, shape), full);
      }
      const shape = [...d.shape];
      shape[dax] = bins;
      return boxed(lazyTransform(leadAlong(d, dax, e), dax, spec, shape, true), full);
    },
  };
}

const irfft: Rule = {
  params: PARAMS,
  forward(a) {
    const { x, ax, spec } = setup(a, 'irfft');
    const e = Math.min(nonzeroExtent(x, ax), dftInLength(spec));
    return dftAlong(leadAlong(x, ax, e), ax, spec, spec.n);
  },
  jvp(a, out, t: TanOf): Tan {
    const { x, ax, spec } = setup(a, 'irfft');
    const tx = t(x);
    if (!tx) return null;
    const full = (out as GTensor).shape;
    const d = tx.data;
    const dax = ax + 1;
    const e = Math.min(d.shape[dax], dftInLength(spec));
    if (e === 0) return null;
    if (e === 1) {
      // the DC bin alone: Re(X0)·s at every time step
      const sc = dftScale(spec);
      const v = map(pickAlong(d, dax, 0), (r) => sc * r, { compact: true, lower: E.mul(E.c(sc), E.in(0)) });
      const shape = [...v.shape];
      shape[dax] = spec.n;
      return boxed(expandTo(v, shape), full);
    }
    return boxed(dftAlong(leadAlong(d, dax, e), dax, spec, spec.n, { compact: true }), full);
  },
};

export const fftRules = {
  'aten::fft_rfft': forwardRule('rfft'),
  'aten::fft_fft': forwardRule('fft'),
  'aten::fft_ifft': forwardRule('ifft'),
  'aten::fft_irfft': irfft,
} satisfies RuleTable;
