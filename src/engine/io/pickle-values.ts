/** The Python values a pickle can hold, as jacscope represents them, and the globals it allows. */
import type { OpenBudget } from './budget';

/** A reference to a global that was not called (or not yet). */
export class PyGlobal {
  constructor(
    /** `module.name`. */
    readonly $global: string,
    /** Set when the caller allow-listed the name as a callable. */
    readonly call?: AllowedGlobal['call'],
  ) {}
}

/** What an unknown global would have built: the request, recorded and never executed. */
export class PyObject {
  /** BUILD state (for an nn.Module: a dict with `_parameters`, `_buffers`, `_modules`, ...). */
  state: unknown = undefined;
  /** Items APPENDed to the object (list subclasses). */
  listItems?: unknown[];
  /** Items SETITEMed on the object (dict subclasses). */
  dictItems?: Map<unknown, unknown>;
  constructor(
    readonly $global: string,
    readonly args: readonly unknown[],
    readonly kwargs?: Map<unknown, unknown>,
  ) {}
}

export interface AllowedGlobal {
  /**
   * Called with the arguments of REDUCE / NEWOBJ. Must validate them: they come from the file. Whatever
   * it copies or builds (elements of a container argument, bytes) it charges to `budget` first.
   */
  call?: (args: unknown[], budget: OpenBudget) => unknown;
  /** Pushed as the global's value (used for constants such as `torch.float32`). */
  value?: unknown;
}

export interface UnpickleOptions {
  /** `module.name` → how to resolve it. Everything else is an inert placeholder. */
  globals?: ReadonlyMap<string, AllowedGlobal>;
  /** Resolves BINPERSID / PERSID ids. Without it a persistent id is an error. */
  persistentLoad?: (pid: unknown) => unknown;
  /** Names the pickle in messages, e.g. `data.pkl`. */
  label?: string;
  /** Deepest container nesting accepted (default 1000). */
  maxDepth?: number;
  /**
   * The budget of the file the pickle is part of: values pushed, inserted, copied and merged, and
   * bytes decoded, are charged to it. Without one, the pickle gets a budget of its own.
   */
  budget?: OpenBudget;
  /** `maxValues` of the pickle's own budget, where no `budget` is given (default OPEN_LIMITS.maxValues). */
  maxObjects?: number;
  /** Most memo entries (default 1,000,000). */
  maxMemo?: number;
  /** Most distinct lists, tuples, dicts, sets and objects in the result (default 1,000,000). */
  maxContainers?: number;
}

export interface UnpickleResult {
  value: unknown;
  /** Globals that were not on the allow-list, in order of first use. */
  unknownGlobals: string[];
}

/** Attributes set by BUILD on values that are not `PyObject`s (e.g. `_metadata` on a state_dict). */
export const attributes = new WeakMap<object, unknown>();
export function pyAttributes(value: object): unknown {
  return attributes.get(value);
}

export function isTuple(v: unknown): v is readonly unknown[] {
  return Array.isArray(v) && Object.isFrozen(v);
}

/** Python 2 names that protocol-2 pickles use (fix_imports), mapped to Python 3. Maps, not objects:
 * the names come from the file, and `constructor` must not find Object's. */
export const COMPAT_MODULES = new Map([
  ['__builtin__', 'builtins'],
  ['copy_reg', 'copyreg'],
]);
export const COMPAT_NAMES = new Map([
  ['builtins.unicode', 'builtins.str'],
  ['builtins.long', 'builtins.int'],
  ['builtins.xrange', 'builtins.range'],
]);

export function globalName(module: string, name: string): string {
  const full = `${COMPAT_MODULES.get(module) ?? module}.${name}`;
  return COMPAT_NAMES.get(full) ?? full;
}

/**
 * Globals that plain Python containers need and that are safe to build: the caller usually merges
 * these with its own.
 */
export const BASE_GLOBALS: ReadonlyMap<string, AllowedGlobal> = new Map<string, AllowedGlobal>([
  ['collections.OrderedDict', { call: newDict }],
  // defaultdict(factory): the factory is irrelevant once the items are read.
  ['collections.defaultdict', { call: () => new Map() }],
  ['builtins.dict', { call: newDict }],
  ['builtins.set', { call: (args, budget) => new Set(copiedItems(args, budget)) }],
  ['builtins.frozenset', { call: (args, budget) => new Set(copiedItems(args, budget)) }],
  ['builtins.list', { call: copiedItems }],
  ['builtins.tuple', { call: (args, budget) => Object.freeze(copiedItems(args, budget)) }],
  ['builtins.bytearray', { call: bytesFromArgs }],
  ['builtins.bytes', { call: bytesFromArgs }],
  // Protocol 2 writes bytes as _codecs.encode(str, 'latin1').
  ['_codecs.encode', { call: bytesFromArgs }],
  [
    // copyreg._reconstructor(cls, base, state): protocol 0/1 object creation; keep it inert under cls's name.
    'copyreg._reconstructor',
    {
      call: (args) =>
        args[0] instanceof PyGlobal && !args[0].call
          ? new PyObject(args[0].$global, args.slice(1))
          : new PyObject('copyreg._reconstructor', args),
    },
  ],
]);

/** dict(x) / OrderedDict(x): a copy of a dict or of a list of pairs, charged before it is made. */
export function newDict(args: unknown[], budget: OpenBudget): Map<unknown, unknown> {
  const src = args[0];
  if (src instanceof Map) {
    // An item is two values, key and value.
    budget.values(2 * src.size);
    return new Map(src);
  }
  const m = new Map<unknown, unknown>();
  if (Array.isArray(src)) {
    budget.values(2 * src.length);
    for (const kv of src) if (Array.isArray(kv) && kv.length === 2) m.set(kv[0], kv[1]);
  }
  return m;
}

/** A new array of the items of a list, tuple, set or dict (its keys), charged before it is made. */
export function copiedItems(args: unknown[], budget: OpenBudget): unknown[] {
  const a = args[0];
  if (a === undefined) return [];
  if (Array.isArray(a)) {
    budget.values(a.length);
    return [...a];
  }
  if (a instanceof Set) {
    budget.values(a.size);
    return [...a];
  }
  if (a instanceof Map) {
    budget.values(a.size);
    return [...a.keys()];
  }
  throw new TypeError('expected a list');
}

export function bytesFromArgs(args: unknown[], budget: OpenBudget): Uint8Array {
  const a = args[0];
  if (a === undefined) return new Uint8Array(0);
  if (a instanceof Uint8Array) return a;
  if (Array.isArray(a)) {
    budget.values(a.length);
    budget.bytes(a.length);
    const out = new Uint8Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = Number(a[i]) & 0xff;
    return out;
  }
  if (typeof a === 'string') {
    budget.bytes(a.length);
    // latin1: each code point is a byte (what pickle's bytes-as-str encoding relies on).
    const out = new Uint8Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const c = a.charCodeAt(i);
      if (c > 0xff) throw new TypeError('a bytes string with characters beyond latin-1');
      out[i] = c;
    }
    return out;
  }
  throw new TypeError('expected bytes');
}
