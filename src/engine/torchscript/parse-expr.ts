/**
 * Expressions of TorchScript's serialized Python, by recursive descent with Python's precedence.
 * Nesting is bounded (`maxExprDepth`): every recursion and every link of an operator, call or
 * attribute chain counts, so that the tree — which the interpreter walks recursively — stays shallow.
 */
import type { BinaryOp, CompareOp, Expr, Keyword, SourceLoc } from './ast';
import { KEYWORDS, TokenCursor, describeToken } from './cursor';

const COMPARE_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);

export class ExprParser extends TokenCursor {
  // --- expressions

  /** `a, b, c` (a tuple when there is a comma) or a single expression. */
  parseTestList(): Expr {
    const start = this.peek();
    const first = this.parseTest();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.acceptOp(',')) {
      if (this.atExprEnd()) break;
      items.push(this.parseTest());
    }
    return { kind: 'tuple', items, loc: this.loc(start) };
  }

  /** Targets of `for`: like parseTestList but stops before `in`. */
  parseTargetList(): Expr {
    const start = this.peek();
    const first = this.parseBitOr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.acceptOp(',')) {
      if (this.isWord('in') || this.atExprEnd()) break;
      items.push(this.parseBitOr());
    }
    return { kind: 'tuple', items, loc: this.loc(start) };
  }

  protected atExprEnd(): boolean {
    const t = this.peek();
    if (t.type === 'newline' || t.type === 'eof') return true;
    return t.type === 'op' && [')', ']', '}', '=', ':', ';'].includes(t.value);
  }

  parseTest(): Expr {
    this.enter();
    const start = this.peek();
    if (this.isWord('lambda')) this.fail("unsupported construct 'lambda'");
    let e = this.parseOr();
    if (this.acceptWord('if')) {
      const test = this.parseOr();
      if (!this.acceptWord('else')) this.fail("expected 'else' in a conditional expression");
      const orelse = this.parseTest();
      e = { kind: 'ifexp', test, body: e, orelse, loc: this.loc(start) };
    }
    this.depth--;
    return e;
  }

  private parseBoolChain(op: 'and' | 'or', sub: () => Expr): Expr {
    const start = this.peek();
    const first = sub();
    if (!this.isWord(op)) return first;
    const values = [first];
    while (this.acceptWord(op)) values.push(sub());
    return { kind: 'bool', op, values, loc: this.loc(start) };
  }

  private parseOr(): Expr {
    return this.parseBoolChain('or', () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.parseBoolChain('and', () => this.parseNot());
  }

  private parseNot(): Expr {
    const start = this.peek();
    if (!this.acceptWord('not')) return this.parseComparison();
    this.enter();
    const operand = this.parseNot();
    this.depth--;
    return { kind: 'unary', op: 'not', operand, loc: this.loc(start) };
  }

  private parseComparison(): Expr {
    const start = this.peek();
    const left = this.parseBitOr();
    const ops: CompareOp[] = [];
    const rights: Expr[] = [];
    for (;;) {
      const t = this.peek();
      let op: CompareOp | undefined;
      if (t.type === 'op' && COMPARE_OPS.has(t.value)) {
        this.next();
        op = t.value as CompareOp;
      } else if (this.isWord('in')) {
        this.next();
        op = 'in';
      } else if (this.isWord('not') && this.isWord('in', 1)) {
        this.pos += 2;
        op = 'not in';
      } else if (this.isWord('is')) {
        this.next();
        op = this.acceptWord('not') ? 'is not' : 'is';
      }
      if (!op) break;
      ops.push(op);
      rights.push(this.parseBitOr());
    }
    return ops.length ? { kind: 'compare', left, ops, rights, loc: this.loc(start) } : left;
  }

  /** A left-associative chain of binary operators; each link counts toward the depth bound. */
  private parseBinaryChain(ops: readonly string[], sub: () => Expr): Expr {
    const saved = this.depth;
    let left = sub();
    for (;;) {
      const t = this.peek();
      if (t.type !== 'op' || !ops.includes(t.value)) break;
      this.next();
      this.enter();
      const right = sub();
      left = { kind: 'binary', op: t.value as BinaryOp, left, right, loc: this.loc(t) };
    }
    this.depth = saved;
    return left;
  }

  parseBitOr(): Expr {
    return this.parseBinaryChain(['|'], () => this.parseXor());
  }

  private parseXor(): Expr {
    return this.parseBinaryChain(['^'], () => this.parseBitAnd());
  }

  private parseBitAnd(): Expr {
    return this.parseBinaryChain(['&'], () => this.parseShift());
  }

  private parseShift(): Expr {
    return this.parseBinaryChain(['<<', '>>'], () => this.parseArith());
  }

  private parseArith(): Expr {
    return this.parseBinaryChain(['+', '-'], () => this.parseTerm());
  }

  private parseTerm(): Expr {
    return this.parseBinaryChain(['*', '/', '//', '%', '@'], () => this.parseFactor());
  }

  private parseFactor(): Expr {
    const t = this.peek();
    if (t.type === 'op' && (t.value === '-' || t.value === '+' || t.value === '~')) {
      this.next();
      this.enter();
      const operand = this.parseFactor();
      this.depth--;
      return { kind: 'unary', op: t.value, operand, loc: this.loc(t) };
    }
    return this.parsePower();
  }

  private parsePower(): Expr {
    const base = this.parseAtomExpr();
    const t = this.peek();
    if (!this.acceptOp('**')) return base;
    this.enter();
    const exponent = this.parseFactor();
    this.depth--;
    return { kind: 'binary', op: '**', left: base, right: exponent, loc: this.loc(t) };
  }

  private parseAtomExpr(): Expr {
    const saved = this.depth;
    // Calls, attributes and subscripts are located where their primary starts (`torch.linear(` at `t`).
    const start = this.loc();
    let e = this.parseAtom();
    for (;;) {
      const t = this.peek();
      if (t.type !== 'op') break;
      if (t.value === '.') {
        this.next();
        this.enter();
        e = { kind: 'attr', value: e, name: this.expectName(), loc: start };
      } else if (t.value === '(') {
        this.next();
        this.enter();
        e = this.parseCallArgs(e, start);
      } else if (t.value === '[') {
        this.next();
        this.enter();
        const index = this.parseSubscripts();
        this.expectOp(']');
        e = { kind: 'subscript', value: e, index, loc: start };
      } else break;
    }
    this.depth = saved;
    return e;
  }

  private parseCallArgs(func: Expr, loc: SourceLoc): Expr {
    const args: Expr[] = [];
    const kwargs: Keyword[] = [];
    while (!this.isOp(')')) {
      if (this.isOp('*') || this.isOp('**')) this.fail('unsupported construct: *args / **kwargs in a call');
      if (this.peek().type === 'name' && this.isOp('=', 1)) {
        const name = this.expectName();
        this.next();
        if (kwargs.some((k) => k.name === name)) this.fail(`keyword argument '${name}' repeated`);
        kwargs.push({ name, value: this.parseTest() });
      } else {
        if (kwargs.length) this.fail('a positional argument follows a keyword argument');
        args.push(this.parseTest());
      }
      if (!this.acceptOp(',')) break;
    }
    this.expectOp(')');
    return { kind: 'call', func, args, kwargs, loc };
  }

  private parseSubscripts(): Expr {
    const start = this.peek();
    const first = this.parseSliceItem();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.acceptOp(',')) {
      if (this.isOp(']')) break;
      items.push(this.parseSliceItem());
    }
    return { kind: 'tuple', items, loc: this.loc(start) };
  }

  private parseSliceItem(): Expr {
    const start = this.peek();
    const lower = this.isOp(':') ? null : this.parseTest();
    if (!this.acceptOp(':')) return lower!;
    const bound = (): Expr | null =>
      this.isOp(':') || this.isOp(']') || this.isOp(',') ? null : this.parseTest();
    const upper = bound();
    const step = this.acceptOp(':') ? bound() : null;
    return { kind: 'slice', lower, upper, step, loc: this.loc(start) };
  }

  private parseAtom(): Expr {
    const t = this.peek();
    const loc = this.loc(t);
    switch (t.type) {
      case 'int':
        this.next();
        return { kind: 'int', value: t.num, loc };
      case 'float':
        this.next();
        return { kind: 'float', value: t.num, loc };
      case 'str': {
        let value = '';
        while (this.peek().type === 'str') value += this.next().value;
        return { kind: 'str', value, loc };
      }
      case 'name':
        if (t.value === 'True' || t.value === 'False' || t.value === 'None') {
          this.next();
          return { kind: 'const', value: t.value === 'None' ? null : t.value === 'True', loc };
        }
        if (KEYWORDS.has(t.value)) this.fail(`unexpected '${t.value}'`);
        this.next();
        return { kind: 'name', id: t.value, loc };
      case 'op':
        if (t.value === '(') return this.parseParen();
        if (t.value === '[') return this.parseListDisplay();
        if (t.value === '{') return this.parseDictDisplay();
        break;
    }
    return this.fail(`expected an expression but found ${describeToken(t)}`);
  }

  private parseParen(): Expr {
    const open = this.next();
    if (this.acceptOp(')')) return { kind: 'tuple', items: [], loc: this.loc(open) };
    const first = this.parseTest();
    if (this.isWord('for')) this.fail('unsupported construct: generator expression');
    if (this.acceptOp(')')) return first;
    const items = [first];
    while (this.acceptOp(',')) {
      if (this.isOp(')')) break;
      items.push(this.parseTest());
    }
    this.expectOp(')');
    return { kind: 'tuple', items, loc: this.loc(open) };
  }

  private parseListDisplay(): Expr {
    const open = this.next();
    const items: Expr[] = [];
    if (!this.isOp(']')) {
      const first = this.parseTest();
      if (this.acceptWord('for')) {
        const target = this.parseTargetList();
        if (!this.acceptWord('in')) this.fail("expected 'in' in a list comprehension");
        const iter = this.parseOr();
        const conds: Expr[] = [];
        while (this.acceptWord('if')) conds.push(this.parseOr());
        if (this.isWord('for')) this.fail('unsupported construct: nested list comprehension');
        this.expectOp(']');
        return { kind: 'listcomp', elt: first, target, iter, conds, loc: this.loc(open) };
      }
      items.push(first);
      while (this.acceptOp(',')) {
        if (this.isOp(']')) break;
        items.push(this.parseTest());
      }
    }
    this.expectOp(']');
    return { kind: 'list', items, loc: this.loc(open) };
  }

  private parseDictDisplay(): Expr {
    const open = this.next();
    const keys: Expr[] = [];
    const values: Expr[] = [];
    while (!this.isOp('}')) {
      keys.push(this.parseTest());
      if (!this.isOp(':')) this.fail('unsupported construct: set literal');
      this.next();
      values.push(this.parseTest());
      if (!this.acceptOp(',')) break;
    }
    this.expectOp('}');
    return { kind: 'dict', keys, values, loc: this.loc(open) };
  }
}
