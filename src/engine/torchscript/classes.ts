/**
 * The archive's code as a table: classes (modules, named tuples) with their methods, attribute types,
 * parameter/buffer names and `Final` constants, and free functions, by qualified name.
 */
import type { ClassDef, CodeFile, Expr, FunctionDef } from './ast';
import { TorchScriptError } from './errors';

export interface ClassInfo {
  /** `__torch__.torch.nn.modules.linear.Linear`. */
  qualname: string;
  kind: 'module' | 'namedtuple' | 'class';
  def: ClassDef;
  /** Code file path (`code/__torch__/....py`). */
  file: string;
  methods: Map<string, FunctionDef>;
  /** Declared attribute types: `name : T`, `name : Final[T] = v`, `__annotations__["0"] = T`. */
  attributes: Map<string, Expr>;
  /** `Final` attributes' values (`in_features : Final[int] = 3`), as literal expressions. */
  constants: Map<string, Expr>;
  /** `__parameters__` / `__buffers__` of modules. */
  parameters: string[];
  buffers: string[];
  /** Named tuple fields in order. */
  fields: string[];
}

export interface FunctionInfo {
  qualname: string;
  def: FunctionDef;
  file: string;
}

export interface CodeTable {
  classes: Map<string, ClassInfo>;
  functions: Map<string, FunctionInfo>;
}

export function buildCodeTable(files: readonly CodeFile[], archive: string): CodeTable {
  const classes = new Map<string, ClassInfo>();
  const functions = new Map<string, FunctionInfo>();
  for (const f of files) {
    for (const s of f.body) {
      if (s.kind === 'class') {
        const info = classInfo(s, f, archive);
        if (classes.has(info.qualname))
          throw new TorchScriptError(archive, `class ${info.qualname} is defined twice`, s.loc);
        classes.set(info.qualname, info);
      } else if (s.kind === 'def') {
        const qualname = `${f.module}.${s.name}`;
        if (functions.has(qualname))
          throw new TorchScriptError(archive, `function ${qualname} is defined twice`, s.loc);
        functions.set(qualname, { qualname, def: s, file: f.path });
      } else if (s.kind === 'import' || s.kind === 'from' || s.kind === 'pass') {
        // `import __torch__.x` lines only declare what the file uses.
      } else if (s.kind === 'assign' && s.targets.length === 1 && s.targets[0].kind === 'name') {
        // `op_version_set = 1` in archives of PyTorch ≤ 1.5.
      } else {
        throw new TorchScriptError(archive, `unexpected ${s.kind} statement at the top level`, s.loc);
      }
    }
  }
  return { classes, functions };
}

function baseName(e: Expr): string {
  if (e.kind === 'name') return e.id;
  if (e.kind === 'attr') return `${baseName(e.value)}.${e.name}`;
  return '?';
}

function classInfo(c: ClassDef, f: CodeFile, archive: string): ClassInfo {
  const bases = c.bases.map(baseName);
  const kind = bases.includes('Module')
    ? 'module'
    : bases.some((b) => b === 'NamedTuple' || b.endsWith('.NamedTuple'))
      ? 'namedtuple'
      : 'class';
  const info: ClassInfo = {
    qualname: `${f.module}.${c.name}`,
    kind,
    def: c,
    file: f.path,
    methods: new Map(),
    attributes: new Map(),
    constants: new Map(),
    parameters: [],
    buffers: [],
    fields: [],
  };
  const fail = (what: string, at = c.loc): never => {
    throw new TorchScriptError(archive, what, at);
  };
  for (const s of c.body) {
    switch (s.kind) {
      case 'def':
        if (info.methods.has(s.name)) fail(`method ${s.name} is defined twice in ${info.qualname}`, s.loc);
        info.methods.set(s.name, s);
        break;
      case 'annassign': {
        if (s.target.kind !== 'name') fail('an annotation on something that is not a name', s.loc);
        const name = (s.target as { id: string }).id;
        info.attributes.set(name, s.annotation);
        if (s.value) info.constants.set(name, s.value);
        if (kind === 'namedtuple') info.fields.push(name);
        break;
      }
      case 'assign': {
        const t = s.targets[0];
        if (s.targets.length !== 1) break;
        if (t.kind === 'name' && (t.id === '__parameters__' || t.id === '__buffers__')) {
          const names = stringList(s.value);
          if (!names) fail(`${t.id} is not a list of strings`, s.loc);
          if (t.id === '__parameters__') info.parameters = names!;
          else info.buffers = names!;
        } else if (
          t.kind === 'subscript' &&
          t.value.kind === 'name' &&
          t.value.id === '__annotations__' &&
          t.index.kind === 'str'
        ) {
          info.attributes.set(t.index.value, s.value);
        }
        // Other class-level assignments (`__constants__ = [...]`, ...) carry nothing the interpreter needs.
        break;
      }
      case 'pass':
      case 'expr':
        break;
      default:
        fail(`unexpected ${s.kind} statement in the body of class ${c.name}`, s.loc);
    }
  }
  return info;
}

function stringList(e: Expr): string[] | undefined {
  if (e.kind !== 'list' && e.kind !== 'tuple') return undefined;
  const out: string[] = [];
  for (const x of e.items) {
    if (x.kind !== 'str') return undefined;
    out.push(x.value);
  }
  return out;
}
