/**
 * Python-level operations: `torch.X(...)` calls that TorchScript uses on ints, floats, strings, lists
 * and dicts (`torch.add(n, 1)`, `torch.append(outs, h)`, `torch.len(xs)`, `torch.format(...)`), and the
 * builtins `len`, `range`, `int`, `float`, `min`, `max`, ... None of these reach the tensor host except
 * `int/float/bool` of a tensor and `len` of a tensor (through `shape`).
 */
import { PyError, binaryScalar, pyCompare, pyEquals, unaryScalar } from './arith';
import { NOT_PYTHON, containerOp, minMax } from './containers';
import type { BinaryOp } from './ast';
import { PyFloat, type Value, isScalar, pyStr, toNumber } from './values';

export interface PyContext<T> {
  isTensor(v: unknown): v is T;
  shape(t: T): readonly number[];
  /** A host op on a tensor (`aten::Int`, ...), located by the caller. */
  host(op: string, args: Value<T>[]): Value<T>;
  truthy(v: unknown): boolean;
  /** Everything iterable as an array (lists, tuples, ranges, dict keys, strings); capped. */
  items(v: unknown): readonly Value<T>[];
  maxList: number;
}

export { NOT_PYTHON, getItem, setItem, sliceSeq } from './containers';

const SCALAR_BINARY: Record<string, BinaryOp> = {
  add: '+',
  sub: '-',
  mul: '*',
  div: '/',
  floordiv: '//',
  floor_divide: '//',
  remainder: '%',
  __and__: '&',
  __or__: '|',
  __xor__: '^',
  __lshift__: '<<',
  __rshift__: '>>',
};

const COMPARE: Record<string, '<' | '<=' | '>' | '>='> = { lt: '<', le: '<=', gt: '>', ge: '>=' };

const MATH_FLOAT: Record<string, (x: number) => number> = {
  sqrt: Math.sqrt,
  exp: Math.exp,
  log: Math.log,
  log10: Math.log10,
  log2: Math.log2,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sin: Math.sin,
  cos: Math.cos,
  tan: Math.tan,
  tanh: Math.tanh,
  sinh: Math.sinh,
  cosh: Math.cosh,
  asin: Math.asin,
  acos: Math.acos,
  atan: Math.atan,
  erf: erf,
};

function hasTensor<T>(args: readonly unknown[], ctx: PyContext<T>): boolean {
  for (const a of args) {
    if (ctx.isTensor(a)) return true;
    if (Array.isArray(a) && a.some((x) => ctx.isTensor(x))) return true;
  }
  return false;
}

/** `torch.<name>(args)` when it is a Python-level operation; NOT_PYTHON otherwise. */
export function torchPython<T>(
  name: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  ctx: PyContext<T>,
): unknown {
  const [a, b] = args;
  // Identity tests and list/dict/str methods apply whatever the elements are.
  switch (name) {
    case '__is__':
      return a === b || (a === null && b === null);
    case '__isnot__':
      return !(a === b || (a === null && b === null));
    case 'format':
      if (typeof a === 'string') return format(a, args.slice(1), ctx);
      break;
    case 'warn':
      return null;
    case 'len':
      if (ctx.isTensor(a)) {
        const s = ctx.shape(a);
        if (!s.length) throw new PyError('len() of a 0-d tensor');
        return s[0];
      }
      return ctx.items(a).length;
  }
  if (Array.isArray(a) || a instanceof Map || (typeof a === 'string' && name !== 'eq' && name !== 'ne')) {
    const r = containerOp(name, args, kwargs, ctx);
    if (r !== NOT_PYTHON) return r;
  }
  if (hasTensor(args, ctx) || Object.values(kwargs).some((v) => ctx.isTensor(v))) return NOT_PYTHON;
  return scalarOp(name, args, ctx);
}

