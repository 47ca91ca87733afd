/**
 * Python semantics for operators on non-tensor values: int/float arithmetic (int results stay ints,
 * `/` gives a float, `//` and `%` floor), comparisons (numbers, strings, lists and tuples
 * lexicographically), equality, membership, and `+`/`*` on strings, lists and tuples.
 * Errors are plain Errors with Python's wording; the interpreter adds the location.
 */
import type { BinaryOp } from './ast';
import { PyFloat, dictKey, isTuple, toNumber } from './values';

type Num = number | PyFloat | boolean;

const isNum = (v: unknown): v is Num =>
  typeof v === 'number' || typeof v === 'boolean' || v instanceof PyFloat;
const isFloat = (v: unknown): boolean => v instanceof PyFloat;

export class PyError extends Error {}

/** `a op b` for Python scalars, strings and sequences; undefined when the operands do not apply. */
export function binaryScalar(op: BinaryOp, a: unknown, b: unknown, maxLength: number): unknown {
  if (isNum(a) && isNum(b)) return numeric(op, a, b);
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') return checkedLength(a + b, maxLength);
    if (Array.isArray(a) && Array.isArray(b) && isTuple(a) === isTuple(b)) {
      const out = checkedLength([...a, ...b], maxLength);
      return isTuple(a) ? Object.freeze(out) : out;
    }
  }
  if (op === '*') {
    const [seq, n] = typeof b === 'number' ? [a, b] : [b, a];
    if (typeof n === 'number' && (typeof seq === 'string' || Array.isArray(seq))) {
      const count = Math.max(0, n);
      if (seq.length * count > maxLength) throw new PyError(`a sequence longer than ${maxLength} elements`);
      if (typeof seq === 'string') return seq.repeat(count);
      const out: unknown[] = [];
      for (let i = 0; i < count; i++) out.push(...seq);
      return isTuple(seq) ? Object.freeze(out) : out;
    }
  }
  if (op === '%' && typeof a === 'string') throw new PyError("'%' string formatting is not supported");
  return undefined;
}

function checkedLength<X extends { length: number }>(v: X, max: number): X {
  if (v.length > max) throw new PyError(`a sequence longer than ${max} elements`);
  return v;
}

function numeric(op: BinaryOp, a: Num, b: Num): unknown {
  const x = toNumber(a)!;
  const y = toNumber(b)!;
  const float = isFloat(a) || isFloat(b);
  const wrap = (v: number): number | PyFloat => (float ? new PyFloat(v) : v);
  switch (op) {
    case '+':
      return wrap(x + y);
    case '-':
      return wrap(x - y);
    case '*':
      return wrap(x * y);
    case '/':
      if (y === 0) throw new PyError('ZeroDivisionError: division by zero');
      return new PyFloat(x / y);
    case '//':
      if (y === 0) throw new PyError('ZeroDivisionError: integer division or modulo by zero');
      return wrap(Math.floor(x / y));
    case '%': {
      if (y === 0) throw new PyError('ZeroDivisionError: integer division or modulo by zero');
      const r = x - y * Math.floor(x / y);
      return wrap(r);
    }
    case '**':
      if (!float && y >= 0) return x ** y;
      if (x < 0 && !Number.isInteger(y)) throw new PyError('a negative number to a fractional power');
      if (x === 0 && y < 0) throw new PyError('ZeroDivisionError: 0.0 cannot be raised to a negative power');
      return new PyFloat(x ** y);
    case '&':
    case '|':
    case '^':
    case '<<':
    case '>>': {
      if (float) throw new PyError(`unsupported operand type(s) for ${op}: float`);
      if (typeof a === 'boolean' && typeof b === 'boolean' && op !== '<<' && op !== '>>') {
        return op === '&' ? a && b : op === '|' ? a || b : a !== b;
      }
      if (!Number.isSafeInteger(x) || !Number.isSafeInteger(y)) throw new PyError('an integer too large');
      const bx = BigInt(x);
      const by = BigInt(y);
      if ((op === '<<' || op === '>>') && (y < 0 || y > 64)) throw new PyError('a shift count out of range');
      const r =
        op === '&'
          ? bx & by
          : op === '|'
            ? bx | by
            : op === '^'
              ? bx ^ by
              : op === '<<'
                ? bx << by
                : bx >> by;
      return Number(r);
    }
    case '@':
      throw new PyError('unsupported operand type(s) for @: numbers');
  }
}

/** Python `==` for non-tensor values (tensors, objects by identity). */
export function pyEquals(a: unknown, b: unknown, depth = 0): boolean {
  if (a === b) return true;
  if (isNum(a) && isNum(b)) return toNumber(a) === toNumber(b);
  if (depth > 100) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (isTuple(a) !== isTuple(b) || a.length !== b.length) return false;
    return a.every((x, i) => pyEquals(x, b[i], depth + 1));
  }
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !pyEquals(v, b.get(k), depth + 1)) return false;
    return true;
  }
  return false;
}

/** `<`, `<=`, `>`, `>=` for numbers, strings and sequences. */
export function pyCompare(op: '<' | '<=' | '>' | '>=', a: unknown, b: unknown): boolean {
  const c = order(a, b, 0);
  switch (op) {
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function order(a: unknown, b: unknown, depth: number): number {
  if (isNum(a) && isNum(b)) {
    const x = toNumber(a)!;
    const y = toNumber(b)!;
    if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b) && depth < 100) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (pyEquals(a[i], b[i])) continue;
      return order(a[i], b[i], depth + 1);
    }
    return a.length - b.length;
  }
  throw new PyError('comparing values that have no order');
}

/** `x in container`. */
export function pyContains(container: unknown, x: unknown): boolean {
  if (Array.isArray(container)) return container.some((y) => pyEquals(x, y));
  if (container instanceof Map) return container.has(dictKey(x));
  if (typeof container === 'string' && typeof x === 'string') return container.includes(x);
  throw new PyError("'in' on a value that is not a list, tuple, dict or string");
}

/** Unary minus, plus and `~` on Python numbers. */
export function unaryScalar(op: '-' | '+' | '~', v: unknown): unknown {
  if (!isNum(v)) return undefined;
  const x = toNumber(v)!;
  if (op === '~') {
    if (isFloat(v)) throw new PyError("bad operand type for unary ~: 'float'");
    return -x - 1;
  }
  const r = op === '-' ? -x : x;
  return isFloat(v) ? new PyFloat(r) : r;
}
