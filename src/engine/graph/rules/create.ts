/**
 * Tensor creation: zeros/ones/full/empty and their _like and new_ forms, arange, linspace,
 * logspace, eye, tensor, scalar_tensor. None depends on p (their tangents are null); `zeros`
 * (and every all-zero result) records on its root that it is zero everywhere (`nz`), which the
 * dispatch then narrows as leading blocks are written, so the inverse FFTs read only those.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { fillInto } from '../copy';
import type { Rule, RuleTable } from '../rule';
import { GTensor, type Kind, fromArrays, shapeString, zerosTensor } from '../tensor';
import { castTan, castTo, dtypeArg, isDtype, kindOfDtype } from './scalar';

const OPTS = ['dtype=', 'layout=', 'device=', 'pin_memory='];

function filled(shape: number[], v: number, kind: Kind, op: string): GTensor {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${op}: invalid size ${shapeString(shape)}`);
  const out = zerosTensor(shape, kind);
  const value = kind === 'bool' ? (v !== 0 ? 1 : 0) : kind === 'int' ? Math.trunc(v) : v;
  if (value !== 0) fillInto(out, value);
  else out.nz = shape.map(() => 0);
  return out;
}

function createRule(params: string[], forward: (a: Args) => GTensor): Rule {
  return { params, forward, jvp: () => null };
}

/** The kind of `full`'s result: the dtype, else bool for a bool fill and float otherwise. */
function fillKind(a: Args, fallback: Kind): Kind {
  const v = a.raw('fill_value');
  return dtypeArg(a, typeof v === 'boolean' ? 'bool' : v instanceof GTensor ? v.kind : fallback);
}

/** The values of arange from its three overloads (dispatch on the count of numbers). */
function arangeValues(a: Args): GTensor {
  const rest = (a.raw('args') as unknown[] | undefined) ?? [];
  // Options passed positionally (dtype, layout, device, pin_memory) would follow the numbers.
  const n = rest.length > 4 ? rest.length - 4 : Math.min(rest.length, 3);
  const nums = rest.slice(0, n);
  const named = (k: string) => (a.has(k) ? a.raw(k) : undefined);
  const raw: unknown[] =
    n === 0
      ? [named('start') ?? 0, named('end'), named('step') ?? 1]
      : n === 1
        ? [named('start') ?? 0, nums[0], named('step') ?? 1]
        : n === 2
          ? [nums[0], nums[1], named('step') ?? 1]
          : nums;
  const [start, end, step] = raw.map((v, i) => {
    const x = v instanceof GTensor && v.numel === 1 ? v.re[v.offset] : typeof v === 'boolean' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new ShapeError(
        `${a.op}: ${['start', 'end', 'step'][i]} must be a finite number, got ${String(v)}`,
      );
    return x;
  });
  const ints = raw.every((v) => (v instanceof GTensor ? v.kind === 'int' : Number.isInteger(v)));
  const dtype = a.has('dtype') ? a.raw('dtype') : rest.length > n && isDtype(rest[n]) ? rest[n] : null;
  const kind = kindOfDtype(dtype, a.op, ints ? 'int' : 'float');
  if (step === 0) throw new ShapeError(`${a.op}: step must be nonzero`);
  if ((step > 0 && end < start) || (step < 0 && end > start))
    throw new ShapeError(
      `${a.op}: upper bound ${end} and lower bound ${start} are inconsistent with step ${step}`,
    );
  const count = Math.ceil((end - start) / step);
  const re = new Float64Array(count);
  for (let i = 0; i < count; i++) re[i] = kind === 'int' ? Math.trunc(start + i * step) : start + i * step;
  return fromArrays([count], re, kind === 'complex' ? new Float64Array(count) : null, kind);
}

const arange: Rule = createRule(['*args', 'start=', 'end=', 'step=', ...OPTS, 'out='], arangeValues);

/** PyTorch's linspace: symmetric from both ends, so the last value is exactly `end`. */
function linspaceValues(start: number, end: number, steps: number): Float64Array {
  const out = new Float64Array(steps);
  if (steps === 1) out[0] = start;
  if (steps <= 1) return out;
  const step = (end - start) / (steps - 1);
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) out[i] = i < half ? start + i * step : end - (steps - 1 - i) * step;
  return out;
}

function spaceRule(params: string[], transform: (a: Args, v: Float64Array) => void): Rule {
  return createRule(params, (a) => {
    const steps = a.int('steps');
    if (steps < 0) throw new ShapeError(`${a.op}: number of steps must be non-negative, got ${steps}`);
    const kind = dtypeArg(a, 'float');
    const re = linspaceValues(a.number('start'), a.number('end'), steps);
    transform(a, re);
    if (kind === 'int') for (let i = 0; i < steps; i++) re[i] = Math.trunc(re[i]);
    return fromArrays([steps], re, kind === 'complex' ? new Float64Array(steps) : null, kind);
  });
}

