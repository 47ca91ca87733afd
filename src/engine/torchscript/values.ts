/**
 * Values of the TorchScript interpreter, as JS values:
 *
 * | Python                    | JS                                                     |
 * |---------------------------|--------------------------------------------------------|
 * | None                      | `null`                                                 |
 * | bool                      | `boolean`                                              |
 * | int                       | `number` (exact to 2^53; 2^63-1 slice ends round)       |
 * | float                     | `PyFloat` (so that `1.` stays a float: dtype inference) |
 * | str                       | `string`                                               |
 * | list                      | a mutable array                                        |
 * | tuple                     | a frozen array (`Object.isFrozen`)                     |
 * | dict                      | `Map` (str/int/bool keys by value, others by identity) |
 * | Tensor                    | the host's `T`                                         |
 * | torch.float32 etc.        | `DTypeConst` (`{ dtype: 'float32' }`); code prints ints |
 * | torch.device              | `Device` (`{ type: 'cpu' }`)                           |
 * | a module / class instance | `ScriptObject`                                         |
 * | a TorchScript function    | `ScriptFunction`                                       |
 */
import type { FunctionDef } from './ast';
import type { ClassInfo } from './classes';

export class PyFloat {
  constructor(readonly value: number) {}
  toString(): string {
    return formatFloat(this.value);
  }
}

/** `torch.float32` and the like (serialized code mostly writes dtypes as ScalarType ints instead). */
export class DTypeConst {
  constructor(readonly dtype: string) {}
}

export class Device {
  constructor(
    readonly type: string,
    readonly index: number | null = null,
  ) {}
}

/** The value of `uninitialized(T)`: a placeholder on paths that raise before using it. */
export class Uninitialized {
  constructor(readonly type: string) {}
}

/** `range(start, stop, step)`, iterated lazily. */
export class RangeValue {
  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
  ) {}
  get length(): number {
    const n = Math.ceil((this.stop - this.start) / this.step);
    return n > 0 ? n : 0;
  }
}

/** A module (or other TorchScript class) instance: attributes from data.pkl plus any set by the code. */
export class ScriptObject<T = unknown> {
  constructor(
    /** Qualified class name, e.g. `__torch__.torch.nn.modules.linear.Linear`. */
    readonly type: string,
    readonly cls: ClassInfo | undefined,
    readonly attrs: Map<string, Value<T>>,
    /** Attribute path from the root module (`''` for the root, `layers.0` ...). */
    readonly path: string,
  ) {}
}

/** A function or method of the archive's code; `self` is set for bound methods. */
export class ScriptFunction<T = unknown> {
  constructor(
    readonly qualname: string,
    readonly def: FunctionDef,
    readonly self: ScriptObject<T> | null = null,
  ) {}
}

/** A class used as a value (NamedTuple constructors). */
export class ClassRef {
  constructor(readonly cls: ClassInfo) {}
}

export type DictKey = string | number | boolean | object | null;

export type Value<T> =
  | null
  | boolean
  | number
  | PyFloat
  | string
  | T
  | Value<T>[]
  | readonly Value<T>[]
  | Map<DictKey, Value<T>>
  | ScriptObject<T>
  | ScriptFunction<T>
  | ClassRef
  | DTypeConst
  | Device
  | RangeValue
  | Uninitialized;

/** Field names of named tuples (frozen arrays). */
export const namedTupleFields = new WeakMap<readonly unknown[], readonly string[]>();

export function isTuple(v: unknown): boolean {
  return Array.isArray(v) && Object.isFrozen(v);
}

export function isList(v: unknown): v is unknown[] {
  return Array.isArray(v) && !Object.isFrozen(v);
}

export function tuple<T>(items: Value<T>[]): readonly Value<T>[] {
  return Object.freeze(items);
}

/** int, float or bool as a JS number; undefined for anything else. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

export function isScalar(v: unknown): v is number | PyFloat | boolean {
  return typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;
}

/** A dict key: floats by value, everything else as is. */
export function dictKey(v: unknown): DictKey {
  if (v instanceof PyFloat) return v.value;
  return v as DictKey;
}

/** Python's repr of a float: `1.0`, `1e-05`, `inf`. */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  const s = String(x);
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

/** `str()` of a value (tensors and objects as their type names). */
export function pyStr(v: unknown, isTensor: (v: unknown) => boolean, depth = 0): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? String(v) : BigInt(Math.round(v)).toString();
  if (v instanceof PyFloat) return formatFloat(v.value);
  if (typeof v === 'string') return depth ? `'${v}'` : v;
  if (depth > 8) return '...';
  if (isTensor(v)) return 'tensor(...)';
  if (Array.isArray(v)) {
    const body = v
      .slice(0, 100)
      .map((x) => pyStr(x, isTensor, depth + 1))
      .join(', ');
    const more = v.length > 100 ? ', ...' : '';
    if (isTuple(v)) return `(${body}${v.length === 1 ? ',' : ''}${more})`;
    return `[${body}${more}]`;
  }
  if (v instanceof Map) {
    const items = [...v]
      .slice(0, 100)
      .map(([k, x]) => `${pyStr(k, isTensor, 1)}: ${pyStr(x, isTensor, depth + 1)}`);
    return `{${items.join(', ')}}`;
  }
  if (v instanceof Device) return v.index === null ? v.type : `${v.type}:${v.index}`;
  if (v instanceof DTypeConst) return `torch.${v.dtype}`;
  if (v instanceof ScriptObject) return `<${v.type} object>`;
  if (v instanceof ScriptFunction) return `<function ${v.qualname}>`;
  if (v instanceof RangeValue) return `range(${v.start}, ${v.stop}, ${v.step})`;
  return typeof v === 'object' ? 'object' : String(v);
}

/** Python type names for messages. */
export function typeName(v: unknown, isTensor: (v: unknown) => boolean): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'int';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'string') return 'str';
  if (isTensor(v)) return 'Tensor';
  if (Array.isArray(v)) return isTuple(v) ? 'tuple' : 'list';
  if (v instanceof Map) return 'dict';
  if (v instanceof ScriptObject) return v.type;
  if (v instanceof ScriptFunction) return 'function';
  if (v instanceof Device) return 'Device';
  if (v instanceof DTypeConst) return 'dtype';
  if (v instanceof RangeValue) return 'range';
  if (v instanceof Uninitialized) return 'uninitialized';
  return typeof v;
}
