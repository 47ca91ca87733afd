/**
 * 1-D convolution (cross-correlation, as PyTorch's conv1d) over a strided input [...lead, C, L]:
 *
 *   y[..., o, t] = b[o] + Σ_{c, j} w[o, c, j] · x[..., g·Cin_g + c, t·stride + j·dilation − padL]
 *
 * with o in group g. Each kernel tap (and group) is one channel-mixing product over a strided time
 * window of x accumulated into a strided time window of y (kernels/contract.ts), so a kernel of
 * size 1 is a single GEMM over every (batch, time) row and a wider kernel costs one GEMM per tap,
 * none of them copying x when its channels or its time axis are contiguous. Groups with one or two
 * channels each (depthwise) run as plain loops instead.
 *
 * Structure: leading axes along which x is broadcast (stride 0) are computed once, and an input
 * constant over time (stride 0, p broadcast over T) with no padding is the sum of the taps applied
 * once; with `compact` both stay stride-0 axes of the result.
 */
import { ShapeError } from '../../errors';
import { physicalOrder } from '../strided';
import { GTensor } from '../tensor';
import { asBroadcast, catParts } from '../lazy-join';
import { contract } from './contract';
import { activeRecorder } from '../lower/record';
import { addInto, expandTo, materialize, pickAlong, raw, zerosInOrder } from './layout';

export interface Conv1dSpec {
  stride: number;
  padL: number;
  padR: number;
  dilation: number;
  groups: number;
}

export function convOutLength(L: number, Kw: number, s: Conv1dSpec): number {
  return Math.floor((L + s.padL + s.padR - s.dilation * (Kw - 1) - 1) / s.stride) + 1;
}

const C_IN = -30;
const C_OUT = -31;
const TIME = -32;

/**
 * out[..., Cout, Lout] += conv(x, w). x [...lead, C, L] and out share the lead shape; out is a
 * fresh tensor (or a view of one) with no stride-0 axes.
 */
export function conv1dInto(x: GTensor, w: GTensor, s: Conv1dSpec, out: GTensor): void {
  const r = x.rank;
  const cAx = r - 2;
  const tAx = r - 1;
  const L = x.shape[tAx];
  const C = x.shape[cAx];
  const [Cout, CinG, Kw] = w.shape;
  const G = s.groups;
  const CoutG = Cout / G;
  const Lout = out.shape[tAx];
  if (C !== CinG * G) throw new Error('internal: conv1dInto channel mismatch');
  const lead = x.shape.slice(0, cAx).map((_, i) => i);
  // (a recorded run takes the products, which lower to every backend)
  const direct =
    !activeRecorder() && G > 1 && CinG * CoutG <= 4 && x.kind !== 'complex' && w.kind !== 'complex';
  for (let j = 0; j < Kw; j++) {
    const shift = j * s.dilation - s.padL;
    const tLo = Math.max(0, Math.ceil(-shift / s.stride));
    const tHi = Math.min(Lout - 1, Math.floor((L - 1 - shift) / s.stride));
    if (tLo > tHi) continue;
    const count = tHi - tLo + 1;
    const x0 = shift + tLo * s.stride;
    for (let g = 0; g < G; g++) {
      const xs = [...x.shape];
      xs[cAx] = CinG;
      xs[tAx] = count;
      const xst = [...x.strides];
      xst[tAx] = x.strides[tAx] * s.stride;
      const xw = raw(x, xs, xst, x.offset + g * CinG * x.strides[cAx] + x0 * x.strides[tAx]);
      const os = [...out.shape];
      os[cAx] = CoutG;
      os[tAx] = count;
      const ow = raw(
        out,
        os,
        out.strides,
        out.offset + g * CoutG * out.strides[cAx] + tLo * out.strides[tAx],
      );
      const wj = raw(
        w,
        [CoutG, CinG],
        [w.strides[0], w.strides[1]],
        w.offset + g * CoutG * w.strides[0] + j * w.strides[2],
      );
      if (direct) directTap(xw, wj, ow);
      else
        contract(
          { t: wj, labels: [C_OUT, C_IN] },
          { t: xw, labels: [...lead, C_IN, TIME] },
          [...lead, C_OUT, TIME],
          {
            out: ow,
            accumulate: true,
          },
        );
    }
  }
}

/** out[..., o, t] += Σ_c w[o, c] x[..., c, t] by loops (few channels per group). */
function directTap(x: GTensor, w: GTensor, out: GTensor): void {
  const r = x.rank;
  const [Co, Ci] = w.shape;
  const T = x.shape[r - 1];
  const xr = x.re;
  const wr = w.re;
  const or = out.re;
  const xt = x.strides[r - 1];
  const ot = out.strides[r - 1];
  const leadShape = x.shape.slice(0, r - 2);
  const n = leadShape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(leadShape.length).fill(0);
  for (let it = 0; it < n; it++) {
    let xo = x.offset;
    let oo = out.offset;
    for (let d = 0; d < idx.length; d++) {
      xo += idx[d] * x.strides[d];
      oo += idx[d] * out.strides[d];
    }
    for (let o = 0; o < Co; o++)
      for (let c = 0; c < Ci; c++) {
        const wv = wr[w.offset + o * w.strides[0] + c * w.strides[1]];
        if (wv === 0) continue;
        let xi = xo + c * x.strides[r - 2];
        let oi = oo + o * out.strides[r - 2];
        for (let t = 0; t < T; t++, xi += xt, oi += ot) or[oi] += wv * xr[xi];
      }
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < leadShape[d]) break;
      idx[d] = 0;
    }
  }
}

