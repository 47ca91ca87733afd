/**
 * Expressions: names, attributes (modules, tensors, dotted names), subscripts, calls (special forms
 * `annotate`, `unchecked_cast`, `uninitialized`, `isinstance`; methods; dotted names; functions),
 * operators with Python semantics on Python values and `aten::` ops on tensors, comparisons,
 * boolean and conditional expressions, displays and list comprehensions.
 */
import { CancelledError } from '../errors';
import { PyError, binaryScalar, pyCompare, pyContains, pyEquals, unaryScalar } from './arith';
import type { BinaryOp, CompareOp, Expr, SourceLoc } from './ast';
import { getItem, setItem, sliceSeq } from './builtins';
import {
  BUILTIN_NAMES,
  NAMESPACES,
  NamePath,
  type Dispatcher,
  callMethod,
  callTorch,
  callValue,
  compilePath,
  resolveAttrPath,
} from './dispatch';
import type { Calls } from './dispatch';
import { TorchScriptError, located } from './errors';
import { Runtime, shortType } from './runtime';
import { coerceToType, matchesType, typeToString } from './types';
import { dottedName } from './walk';
import { PyFloat, ScriptFunction, Uninitialized, type Value, tuple, typeName } from './values';

export interface Frame<T> {
  vars: Map<string, Value<T>>;
  ret: Value<T>;
}

const BINARY_ATEN: Record<BinaryOp, string> = {
  '+': 'add',
  '-': 'sub',
  '*': 'mul',
  '/': 'div',
  '//': 'floor_divide',
  '%': 'remainder',
  '**': 'pow',
  '@': 'matmul',
  '&': '__and__',
  '|': '__or__',
  '^': '__xor__',
  '<<': '__lshift__',
  '>>': '__rshift__',
};

const COMPARE_ATEN: Partial<Record<CompareOp, string>> = {
  '==': 'eq',
  '!=': 'ne',
  '<': 'lt',
  '<=': 'le',
  '>': 'gt',
  '>=': 'ge',
};

export abstract class Evaluator<T> extends Runtime<T> implements Calls<T> {
  private readonly callees = new Map<Expr, { root: string; fn: Dispatcher<T> } | null>();
  private readonly paths = new Map<Expr, Value<T> | NamePath>();

  abstract callScript(
    fn: ScriptFunction<T>,
    args: Value<T>[],
    kwargs: Record<string, Value<T>>,
    loc: SourceLoc,
  ): Value<T>;

  /** Assignment to a target (names, tuples, attributes, subscripts). */
  protected abstract assign(t: Expr, v: Value<T>, f: Frame<T>): void;

  // --- expressions

  evalExpr(e: Expr, f: Frame<T>): Value<T> {
    this.enterNest(e.loc);
    let v: Value<T>;
    try {
      v = this.evalInner(e, f);
    } catch (err) {
      if (err instanceof TorchScriptError || err instanceof CancelledError) throw err;
      throw located(err, this.archive.file, e.loc);
    }
    this.nest--;
    return v;
  }

  private evalInner(e: Expr, f: Frame<T>): Value<T> {
    switch (e.kind) {
      case 'int':
        return e.value;
      case 'float':
        return new PyFloat(e.value);
      case 'str':
        return e.value;
      case 'const':
        return e.value;
      case 'name':
        return this.lookup(e.id, f, e.loc);
      case 'attr': {
        const cached = this.paths.get(e);
        if (cached !== undefined && !(e.value.kind === 'name' && f.vars.has(e.value.id)))
          return cached as Value<T>;
        const base = this.evalExpr(e.value, f);
        if (base instanceof NamePath) {
          // Dotted names (`CONSTANTS.c0`, `__torch__.x.f`, `torch.float32`) resolve the same way every time.
          const v = resolveAttrPath(this, `${base.path}.${e.name}`, e.loc);
          this.paths.set(e, v);
          return v as Value<T>;
        }
        return this.getAttr(base, e.name, e.loc);
      }
      case 'subscript':
        return this.subscript(e, f);
      case 'call':
        return this.call(e, f);
      case 'binary':
        return this.binary(e.op, this.evalExpr(e.left, f), this.evalExpr(e.right, f), e.loc);
      case 'unary':
        return this.unary(e.op, this.evalExpr(e.operand, f), e.loc);
      case 'bool': {
        let v: Value<T> = null;
        for (const x of e.values) {
          v = this.evalExpr(x, f);
          if (this.truthy(v) === (e.op === 'or')) return v;
        }
        return v;
      }
      case 'compare':
        return this.compare(e, f);
      case 'ifexp':
        return this.evalExpr(this.truthy(this.evalExpr(e.test, f)) ? e.body : e.orelse, f);
      case 'list':
      case 'tuple': {
        const items = e.items.map((x) => this.evalExpr(x, f));
        return e.kind === 'tuple' ? tuple(items) : items;
      }
      case 'dict': {
        const m = new Map();
        e.keys.forEach((k, i) => setItem(m, this.evalExpr(k, f), this.evalExpr(e.values[i], f), this.ctx));
        return m;
      }
      case 'listcomp': {
        const out: Value<T>[] = [];
        for (const x of this.items(this.evalExpr(e.iter, f))) {
          this.step(e.loc);
          this.assign(e.target, x, f);
          if (!e.conds.every((c) => this.truthy(this.evalExpr(c, f)))) continue;
          out.push(this.evalExpr(e.elt, f));
          if (out.length > this.limits.maxListLength)
            throw new PyError(`a list longer than ${this.limits.maxListLength}`);
        }
        return out;
      }
      case 'slice':
        return this.fail('a slice outside of a subscript', e.loc);
    }
  }

