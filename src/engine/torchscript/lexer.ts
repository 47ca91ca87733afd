/**
 * Tokens of TorchScript's serialized Python: names, numbers, strings, operators, and the NEWLINE /
 * INDENT / DEDENT structure of Python's layout rules (lines inside brackets join; blank and comment
 * lines are skipped). One pass, linear in the text.
 */
import type { SourceLoc } from './ast';
import { TorchScriptError } from './errors';

export type TokenType = 'name' | 'int' | 'float' | 'str' | 'op' | 'newline' | 'indent' | 'dedent' | 'eof';

export interface Token {
  type: TokenType;
  /** The name, operator or string contents (escapes resolved); the source text for numbers. */
  value: string;
  /** Numeric value of int/float tokens. */
  num: number;
  line: number;
  col: number;
}

/** Operators, longest first (so that `**=` is not read as `**` and `=`), as one sticky regex. */
const OPERATOR = new RegExp(
  (
    '**= //= >>= <<= ... -> ** // == != <= >= += -= *= /= %= &= |= ^= @= << >> ' +
    '( ) [ ] { } , : . ; = + - * / % < > & | ^ ~ @'
  )
    .split(' ')
    .map((o) => o.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&'))
    .join('|'),
  'y',
);
const DECIMAL = /(?:\d[\d_]*)?(?:\.\d*)?(?:[eE][+-]?\d+)?/y;
const PREFIXED = /0[xob][0-9a-f_]+/iy;

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  n: '\n',
  r: '\r',
  t: '\t',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '\n': '',
};

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isNameStart = (c: string): boolean =>
  (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c > '\x7f';
const isNameChar = (c: string): boolean => isNameStart(c) || isDigit(c);

/**
 * `path` names the code file in locations; `archive` is the file name errors start with.
 * `maxBlockDepth` bounds the indentation stack.
 */
export function tokenize(text: string, path: string, archive: string, maxBlockDepth: number): Token[] {
  const tokens: Token[] = [];
  const indents = [0];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  let brackets = 0;
  let atLineStart = true;
  const n = text.length;

  const loc = (at: number): SourceLoc => ({ file: path, line, col: at - lineStart + 1 });
  const fail = (what: string, at: number): never => {
    throw new TorchScriptError(archive, what, loc(at));
  };
  const push = (type: TokenType, value: string, at: number, num = 0): void => {
    tokens.push({ type, value, num, line, col: at - lineStart + 1 });
  };
  /** After a (possibly triple-quoted, multi-line) string from `from` to `to`: line bookkeeping. */
  const skipLines = (from: number, to: number): number => {
    for (let k = from; k < to; k++) {
      if (text[k] === '\n') {
        line++;
        lineStart = k + 1;
      }
    }
    return to;
  };

  while (i < n) {
    if (atLineStart && brackets === 0) {
      // Measure the indentation of a new logical line; skip it if blank or a comment.
      let width = 0;
      let j = i;
      for (; j < n; j++) {
        const c = text[j];
        if (c === ' ') width++;
        else if (c === '\t') width = (Math.floor(width / 8) + 1) * 8;
        else if (c !== '\f') break;
      }
      const c = text[j];
      if (j >= n) {
        i = j;
        break;
      }
      if (c === '\n' || c === '\r' || c === '#') {
        i = j;
        while (i < n && text[i] !== '\n') i++;
        if (i < n) {
          i++;
          line++;
          lineStart = i;
        }
        continue;
      }
      atLineStart = false;
      const top = indents[indents.length - 1];
      if (width > top) {
        if (indents.length > maxBlockDepth) fail(`blocks nested more than ${maxBlockDepth} deep`, j);
        indents.push(width);
        push('indent', '', j);
      } else {
        while (width < indents[indents.length - 1]) {
          indents.pop();
          push('dedent', '', j);
        }
        if (width !== indents[indents.length - 1]) fail('indentation does not match any outer block', j);
      }
      i = j;
      continue;
    }

    const c = text[i];
    if (c === '\n') {
      if (brackets === 0) push('newline', '', i);
      i++;
      line++;
      lineStart = i;
      if (brackets === 0) atLineStart = true;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    if (c === '\\' && (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n'))) {
      i += text[i + 1] === '\n' ? 2 : 3;
      line++;
      lineStart = i;
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      i = lexNumber(text, i, push, fail);
      continue;
    }
    if (isNameStart(c)) {
      let j = i + 1;
      while (j < n && isNameChar(text[j])) j++;
      const word = text.slice(i, j);
      const q = text[j];
      if ((q === '"' || q === "'") && /^[rRbBuUfF]{1,2}$/.test(word)) {
        if (/[bBfF]/.test(word)) fail(`unsupported string prefix '${word}'`, i);
        i = skipLines(i, lexString(text, j, /[rR]/.test(word), i, push, fail));
        continue;
      }
      push('name', word, i);
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      i = skipLines(i, lexString(text, i, false, i, push, fail));
      continue;
    }
    OPERATOR.lastIndex = i;
    const op = OPERATOR.exec(text)?.[0];
    if (!op) fail(`unexpected character ${JSON.stringify(c)}`, i);
    if (op === '(' || op === '[' || op === '{') {
      brackets++;
      if (brackets > 10_000) fail('brackets nested too deeply', i);
    } else if (op === ')' || op === ']' || op === '}') {
      if (brackets === 0) fail(`unmatched '${op}'`, i);
      brackets--;
    }
    push('op', op!, i);
    i += op!.length;
  }
  if (brackets > 0) fail('the file ends inside brackets', i);
  if (tokens.length && tokens[tokens.length - 1].type !== 'newline') push('newline', '', i);
  while (indents.length > 1) {
    indents.pop();
    push('dedent', '', i);
  }
  push('eof', '', i);
  return tokens;
}

type Push = (type: TokenType, value: string, at: number, num?: number) => void;
type Fail = (what: string, at: number) => never;

function lexNumber(text: string, i: number, push: Push, fail: Fail): number {
  const start = i;
  const rest = text[i] === '0' ? text.slice(i, i + 2).toLowerCase() : '';
  if (rest === '0x' || rest === '0o' || rest === '0b') {
    PREFIXED.lastIndex = i;
    const m = PREFIXED.exec(text);
    if (!m) fail('malformed number', i);
    const digits = m![0].slice(2).replace(/_/g, '');
    const base = rest === '0x' ? 16 : rest === '0o' ? 8 : 2;
    const value = parseInt(digits, base);
    if (!Number.isFinite(value)) fail('malformed number', i);
    push('int', m![0], start, value);
    return i + m![0].length;
  }
  DECIMAL.lastIndex = i;
  const m = DECIMAL.exec(text);
  const src = m ? m[0] : '';
  if (!src || src === '.') fail('malformed number', i);
  const end = i + src.length;
  const next = text[end] ?? '';
  if (next === 'j' || next === 'J') fail('complex number literals are not supported', i);
  if (isNameChar(next)) fail(`malformed number '${text.slice(i, end + 1)}'`, i);
  const clean = src.includes('_') ? src.replace(/_/g, '') : src;
  const isFloat = /[.eE]/.test(clean);
  const value = Number(clean);
  if (Number.isNaN(value)) fail(`malformed number '${src}'`, i);
  push(isFloat ? 'float' : 'int', src, start, value);
  return end;
}

/** Reads a quoted string starting at `q` (the quote); returns the index after it. */
function lexString(text: string, q: number, raw: boolean, start: number, push: Push, fail: Fail): number {
  const quote = text[q];
  const triple = text.startsWith(quote.repeat(3), q);
  const delim = triple ? quote.repeat(3) : quote;
  let i = q + delim.length;
  let out = '';
  for (;;) {
    if (i >= text.length) fail('the file ends inside a string', start);
    const c = text[i];
    if (text.startsWith(delim, i)) {
      i += delim.length;
      break;
    }
    if (c === '\n' && !triple) fail('a string runs past the end of its line', start);
    if (c === '\\' && !raw) {
      const e = text[i + 1] ?? '';
      if (e in SIMPLE_ESCAPES) {
        out += SIMPLE_ESCAPES[e];
        i += 2;
        continue;
      }
      const hex = e === 'x' ? 2 : e === 'u' ? 4 : e === 'U' ? 8 : 0;
      if (hex) {
        const digits = text.slice(i + 2, i + 2 + hex);
        if (!/^[0-9a-fA-F]+$/.test(digits) || digits.length !== hex) fail(`malformed \\${e} escape`, i);
        const cp = parseInt(digits, 16);
        if (cp > 0x10ffff) fail(`malformed \\${e} escape`, i);
        out += String.fromCodePoint(cp);
        i += 2 + hex;
        continue;
      }
      const oct = /^[0-7]{1,3}/.exec(text.slice(i + 1, i + 4));
      if (oct) {
        out += String.fromCharCode(parseInt(oct[0], 8));
        i += 1 + oct[0].length;
        continue;
      }
      out += '\\';
      i++;
      continue;
    }
    out += c;
    i++;
  }
  push('str', out, start);
  return i;
}
