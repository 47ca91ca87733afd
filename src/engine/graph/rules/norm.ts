/**
 * Normalisation layers: layer_norm, group_norm, batch_norm. All standardise (norm-kernel.ts) and
 * then apply y = x̂·w + b; the input's tangent is made dense (each output depends on its whole
 * group), the weight's and bias's tangents broadcast.
 *
 * batch_norm in evaluation mode is affine in x, y = x·g + s with g = w/√(running_var + eps) and
 * s = b − running_mean·g per channel, so its tangent keeps its box and broadcast axes. In training
 * mode it standardises with the batch's statistics and differentiates through them; the running
 * statistics are read but not updated (the Jacobian of one call does not change the model).
 */
import { ShapeError } from '../../errors';
import { UnsupportedError, type Args } from '../args';
import { binary, map2 } from '../elementwise';
import type { RuleTable, TanOf } from '../rule';
import { dense, tan, type Tan } from '../tangent';
import { GTensor, contiguous, fromArrays, shapeString, sizeOf } from '../tensor';
import { type Layout, standardize, standardizeJvp } from './norm-kernel';
import { addTans, mulTan, restride, scaleTan, sumTans, tanOfArg } from './pointwise-tan';
import { E } from '../lower/expr';

function input(a: Args, name: string): GTensor {
  const x = a.tensor(name);
  if (x.isComplex) throw new UnsupportedError(`${a.op}: complex tensors are not supported`);
  return x;
}

/** A per-channel vector [C] seen as [C, 1, …, 1] (broadcasting against [N, C, …] of rank r). */
function channelView(v: GTensor | null, r: number): GTensor | null {
  if (!v) return null;
  return restride(
    v,
    [v.shape[0], ...new Array<number>(r - 2).fill(1)],
    [v.strides[0], ...new Array<number>(r - 2).fill(0)],
  );
}

function channelTan(t: Tan, r: number): Tan {
  if (!t) return null;
  const d = t.data;
  const ones = new Array<number>(r - 2).fill(1);
  const data = restride(
    d,
    [d.shape[0], d.shape[1], ...ones],
    [d.strides[0], d.strides[1], ...ones.map(() => 0)],
  );
  return { data, full: [t.full[0], ...ones] };
}

function checkChannels(a: Args, name: string, v: GTensor | null, C: number): void {
  if (v && (v.rank !== 1 || v.shape[0] !== C))
    throw new ShapeError(`${a.op}: '${name}' has shape ${shapeString(v.shape)}, the input has ${C} channels`);
}

/** y = x̂·w + b, w and b broadcasting against x̂. */
function affine(xhat: GTensor, w: GTensor | null, b: GTensor | null): GTensor {
  let y = xhat;
  if (w) y = binary(y, w, 'mul');
  if (b) y = binary(y, b, 'add');
  return y;
}

/** dy = dx̂·w + x̂·dw + db. */
function affineJvp(xhat: GTensor, dxhat: Tan, w: GTensor | null, tw: Tan, tb: Tan): Tan {
  const shape = xhat.shape;
  return sumTans([w ? mulTan(dxhat, w, shape) : dxhat, mulTan(tw, xhat, shape), tb], shape);
}

/** Standardise x over `layout`; with tangents, also dx̂. */
function standardized(
  x: GTensor,
  layout: Layout,
  eps: number,
  tx: Tan,
  P: number,
): { xhat: GTensor; dxhat: Tan } {
  const { xhat, rstd } = standardize(contiguous(x).re, layout, eps);
  const xh = fromArrays([...x.shape], xhat);
  if (!tx) return { xhat: xh, dxhat: null };
  const dx = contiguous(dense(tx)).re;
  return { xhat: xh, dxhat: tan(fromArrays([P, ...x.shape], standardizeJvp(dx, xhat, rstd, P, layout))) };
}

function layerNormParts(a: Args, t: TanOf | null, P: number) {
  const x = input(a, 'input');
  const ns = a.ints('normalized_shape');
  const lead = x.rank - ns.length;
  if (lead < 0 || ns.some((d, i) => d !== x.shape[lead + i]))
    throw new ShapeError(
      `${a.op}: normalized_shape ${shapeString(ns)} does not end the input's shape ${shapeString(x.shape)}`,
    );
  const w = a.optTensor('weight');
  const b = a.optTensor('bias');
  for (const [name, v] of [
    ['weight', w],
    ['bias', b],
  ] as const)
    if (v && (v.rank !== ns.length || v.shape.some((d, i) => d !== ns[i])))
      throw new ShapeError(`${a.op}: '${name}' has shape ${shapeString(v.shape)}, not ${shapeString(ns)}`);
  const K = sizeOf(ns);
  const layout = { A: 1, C: K === 0 ? 0 : x.numel / K, B: K };
  const { xhat, dxhat } = standardized(x, layout, a.number('eps', 1e-5), t ? t(x) : null, P);
  return { xhat, dxhat, w, b };
}

function groupNormParts(a: Args, t: TanOf | null, P: number) {
  const x = input(a, 'input');
  if (x.rank < 2) throw new ShapeError(`${a.op}: the input ${shapeString(x.shape)} has no channel axis`);
  const [N, C] = x.shape;
  const G = a.int('num_groups');
  if (G <= 0 || C % G !== 0) throw new ShapeError(`${a.op}: ${C} channels do not split into ${G} groups`);
  const w = a.optTensor('weight');
  const b = a.optTensor('bias');
  checkChannels(a, 'weight', w, C);
  checkChannels(a, 'bias', b, C);
  const layout = { A: 1, C: N * G, B: (C / G) * sizeOf(x.shape.slice(2)) };
  const { xhat, dxhat } = standardized(x, layout, a.number('eps', 1e-5), t ? t(x) : null, P);
  return { xhat, dxhat, w: channelView(w, x.rank), b: channelView(b, x.rank), r: x.rank };
}

