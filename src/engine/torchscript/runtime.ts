/**
 * The interpreter's state and its dealings with values: the run budget (steps, call depth, nesting),
 * archive values turned into runtime values (tensors through `host.fromHost`, once each), attribute
 * access on modules, tensors and named tuples, truthiness, iteration, and located host calls.
 */
import { CancelledError } from '../errors';
import type { HostTensor } from '../tensor';
import { PyError } from './arith';
import { type ArchiveValue, TsObject, isHostTensor } from './archive-values';
import type { TorchScriptArchive } from './archive';
import type { SourceLoc } from './ast';
import type { PyContext } from './builtins';
import { TorchScriptError, located } from './errors';
import type { TensorHost } from './host';
import { RUN_LIMITS, type RunLimits } from './limits';
import {
  Device,
  type DictKey,
  PyFloat,
  RangeValue,
  ScriptFunction,
  ScriptObject,
  Uninitialized,
  type Value,
  namedTupleFields,
  typeName,
} from './values';

export interface InterpreterOptions {
  limits?: Partial<RunLimits>;
  /** Polled every 65,536 steps: returning true stops the run with a CancelledError. */
  shouldStop?: () => boolean;
}

/** Deepest nesting of expression evaluation and blocks across all active calls (keeps the JS stack safe). */
const MAX_NEST = 3000;

/** Attributes of tensors that map to ops. */
const TENSOR_ATTR_OPS: Record<string, string> = {
  T: 'aten::numpy_T',
  mT: 'aten::mT',
  H: 'aten::adjoint',
  mH: 'aten::adjoint',
  real: 'aten::real',
  imag: 'aten::imag',
  data: 'aten::detach',
  dtype: 'prim::dtype',
};

export abstract class Runtime<T> {
  readonly limits: RunLimits;
  /** Host ops called in the current (or last) run, with counts. */
  readonly opCounts = new Map<string, number>();
  protected steps = 0;
  protected callDepth = 0;
  protected nest = 0;
  private readonly tensors = new Map<HostTensor, T>();
  private readonly converted = new Map<object, Value<T>>();
  private readonly sources = new WeakMap<ScriptObject<T>, TsObject>();
  private readonly constantValues: (Value<T> | undefined)[] = [];
  readonly ctx: PyContext<T>;

  constructor(
    readonly archive: TorchScriptArchive,
    readonly host: TensorHost<T>,
    protected readonly options: InterpreterOptions = {},
  ) {
    this.limits = { ...RUN_LIMITS, ...options.limits };
    this.ctx = {
      isTensor: (v): v is T => host.isTensor(v),
      shape: (t) => host.shape(t),
      host: (op, args) => this.hostCall(op, args, {}, null),
      truthy: (v) => this.truthy(v),
      items: (v) => this.items(v),
      maxList: this.limits.maxListLength,
    };
  }

  protected resetRun(): void {
    this.steps = 0;
    this.callDepth = 0;
    this.nest = 0;
    this.opCounts.clear();
  }

  fail(what: string, loc?: SourceLoc): never {
    throw new TorchScriptError(this.archive.file, what, loc);
  }

  /** Counts one step of the budget. */
  step(loc: SourceLoc): void {
    if (++this.steps > this.limits.maxSteps) {
      this.fail(
        `the code runs more than ${this.limits.maxSteps} statements and calls (an endless or huge loop?)`,
        loc,
      );
    }
    if ((this.steps & 0xffff) === 0 && this.options.shouldStop?.()) throw new CancelledError();
  }

  protected enterNest(loc: SourceLoc): void {
    if (++this.nest > MAX_NEST) this.fail('the code nests expressions and calls too deeply to run', loc);
  }

  /** A host op, counted and located. `loc` null: located by the caller's error handling. */
  hostCall(op: string, args: Value<T>[], kwargs: Record<string, Value<T>>, loc: SourceLoc | null): Value<T> {
    this.opCounts.set(op, (this.opCounts.get(op) ?? 0) + 1);
    const at = loc ?? { file: '?', line: 0, col: 0 };
    try {
      return this.host.call(op, args, kwargs, at);
    } catch (e) {
      if (!loc) throw e;
      throw located(e, this.archive.file, loc);
    }
  }

  // --- archive values

  root(): ScriptObject<T> {
    return this.objectOf(this.archive.root);
  }

  constant(index: number, loc: SourceLoc): Value<T> {
    if (!(index >= 0 && index < this.archive.constants.length))
      this.fail(
        `CONSTANTS.c${index} does not exist (constants.pkl holds ${this.archive.constants.length})`,
        loc,
      );
    let v = this.constantValues[index];
    if (v === undefined) {
      v = this.toValue(this.archive.constants[index], `CONSTANTS.c${index}`);
      this.constantValues[index] = v;
    }
    return v;
  }

  private objectOf(o: TsObject, path = ''): ScriptObject<T> {
    const hit = this.converted.get(o);
    if (hit) return hit as ScriptObject<T>;
    const obj = new ScriptObject<T>(o.type, this.archive.classes.get(o.type), new Map(), path);
    this.sources.set(obj, o);
    this.converted.set(o, obj);
    return obj;
  }

