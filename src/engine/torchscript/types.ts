/**
 * TorchScript type annotations (`Tensor`, `Optional[List[int]]`, `Tuple[Tensor, Tensor]`,
 * `__torch__.X`...): printing them, matching values against them (`isinstance`), and using them to
 * restore the int/float distinction that pickled attributes lose.
 */
import type { Expr } from './ast';
import { PyFloat, ScriptObject, isTuple } from './values';

/** The annotation as source text, e.g. `Optional[Tensor]`. */
export function typeToString(e: Expr | null): string {
  if (!e) return 'Any';
  switch (e.kind) {
    case 'name':
      return e.id;
    case 'const':
      return e.value === null ? 'None' : String(e.value);
    case 'attr':
      return `${typeToString(e.value)}.${e.name}`;
    case 'subscript': {
      const args = e.index.kind === 'tuple' ? e.index.items : [e.index];
      return `${typeToString(e.value)}[${args.map(typeToString).join(', ')}]`;
    }
    case 'tuple':
      return `(${e.items.map(typeToString).join(', ')})`;
    case 'list':
      return `[${e.items.map(typeToString).join(', ')}]`;
    case 'str':
      return JSON.stringify(e.value);
    default:
      return '?';
  }
}

interface TypeHead {
  head: string;
  args: Expr[];
}

function split(e: Expr): TypeHead {
  if (e.kind === 'subscript') {
    return { head: typeToString(e.value), args: e.index.kind === 'tuple' ? e.index.items : [e.index] };
  }
  return { head: typeToString(e), args: [] };
}

const stripTyping = (h: string): string => h.replace(/^(typing|torch|builtins)\./, '');

/**
 * Converts a value read from a pickle to the annotated type: numbers annotated `float` become
 * `PyFloat` (pickles keep 1.0 and 1 apart, but JS numbers do not), recursively through containers.
 */
export function coerceToType(v: unknown, t: Expr | null, depth = 0): unknown {
  if (!t || depth > 64 || v === null || v === undefined) return v;
  const { head, args } = split(t);
  switch (stripTyping(head)) {
    case 'float':
      return typeof v === 'number' ? new PyFloat(v) : v;
    case 'Optional':
    case 'Final':
      return args.length === 1 ? coerceToType(v, args[0], depth + 1) : v;
    case 'List':
      if (Array.isArray(v) && args.length === 1 && needsCoercion(args[0])) {
        const out = v.map((x) => coerceToType(x, args[0], depth + 1));
        // A list whose elements need nothing stays the same object (the code may mutate it).
        if (out.every((x, i) => x === v[i])) return v;
        return isTuple(v) ? Object.freeze(out) : out;
      }
      return v;
    case 'Tuple':
      if (Array.isArray(v) && args.length === v.length && args.some(needsCoercion)) {
        const out = v.map((x, i) => coerceToType(x, args[i], depth + 1));
        return out.every((x, i) => x === v[i]) ? v : Object.freeze(out);
      }
      return v;
    case 'Dict':
      if (v instanceof Map && args.length === 2 && needsCoercion(args[1])) {
        let changed = false;
        const out = new Map();
        for (const [k, x] of v) {
          const y = coerceToType(x, args[1], depth + 1);
          changed ||= y !== x;
          out.set(k, y);
        }
        return changed ? out : v;
      }
      return v;
    default:
      return v;
  }
}

function needsCoercion(t: Expr): boolean {
  return /\bfloat\b/.test(typeToString(t));
}

/**
 * `isinstance(v, T)`. Container types are checked element by element (as TorchScript's static
 * refinement would have decided them).
 */
export function matchesType(v: unknown, t: Expr, isTensor: (v: unknown) => boolean, depth = 0): boolean {
  if (depth > 64) return false;
  if (t.kind === 'tuple') return t.items.some((x) => matchesType(v, x, isTensor, depth + 1));
  if (t.kind === 'const' && t.value === null) return v === null;
  const { head, args } = split(t);
  const sub = (x: unknown, a: Expr): boolean => matchesType(x, a, isTensor, depth + 1);
  switch (stripTyping(head)) {
    case 'Tensor':
      return isTensor(v);
    case 'int':
      return typeof v === 'number';
    case 'float':
      return v instanceof PyFloat;
    case 'number':
      return typeof v === 'number' || v instanceof PyFloat;
    case 'bool':
      return typeof v === 'boolean';
    case 'str':
      return typeof v === 'string';
    case 'NoneType':
    case 'None':
      return v === null;
    case 'Any':
      return true;
    case 'Optional':
      return v === null || (args.length === 1 && sub(v, args[0]));
    case 'Union':
      return args.some((a) => sub(v, a));
    case 'Final':
      return args.length === 1 && sub(v, args[0]);
    case 'List':
      return Array.isArray(v) && !isTuple(v) && (args.length !== 1 || v.every((x) => sub(x, args[0])));
    case 'Tuple':
      return (
        Array.isArray(v) &&
        isTuple(v) &&
        (args.length === 0 || (args.length === v.length && v.every((x, i) => sub(x, args[i]))))
      );
    case 'Dict':
      return v instanceof Map;
    default:
      return v instanceof ScriptObject && v.type === head;
  }
}