/** Nested lists of numbers → shape and values (row-major). */
function nested(v: unknown, op: string): { shape: number[]; values: number[]; kind: Kind } {
  const values: number[] = [];
  let kind: Kind = 'bool';
  const bump = (k: Kind) => {
    const order: Kind[] = ['bool', 'int', 'float', 'complex'];
    if (order.indexOf(k) > order.indexOf(kind)) kind = k;
  };
  const shapeOf = (x: unknown): number[] =>
    Array.isArray(x) ? [x.length, ...(x.length ? shapeOf(x[0]) : [])] : [];
  const shape = shapeOf(v);
  const walk = (x: unknown, depth: number): void => {
    if (depth < shape.length) {
      if (!Array.isArray(x) || x.length !== shape[depth])
        throw new ShapeError(
          `${op}: the nested lists are ragged (expected length ${shape[depth]} at depth ${depth})`,
        );
      x.forEach((e) => walk(e, depth + 1));
      return;
    }
    if (typeof x === 'boolean') values.push(x ? 1 : 0);
    else if (typeof x === 'number') {
      bump(Number.isInteger(x) ? 'int' : 'float');
      values.push(x);
    } else if (x instanceof GTensor && x.numel === 1) {
      bump(x.kind);
      values.push(x.re[x.offset]);
    } else throw new ShapeError(`${op}: data must be numbers or nested lists of numbers, got ${String(x)}`);
  };
  walk(v, 0);
  if (values.length === 0) kind = 'float';
  return { shape, values, kind };
}

/** torch.tensor: a copy without a tangent (PyTorch detaches a tensor argument and warns). */
function fromData(a: Args): GTensor {
  const d = a.raw('data');
  if (d instanceof GTensor) return castTo(d, dtypeArg(a, d.kind));
  const { shape, values, kind: inferred } = nested(d, a.op);
  const kind = dtypeArg(a, inferred);
  const re = Float64Array.from(values, (v) =>
    kind === 'int' ? Math.trunc(v) : kind === 'bool' ? Number(v !== 0) : v,
  );
  return fromArrays(shape, re, kind === 'complex' ? new Float64Array(re.length) : null, kind);
}

/** torch.as_tensor: a tensor argument of the same dtype is returned as it is (with its tangent). */
const asTensor: Rule = {
  params: ['data', 'dtype=', 'device='],
  forward(a) {
    const d = a.raw('data');
    if (d instanceof GTensor && dtypeArg(a, d.kind) === d.kind) return d;
    return fromData(a);
  },
  jvp(a, out, t) {
    const d = a.raw('data');
    if (!(d instanceof GTensor)) return null;
    return out === d ? t(d) : castTan(t(d), (out as GTensor).kind);
  },
};

const LIKE = ['self', ...OPTS, 'memory_format='];
const like = (a: Args, v: number) =>
  filled([...a.tensor('self').shape], v, dtypeArg(a, a.tensor('self').kind), a.op);
const newOf = (a: Args, v: number, kind?: Kind) =>
  filled(a.ints('size'), v, dtypeArg(a, kind ?? a.tensor('self').kind), a.op);

export const createRules = {
  'aten::zeros': createRule(['size', ...OPTS], (a) => filled(a.ints('size'), 0, dtypeArg(a, 'float'), a.op)),
  'aten::ones': createRule(['size', ...OPTS], (a) => filled(a.ints('size'), 1, dtypeArg(a, 'float'), a.op)),
  'aten::empty': createRule(['size', ...OPTS, 'memory_format='], (a) =>
    filled(a.ints('size'), 0, dtypeArg(a, 'float'), a.op),
  ),
  'aten::full': createRule(['size', 'fill_value', ...OPTS], (a) =>
    filled(a.ints('size'), a.number('fill_value'), fillKind(a, 'float'), a.op),
  ),
  'aten::zeros_like': createRule(LIKE, (a) => like(a, 0)),
  'aten::ones_like': createRule(LIKE, (a) => like(a, 1)),
  'aten::empty_like': createRule(LIKE, (a) => like(a, 0)),
  'aten::full_like': createRule(['self', 'fill_value', ...OPTS, 'memory_format='], (a) =>
    filled([...a.tensor('self').shape], a.number('fill_value'), fillKind(a, a.tensor('self').kind), a.op),
  ),
  'aten::new_zeros': createRule(['self', 'size', ...OPTS], (a) => newOf(a, 0)),
  'aten::new_ones': createRule(['self', 'size', ...OPTS], (a) => newOf(a, 1)),
  'aten::new_empty': createRule(['self', 'size', ...OPTS], (a) => newOf(a, 0)),
  'aten::new_full': createRule(['self', 'size', 'fill_value', ...OPTS], (a) =>
    newOf(a, a.number('fill_value'), fillKind(a, a.tensor('self').kind)),
  ),
  'aten::arange': arange,
  'aten::linspace': spaceRule(['start', 'end', 'steps', ...OPTS], () => {}),
  'aten::logspace': spaceRule(['start', 'end', 'steps', 'base=', ...OPTS], (a, v) => {
    const base = a.number('base', 10);
    for (let i = 0; i < v.length; i++) v[i] = Math.pow(base, v[i]);
  }),
  'aten::eye': createRule(['n', 'm=', ...OPTS], (a) => {
    const n = a.int('n');
    const m = a.optInt('m') ?? n;
    const out = filled([n, m], 0, dtypeArg(a, 'float'), a.op);
    for (let i = 0; i < Math.min(n, m); i++) out.re[i * m + i] = 1;
    out.nz = null;
    return out;
  }),
  'aten::tensor': createRule(['data', 'dtype=', 'device=', 'requires_grad='], fromData),
  'aten::as_tensor': asTensor,
  'aten::scalar_tensor': createRule(['s', ...OPTS], (a) =>
    filled([], a.number('s'), dtypeArg(a, 'float'), a.op),
  ),
} satisfies RuleTable;
