/**
 * Sizes and scalars (size, dim, numel, NumToTensor, Int, Float, item, prim::dtype …) and dtype
 * conversions (to, type_as, float(), long() …).
 *
 * dtypes arrive as ScalarType codes (ints) or `{dtype: 'float32'}`; values always compute in
 * float64/complex128, so a float or complex dtype decides only the tensor's `kind`, while an
 * integer or bool dtype rounds the values (toward zero, as PyTorch casts) and drops the tangent.
 * Converting a tensor to a Python number drops its tangent, as autograd does with `.item()`.
 */
import { ShapeError } from '../../errors';
import { UnsupportedError, type Args } from '../args';
import { assignInto } from '../copy';
import type { Rule, RuleTable } from '../rule';
import type { Tan } from '../tangent';
import { GTensor, type Kind, item, scalarTensor, zerosTensor } from '../tensor';
import { E, type Expr } from '../lower/expr';
import { recorder } from '../lower/record';

const CODES: Record<number, Kind> = {
  0: 'int',
  1: 'int',
  2: 'int',
  3: 'int',
  4: 'int',
  5: 'float',
  6: 'float',
  7: 'float',
  8: 'complex',
  9: 'complex',
  10: 'complex',
  11: 'bool',
  15: 'float',
};

const NAMES: Record<string, Kind> = {
  uint8: 'int',
  int8: 'int',
  int16: 'int',
  short: 'int',
  int32: 'int',
  int: 'int',
  int64: 'int',
  long: 'int',
  float16: 'float',
  half: 'float',
  bfloat16: 'float',
  float32: 'float',
  float: 'float',
  float64: 'float',
  double: 'float',
  complex32: 'complex',
  chalf: 'complex',
  complex64: 'complex',
  cfloat: 'complex',
  complex128: 'complex',
  cdouble: 'complex',
  bool: 'bool',
};

/** The ScalarType code the engine reports for a kind (prim::dtype). */
const KIND_CODE: Record<Kind, number> = { int: 4, float: 6, complex: 9, bool: 11 };

function dtypeName(v: unknown): string | null {
  const s =
    typeof v === 'string'
      ? v
      : v && typeof v === 'object' && 'dtype' in v
        ? (v as { dtype: unknown }).dtype
        : null;
  return typeof s === 'string' ? s.replace(/^torch\./, '') : null;
}

/** Whether `v` is a dtype as the front-end passes it (a ScalarType code or a dtype constant). */
export function isDtype(v: unknown): boolean {
  if (typeof v === 'number') return v in CODES;
  const n = dtypeName(v);
  return n !== null && n in NAMES;
}

/** The kind a dtype argument names, or `fallback` when it is absent (None). */
export function kindOfDtype(v: unknown, op: string, fallback: Kind): Kind {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number' && v in CODES) return CODES[v];
  const n = dtypeName(v);
  if (n !== null && n in NAMES) return NAMES[n];
  throw new UnsupportedError(`${op}: unsupported dtype ${JSON.stringify(v) ?? String(v)}`);
}

/** The kind read from a rule's `dtype` argument. */
export function dtypeArg(a: Args, fallback: Kind, name = 'dtype'): Kind {
  return kindOfDtype(a.raw(name), a.op, fallback);
}

function isDevice(v: unknown): boolean {
  if (typeof v === 'string') return !isDtype(v);
  if (v && typeof v === 'object' && !(v instanceof GTensor)) {
    const o = v as Record<string, unknown>;
    if (typeof o.device === 'string' || typeof o.type === 'string') return true;
    return typeof o.dtype === 'string' && !isDtype(v);
  }
  return false;
}

