/** Iterative traversal of statements and expressions (no recursion: bodies may be long and deep). */
import type { Expr, Stmt } from './ast';

export interface Visitor {
  stmt?(s: Stmt): void;
  expr?(e: Expr): void;
}

export function walk(body: readonly Stmt[], v: Visitor): void {
  const stack: (Stmt | Expr)[] = [...body].reverse();
  const isStmt = (x: Stmt | Expr): x is Stmt => STMT_KINDS.has(x.kind);
  while (stack.length) {
    const x = stack.pop()!;
    const kids: (Stmt | Expr | null)[] = [];
    if (isStmt(x)) {
      v.stmt?.(x);
      switch (x.kind) {
        case 'def':
          for (const p of x.params) kids.push(p.default);
          kids.push(...x.body);
          break;
        case 'class':
          kids.push(...x.body);
          break;
        case 'expr':
          kids.push(x.value);
          break;
        case 'assign':
          kids.push(...x.targets, x.value);
          break;
        case 'annassign':
          kids.push(x.target, x.value);
          break;
        case 'augassign':
          kids.push(x.target, x.value);
          break;
        case 'if':
          kids.push(x.test, ...x.body, ...x.orelse);
          break;
        case 'for':
          kids.push(x.target, x.iter, ...x.body);
          break;
        case 'while':
          kids.push(x.test, ...x.body);
          break;
        case 'return':
          kids.push(x.value);
          break;
        case 'raise':
          kids.push(x.exc);
          break;
        case 'assert':
          kids.push(x.test, x.msg);
          break;
        case 'del':
          kids.push(...x.targets);
          break;
      }
    } else {
      v.expr?.(x);
      switch (x.kind) {
        case 'attr':
          kids.push(x.value);
          break;
        case 'subscript':
          kids.push(x.value, x.index);
          break;
        case 'slice':
          kids.push(x.lower, x.upper, x.step);
          break;
        case 'call':
          kids.push(x.func, ...x.args, ...x.kwargs.map((k) => k.value));
          break;
        case 'binary':
          kids.push(x.left, x.right);
          break;
        case 'unary':
          kids.push(x.operand);
          break;
        case 'bool':
          kids.push(...x.values);
          break;
        case 'compare':
          kids.push(x.left, ...x.rights);
          break;
        case 'ifexp':
          kids.push(x.test, x.body, x.orelse);
          break;
        case 'list':
        case 'tuple':
          kids.push(...x.items);
          break;
        case 'dict':
          kids.push(...x.keys, ...x.values);
          break;
        case 'listcomp':
          kids.push(x.elt, x.target, x.iter, ...x.conds);
          break;
      }
    }
    for (let i = kids.length - 1; i >= 0; i--) {
      const k = kids[i];
      if (k) stack.push(k);
    }
  }
}

const STMT_KINDS = new Set([
  'def',
  'class',
  'expr',
  'assign',
  'annassign',
  'augassign',
  'if',
  'for',
  'while',
  'return',
  'raise',
  'assert',
  'pass',
  'break',
  'continue',
  'del',
  'import',
  'from',
]);

/** `torch.nn.functional.relu` for an attribute chain on a name; undefined for anything else. */
export function dottedName(e: Expr): string | undefined {
  const parts: string[] = [];
  let x: Expr = e;
  while (x.kind === 'attr') {
    parts.push(x.name);
    x = x.value;
  }
  if (x.kind !== 'name') return undefined;
  parts.push(x.id);
  return parts.reverse().join('.');
}
