/**
 * Python list, tuple, dict and string operations as TorchScript writes them (`torch.append(l, x)`,
 * `torch.slice(l, 1)`, `torch.keys(d)`, `torch.__getitem__`, subscripts), with Python's indexing and
 * slicing rules and the run's list-length cap.
 */
import { PyError, binaryScalar, pyCompare, pyContains, pyEquals } from './arith';
import type { PyContext } from './builtins';
import { type Value, dictKey, isTuple, pyStr, toNumber, tuple } from './values';

/** Returned when a `torch.X` call is not Python-level and belongs to the host. */
export const NOT_PYTHON = Symbol('not python');

export function containerOp<T>(
  name: string,
  args: Value<T>[],
  kwargs: Record<string, Value<T>>,
  ctx: PyContext<T>,
): unknown {
  const [a, b, c] = args;
  const cap = <X>(v: X[]): X[] => {
    if (v.length > ctx.maxList) throw new PyError(`a list longer than ${ctx.maxList} elements`);
    return v;
  };
  const mutable = (): Value<T>[] => {
    if (!Array.isArray(a) || isTuple(a)) throw new PyError(`${name}() on a value that is not a list`);
    return a as Value<T>[];
  };
  switch (name) {
    case 'append': {
      const l = mutable();
      l.push(b);
      cap(l);
      return a;
    }
    case 'extend':
      mutable().push(...ctx.items(b));
      cap(mutable());
      return null;
    case 'insert': {
      const l = mutable();
      const i = clampIndex(toNumber(b)!, l.length);
      l.splice(i, 0, c);
      cap(l);
      return null;
    }
    case 'pop': {
      if (a instanceof Map) {
        const k = dictKey(b);
        if (!a.has(k)) {
          if (args.length > 2) return c;
          throw new PyError(`KeyError: ${pyStr(b, ctx.isTensor, 1)}`);
        }
        const v = a.get(k)!;
        a.delete(k);
        return v;
      }
      const l = mutable();
      const i = index(args.length > 1 ? toNumber(b)! : -1, l.length);
      return l.splice(i, 1)[0];
    }
    case 'clear':
      if (a instanceof Map) a.clear();
      else mutable().length = 0;
      return null;
    case 'reverse':
      mutable().reverse();
      return null;
    case 'copy':
    case 'list':
      if (a instanceof Map) return name === 'copy' ? new Map(a) : [...a.keys()];
      return cap([...ctx.items(a)]);
    case 'add':
    case 'mul': {
      const r = binaryScalar(name === 'add' ? '+' : '*', a, b, ctx.maxList);
      if (r !== undefined) return r;
      break;
    }
    case 'eq':
      return pyEquals(a, b);
    case 'ne':
      return !pyEquals(a, b);
    case '__contains__':
      return pyContains(a, b);
    case 'count':
      return ctx.items(a).filter((x) => pyEquals(x, b)).length;
    case 'index': {
      const i = ctx.items(a).findIndex((x) => pyEquals(x, b));
      if (i < 0) throw new PyError('ValueError: value is not in list');
      return i;
    }
    case 'remove': {
      const l = mutable();
      const i = l.findIndex((x) => pyEquals(x, b));
      if (i < 0) throw new PyError('ValueError: list.remove(x): x not in list');
      l.splice(i, 1);
      return null;
    }
    case '__getitem__':
      return getItem(a, b, ctx);
    case '_set_item':
      setItem(a, b, c, ctx);
      return a;
    case 'slice':
      if (typeof a === 'string' || Array.isArray(a)) return sliceSeq(a, args[1], args[2], args[3] ?? 1, ctx);
      break;
    case 'sum':
      return ctx.items(a).reduce((s: unknown, x) => binaryScalar('+', s, x, ctx.maxList), 0);
    case 'min':
    case 'max':
      return minMax(name, args, ctx);
    case 'sort':
    case 'sorted': {
      const l = name === 'sort' ? mutable() : [...ctx.items(a)];
      l.sort((x, y) => (pyCompare('<', x, y) ? -1 : pyCompare('>', x, y) ? 1 : 0));
      if (kwargs.reverse === true || b === true) l.reverse();
      return name === 'sort' ? null : l;
    }
    case 'keys':
    case 'values':
    case 'items':
      if (a instanceof Map) {
        if (name === 'keys') return [...a.keys()] as Value<T>[];
        if (name === 'values') return [...a.values()];
        return [...a].map(([k, v]) => tuple<T>([k as Value<T>, v]));
      }
      break;
    case 'get':
    case 'setdefault':
      if (a instanceof Map) {
        const k = dictKey(b);
        if (a.has(k)) return a.get(k)!;
        if (name === 'setdefault') a.set(k, c ?? null);
        return c ?? null;
      }
      break;
    case 'update':
      if (a instanceof Map && b instanceof Map) for (const [k, v] of b) a.set(k, v);
      return null;
    case 'dict':
      if (a instanceof Map) return new Map(a);
      break;
    case 'join':
      if (typeof a === 'string')
        return ctx
          .items(b)
          .map((x) => pyStr(x, ctx.isTensor))
          .join(a);
      break;
    case 'lower':
    case 'upper':
      if (typeof a === 'string') return name === 'lower' ? a.toLowerCase() : a.toUpperCase();
      break;
    case 'startswith':
    case 'endswith':
      if (typeof a === 'string' && typeof b === 'string')
        return name === 'startswith' ? a.startsWith(b) : a.endsWith(b);
      break;
  }
  return NOT_PYTHON;
}