/** `x`'s values as a fresh tensor of `kind` (ints and bools rounded as PyTorch casts). */
export function castTo(x: GTensor, kind: Kind): GTensor {
  const out = zerosTensor([...x.shape], kind);
  assignInto(out, x);
  const rec = recorder();
  const whole = (arr: Float64Array) => ({ arr, strides: [1], offset: 0 });
  const nonzero = (v: Expr) => E.bin('ne', v, E.c(0));
  if (kind === 'int' && x.kind !== 'int' && x.kind !== 'bool') {
    const r = out.re;
    rec?.ewise([r.length], [whole(r)], [whole(r)], [E.un('trunc', E.in(0))]);
    for (let i = 0; i < r.length; i++) r[i] = Math.trunc(r[i]);
  } else if (kind === 'bool' && x.kind !== 'bool') {
    const r = out.re;
    if (x.isComplex) {
      const src = zerosTensor([...x.shape], 'complex');
      assignInto(src, x);
      const si = src.im!;
      rec?.ewise(
        [r.length],
        [whole(r), whole(si)],
        [whole(r)],
        [E.select(nonzero(E.in(0)), E.c(1), nonzero(E.in(1)))],
      );
      for (let i = 0; i < r.length; i++) r[i] = r[i] !== 0 || si[i] !== 0 ? 1 : 0;
    } else {
      rec?.ewise([r.length], [whole(r)], [whole(r)], [nonzero(E.in(0))]);
      for (let i = 0; i < r.length; i++) r[i] = r[i] !== 0 ? 1 : 0;
    }
  }
  return out;
}

/** The tangent of a cast from kind `from` to `to`: dropped for ints and bools, real part for real. */
export function castTan(t: Tan, to: Kind): Tan {
  if (!t || to === 'int' || to === 'bool') return null;
  const d = t.data;
  if (to === 'float' && d.isComplex)
    return { data: new GTensor([...d.shape], [...d.strides], d.offset, d.re, null, 'float'), full: t.full };
  if (to === 'complex' && !d.isComplex) {
    const im = new Float64Array(d.re.length);
    return { data: new GTensor([...d.shape], [...d.strides], d.offset, d.re, im, 'complex'), full: t.full };
  }
  return t;
}

interface ToTarget {
  kind: Kind;
  copy: boolean;
}

/** The target of `to` from its overloads: (dtype, …), (device, dtype, …), (other, …), or keywords. */
function toTarget(a: Args): ToTarget {
  const x = a.tensor('self');
  const rest = (a.raw('args') as unknown[] | undefined) ?? [];
  let kind = dtypeArg(a, x.kind);
  let copy = a.bool('copy', false);
  let flags: unknown[] = [];
  const first = rest[0];
  if (first instanceof GTensor) {
    kind = first.kind;
    flags = rest.slice(1);
  } else if (rest.length && (first === null || isDevice(first))) {
    kind = kindOfDtype(rest[1], a.op, kind);
    flags = rest.slice(2);
  } else if (rest.length) {
    kind = kindOfDtype(first, a.op, kind);
    flags = rest.slice(1);
  }
  if (flags.length > 1 && typeof flags[1] === 'boolean') copy = copy || flags[1];
  return { kind, copy };
}

function convertRule(params: string[], target: (a: Args, x: GTensor) => ToTarget): Rule {
  return {
    params,
    view: true,
    forward(a) {
      const x = a.tensor('self');
      const { kind, copy } = target(a, x);
      return kind === x.kind && !copy ? x : castTo(x, kind);
    },
    jvp(a, out, t) {
      const x = a.tensor('self');
      return out === x ? t(x) : castTan(t(x), (out as GTensor).kind);
    },
  };
}

/** A tensor method casting to a fixed dtype (x.float(), x.long(), …). */
const castMethod = (kind: Kind) => convertRule(['self', 'memory_format='], () => ({ kind, copy: false }));

/** A number from a tensor of one element (or a number passed through). */
function numberOf(a: Args, name: string): number {
  const v = a.raw(name);
  if (v instanceof GTensor) {
    if (v.numel !== 1)
      throw new ShapeError(`${a.op}: a tensor of shape [${v.shape}] cannot be converted to a Python number`);
    return item(v);
  }
  return a.number(name);
}

function scalarRule(params: string[], f: (a: Args) => unknown): Rule {
  return { params, nondiff: true, forward: f, jvp: () => null };
}

