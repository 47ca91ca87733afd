/**
 * 1-D convolutions: `conv1d` and `_convolution` (what TorchScript records for nn.Conv1d), input
 * [N, C, L] or unbatched [C, L], any kernel size, stride, padding (ints, or 'same' / 'valid' for
 * conv1d), dilation and groups. Transposed and 2-D/3-D convolutions are refused.
 *
 * The work is one channel-mixing GEMM per kernel tap over strided time windows (kernels/conv1d.ts):
 * a kernel of size 1 (FNO's `lin` layers) is one GEMM over all (batch, time) rows. Tangents keep
 * their structure: a tangent constant over time (p broadcast over T) through an unpadded
 * convolution stays one row (the sum of the taps applied once); a box along channels uses only the
 * matching weight columns, a box along time reads the rest as zero; the weight's tangent takes the
 * P directions as extra output channels of one convolution; the bias's broadcasts with stride 0.
 */
import { ShapeError } from '../../errors';
import { UnsupportedError, type Args } from '../args';
import { conv1d, convOutLength, type Conv1dSpec } from '../kernels/conv1d';
import { addInto, contiguousCopy, leadAlong, leadBlock, raw, zerosInOrder } from '../kernels/layout';
import { addTan, broadcastTan } from '../kernels/tangents';
import type { Rule, RuleTable, TanOf } from '../rule';
import { physicalOrder } from '../strided';
import { boxed, dense, type Tan, type TanT } from '../tangent';
import type { GTensor } from '../tensor';

interface Setup {
  x: GTensor;
  w: GTensor;
  bias: GTensor | null;
  spec: Conv1dSpec;
}

function single(a: Args, name: string, fallback: number): number {
  const v = a.ints(name, [fallback]);
  if (v.length !== 1)
    throw new UnsupportedError(`${a.op}: only 1-D convolutions are supported (${name} = [${v}])`);
  return v[0];
}

function setup(a: Args, conv1dSchema: boolean): Setup {
  const op = a.op;
  const x = a.tensor('input');
  const w = a.tensor('weight');
  const bias = a.optTensor('bias');
  if (!conv1dSchema) {
    if (a.bool('transposed')) throw new UnsupportedError(`${op}: transposed convolutions are not supported`);
  }
  if (w.rank !== 3)
    throw new UnsupportedError(`${op}: only 1-D convolutions are supported (weight [${w.shape}])`);
  if (x.rank !== 2 && x.rank !== 3)
    throw new ShapeError(`${op}: expected a 2-D (unbatched) or 3-D (batched) input, got [${x.shape}]`);
  const stride = single(a, 'stride', 1);
  const dilation = single(a, 'dilation', 1);
  const groups = a.int('groups', 1);
  if (stride < 1 || dilation < 1 || groups < 1)
    throw new ShapeError(`${op}: stride, dilation and groups must be positive`);
  const [Cout, CinG, Kw] = w.shape;
  const C = x.shape[x.rank - 2];
  if (Cout % groups !== 0)
    throw new ShapeError(`${op}: ${Cout} output channels do not divide into ${groups} groups`);
  if (C !== CinG * groups)
    throw new ShapeError(
      `${op}: expected input with ${CinG * groups} channels (weight [${w.shape}], groups ${groups}), got ${C}`,
    );
  if (bias && (bias.rank !== 1 || bias.shape[0] !== Cout))
    throw new ShapeError(`${op}: bias of shape [${bias.shape}] for ${Cout} output channels`);
  let padL: number;
  let padR: number;
  const p = a.raw('padding');
  if (typeof p === 'string') {
    if (p === 'valid') padL = padR = 0;
    else if (p === 'same') {
      if (stride !== 1)
        throw new ShapeError(`${op}: padding='same' is not supported for strided convolutions`);
      const total = dilation * (Kw - 1);
      padL = Math.floor(total / 2);
      padR = total - padL;
    } else throw new ShapeError(`${op}: invalid padding string '${p}'`);
  } else {
    padL = padR = single(a, 'padding', 0);
    if (padL < 0) throw new ShapeError(`${op}: negative padding is not supported`);
  }
  const spec = { stride, padL, padR, dilation, groups };
  if (convOutLength(x.shape[x.rank - 1], Kw, spec) < 1)
    throw new ShapeError(
      `${op}: the input of length ${x.shape[x.rank - 1]} (padded) is shorter than the kernel (${Kw}, dilation ${dilation})`,
    );
  return { x, w, bias, spec };
}

/** Tangent data with its box along `ax` widened to `n` (zeros beyond the old box). */
function widen(d: GTensor, ax: number, n: number): GTensor {
  if (d.shape[ax] === n) return d;
  const shape = [...d.shape];
  shape[ax] = n;
  const out = zerosInOrder(
    shape,
    physicalOrder(d.shape, d.strides),
    d.kind === 'complex' ? 'complex' : 'float',
  );
  addInto(leadBlock(out, d.shape), d, 1, false);
  return out;
}

