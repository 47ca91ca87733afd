/**
 * The syntax tree of TorchScript's serialized code (`code/__torch__/**.py`): the Python subset that
 * `torch.jit.save` prints. Every node carries its position for error messages.
 */

/** Where a node sits: `file` is the archive path without its top folder, e.g. `code/__torch__/m.py`. */
export interface SourceLoc {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
}

export type BinaryOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '@' | '&' | '|' | '^' | '<<' | '>>';
export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | 'is' | 'is not' | 'in' | 'not in';
export type UnaryOp = '-' | '+' | '~' | 'not';

export type Expr =
  | { kind: 'name'; id: string; loc: SourceLoc }
  | { kind: 'int'; value: number; loc: SourceLoc }
  | { kind: 'float'; value: number; loc: SourceLoc }
  | { kind: 'str'; value: string; loc: SourceLoc }
  | { kind: 'const'; value: boolean | null; loc: SourceLoc }
  | { kind: 'attr'; value: Expr; name: string; loc: SourceLoc }
  | { kind: 'subscript'; value: Expr; index: Expr; loc: SourceLoc }
  | { kind: 'slice'; lower: Expr | null; upper: Expr | null; step: Expr | null; loc: SourceLoc }
  | { kind: 'call'; func: Expr; args: Expr[]; kwargs: Keyword[]; loc: SourceLoc }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; loc: SourceLoc }
  | { kind: 'unary'; op: UnaryOp; operand: Expr; loc: SourceLoc }
  | { kind: 'bool'; op: 'and' | 'or'; values: Expr[]; loc: SourceLoc }
  | { kind: 'compare'; left: Expr; ops: CompareOp[]; rights: Expr[]; loc: SourceLoc }
  | { kind: 'ifexp'; test: Expr; body: Expr; orelse: Expr; loc: SourceLoc }
  | { kind: 'list'; items: Expr[]; loc: SourceLoc }
  | { kind: 'tuple'; items: Expr[]; loc: SourceLoc }
  | { kind: 'dict'; keys: Expr[]; values: Expr[]; loc: SourceLoc }
  | { kind: 'listcomp'; elt: Expr; target: Expr; iter: Expr; conds: Expr[]; loc: SourceLoc };

export interface Keyword {
  name: string;
  value: Expr;
}

export interface Param {
  name: string;
  annotation: Expr | null;
  default: Expr | null;
  /** After a bare `*`: keyword-only. */
  kwOnly: boolean;
  loc: SourceLoc;
}

export interface FunctionDef {
  kind: 'def';
  name: string;
  params: Param[];
  returns: Expr | null;
  body: Stmt[];
  loc: SourceLoc;
}

export interface ClassDef {
  kind: 'class';
  name: string;
  bases: Expr[];
  body: Stmt[];
  loc: SourceLoc;
}

export type Stmt =
  | FunctionDef
  | ClassDef
  | { kind: 'expr'; value: Expr; loc: SourceLoc }
  /** `a = b = value`: several targets, assigned left to right. */
  | { kind: 'assign'; targets: Expr[]; value: Expr; loc: SourceLoc }
  | { kind: 'annassign'; target: Expr; annotation: Expr; value: Expr | null; loc: SourceLoc }
  | { kind: 'augassign'; target: Expr; op: BinaryOp; value: Expr; loc: SourceLoc }
  | { kind: 'if'; test: Expr; body: Stmt[]; orelse: Stmt[]; loc: SourceLoc }
  | { kind: 'for'; target: Expr; iter: Expr; body: Stmt[]; loc: SourceLoc }
  | { kind: 'while'; test: Expr; body: Stmt[]; loc: SourceLoc }
  | { kind: 'return'; value: Expr | null; loc: SourceLoc }
  | { kind: 'raise'; exc: Expr | null; loc: SourceLoc }
  | { kind: 'assert'; test: Expr; msg: Expr | null; loc: SourceLoc }
  | { kind: 'pass'; loc: SourceLoc }
  | { kind: 'break'; loc: SourceLoc }
  | { kind: 'continue'; loc: SourceLoc }
  | { kind: 'del'; targets: Expr[]; loc: SourceLoc }
  | { kind: 'import'; names: string[]; loc: SourceLoc }
  | { kind: 'from'; module: string; names: string[]; loc: SourceLoc };

/** One parsed code file. */
export interface CodeFile {
  /** `code/__torch__/torch/nn/modules/linear.py` (archive path without the top folder). */
  path: string;
  /** `__torch__.torch.nn.modules.linear`: the prefix of the qualified names defined in it. */
  module: string;
  body: Stmt[];
}

export function formatLoc(loc: SourceLoc): string {
  return `${loc.file}:${loc.line}:${loc.col}`;
}
