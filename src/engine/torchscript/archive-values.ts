/**
 * The values of a TorchScript archive's pickles (data.pkl: the module tree; constants.pkl: the
 * `CONSTANTS.cN` tuple) as jacscope holds them: objects of `__torch__` classes with their attributes,
 * tensors decoded to `HostTensor`, Python containers and scalars (floats as `PyFloat` where the
 * class's annotations say `float`).
 */
import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';
import type { OpenBudget } from '../io/budget';
import { type AllowedGlobal, PyGlobal, PyObject, copiedItems } from '../io/pickle-values';
import { TORCH_GLOBALS, TorchDType } from '../io/torch-checkpoint';
import { type Materializer, TensorRef } from '../io/torch-tensors';
import type { CodeTable } from './classes';
import { parseTypeExpr } from './parser';
import { coerceToType } from './types';
import { DTypeConst, Device, PyFloat } from './values';

/** An object of a `__torch__` class (a module, usually) as data.pkl stores it. */
export class TsObject {
  constructor(
    /** Qualified class name, `__torch__.…`. */
    readonly type: string,
    /** Attributes in data.pkl order: parameters, buffers, plain attributes and sub-modules alike. */
    readonly attrs: Map<string, ArchiveValue>,
  ) {}
}

export type ArchiveValue =
  | null
  | boolean
  | number
  | PyFloat
  | string
  | HostTensor
  | ArchiveValue[]
  | readonly ArchiveValue[]
  | Map<string | number | boolean, ArchiveValue>
  | TsObject
  | DTypeConst
  | Device;

export function isHostTensor(v: unknown): v is HostTensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as HostTensor).data instanceof Float64Array &&
    Array.isArray((v as HostTensor).shape)
  );
}

/** `restore_type_tag(value, 'Dict[str, float]')`, `build_doublelist(...)`: a value with its type. */
class TypeTagged {
  constructor(
    readonly value: unknown,
    readonly type: string,
  ) {}
}

/** Globals of TorchScript pickles, on top of those of torch.save checkpoints. */
export const TORCHSCRIPT_GLOBALS: ReadonlyMap<string, AllowedGlobal> = (() => {
  const m = new Map<string, AllowedGlobal>(TORCH_GLOBALS);
  const list = (args: unknown[], budget: OpenBudget): unknown[] => copiedItems(args, budget);
  m.set('torch.jit._pickle.build_intlist', { call: list });
  m.set('torch.jit._pickle.build_boollist', { call: list });
  m.set('torch.jit._pickle.build_tensorlist', { call: list });
  m.set('torch.jit._pickle.build_doublelist', {
    call: (args, budget) => new TypeTagged(list(args, budget), 'List[float]'),
  });
  m.set('torch.jit._pickle.restore_type_tag', {
    call: (args) => new TypeTagged(args[0], typeof args[1] === 'string' ? args[1] : ''),
  });
  m.set('torch.device', {
    call: (args) => {
      const [type, index] = args;
      if (typeof type !== 'string') throw new TypeError('a device name that is not a string');
      const m = /^([a-z]+)(?::(\d+))?$/.exec(type);
      if (!m) throw new TypeError(`device '${type.slice(0, 40)}'`);
      const i = typeof index === 'number' ? index : m[2] !== undefined ? Number(m[2]) : null;
      return new Device(m[1], i);
    },
  });
  return m;
})();

/**
 * Converts an unpickled value. `name` is the attribute path, for messages; tensors are decoded with
 * `materializer` once per tensor reference (shared weights stay shared).
 */
export class ArchiveConverter {
  private readonly memo = new Map<object, ArchiveValue>();

  constructor(
    private readonly file: string,
    private readonly label: string,
    private readonly materializer: Materializer,
    private readonly code: CodeTable,
  ) {}

  convert(v: unknown, name: string): ArchiveValue {
    if (v === null || v === undefined) return null;
    switch (typeof v) {
      case 'boolean':
      case 'number':
      case 'string':
        return v;
      case 'bigint':
        return Number(v);
    }
    const hit = this.memo.get(v as object);
    if (hit !== undefined) return hit;
    if (v instanceof TensorRef) {
      const t = this.materializer.materialize(name, v);
      this.memo.set(v, t);
      return t;
    }
    if (v instanceof TypeTagged) {
      const inner = this.convert(v.value, name);
      const type = v.type.includes('float') ? parseTypeExpr(v.type) : undefined;
      return type ? (coerceToType(inner, type) as ArchiveValue) : inner;
    }
    if (Array.isArray(v)) {
      const out: ArchiveValue[] = [];
      this.memo.set(v, out);
      v.forEach((x, i) => out.push(this.convert(x, `${name}[${i}]`)));
      if (Object.isFrozen(v)) Object.freeze(out);
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<string | number | boolean, ArchiveValue>();
      this.memo.set(v, out);
      for (const [k, x] of v) {
        const key = typeof k === 'bigint' ? Number(k) : k;
        if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'boolean')
          this.fail(`${name} is a dict with a key of an unsupported kind`);
        out.set(key, this.convert(x, `${name}[${JSON.stringify(key)}]`));
      }
      return out;
    }
    if (v instanceof TorchDType) return new DTypeConst(v.dtype);
    if (v instanceof Device) return v;
    if (v instanceof PyObject) return this.convertObject(v, name);
    if (v instanceof PyGlobal) this.fail(`${name || 'the root'} is the Python global ${v.$global}`);
    if (v instanceof Uint8Array) this.fail(`${name} holds bytes, which TorchScript models do not use`);
    return this.fail(`${name || 'the root'} holds a value jacscope cannot read`);
  }

  private convertObject(o: PyObject, name: string): TsObject {
    if (!o.$global.startsWith('__torch__.')) {
      this.fail(`${name || 'the root'} is an object of class ${o.$global}, which jacscope does not read`);
    }
    const attrs = new Map<string, ArchiveValue>();
    const obj = new TsObject(o.$global, attrs);
    this.memo.set(o, obj);
    const state = o.state;
    if (state === undefined) return obj;
    if (!(state instanceof Map)) {
      this.fail(
        `${name || 'the root'} (class ${o.$global}) has a custom state; classes with __getstate__ ` +
          `(e.g. torch.classes) are not supported`,
      );
    }
    const cls = this.code.classes.get(o.$global);
    for (const [k, x] of state as Map<unknown, unknown>) {
      if (typeof k !== 'string')
        this.fail(`${name || 'the root'} has an attribute that is not named by a string`);
      const key = k as string;
      const value = this.convert(x, name ? `${name}.${key}` : key);
      attrs.set(key, coerceToType(value, cls?.attributes.get(key) ?? null) as ArchiveValue);
    }
    return obj;
  }

  private fail(what: string): never {
    throw new LoadError(this.file, `${this.label}: ${what}`);
  }
}