  protected lookup(id: string, f: Frame<T>, loc: SourceLoc): Value<T> {
    const v = f.vars.get(id);
    if (v !== undefined || f.vars.has(id)) return v!;
    if (NAMESPACES.has(id) || BUILTIN_NAMES.has(id)) return new NamePath(id) as unknown as Value<T>;
    if (id === 'inf') return new PyFloat(Infinity);
    if (id === 'nan') return new PyFloat(NaN);
    return this.fail(`name '${id}' is not defined`, loc);
  }

  protected call(e: Extract<Expr, { kind: 'call' }>, f: Frame<T>): Value<T> {
    const fn = e.func;
    if (fn.kind === 'name' && !f.vars.has(fn.id)) {
      const special = this.specialForm(fn.id, e, f);
      if (special !== undefined) return special;
    }
    const compiled = this.staticCallee(fn, f);
    let target: Value<T> | NamePath | undefined;
    if (!compiled && fn.kind === 'attr') target = this.evalExpr(fn.value, f);
    const args = e.args.map((a) => this.evalExpr(a, f));
    const kwargs: Record<string, Value<T>> = {};
    for (const k of e.kwargs) kwargs[k.name] = this.evalExpr(k.value, f);
    if (compiled) return compiled(args, kwargs, e.loc);
    if (fn.kind === 'attr') {
      if (target instanceof NamePath) {
        return callValue(
          this,
          resolveAttrPath(this, `${target.path}.${fn.name}`, e.loc),
          args,
          kwargs,
          e.loc,
        );
      }
      return callMethod(this, target as Value<T>, fn.name, args, kwargs, e.loc);
    }
    return callValue(this, this.evalExpr(fn, f), args, kwargs, e.loc);
  }

  /**
   * A callee that is a dotted name rooted at a namespace or builtin (`torch.add`, `ops.prim.dtype`,
   * `__torch__.f`, `len`) and not shadowed by a local: what calling it does is decided once per call site.
   */
  private staticCallee(fn: Expr, f: Frame<T>): Dispatcher<T> | undefined {
    let hit = this.callees.get(fn);
    if (hit === undefined) {
      const path = fn.kind === 'name' || fn.kind === 'attr' ? dottedName(fn) : undefined;
      const root = path?.split('.', 1)[0] ?? '';
      if (!path || !(NAMESPACES.has(root) || BUILTIN_NAMES.has(root))) hit = null;
      else if (path === 'ops.prim.unchecked_cast' || path === 'ops.prim.isinstance') {
        hit = { root, fn: (args) => args[args.length - 1] ?? null };
      } else hit = { root, fn: compilePath(this, path, fn.loc) };
      this.callees.set(fn, hit);
    }
    return hit && !f.vars.has(hit.root) ? hit.fn : undefined;
  }

