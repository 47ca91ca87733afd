/**
 * Statements of TorchScript's serialized Python: `class X(Module):` bodies with annotated attributes,
 * `def` with typed parameters, assignments (tuple targets, annotations, `+=`), `if/elif/else`, `for`,
 * `while`, `return`, `raise`, `assert`, `pass/break/continue`, `del`, `import` and `from … import`.
 * Anything else is refused with its location.
 */
import type { ClassDef, CodeFile, Expr, FunctionDef, Param, Stmt } from './ast';
import { describeToken } from './cursor';
import { ExprParser } from './parse-expr';
import { tokenize } from './lexer';
import { CODE_LIMITS, type CodeLimits } from './limits';
import { TorchScriptError } from './errors';

const AUG_OPS = new Map([
  ['+=', '+'],
  ['-=', '-'],
  ['*=', '*'],
  ['/=', '/'],
  ['//=', '//'],
  ['%=', '%'],
  ['**=', '**'],
  ['&=', '&'],
  ['|=', '|'],
  ['^=', '^'],
  ['@=', '@'],
  ['<<=', '<<'],
  ['>>=', '>>'],
] as const);

const UNSUPPORTED_STATEMENTS = new Set(['try', 'with', 'global', 'nonlocal', 'async', 'yield', 'lambda']);

/**
 * Parses one code file. `path` is the archive path without its top folder (`code/__torch__/m.py`),
 * `archive` the file name that errors start with.
 */
export function parseCode(
  text: string,
  path: string,
  archive: string,
  limits: Pick<CodeLimits, 'maxExprDepth' | 'maxBlockDepth'> = CODE_LIMITS,
): CodeFile {
  const tokens = tokenize(text, path, archive, limits.maxBlockDepth);
  const body = new StmtParser(tokens, path, archive, limits.maxExprDepth).parseFile();
  return { path, module: moduleOfPath(path), body };
}

/** A type written as text (`Dict[str, float]`, from a pickle's type tag); undefined if it does not parse. */
export function parseTypeExpr(text: string): Expr | undefined {
  if (text.length > 4096) return undefined;
  try {
    const p = new StmtParser(tokenize(text, '<type>', '<type>', 1), '<type>', '<type>', 64);
    return p.parseTypeOnly();
  } catch {
    return undefined;
  }
}

/** `code/__torch__/torch/nn/modules/linear.py` → `__torch__.torch.nn.modules.linear`. */
export function moduleOfPath(path: string): string {
  const rel = path.startsWith('code/') ? path.slice(5) : path;
  return rel.replace(/\.py$/, '').split('/').join('.');
}

class StmtParser extends ExprParser {
  parseTypeOnly(): Expr | undefined {
    const e = this.parseTest();
    return this.peek().type === 'newline' || this.peek().type === 'eof' ? e : undefined;
  }