export interface Conv1dOptions {
  /** Keep stride-0 axes of x at stride 0 in the result (tangent data). */
  compact?: boolean;
  /** Output length (default: from the kernel size); a tangent with a boxed kernel keeps the full one. */
  Lout?: number;
  /** Lay the result out in this tensor's physical axis order instead of x's (same rank). */
  layoutOf?: GTensor;
}

/**
 * conv of a pending cat over channels (lazy-join.ts): the sum of the parts' convolutions with their
 * slices of w, a part broadcast over time computed once and added as such.
 */
function convOfParts(
  parts: GTensor[],
  w: GTensor,
  bias: GTensor | null,
  s: Conv1dSpec,
  opts: Conv1dOptions,
  cAx: number,
): GTensor {
  const first = Math.max(
    0,
    parts.findIndex((p) => p.shape.every((d, i) => i === cAx || d === 1 || p.strides[i] !== 0)),
  );
  const slices: GTensor[] = [];
  let at = 0;
  for (const p of parts) {
    const n = p.shape[cAx];
    slices.push(
      new GTensor(
        [w.shape[0], n, w.shape[2]],
        [...w.strides],
        w.offset + at * w.strides[1],
        w.re,
        w.im,
        w.kind,
      ),
    );
    at += n;
  }
  // The bias goes with another part: added to its compact result, not over every step of the base's.
  const withBias = parts.findIndex((p, i) => i !== first && p.shape[cAx] > 0);
  const res = conv1d(parts[first], slices[first], withBias < 0 ? bias : null, s, opts);
  parts.forEach((p, i) => {
    if (i !== first && p.shape[cAx] > 0)
      addInto(
        res,
        conv1d(p, slices[i], i === withBias ? bias : null, s, { ...opts, compact: true }),
        1,
        true,
      );
  });
  return res;
}

/** conv(x, w) + bias → [...lead, Cout, Lout], laid out in x's physical order. */
export function conv1d(
  input: GTensor,
  w: GTensor,
  bias: GTensor | null,
  s: Conv1dSpec,
  opts: Conv1dOptions = {},
): GTensor {
  const x = asBroadcast(input) ?? input;
  const r = x.rank;
  const cAx = r - 2;
  const tAx = r - 1;
  const joined = opts.compact || s.groups !== 1 ? null : catParts(x);
  if (joined && joined.axis === cAx && joined.parts.every((p) => p.kind === joined.parts[0].kind))
    return convOfParts(joined.parts, w, bias, s, { ...opts, layoutOf: x }, cAx);
  const L = x.shape[tAx];
  const Kw = w.shape[2];
  const natural = convOutLength(L, Kw, s);
  const Lout = opts.Lout ?? natural;
  if (Lout < 1)
    throw new ShapeError(`conv1d: the output would have ${Lout} time steps (input ${L}, kernel ${Kw})`);
  const kind = x.kind === 'complex' || w.kind === 'complex' ? 'complex' : 'float';
  // broadcast leading axes: computed once
  const flat = x.shape.map((d, i) => i < cAx && d > 1 && x.strides[i] === 0);
  const constTime = L > 1 && x.strides[tAx] === 0 && s.padL === 0 && s.padR === 0 && Lout === natural;
  let xc = x;
  if (flat.some((f) => f))
    xc = raw(
      x,
      x.shape.map((d, i) => (flat[i] ? 1 : d)),
      x.strides,
      x.offset,
    );
  let wc = w;
  let sc = s;
  let Lc = Lout;
  if (constTime) {
    // every output step sees every tap inside the constant input: the taps' sum, once
    xc = pickAlong(xc, tAx, 0);
    wc = Kw === 1 ? w : sumTaps(w);
    sc = { stride: 1, padL: 0, padR: 0, dilation: 1, groups: s.groups };
    Lc = 1;
  }
  const shape = [...xc.shape];
  shape[cAx] = w.shape[0];
  shape[tAx] = Lc;
  const like = opts.layoutOf ?? xc;
  const out = zerosInOrder(shape, physicalOrder(like.shape, like.strides), kind);
  if (bias)
    addInto(out, raw(bias, [bias.numel, 1], [bias.rank ? bias.strides[0] : 0, 0], bias.offset), 1, true);
  conv1dInto(xc, wc, sc, out);
  const fullShape = [...x.shape];
  fullShape[cAx] = w.shape[0];
  fullShape[tAx] = Lout;
  const res = expandTo(out, fullShape);
  return opts.compact || res === out ? res : materialize(res);
}

/** Σ_j w[:, :, j] as a kernel of size 1. */
function sumTaps(w: GTensor): GTensor {
  const [Co, Ci, Kw] = w.shape;
  const re = new Float64Array(Co * Ci);
  const im = w.kind === 'complex' ? new Float64Array(Co * Ci) : null;
  const wr = w.re;
  const wi = w.kind === 'complex' ? w.im : null;
  for (let o = 0; o < Co; o++)
    for (let c = 0; c < Ci; c++) {
      let a = 0;
      let b = 0;
      for (let j = 0; j < Kw; j++) {
        const at = w.offset + o * w.strides[0] + c * w.strides[1] + j * w.strides[2];
        a += wr[at];
        if (wi) b += wi[at];
      }
      re[o * Ci + c] = a;
      if (im) im[o * Ci + c] = b;
    }
  return new GTensor([Co, Ci, 1], [Ci, 1, 1], 0, re, im, im ? 'complex' : 'float');
}