/** Python subscripting of lists, tuples, strings and dicts. */
export function getItem<T>(a: unknown, i: unknown, ctx: PyContext<T>): Value<T> {
  if (a instanceof Map) {
    const k = dictKey(i);
    if (!a.has(k)) throw new PyError(`KeyError: ${pyStr(i, ctx.isTensor, 1)}`);
    return a.get(k) as Value<T>;
  }
  if (typeof a === 'string' || Array.isArray(a)) {
    if (typeof i !== 'number' && typeof i !== 'boolean') throw new PyError('indices must be integers');
    const k = index(Number(i), a.length);
    return a[k] as Value<T>;
  }
  throw new PyError(`a value of this type cannot be indexed`);
}

export function setItem<T>(a: unknown, i: unknown, v: unknown, ctx: PyContext<T>): void {
  if (a instanceof Map) {
    a.set(dictKey(i), v);
    if (a.size > ctx.maxList) throw new PyError(`a dict with more than ${ctx.maxList} entries`);
    return;
  }
  if (Array.isArray(a) && !isTuple(a)) {
    if (typeof i !== 'number') throw new PyError('list indices must be integers');
    a[index(i, a.length)] = v;
    return;
  }
  throw new PyError('item assignment on a value that is not a list or dict');
}

export function sliceSeq<T>(
  a: string | readonly unknown[],
  start: unknown,
  stop: unknown,
  step: unknown,
  ctx: PyContext<T>,
): Value<T> {
  const n = a.length;
  const st = step === null || step === undefined ? 1 : toNumber(step)!;
  if (!st) throw new PyError('slice step cannot be zero');
  const bound = (v: unknown, dflt: number): number => {
    if (v === null || v === undefined) return dflt;
    let x = toNumber(v)!;
    if (x < 0) x += n;
    return st > 0 ? Math.min(Math.max(x, 0), n) : Math.min(Math.max(x, -1), n - 1);
  };
  const lo = bound(start, st > 0 ? 0 : n - 1);
  const hi = bound(stop, st > 0 ? n : -1);
  const idx: number[] = [];
  for (let i = lo; st > 0 ? i < hi : i > hi; i += st) idx.push(i);
  if (idx.length > ctx.maxList) throw new PyError(`a list longer than ${ctx.maxList} elements`);
  if (typeof a === 'string') return idx.map((i) => a[i]).join('');
  const out = idx.map((i) => a[i]) as Value<T>[];
  return isTuple(a) ? tuple(out) : out;
}

function index(i: number, n: number): number {
  const k = i < 0 ? i + n : i;
  if (!Number.isInteger(k) || k < 0 || k >= n) throw new PyError('IndexError: index out of range');
  return k;
}

function clampIndex(i: number, n: number): number {
  const k = i < 0 ? i + n : i;
  return Math.min(Math.max(k, 0), n);
}

export function minMax<T>(name: string, args: Value<T>[], ctx: PyContext<T>): unknown {
  const items = args.length === 1 ? ctx.items(args[0]) : args;
  if (!items.length) throw new PyError(`${name}() of an empty sequence`);
  let best: unknown = items[0];
  for (const x of items.slice(1)) if (pyCompare(name === 'min' ? '<' : '>', x, best)) best = x;
  return best;
}
