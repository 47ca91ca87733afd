/**
 * Runs a TorchScript archive's code over its syntax tree with Python semantics; every tensor
 * operation goes to the `TensorHost`. Usage:
 *
 *   const it = new Interpreter(readTorchScript(bytes, 'model.pt'), host);
 *   const y = it.forward([x, p]);            // or it.run('method', args, kwargs)
 *
 * Bounded: statements plus calls per run (`maxSteps`), nested calls (`maxCallDepth`), list sizes
 * (`maxListLength`), and the nesting of expressions and blocks; each ends the run with one located
 * TorchScriptError, as does anything unsupported.
 */
import { CancelledError } from '../errors';
import { PyError } from './arith';
import type { TorchScriptArchive } from './archive';
import type { Expr, SourceLoc, Stmt } from './ast';
import { getItem, setItem } from './builtins';
import { ExceptionValue, NamePath, callPath } from './dispatch';
import { TorchScriptError, located } from './errors';
import { Evaluator, type Frame } from './evaluator';
import type { TensorHost } from './host';
import { type InterpreterOptions, shortType } from './runtime';
import { coerceToType } from './types';
import { RangeValue, ScriptFunction, type Value, isTuple, pyStr } from './values';

export type { InterpreterOptions } from './runtime';

const enum Flow {
  Normal,
  Break,
  Continue,
  Return,
}

export class Interpreter<T> extends Evaluator<T> {
  constructor(archive: TorchScriptArchive, host: TensorHost<T>, options: InterpreterOptions = {}) {
    super(archive, host, options);
  }

  /** Runs the root module's `forward`. */
  forward(args: Value<T>[], kwargs: Record<string, Value<T>> = {}): Value<T> {
    return this.run('forward', args, kwargs);
  }

  /** Runs a method of the root module (a free function when `method` is a `__torch__.` qualified name). */
  run(method: string, args: Value<T>[], kwargs: Record<string, Value<T>> = {}): Value<T> {
    this.resetRun();
    const root = this.root();
    const at: SourceLoc = root.cls?.def.loc ?? { file: 'code/__torch__.py', line: 1, col: 1 };
    try {
      if (method.startsWith('__torch__.')) return callPath(this, method, args, kwargs, at);
      if (!root.cls) this.fail(`the archive has no code for its root module's class ${root.type}`);
      const def = root.cls.methods.get(method);
      if (!def) this.fail(`class ${shortType(root.type)} has no method '${method}'`, at);
      return this.callScript(new ScriptFunction(`${root.type}.${method}`, def, root), args, kwargs, def.loc);
    } catch (e) {
      if (e instanceof TorchScriptError || e instanceof CancelledError) throw e;
      throw located(e, this.archive.file, at);
    }
  }

  callScript(
    fn: ScriptFunction<T>,
    args: Value<T>[],
    kwargs: Record<string, Value<T>>,
    loc: SourceLoc,
  ): Value<T> {
    this.step(loc);
    if (++this.callDepth > this.limits.maxCallDepth) {
      this.fail(`calls nested more than ${this.limits.maxCallDepth} deep (endless recursion?)`, loc);
    }
    const def = fn.def;
    const vars = new Map<string, Value<T>>();
    const given = fn.self ? [fn.self as Value<T>, ...args] : args;
    const name = shortType(fn.qualname);
    if (given.length > def.params.length) {
      this.fail(
        `${name}() takes ${def.params.length - (fn.self ? 1 : 0)} arguments but ${args.length} were given`,
        loc,
      );
    }
    const used = new Set<string>();
    def.params.forEach((p, i) => {
      let v: Value<T> | undefined;
      if (i < given.length && !p.kwOnly) v = given[i];
      else if (p.name in kwargs) {
        v = kwargs[p.name];
        used.add(p.name);
      } else if (p.default) v = this.evalConstant(p.default);
      else this.fail(`${name}() is missing its argument '${p.name}'`, loc);
      vars.set(p.name, p.annotation ? (coerceToType(v, p.annotation) as Value<T>) : v!);
    });
    for (const k of Object.keys(kwargs)) {
      if (!used.has(k)) this.fail(`${name}() got an unexpected keyword argument '${k}'`, loc);
    }
    const frame: Frame<T> = { vars, ret: null };
    this.execBlock(def.body, frame);
    this.callDepth--;
    return frame.ret;
  }

  protected evalConstant(e: Expr): Value<T> {
    return this.evalExpr(e, { vars: new Map(), ret: null });
  }

  // --- statements

  private execBlock(body: readonly Stmt[], f: Frame<T>): Flow {
    for (const s of body) {
      const flow = this.execStmt(s, f);
      if (flow !== Flow.Normal) return flow;
    }
    return Flow.Normal;
  }

  private execStmt(s: Stmt, f: Frame<T>): Flow {
    this.step(s.loc);
    this.enterNest(s.loc);
    let flow: Flow;
    try {
      flow = this.execInner(s, f);
    } catch (e) {
      if (e instanceof TorchScriptError || e instanceof CancelledError) throw e;
      throw located(e, this.archive.file, s.loc);
    }
    this.nest--;
    return flow;
  }