/** The input's tangent through the convolution. */
function inputTerm(tx: TanT, w: GTensor, s: Conv1dSpec, full: number[]): Tan {
  let d = tx.data;
  const r = d.rank;
  const cAx = r - 2;
  const tAx = r - 1;
  const C = tx.full[tx.full.length - 2];
  const L = tx.full[tx.full.length - 1];
  let wc = w;
  if (d.shape[cAx] < C) {
    if (s.groups === 1) wc = leadAlong(w, 1, d.shape[cAx]);
    else d = widen(d, cAx, C);
  }
  const Lb = d.shape[tAx];
  const spec = Lb < L ? { ...s, padR: s.padR + (L - Lb) } : s;
  const y = conv1d(d, wc, null, spec, { compact: true });
  return boxed(y, full);
}

/** The weight's tangent: x convolved with each direction, the P directions as extra out channels. */
function weightTerm(x: GTensor, tw: TanT, s: Conv1dSpec, full: number[]): Tan {
  const Kw = tw.full[2];
  const Lout = convOutLength(x.shape[x.rank - 1], Kw, s);
  const r = x.rank;
  if (s.groups > 1) {
    // per direction (rare: grouped convolutions with trainable-by-p weights)
    const d = dense(tw);
    const P = d.shape[0];
    const outs: GTensor[] = [];
    for (let p = 0; p < P; p++)
      outs.push(
        conv1d(x, raw(d, d.shape.slice(1), d.strides.slice(1), d.offset + p * d.strides[0]), null, s, {
          Lout,
        }),
      );
    const shape = [P, ...outs[0].shape];
    const res = zerosInOrder(
      shape,
      shape.map((_, i) => i),
      outs[0].kind,
    );
    outs.forEach((o, p) => addInto(raw(res, o.shape, res.strides.slice(1), p * res.strides[0]), o, 1, false));
    return boxed(res, full);
  }
  let d = tw.data;
  const [P, Cb, Ib] = d.shape;
  // [P, Cb, Ib, Kb] → [P·Cb, Ib, Kb]: a view when P and Cb merge, else a copy
  if (d.strides[0] !== d.strides[1] * Cb || d.strides[1] === 0) d = contiguousCopy(d);
  const w2 = raw(d, [P * Cb, Ib, d.shape[3]], [d.strides[1], d.strides[2], d.strides[3]], d.offset);
  const xc = Ib < x.shape[r - 2] ? leadAlong(x, r - 2, Ib) : x;
  const y = conv1d(xc, w2, null, s, { Lout }); // [...lead, P·Cb, Lout]
  // view as [P, ...lead, Cb, Lout]
  const lead = y.shape.slice(0, r - 2);
  const cs = y.strides[r - 2];
  const view = raw(
    y,
    [P, ...lead, Cb, Lout],
    [cs * Cb, ...y.strides.slice(0, r - 2), cs, y.strides[r - 1]],
    y.offset,
  );
  return boxed(view, full);
}

function convRule(params: readonly string[], conv1dSchema: boolean): Rule {
  return {
    params,
    forward(a) {
      const { x, w, bias, spec } = setup(a, conv1dSchema);
      return conv1d(x, w, bias, spec);
    },
    jvp(a, out, t: TanOf): Tan {
      const { x, w, bias, spec } = setup(a, conv1dSchema);
      const full = [...(out as GTensor).shape];
      let res: Tan = null;
      const tx = t(x);
      if (tx) res = addTan(res, inputTerm(tx, w, spec, full));
      const tw = t(w);
      if (tw) res = addTan(res, weightTerm(x, tw, spec, full));
      const tb = bias ? t(bias) : null;
      if (tb) {
        const d = tb.data;
        const col: TanT = {
          data: raw(d, [d.shape[0], d.shape[1], 1], [d.strides[0], d.strides[1], 0], d.offset),
          full: [tb.full[0], 1],
        };
        res = addTan(res, broadcastTan(col, full));
      }
      return res;
    },
  };
}

export const convRules = {
  'aten::conv1d': convRule(['input', 'weight', 'bias=', 'stride=', 'padding=', 'dilation=', 'groups='], true),
  'aten::_convolution': convRule(
    [
      'input',
      'weight',
      'bias',
      'stride',
      'padding',
      'dilation',
      'transposed',
      'output_padding',
      'groups',
      'benchmark=',
      'deterministic=',
      'cudnn_enabled=',
      'allow_tf32=',
    ],
    false,
  ),
} satisfies RuleTable;