interface BatchNormArgs {
  x: GTensor;
  w: GTensor | null;
  b: GTensor | null;
  mean: GTensor | null;
  variance: GTensor | null;
  training: boolean;
  eps: number;
  layout: Layout;
}

function batchNormArgs(a: Args): BatchNormArgs {
  const x = input(a, 'input');
  if (x.rank < 2) throw new ShapeError(`${a.op}: the input ${shapeString(x.shape)} has no channel axis`);
  const C = x.shape[1];
  const [w, b, mean, variance] = ['weight', 'bias', 'running_mean', 'running_var'].map((n) => {
    const v = a.optTensor(n);
    checkChannels(a, n, v, C);
    return v;
  });
  const training = a.bool('training');
  const layout = { A: x.shape[0], C, B: sizeOf(x.shape.slice(2)) };
  if (!training && (!mean || !variance))
    throw new ShapeError(`${a.op}: running_mean and running_var must be given in evaluation mode`);
  if (training && layout.A * layout.B <= 1)
    throw new ShapeError(
      `${a.op}: expected more than 1 value per channel when training, got ${shapeString(x.shape)}`,
    );
  return { x, w, b, mean, variance, training, eps: a.number('eps'), layout };
}

/** Evaluation mode: per-channel g = w/√(var + eps) and s = b − mean·g. */
function evalScaleShift(n: BatchNormArgs): { r: GTensor; g: GTensor; s: GTensor } {
  const r = map2(n.variance!, fromArrays([], Float64Array.of(n.eps)), (v, e) => 1 / Math.sqrt(v + e), {
    lower: E.un('rsqrt', E.add(E.in(0), E.in(1))),
  });
  const g = n.w ? binary(n.w, r, 'mul') : r;
  const s = binary(n.b ?? fromArrays([], Float64Array.of(0)), binary(n.mean!, g, 'mul'), 'sub');
  return { r, g, s };
}

export const normRules = {
  'aten::layer_norm': {
    params: ['input', 'normalized_shape', 'weight=', 'bias=', 'eps=', 'cudnn_enable='],
    forward(a) {
      const { xhat, w, b } = layerNormParts(a, null, 0);
      return affine(xhat, w, b);
    },
    jvp(a, _out, t, ctx) {
      const { xhat, dxhat, w, b } = layerNormParts(a, t, ctx.P);
      return affineJvp(xhat, dxhat, w, w && t(w), b && t(b));
    },
  },
  'aten::group_norm': {
    params: ['input', 'num_groups', 'weight=', 'bias=', 'eps=', 'cudnn_enabled='],
    forward(a) {
      const { xhat, w, b } = groupNormParts(a, null, 0);
      return affine(xhat, w, b);
    },
    jvp(a, _out, t, ctx) {
      const { xhat, dxhat, w, r } = groupNormParts(a, t, ctx.P);
      return affineJvp(
        xhat,
        dxhat,
        w,
        channelTan(tanOfArg(a, 'weight', t), r),
        channelTan(tanOfArg(a, 'bias', t), r),
      );
    },
  },
  'aten::batch_norm': {
    params: [
      'input',
      'weight=',
      'bias=',
      'running_mean=',
      'running_var=',
      'training',
      'momentum',
      'eps',
      'cudnn_enabled',
    ],
    forward(a) {
      const n = batchNormArgs(a);
      const rank = n.x.rank;
      if (n.training) {
        const { xhat } = standardized(n.x, n.layout, n.eps, null, 0);
        return affine(xhat, channelView(n.w, rank), channelView(n.b, rank));
      }
      const { g, s } = evalScaleShift(n);
      return binary(binary(n.x, channelView(g, rank)!, 'mul'), channelView(s, rank)!, 'add');
    },
    jvp(a, _out, t, ctx) {
      const n = batchNormArgs(a);
      const rank = n.x.rank;
      const tw = n.w ? t(n.w) : null;
      const tb = n.b ? t(n.b) : null;
      if (n.training) {
        const { xhat, dxhat } = standardized(n.x, n.layout, n.eps, t(n.x), ctx.P);
        return affineJvp(xhat, dxhat, channelView(n.w, rank), channelTan(tw, rank), channelTan(tb, rank));
      }
      // dy = dx·g + x·dg + ds, dg = dw·r + w·dr, dr = −r³/2 · dvar, ds = db − dmean·g − mean·dg.
      const { r, g } = evalScaleShift(n);
      const C = [n.layout.C];
      const dvar = t(n.variance!);
      const dr = dvar
        ? mulTan(
            dvar,
            map2(r, r, (u) => -0.5 * u * u * u, {
              lower: E.mul(E.c(-0.5), E.mul(E.in(0), E.mul(E.in(0), E.in(0)))),
            }),
            C,
          )
        : null;
      const dg = addTans(mulTan(tw, r, C), n.w ? mulTan(dr, n.w, C) : dr, C);
      const ds = sumTans(
        [tb, scaleTan(mulTan(t(n.mean!), g, C), -1), scaleTan(mulTan(dg, n.mean!, C), -1)],
        C,
      );
      const shape = n.x.shape;
      return sumTans(
        [
          mulTan(t(n.x), channelView(g, rank)!, shape),
          mulTan(channelTan(dg, rank), n.x, shape),
          channelTan(ds, rank),
        ],
        shape,
      );
    },
  },
} satisfies RuleTable;