  private execInner(s: Stmt, f: Frame<T>): Flow {
    switch (s.kind) {
      case 'expr':
        this.evalExpr(s.value, f);
        return Flow.Normal;
      case 'assign': {
        const v = this.evalExpr(s.value, f);
        for (const t of s.targets) this.assign(t, v, f);
        return Flow.Normal;
      }
      case 'annassign':
        if (s.value)
          this.assign(s.target, coerceToType(this.evalExpr(s.value, f), s.annotation) as Value<T>, f);
        return Flow.Normal;
      case 'augassign': {
        const cur = this.evalExpr(s.target, f);
        const rhs = this.evalExpr(s.value, f);
        if (s.op === '+' && Array.isArray(cur) && !isTuple(cur)) {
          cur.push(...this.items(rhs));
          if (cur.length > this.limits.maxListLength)
            throw new PyError(`a list longer than ${this.limits.maxListLength}`);
          return Flow.Normal;
        }
        this.assign(s.target, this.binary(s.op, cur, rhs, s.loc), f);
        return Flow.Normal;
      }
      case 'if':
        return this.execBlock(this.truthy(this.evalExpr(s.test, f)) ? s.body : s.orelse, f);
      case 'while':
        while (this.truthy(this.evalExpr(s.test, f))) {
          const flow = this.execBlock(s.body, f);
          if (flow === Flow.Break) break;
          if (flow === Flow.Return) return flow;
          this.step(s.loc);
        }
        return Flow.Normal;
      case 'for':
        return this.execFor(s, f);
      case 'return':
        f.ret = s.value ? this.evalExpr(s.value, f) : null;
        return Flow.Return;
      case 'raise': {
        const exc = s.exc ? this.evalExpr(s.exc, f) : null;
        const [cls, msg] =
          exc instanceof ExceptionValue
            ? [exc.cls, exc.message]
            : exc instanceof NamePath
              ? [exc.path.replace(/^builtins\./, ''), '']
              : ['Exception', pyStr(exc, this.ctx.isTensor)];
        return this.fail(`the model raised ${cls}${msg ? `: ${msg}` : ''}`, s.loc);
      }
      case 'assert':
        if (!this.truthy(this.evalExpr(s.test, f))) {
          const msg = s.msg ? pyStr(this.evalExpr(s.msg, f), this.ctx.isTensor) : '';
          this.fail(`the model's assertion failed${msg ? `: ${msg}` : ''}`, s.loc);
        }
        return Flow.Normal;
      case 'pass':
        return Flow.Normal;
      case 'break':
        return Flow.Break;
      case 'continue':
        return Flow.Continue;
      case 'del':
        for (const t of s.targets) this.del(t, f);
        return Flow.Normal;
      case 'import':
      case 'from':
        return Flow.Normal;
      case 'def':
      case 'class':
        return this.fail(`unsupported construct: nested ${s.kind}`, s.loc);
    }
  }

  private execFor(s: Extract<Stmt, { kind: 'for' }>, f: Frame<T>): Flow {
    const it = this.evalExpr(s.iter, f);
    const one = (x: Value<T>): Flow => {
      this.assign(s.target, x, f);
      return this.execBlock(s.body, f);
    };
    if (it instanceof RangeValue) {
      for (let i = 0, x = it.start; i < it.length; i++, x += it.step) {
        this.step(s.loc);
        const flow = one(x);
        if (flow === Flow.Break) break;
        if (flow === Flow.Return) return flow;
      }
      return Flow.Normal;
    }
    const items = this.items(it);
    for (let i = 0; i < items.length; i++) {
      this.step(s.loc);
      const flow = one(items[i]);
      if (flow === Flow.Break) break;
      if (flow === Flow.Return) return flow;
    }
    return Flow.Normal;
  }

  protected assign(t: Expr, v: Value<T>, f: Frame<T>): void {
    switch (t.kind) {
      case 'name':
        f.vars.set(t.id, v);
        return;
      case 'tuple':
      case 'list': {
        const items = this.items(v);
        if (items.length !== t.items.length) {
          this.fail(`cannot unpack ${items.length} values into ${t.items.length} targets`, t.loc);
        }
        t.items.forEach((x, i) => this.assign(x, items[i], f));
        return;
      }
      case 'attr':
        this.setAttr(this.evalExpr(t.value, f), t.name, v, t.loc);
        return;
      case 'subscript': {
        const target = this.evalExpr(t.value, f);
        if (this.host.isTensor(target)) this.fail('item assignment on a tensor is not supported', t.loc);
        setItem(target, this.evalExpr(t.index, f), v, this.ctx);
        return;
      }
    }
    this.fail('cannot assign to this expression', t.loc);
  }

  private del(t: Expr, f: Frame<T>): void {
    if (t.kind === 'name') f.vars.delete(t.id);
    else if (t.kind === 'subscript') {
      const target = this.evalExpr(t.value, f);
      const k = this.evalExpr(t.index, f);
      if (target instanceof Map) target.delete(k as never);
      else if (Array.isArray(target) && !isTuple(target) && typeof k === 'number') {
        getItem(target, k, this.ctx);
        target.splice(k < 0 ? k + target.length : k, 1);
      } else this.fail('del of an item that is not in a list or dict', t.loc);
    } else this.fail('unsupported del target', t.loc);
  }
}

/** Runs `forward` of the archive's root module once. */
export function runForward<T>(
  archive: TorchScriptArchive,
  host: TensorHost<T>,
  args: Value<T>[],
  options: InterpreterOptions = {},
): Value<T> {
  return new Interpreter(archive, host, options).forward(args);
}
