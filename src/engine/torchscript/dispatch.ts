/**
 * Calls by name: `torch.X` / `ops.aten.X` / `torch.nn.functional.X` (Python-level when the arguments
 * are Python values, the host's `aten::X` otherwise), `ops.prim.X`, `math.X`, builtins (`len`,
 * `range`, `int`, ...), `__torch__.…` functions and named tuples, and methods of modules, tensors,
 * lists, dicts and strings.
 */
import { PyError } from './arith';
import type { SourceLoc } from './ast';
import { NOT_PYTHON, roundHalfEven, toFloat, toInt, torchPython } from './builtins';
import type { ClassInfo } from './classes';
import type { Runtime } from './runtime';
import {
  ClassRef,
  type DictKey,
  DTypeConst,
  Device,
  PyFloat,
  RangeValue,
  ScriptFunction,
  ScriptObject,
  Uninitialized,
  type Value,
  dictKey,
  namedTupleFields,
  pyStr,
  toNumber,
  tuple,
  typeName,
} from './values';

/** A dotted name not yet resolved to a value: `torch`, `ops.aten`, `__torch__.torch.nn`, `len`. */
export class NamePath {
  constructor(readonly path: string) {}
}

/** An exception object, for `raise`. */
export class ExceptionValue {
  constructor(
    readonly cls: string,
    readonly message: string,
  ) {}
}

export interface Calls<T> extends Runtime<T> {
  callScript(
    fn: ScriptFunction<T>,
    args: Value<T>[],
    kwargs: Record<string, Value<T>>,
    loc: SourceLoc,
  ): Value<T>;
}

/** Names usable without a prefix. */
export const BUILTIN_NAMES = new Set(
  (
    'len range int float bool str min max abs round sum any all list tuple dict enumerate zip sorted ' +
    'divmod print getattr hasattr Exception RuntimeError ValueError AssertionError TypeError IndexError ' +
    'KeyError NotImplementedError'
  ).split(' '),
);
export const NAMESPACES = new Set(['torch', 'ops', '__torch__', 'math', 'builtins', 'CONSTANTS', 'typing']);

/** `torch.<name>` dtype constants: the canonical names and their aliases. */
const DTYPE_NAMES: Record<string, string> = Object.fromEntries(
  (
    'float32 float:float32 float64 double:float64 float16 half:float16 bfloat16 complex64 cfloat:complex64 ' +
    'complex128 cdouble:complex128 int64 long:int64 int32 int:int32 int16 int8 uint8 bool'
  )
    .split(' ')
    .map((e) => [e.split(':')[0], e.split(':')[1] ?? e]),
);

/** `prefix.name` as a value: constants, functions, classes, dtypes; a NamePath while it names a package. */
export function resolveAttrPath<T>(rt: Runtime<T>, path: string, loc: SourceLoc): Value<T> | NamePath {
  const c = /^CONSTANTS\.c(\d+)$/.exec(path);
  if (c) return rt.constant(Number(c[1]), loc);
  if (path.startsWith('__torch__.')) {
    const fn = rt.archive.functions.get(path);
    if (fn) return new ScriptFunction<T>(path, fn.def);
    const cls = rt.archive.classes.get(path);
    if (cls) return new ClassRef(cls);
    return new NamePath(path);
  }
  const m = /^torch\.(\w+)$/.exec(path);
  if (m && m[1] in DTYPE_NAMES) return new DTypeConst(DTYPE_NAMES[m[1]]);
  const math: Record<string, number> = {
    'math.pi': Math.PI,
    'math.e': Math.E,
    'math.inf': Infinity,
    'math.nan': NaN,
  };
  if (path in math) return new PyFloat(math[path]);
  return new NamePath(path);
}

/** The aten name of a `torch.…` path, or undefined. */
function atenName(path: string): string | undefined {
  const prefixes: [string, string][] = [
    ['torch.nn.functional.', ''],
    ['torch.fft.', 'fft_'],
    ['torch.linalg.', 'linalg_'],
    ['torch.special.', 'special_'],
    ['ops.aten.', ''],
    ['torch.', ''],
  ];
  for (const [p, add] of prefixes) {
    if (path.startsWith(p)) {
      const rest = path.slice(p.length);
      return /^\w+$/.test(rest) ? add + rest : undefined;
    }
  }
  return undefined;
}

export type Dispatcher<T> = (args: Value<T>[], kwargs: Record<string, Value<T>>, loc: SourceLoc) => Value<T>;

/**
 * What calling the dotted name `path` does, decided once (interpreters cache it per call site):
 * `__torch__.` functions and named tuples, `ops.prim.X`, `torch.device`, `math.X`, builtins, aten ops.
 */