function sizeOf(a: Args): number | number[] {
  const x = a.tensor('self');
  const d = a.optInt('dim');
  if (d === null) return [...x.shape];
  if (!Number.isInteger(d) || d < -x.rank || d >= x.rank || x.rank === 0)
    throw new ShapeError(`${a.op}: dim ${d} is out of range for a tensor of rank ${x.rank}`);
  return x.shape[d < 0 ? d + x.rank : d];
}

export const scalarRules = {
  'aten::size': scalarRule(['self', 'dim='], sizeOf),
  'aten::sym_size': scalarRule(['self', 'dim='], sizeOf),
  'prim::shape': scalarRule(['self'], (a) => [...a.tensor('self').shape]),
  'aten::stride': scalarRule(['self', 'dim='], (a) => {
    const x = a.tensor('self');
    const d = a.optInt('dim');
    return d === null ? [...x.strides] : x.strides[d < 0 ? d + x.rank : d];
  }),
  'aten::dim': scalarRule(['self'], (a) => a.tensor('self').rank),
  'aten::numel': scalarRule(['self'], (a) => a.tensor('self').numel),
  'aten::sym_numel': scalarRule(['self'], (a) => a.tensor('self').numel),
  'aten::len': scalarRule(['a'], (a) => {
    const v = a.raw('a');
    if (Array.isArray(v)) return v.length;
    const x = a.tensor('a');
    if (x.rank === 0) throw new ShapeError(`${a.op}: len() of a 0-d tensor`);
    return x.shape[0];
  }),
  'aten::is_floating_point': scalarRule(['self'], (a) => a.tensor('self').kind === 'float'),
  'aten::is_complex': scalarRule(['self'], (a) => a.tensor('self').kind === 'complex'),
  'prim::is_cuda': scalarRule(['a'], () => false),
  'prim::dtype': scalarRule(['a'], (a) => KIND_CODE[a.tensor('a').kind]),
  'prim::device': scalarRule(['a'], () => 'cpu'),
  'prim::layout': scalarRule(['a'], () => 0),
  'aten::Int': scalarRule(['a'], (a) => Math.trunc(numberOf(a, 'a'))),
  'aten::IntImplicit': scalarRule(['a'], (a) => Math.trunc(numberOf(a, 'a'))),
  'aten::Float': scalarRule(['a'], (a) => numberOf(a, 'a')),
  'aten::FloatImplicit': scalarRule(['a'], (a) => numberOf(a, 'a')),
  'aten::ScalarImplicit': scalarRule(['a'], (a) => numberOf(a, 'a')),
  'aten::Bool': scalarRule(['a'], (a) => numberOf(a, 'a') !== 0),
  'aten::item': scalarRule(['self'], (a) => {
    const x = a.tensor('self');
    const v = numberOf(a, 'self');
    return x.kind === 'bool' ? v !== 0 : v;
  }),
  'prim::NumToTensor': {
    params: ['a'],
    forward(a) {
      const v = a.raw('a');
      const n = numberOf(a, 'a');
      const kind: Kind = typeof v === 'boolean' ? 'bool' : Number.isInteger(n) ? 'int' : 'float';
      return scalarTensor(n, v instanceof GTensor ? v.kind : kind);
    },
    // A Python number never depends on p here (autograd does not track it either).
    jvp: () => null,
  },
  'aten::to': convertRule(
    [
      'self',
      '*args',
      'dtype=',
      'layout=',
      'device=',
      'pin_memory=',
      'non_blocking=',
      'copy=',
      'memory_format=',
    ],
    toTarget,
  ),
  'aten::type_as': convertRule(['self', 'other'], (a) => ({ kind: a.tensor('other').kind, copy: false })),
  'aten::float': castMethod('float'),
  'aten::double': castMethod('float'),
  'aten::half': castMethod('float'),
  'aten::bfloat16': castMethod('float'),
  'aten::cfloat': castMethod('complex'),
  'aten::cdouble': castMethod('complex'),
  'aten::long': castMethod('int'),
  'aten::int': castMethod('int'),
  'aten::short': castMethod('int'),
  'aten::char': castMethod('int'),
  'aten::byte': castMethod('int'),
  'aten::bool': castMethod('bool'),
} satisfies RuleTable;