  /** `annotate(T, v)`, `unchecked_cast(T, v)`, `uninitialized(T)`, `isinstance(v, T)`: types unevaluated. */
  protected specialForm(name: string, e: Extract<Expr, { kind: 'call' }>, f: Frame<T>): Value<T> | undefined {
    const [a, b] = e.args;
    switch (name) {
      case 'annotate':
      case 'unchecked_cast': {
        if (e.args.length !== 2) this.fail(`${name}() takes a type and a value`, e.loc);
        const v = this.evalExpr(b, f);
        // Traced code writes `annotate(number, T)` for a 0-d tensor used as a Python number.
        const type = typeToString(a);
        if (this.host.isTensor(v) && (type === 'number' || type === 'int' || type === 'float')) {
          const op = type === 'int' ? 'aten::Int' : type === 'float' ? 'aten::Float' : 'aten::ScalarImplicit';
          return this.hostCall(op, [v], {}, e.loc);
        }
        return coerceToType(v, a) as Value<T>;
      }
      case 'uninitialized':
        return new Uninitialized(a ? typeToString(a) : '?');
      case 'isinstance':
        if (e.args.length !== 2) this.fail('isinstance() takes a value and a type', e.loc);
        return matchesType(this.evalExpr(a, f), b, this.ctx.isTensor);
    }
    return undefined;
  }

  protected subscript(e: Extract<Expr, { kind: 'subscript' }>, f: Frame<T>): Value<T> {
    const v = this.evalExpr(e.value, f);
    const ix = e.index;
    if (this.host.isTensor(v)) {
      if (ix.kind === 'slice') {
        const [lo, hi, st] = [ix.lower, ix.upper, ix.step].map((x) => (x ? this.evalExpr(x, f) : null));
        return callTorch(this, 'slice', [v, 0, lo, hi, st ?? 1], {}, e.loc);
      }
      const i = this.evalExpr(ix, f);
      if (typeof i !== 'number')
        this.fail('tensor indexing other than x[int] and x[a:b] is not supported', e.loc);
      return callTorch(this, 'select', [v, 0, i], {}, e.loc);
    }
    if (ix.kind === 'slice') {
      if (typeof v !== 'string' && !Array.isArray(v))
        this.fail('slicing a value that is not a sequence', e.loc);
      const [lo, hi, st] = [ix.lower, ix.upper, ix.step].map((x) => (x ? this.evalExpr(x, f) : null));
      return sliceSeq(v as string | readonly unknown[], lo, hi, st, this.ctx);
    }
    return getItem(v, this.evalExpr(ix, f), this.ctx);
  }

  protected binary(op: BinaryOp, a: Value<T>, b: Value<T>, loc: SourceLoc): Value<T> {
    if (!this.host.isTensor(a) && !this.host.isTensor(b)) {
      const r = binaryScalar(op, a, b, this.limits.maxListLength);
      if (r === undefined) {
        const tn = (x: unknown): string => `'${shortType(typeName(x, this.ctx.isTensor))}'`;
        throw new PyError(`unsupported operand types for ${op}: ${tn(a)} and ${tn(b)}`);
      }
      return r as Value<T>;
    }
    return callTorch(this, BINARY_ATEN[op], [a, b], {}, loc);
  }

  protected unary(op: '-' | '+' | '~' | 'not', v: Value<T>, loc: SourceLoc): Value<T> {
    if (op === 'not') return !this.truthy(v);
    if (this.host.isTensor(v)) {
      if (op === '+') return v;
      return callTorch(this, op === '-' ? 'neg' : 'bitwise_not', [v], {}, loc);
    }
    const r = unaryScalar(op, v);
    if (r === undefined) throw new PyError(`bad operand type for unary ${op}`);
    return r as Value<T>;
  }

  protected compare(e: Extract<Expr, { kind: 'compare' }>, f: Frame<T>): Value<T> {
    let left = this.evalExpr(e.left, f);
    let result: Value<T> = true;
    for (let i = 0; i < e.ops.length; i++) {
      const op = e.ops[i];
      const right = this.evalExpr(e.rights[i], f);
      result = this.compareOne(op, left, right, e.loc);
      if (!this.truthy(result)) return result;
      left = right;
    }
    return result;
  }

  protected compareOne(op: CompareOp, a: Value<T>, b: Value<T>, loc: SourceLoc): Value<T> {
    switch (op) {
      case 'is':
        return a === b;
      case 'is not':
        return a !== b;
      case 'in':
        return pyContains(b, a);
      case 'not in':
        return !pyContains(b, a);
    }
    if (this.host.isTensor(a) || this.host.isTensor(b))
      return callTorch(this, COMPARE_ATEN[op]!, [a, b], {}, loc);
    if (op === '==') return pyEquals(a, b);
    if (op === '!=') return !pyEquals(a, b);
    return pyCompare(op, a, b);
  }
}