  toValue(v: ArchiveValue, origin: string): Value<T> {
    if (v === null || typeof v !== 'object') return v;
    if (isHostTensor(v)) {
      let t = this.tensors.get(v);
      if (t === undefined) {
        t = this.host.fromHost(v, origin);
        this.tensors.set(v, t);
      }
      return t;
    }
    if (v instanceof TsObject) return this.objectOf(v, origin);
    const hit = this.converted.get(v);
    if (hit !== undefined) return hit;
    if (Array.isArray(v)) {
      const out: Value<T>[] = [];
      this.converted.set(v, out);
      v.forEach((x, i) => out.push(this.toValue(x, `${origin}.${i}`)));
      if (Object.isFrozen(v)) Object.freeze(out);
      return out;
    }
    if (v instanceof Map) {
      const out = new Map<DictKey, Value<T>>();
      this.converted.set(v, out);
      for (const [k, x] of v) out.set(k, this.toValue(x, `${origin}.${String(k)}`));
      return out;
    }
    return v; // PyFloat, DTypeConst, Device
  }

  // --- attributes

  /** `obj.name` for modules/objects; undefined when it has no such attribute. */
  objectAttr(obj: ScriptObject<T>, name: string): Value<T> | undefined {
    if (obj.attrs.has(name)) return obj.attrs.get(name)!;
    const src = this.sources.get(obj);
    if (src?.attrs.has(name)) {
      const v = this.toValue(src.attrs.get(name)!, obj.path ? `${obj.path}.${name}` : name);
      obj.attrs.set(name, v);
      return v;
    }
    const cls = obj.cls;
    const method = cls?.methods.get(name);
    if (method) return new ScriptFunction<T>(`${cls!.qualname}.${name}`, method, obj);
    const constant = cls?.constants.get(name);
    if (constant) {
      const v = this.evalConstant(constant);
      obj.attrs.set(name, v);
      return v;
    }
    return undefined;
  }

  /** Class-level `Final` values are literals: evaluated with no variables in scope. */
  protected abstract evalConstant(e: import('./ast').Expr): Value<T>;

  getAttr(v: Value<T>, name: string, loc: SourceLoc): Value<T> {
    if (v instanceof ScriptObject) {
      const r = this.objectAttr(v, name);
      if (r === undefined) this.fail(`module ${shortType(v.type)} has no attribute '${name}'`, loc);
      return r;
    }
    if (this.host.isTensor(v)) return this.tensorAttr(v, name, loc);
    if (Array.isArray(v)) {
      const fields = namedTupleFields.get(v);
      const i = fields ? fields.indexOf(name) : -1;
      if (i >= 0) return v[i] as Value<T>;
    }
    if (v instanceof Device && (name === 'type' || name === 'index')) return v[name];
    return this.fail(`'${typeName(v, this.ctx.isTensor)}' value has no attribute '${name}'`, loc);
  }

  private tensorAttr(t: T, name: string, loc: SourceLoc): Value<T> {
    switch (name) {
      case 'shape':
        return [...this.host.shape(t)];
      case 'ndim':
        return this.host.shape(t).length;
      case 'device':
        return new Device('cpu');
      case 'is_cuda':
      case 'requires_grad':
      case 'is_sparse':
      case 'is_quantized':
        return false;
    }
    const op = TENSOR_ATTR_OPS[name];
    if (!op) this.fail(`unsupported tensor attribute '.${name}'`, loc);
    return this.hostCall(op, [t], {}, loc);
  }

  setAttr(target: Value<T>, name: string, v: Value<T>, loc: SourceLoc): void {
    if (!(target instanceof ScriptObject))
      this.fail(`cannot set attribute '${name}' on a ${typeName(target, this.ctx.isTensor)}`, loc);
    target.attrs.set(name, v);
  }

  hasAttr(v: Value<T>, name: string): boolean {
    if (v instanceof ScriptObject) return this.objectAttr(v, name) !== undefined;
    return false;
  }

  // --- truthiness and iteration

  truthy(v: unknown): boolean {
    if (v === null) return false;
    switch (typeof v) {
      case 'boolean':
        return v;
      case 'number':
        return v !== 0;
      case 'string':
        return v.length > 0;
    }
    if (v instanceof PyFloat) return v.value !== 0;
    if (Array.isArray(v)) return v.length > 0;
    if (v instanceof Map) return v.size > 0;
    if (v instanceof RangeValue) return v.length > 0;
    if (v instanceof Uninitialized) throw new PyError(`use of an uninitialized ${v.type}`);
    if (this.host.isTensor(v)) {
      const r = this.hostCall('aten::Bool', [v], {}, null);
      if (typeof r !== 'boolean' && typeof r !== 'number')
        throw new PyError('aten::Bool did not return a bool');
      return !!r;
    }
    return true;
  }

  items(v: unknown): readonly Value<T>[] {
    if (Array.isArray(v)) return v as Value<T>[];
    if (v instanceof RangeValue) {
      if (v.length > this.limits.maxListLength)
        throw new PyError(
          `a range of ${v.length} elements, more than the ${this.limits.maxListLength} allowed`,
        );
      const out: number[] = [];
      for (let i = 0, x = v.start; i < v.length; i++, x += v.step) out.push(x);
      return out;
    }
    if (v instanceof Map) return [...v.keys()] as Value<T>[];
    if (typeof v === 'string') return [...v];
    if (this.host.isTensor(v)) {
      const r = this.hostCall('aten::unbind', [v, 0], {}, null);
      if (!Array.isArray(r)) throw new PyError('aten::unbind did not return a list');
      return r;
    }
    throw new PyError(`a ${typeName(v, this.ctx.isTensor)} is not iterable`);
  }
}

export function shortType(qualname: string): string {
  return qualname.replace(/^__torch__\./, '').replace(/___torch_mangle_\d+\./g, '');
}
