/** A cursor over tokens with the helpers both parsers use: look-ahead, expectations, located errors. */
import type { SourceLoc } from './ast';
import { TorchScriptError } from './errors';
import type { Token } from './lexer';

export const KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally ' +
    'for from global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

export class TokenCursor {
  protected pos = 0;
  protected depth = 0;

  constructor(
    protected readonly tokens: Token[],
    protected readonly path: string,
    protected readonly archive: string,
    protected readonly maxDepth: number,
  ) {}

  protected peek(k = 0): Token {
    return this.tokens[Math.min(this.pos + k, this.tokens.length - 1)];
  }

  protected next(): Token {
    const t = this.peek();
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }

  protected isOp(value: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'op' && t.value === value;
  }

  protected isWord(value: string, k = 0): boolean {
    const t = this.peek(k);
    return t.type === 'name' && t.value === value;
  }

  protected acceptOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.next();
    return true;
  }

  protected acceptWord(value: string): boolean {
    if (!this.isWord(value)) return false;
    this.next();
    return true;
  }

  protected expectOp(value: string): Token {
    if (!this.isOp(value)) this.fail(`expected '${value}' but found ${describeToken(this.peek())}`);
    return this.next();
  }

  protected expectName(): string {
    const t = this.peek();
    if (t.type !== 'name' || KEYWORDS.has(t.value))
      this.fail(`expected a name but found ${describeToken(t)}`);
    return this.next().value;
  }

  protected loc(t: Token = this.peek()): SourceLoc {
    return { file: this.path, line: t.line, col: t.col };
  }

  protected fail(what: string, t: Token = this.peek()): never {
    throw new TorchScriptError(this.archive, what, this.loc(t));
  }

  protected enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`expression nested more than ${this.maxDepth} deep`);
  }
}

export function describeToken(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'the end of the file';
    case 'newline':
      return 'the end of the line';
    case 'indent':
      return 'an indented block';
    case 'dedent':
      return 'the end of a block';
    case 'str':
      return 'a string';
    case 'int':
    case 'float':
      return `the number ${t.value}`;
    default:
      return `'${t.value}'`;
  }
}