export function compilePath<T>(rt: Calls<T>, path: string, at: SourceLoc): Dispatcher<T> {
  if (path.startsWith('__torch__.')) {
    const target = resolveAttrPath(rt, path, at);
    if (target instanceof NamePath) rt.fail(`unknown function ${path} (not in the archive's code)`, at);
    return (args, kwargs, loc) => callValue(rt, target as Value<T>, args, kwargs, loc);
  }
  if (path.startsWith('ops.prim.')) {
    const name = path.slice(9);
    return (args, kwargs, loc) => callPrim(rt, name, args, kwargs, loc);
  }
  if (path === 'torch.device') return (args, kwargs, loc) => makeDevice(args[0] ?? kwargs.type, loc, rt);
  if (path.startsWith('math.')) {
    const name = path.slice(5);
    return (args, kwargs, loc) => {
      const r = torchPython(name, args, kwargs, rt.ctx);
      if (r === NOT_PYTHON) rt.fail(`unsupported function ${path}`, loc);
      return r as Value<T>;
    };
  }
  const builtin = path.startsWith('builtins.') ? path.slice(9) : BUILTIN_NAMES.has(path) ? path : undefined;
  if (builtin) return (args, kwargs, loc) => callBuiltin(rt, builtin, args, kwargs, loc);
  const aten = atenName(path);
  if (aten) return (args, kwargs, loc) => callTorch(rt, aten, args, kwargs, loc);
  return rt.fail(`unsupported function ${path}`, at);
}

export function callPath<T>(
  rt: Calls<T>,
  path: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  return compilePath(rt, path, loc)(args, kwargs, loc);
}

/** `torch.<name>(...)`: Python-level, a shape query, or the host's `aten::<name>`. */
export function callTorch<T>(
  rt: Runtime<T>,
  name: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  rt.step(loc);
  const py = torchPython(name, args, kwargs, rt.ctx);
  if (py !== NOT_PYTHON) return py as Value<T>;
  const [a, b] = args;
  if (rt.host.isTensor(a)) {
    const shape = rt.host.shape(a);
    switch (name) {
      case 'size': {
        const dim = b ?? kwargs.dim;
        if (dim === undefined || dim === null) return [...shape];
        const d = toNumber(dim)!;
        const k = d < 0 ? d + shape.length : d;
        if (!(k >= 0 && k < shape.length))
          throw new PyError(`size(): dimension ${d} out of range for ${shape.length}-d tensor`);
        return shape[k];
      }
      case 'dim':
        return shape.length;
      case 'numel':
        return shape.reduce((p, x) => p * x, 1);
    }
  }
  return rt.hostCall(`aten::${name}`, args, kwargs, loc);
}

function callPrim<T>(
  rt: Calls<T>,
  name: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  const [a, b] = args;
  switch (name) {
    case 'unchecked_cast':
      return args[args.length - 1] ?? null;
    case 'RaiseException': {
      const cls = typeof b === 'string' ? b.replace(/^builtins\./, '') : 'Exception';
      return rt.fail(`the model raised ${cls}: ${pyStr(a, rt.ctx.isTensor) || '(no message)'}`, loc);
    }
    case 'min':
    case 'max':
    case 'abs':
      return callTorch(rt, name, args, kwargs, loc);
    case 'device':
      return new Device('cpu');
    case 'is_cuda':
    case 'requires_grad':
      return false;
    case 'layout':
      return 0;
    case 'shape':
      if (rt.host.isTensor(a)) return [...rt.host.shape(a)];
      break;
    case 'data':
      return a;
    case 'TupleConstruct':
      return tuple(args);
    case 'ListConstruct':
      return [...args];
    case 'TupleIndex':
      if (Array.isArray(a) && typeof b === 'number') return a[b < 0 ? b + a.length : b] as Value<T>;
      break;
    case 'Uninitialized':
      return new Uninitialized('?');
  }
  rt.step(loc);
  return rt.hostCall(`prim::${name}`, args, kwargs, loc);
}

function makeDevice<T>(spec: unknown, loc: SourceLoc, rt: Runtime<T>): Device {
  if (spec instanceof Device) return spec;
  if (typeof spec !== 'string') return rt.fail('torch.device() of something that is not a string', loc);
  const m = /^([a-z]+)(?::(\d+))?$/.exec(spec);
  if (!m) return rt.fail(`torch.device('${spec.slice(0, 40)}') is not a device`, loc);
  return new Device(m[1], m[2] === undefined ? null : Number(m[2]));
}

/** Calls a value: a TorchScript function, a named tuple class, or a dotted name. */
export function callValue<T>(
  rt: Calls<T>,
  f: Value<T> | NamePath,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  if (f instanceof NamePath) return callPath(rt, f.path, args, kwargs, loc);
  if (f instanceof ScriptFunction) return rt.callScript(f, args, kwargs, loc);
  if (f instanceof ClassRef) return construct(rt, f.cls, args, kwargs, loc);
  return rt.fail(`a ${typeName(f, rt.ctx.isTensor)} value is not callable`, loc);
}