  parseFile(): Stmt[] {
    const out: Stmt[] = [];
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'newline') {
        this.next();
        continue;
      }
      if (this.peek().type === 'indent') this.fail('unexpected indentation');
      out.push(...this.parseStatement());
    }
    return out;
  }

  private parseStatement(): Stmt[] {
    const t = this.peek();
    if (t.type === 'name') {
      switch (t.value) {
        case 'if':
          return [this.parseIf()];
        case 'while':
          return [this.parseWhile()];
        case 'for':
          return [this.parseFor()];
        case 'def':
          return [this.parseDef()];
        case 'class':
          return [this.parseClass()];
      }
      if (UNSUPPORTED_STATEMENTS.has(t.value)) this.fail(`unsupported construct '${t.value}'`);
    }
    if (t.type === 'op' && t.value === '@') this.fail('unsupported construct: decorator');
    const out: Stmt[] = [this.parseSimple()];
    while (this.acceptOp(';')) {
      if (this.peek().type === 'newline') break;
      out.push(this.parseSimple());
    }
    this.expectNewline();
    return out;
  }

  private expectNewline(): void {
    const t = this.peek();
    if (t.type === 'newline') this.next();
    else if (t.type !== 'eof') this.fail(`expected the end of the line but found ${describeToken(t)}`);
  }

  /** The body after a `:`: an indented block, or simple statements on the same line. */
  private parseSuite(): Stmt[] {
    this.expectOp(':');
    if (this.peek().type !== 'newline') {
      const out: Stmt[] = [this.parseSimple()];
      while (this.acceptOp(';')) {
        if (this.peek().type === 'newline') break;
        out.push(this.parseSimple());
      }
      this.expectNewline();
      return out;
    }
    this.next();
    if (this.peek().type !== 'indent') this.fail('expected an indented block');
    this.next();
    const out: Stmt[] = [];
    while (this.peek().type !== 'dedent' && this.peek().type !== 'eof') {
      if (this.peek().type === 'newline') {
        this.next();
        continue;
      }
      out.push(...this.parseStatement());
    }
    if (this.peek().type === 'dedent') this.next();
    return out;
  }

  private parseIf(): Stmt {
    const t = this.next();
    const test = this.parseTest();
    const body = this.parseSuite();
    let orelse: Stmt[] = [];
    if (this.isWord('elif')) orelse = [this.parseIf()];
    else if (this.acceptWord('else')) orelse = this.parseSuite();
    return { kind: 'if', test, body, orelse, loc: this.loc(t) };
  }

  private parseWhile(): Stmt {
    const t = this.next();
    const test = this.parseTest();
    const body = this.parseSuite();
    if (this.isWord('else')) this.fail("unsupported construct: 'else' after 'while'");
    return { kind: 'while', test, body, loc: this.loc(t) };
  }

  private parseFor(): Stmt {
    const t = this.next();
    const target = this.parseTargetList();
    this.checkTarget(target);
    if (!this.acceptWord('in')) this.fail("expected 'in' after the loop variable");
    const iter = this.parseTestList();
    const body = this.parseSuite();
    if (this.isWord('else')) this.fail("unsupported construct: 'else' after 'for'");
    return { kind: 'for', target, iter, body, loc: this.loc(t) };
  }

  private parseDef(): FunctionDef {
    const t = this.next();
    const name = this.expectName();
    this.expectOp('(');
    const params: Param[] = [];
    let kwOnly = false;
    while (!this.isOp(')')) {
      const p = this.peek();
      if (this.acceptOp('*')) {
        if (this.peek().type === 'name') this.fail('unsupported construct: *args parameter');
        kwOnly = true;
      } else {
        if (this.isOp('**')) this.fail('unsupported construct: **kwargs parameter');
        const pname = this.expectName();
        if (params.some((q) => q.name === pname)) this.fail(`parameter '${pname}' repeated`, p);
        const annotation = this.acceptOp(':') ? this.parseTest() : null;
        const def = this.acceptOp('=') ? this.parseTest() : null;
        params.push({ name: pname, annotation, default: def, kwOnly, loc: this.loc(p) });
      }
      if (!this.acceptOp(',')) break;
    }
    this.expectOp(')');
    const returns = this.acceptOp('->') ? this.parseTest() : null;
    const body = this.parseSuite();
    return { kind: 'def', name, params, returns, body, loc: this.loc(t) };
  }

  private parseClass(): ClassDef {
    const t = this.next();
    const name = this.expectName();
    const bases: Expr[] = [];
    if (this.acceptOp('(')) {
      while (!this.isOp(')')) {
        bases.push(this.parseTest());
        if (!this.acceptOp(',')) break;
      }
      this.expectOp(')');
    }
    const body = this.parseSuite();
    return { kind: 'class', name, bases, body, loc: this.loc(t) };
  }

  private parseSimple(): Stmt {
    const t = this.peek();
    const loc = this.loc(t);
    if (t.type === 'name') {
      switch (t.value) {
        case 'pass':
        case 'break':
        case 'continue':
          this.next();
          return { kind: t.value, loc };
        case 'return': {
          this.next();
          const value = this.atExprEnd() ? null : this.parseTestList();
          return { kind: 'return', value, loc };
        }
        case 'raise': {
          this.next();
          const exc = this.atExprEnd() ? null : this.parseTest();
          if (this.acceptWord('from')) this.parseTest();
          return { kind: 'raise', exc, loc };
        }
        case 'assert': {
          this.next();
          const test = this.parseTest();
          const msg = this.acceptOp(',') ? this.parseTest() : null;
          return { kind: 'assert', test, msg, loc };
        }
        case 'del': {
          this.next();
          const target = this.parseTestList();
          const targets = target.kind === 'tuple' ? target.items : [target];
          targets.forEach((x) => this.checkTarget(x));
          return { kind: 'del', targets, loc };
        }
        case 'import': {
          this.next();
          const names = [this.parseDotted()];
          while (this.acceptOp(',')) names.push(this.parseDotted());
          return { kind: 'import', names, loc };
        }
        case 'from': {
          this.next();
          const module = this.parseDotted();
          if (!this.acceptWord('import')) this.fail("expected 'import'");
          const names: string[] = [];
          if (this.acceptOp('*')) names.push('*');
          else {
            const paren = this.acceptOp('(');
            do {
              if (paren && this.isOp(')')) break;
              names.push(this.expectName());
              if (this.acceptWord('as')) this.expectName();
            } while (this.acceptOp(','));
            if (paren) this.expectOp(')');
          }
          return { kind: 'from', module, names, loc };
        }
      }
    }
    return this.parseExprStatement();
  }

  private parseDotted(): string {
    let name = this.expectName();
    while (this.acceptOp('.')) name += '.' + this.expectName();
    if (this.acceptWord('as')) this.expectName();
    return name;
  }

  private parseExprStatement(): Stmt {
    const t = this.peek();
    const loc = this.loc(t);
    const first = this.parseTestList();
    if (this.isOp(':')) {
      this.next();
      this.checkTarget(first);
      if (first.kind === 'tuple') this.fail('an annotation on a tuple of targets', t);
      const annotation = this.parseTest();
      const value = this.acceptOp('=') ? this.parseTestList() : null;
      return { kind: 'annassign', target: first, annotation, value, loc };
    }
    const next = this.peek();
    const aug = next.type === 'op' ? AUG_OPS.get(next.value as never) : undefined;
    if (aug) {
      this.next();
      if (first.kind !== 'name' && first.kind !== 'attr' && first.kind !== 'subscript')
        this.fail('augmented assignment to something that is not a variable', t);
      const value = this.parseTestList();
      return { kind: 'augassign', target: first, op: aug, value, loc };
    }
    if (!this.isOp('=')) return { kind: 'expr', value: first, loc };
    const targets = [first];
    let value = first;
    while (this.acceptOp('=')) {
      value = this.parseTestList();
      targets.push(value);
    }
    targets.pop();
    targets.forEach((x) => this.checkTarget(x));
    return { kind: 'assign', targets, value, loc };
  }

  /** Assignment targets: names, attributes, subscripts, and tuples/lists of those. */
  private checkTarget(e: Expr): void {
    const stack = [e];
    while (stack.length) {
      const x = stack.pop()!;
      if (x.kind === 'name' || x.kind === 'attr' || x.kind === 'subscript') continue;
      if (x.kind === 'tuple' || x.kind === 'list') stack.push(...x.items);
      else {
        const what = x.kind === 'call' ? 'a function call' : 'an expression';
        throw new TorchScriptError(this.archive, `cannot assign to ${what}`, x.loc);
      }
    }
  }
}