function scalarOp<T>(name: string, args: Value<T>[], ctx: PyContext<T>): unknown {
  const [a, b] = args;
  const op = SCALAR_BINARY[name];
  if (op && args.length === 2) {
    const r = binaryScalar(op, a, b, ctx.maxList);
    if (r !== undefined) return r;
  }
  if (name in COMPARE && args.length === 2) return pyCompare(COMPARE[name], a, b);
  const x = toNumber(a);
  switch (name) {
    case 'eq':
      return pyEquals(a, b);
    case 'ne':
      return !pyEquals(a, b);
    case '__not__':
      return !ctx.truthy(a);
    case 'neg':
      return unaryScalar('-', a) ?? NOT_PYTHON;
    case 'pow':
      if (x !== undefined && isScalar(b)) return new PyFloat(x ** toNumber(b)!);
      break;
    case 'fmod':
      if (x !== undefined && isScalar(b)) return new PyFloat(x % toNumber(b)!);
      break;
    case 'abs':
      if (typeof a === 'number') return Math.abs(a);
      if (a instanceof PyFloat) return new PyFloat(Math.abs(a.value));
      break;
    case 'floor':
    case 'ceil':
      if (x !== undefined) return intOf(name === 'floor' ? Math.floor(x) : Math.ceil(x));
      break;
    case 'round':
      if (x !== undefined) return new PyFloat(roundHalfEven(x));
      break;
    case 'trunc':
      if (x !== undefined) return intOf(Math.trunc(x));
      break;
    case 'isnan':
    case 'isinf':
    case 'isfinite':
      if (x !== undefined)
        return name === 'isnan'
          ? Number.isNaN(x)
          : name === 'isinf'
            ? Math.abs(x) === Infinity
            : Number.isFinite(x);
      break;
    case 'min':
    case 'max':
      return minMax(name, args, ctx);
    case 'Int':
      return toInt(a, ctx);
    case 'Float':
      return toFloat(a, ctx);
    case 'Bool':
      return ctx.truthy(a);
    case 'str':
      return pyStr(a, ctx.isTensor);
    case '__range_length': {
      const [lo, hi, step] = args.map((v) => toNumber(v)!);
      if (!step) throw new PyError('range() arg 3 must not be zero');
      return Math.max(0, Math.ceil((hi - lo) / step));
    }
    case '__derive_index':
      return toNumber(b)! + toNumber(a)! * toNumber(args[2])!;
  }
  if (name in MATH_FLOAT && x !== undefined && args.length === 1) return new PyFloat(MATH_FLOAT[name](x));
  if (name === 'atan2' && x !== undefined && isScalar(b)) return new PyFloat(Math.atan2(x, toNumber(b)!));
  return NOT_PYTHON;
}

function intOf(x: number): number {
  if (!Number.isFinite(x)) throw new PyError('cannot convert an infinite or NaN float to an integer');
  return x;
}

export function toInt<T>(v: unknown, ctx: PyContext<T>): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return intOf(Math.trunc(v.value));
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return parseInt(v, 10);
  if (ctx.isTensor(v)) {
    const r = ctx.host('aten::Int', [v]);
    const n = toNumber(r);
    if (n === undefined) throw new PyError('aten::Int did not return a number');
    return Math.trunc(n);
  }
  throw new PyError(`int() of ${pyStr(v, ctx.isTensor)}`);
}

export function toFloat<T>(v: unknown, ctx: PyContext<T>): PyFloat {
  if (v instanceof PyFloat) return v;
  if (typeof v === 'number' || typeof v === 'boolean') return new PyFloat(toNumber(v)!);
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    const special: Record<string, number> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, nan: NaN };
    if (s in special) return new PyFloat(special[s]);
    const x = Number(s);
    if (s !== '' && !Number.isNaN(x)) return new PyFloat(x);
  }
  if (ctx.isTensor(v)) {
    const n = toNumber(ctx.host('aten::Float', [v]));
    if (n === undefined) throw new PyError('aten::Float did not return a number');
    return new PyFloat(n);
  }
  throw new PyError(`float() of ${pyStr(v, ctx.isTensor)}`);
}

function format<T>(fmt: string, args: Value<T>[], ctx: PyContext<T>): string {
  let k = 0;
  const out = fmt.replace(/\{\}/g, () => (k < args.length ? pyStr(args[k++], ctx.isTensor) : '{}'));
  return out.length > ctx.maxList ? out.slice(0, ctx.maxList) : out;
}

export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Abramowitz–Stegun 7.1.26 is too coarse; this is the series/continued fraction pair (|err| < 1e-15). */
function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 60; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc by a continued fraction (Lentz), good for |x| ≥ 2.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}