function construct<T>(
  rt: Runtime<T>,
  cls: ClassInfo,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  if (cls.kind !== 'namedtuple')
    rt.fail(`creating objects of class ${cls.qualname} is not supported (only named tuples)`, loc);
  const fields = cls.fields;
  if (args.length > fields.length) rt.fail(`${cls.def.name}() takes ${fields.length} fields`, loc);
  const values = fields.map((f, i) => {
    if (i < args.length) return args[i];
    if (f in kwargs) return kwargs[f];
    const dflt = cls.constants.get(f);
    if (!dflt) return rt.fail(`${cls.def.name}() is missing field '${f}'`, loc);
    return (rt as unknown as { evalConstant(e: unknown): Value<T> }).evalConstant(dflt);
  });
  const t = tuple(values);
  namedTupleFields.set(t, fields);
  return t;
}

/** `target.name(args)` for a value that is not a dotted name. */
export function callMethod<T>(
  rt: Calls<T>,
  target: Value<T>,
  name: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  if (target instanceof ScriptObject) {
    const m = rt.objectAttr(target, name);
    if (m === undefined) rt.fail(`module ${target.type} has no method '${name}'`, loc);
    return callValue(rt, m, args, kwargs, loc);
  }
  if (
    rt.host.isTensor(target) ||
    Array.isArray(target) ||
    target instanceof Map ||
    typeof target === 'string'
  ) {
    return callTorch(rt, name, [target, ...args], kwargs, loc);
  }
  return rt.fail(`a ${typeName(target, rt.ctx.isTensor)} value has no method '${name}'`, loc);
}

function callBuiltin<T>(
  rt: Calls<T>,
  name: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  loc: SourceLoc,
): Value<T> {
  rt.step(loc);
  const [a, b] = args;
  const ctx = rt.ctx;
  switch (name) {
    case 'len':
    case 'min':
    case 'max':
    case 'sorted':
      return callTorch(rt, name, args, kwargs, loc);
    case 'abs':
      return callTorch(rt, 'abs', args, kwargs, loc);
    case 'range': {
      const nums = args.map((x) => {
        if (typeof x !== 'number' && typeof x !== 'boolean') return rt.fail('range() takes integers', loc);
        return Number(x);
      });
      const [start, stop, step] = nums.length === 1 ? [0, nums[0], 1] : [nums[0], nums[1], nums[2] ?? 1];
      if (step === 0) rt.fail('range() arg 3 must not be zero', loc);
      if (![start, stop, step].every(Number.isSafeInteger)) rt.fail('range() bounds too large', loc);
      return new RangeValue(start, stop, step);
    }
    case 'int':
      return args.length ? toInt(a, ctx) : 0;
    case 'float':
      return args.length ? toFloat(a, ctx) : new PyFloat(0);
    case 'bool':
      return args.length ? ctx.truthy(a) : false;
    case 'str':
      return args.length ? pyStr(a, ctx.isTensor) : '';
    case 'round': {
      const x = toNumber(a);
      if (x === undefined) return callTorch(rt, 'round', args, kwargs, loc);
      if (b === undefined || b === null) return roundHalfEven(x);
      const p = 10 ** toNumber(b)!;
      return new PyFloat(Math.round(x * p) / p);
    }
    case 'sum':
      return callTorch(rt, 'sum', args, kwargs, loc);
    case 'any':
      return ctx.items(a).some((x) => ctx.truthy(x));
    case 'all':
      return ctx.items(a).every((x) => ctx.truthy(x));
    case 'list':
      return args.length ? [...ctx.items(a)] : [];
    case 'tuple':
      return tuple(args.length ? [...ctx.items(a)] : []);
    case 'dict':
      if (!args.length) return new Map();
      if (a instanceof Map) return new Map(a);
      return new Map(
        ctx
          .items(a)
          .map((kv): [DictKey, Value<T>] =>
            Array.isArray(kv) ? [dictKey(kv[0]), kv[1]] : [dictKey(kv), null],
          ),
      );
    case 'enumerate': {
      const start = toNumber(b ?? kwargs.start ?? 0)!;
      return ctx.items(a).map((x, i) => tuple<T>([start + i, x]));
    }
    case 'zip': {
      const lists = args.map((x) => ctx.items(x));
      const n = Math.min(...lists.map((l) => l.length));
      return Array.from({ length: n }, (_, i) => tuple(lists.map((l) => l[i])));
    }
    case 'divmod':
      return tuple([callTorch(rt, 'floordiv', [a, b], {}, loc), callTorch(rt, 'remainder', [a, b], {}, loc)]);
    case 'print':
      return null;
    case 'getattr': {
      if (typeof b !== 'string') return rt.fail('getattr() with a name that is not a string', loc);
      if (args.length > 2 && !rt.hasAttr(a, b)) return args[2];
      return rt.getAttr(a, b, loc);
    }
    case 'hasattr':
      return typeof b === 'string' && rt.hasAttr(a, b);
  }
  if (/(Error|Exception)$/.test(name)) {
    return new ExceptionValue(name, args.length ? pyStr(a, ctx.isTensor) : '') as unknown as Value<T>;
  }
  return rt.fail(`unsupported builtin ${name}()`, loc);
}
