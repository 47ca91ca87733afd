/**
 * What `jacscope info` says about a TorchScript archive: traced or scripted, the forward signature,
 * the ops its code uses (a static count over the code reachable from the root's `forward`), and
 * its parameters and buffers (real and complex elements, shared tensors counted once).
 */
import { isComplex, sizeOf } from '../tensor';
import { isHostTensor, TsObject } from './archive-values';
import type { TorchScriptArchive } from './archive';
import type { FunctionDef } from './ast';
import { shortType } from './runtime';
import { typeToString } from './types';
import { dottedName, walk } from './walk';

export interface TensorCount {
  /** Distinct tensors. */
  tensors: number;
  /** Elements of real tensors. */
  real: number;
  /** Elements of complex tensors (each a complex number). */
  complex: number;
}

export interface TorchScriptDescription {
  kind: TorchScriptArchive['kind'];
  kindReason: string;
  /** The root module's class without `__torch__.` and mangling, e.g. `FNO`. */
  rootType: string;
  /** `forward`'s parameters after `self`, with their annotated types; null if the root has no forward. */
  forward: { params: { name: string; type: string; default?: string }[]; returns: string } | null;
  /** Ops named in reachable code, most used first: `aten::linear` ×3 ... */
  ops: { op: string; count: number }[];
  parameters: TensorCount;
  buffers: TensorCount;
  /** Module objects in the tree (the root included). */
  modules: number;
  version: string | null;
}

/** `torch.X` calls that are Python-level (lists, ints, strings, shapes): not ops in the summary. */
const PYTHON_LEVEL = new Set([
  '__is__',
  '__isnot__',
  '__not__',
  '__contains__',
  '__range_length',
  '__derive_index',
  '_set_item',
  'format',
  'warn',
  'append',
  'len',
  'list',
  'keys',
  'values',
  'items',
  'str',
  'dim',
  'size',
  'numel',
  'device',
]);

const ATEN_PREFIXES: [string, string][] = [
  ['torch.nn.functional.', ''],
  ['torch.fft.', 'fft_'],
  ['torch.linalg.', 'linalg_'],
  ['torch.special.', 'special_'],
  ['ops.aten.', ''],
  ['torch.', ''],
];

export function describe(archive: TorchScriptArchive): TorchScriptDescription {
  const rootCls = archive.classes.get(archive.root.type);
  const fwd = rootCls?.methods.get('forward');
  const forward = fwd
    ? {
        params: fwd.params.slice(1).map((p) => ({
          name: p.name,
          type: typeToString(p.annotation),
          ...(p.default ? { default: exprText(p.default) } : {}),
        })),
        returns: typeToString(fwd.returns),
      }
    : null;
  const { parameters, buffers, modules, types } = countTensors(archive);
  return {
    kind: archive.kind,
    kindReason: archive.kindReason,
    rootType: shortType(archive.root.type),
    forward,
    ops: staticOps(archive, types),
    parameters,
    buffers,
    modules,
    version: archive.version,
  };
}

function exprText(e: FunctionDef['params'][number]['default']): string {
  if (!e) return '';
  if (e.kind === 'int' || e.kind === 'float') return String(e.value);
  if (e.kind === 'str') return JSON.stringify(e.value);
  if (e.kind === 'const') return e.value === null ? 'None' : e.value ? 'True' : 'False';
  return typeToString(e);
}

function countTensors(archive: TorchScriptArchive): {
  parameters: TensorCount;
  buffers: TensorCount;
  modules: number;
  types: Set<string>;
} {
  const parameters: TensorCount = { tensors: 0, real: 0, complex: 0 };
  const buffers: TensorCount = { tensors: 0, real: 0, complex: 0 };
  const seenTensors = new Set<object>();
  const seen = new Set<TsObject>();
  const types = new Set<string>();
  const work = [archive.root];
  while (work.length) {
    const o = work.pop()!;
    if (seen.has(o)) continue;
    seen.add(o);
    types.add(o.type);
    const cls = archive.classes.get(o.type);
    for (const [name, v] of o.attrs) {
      if (v instanceof TsObject) work.push(v);
      if (!isHostTensor(v) || seenTensors.has(v)) continue;
      const into = cls?.parameters.includes(name) ? parameters : cls?.buffers.includes(name) ? buffers : null;
      if (!into) continue;
      seenTensors.add(v);
      into.tensors++;
      if (isComplex(v.dtype)) into.complex += sizeOf(v.shape);
      else into.real += sizeOf(v.shape);
    }
  }
  return { parameters, buffers, modules: seen.size, types };
}

/** Op names in the code reachable from the root's forward: methods called by name on any module class in the tree, functions referenced by name. */
function staticOps(archive: TorchScriptArchive, types: Set<string>): { op: string; count: number }[] {
  const counts = new Map<string, number>();
  const done = new Set<FunctionDef>();
  const calledNames = new Set<string>(['forward']);
  const work: FunctionDef[] = [];
  const methodNames = new Set<string>();
  for (const c of archive.classes.values()) for (const m of c.methods.keys()) methodNames.add(m);
  const enqueue = (): void => {
    for (const t of types) {
      const cls = archive.classes.get(t);
      if (!cls) continue;
      for (const [name, def] of cls.methods) if (calledNames.has(name) && !done.has(def)) work.push(def);
    }
  };
  const root = archive.classes.get(archive.root.type)?.methods.get('forward');
  if (root) work.push(root);
  while (work.length) {
    const def = work.pop()!;
    if (done.has(def)) continue;
    done.add(def);
    const before = calledNames.size;
    walk(def.body, {
      expr(e) {
        const name = dottedName(e);
        if (name?.startsWith('__torch__.')) {
          const fn = archive.functions.get(name);
          if (fn && !done.has(fn.def)) work.push(fn.def);
        }
        if (e.kind !== 'call') return;
        const f = dottedName(e.func);
        const namespaced = !!f && /^(torch|ops|__torch__|math|builtins)\./.test(f);
        const op = namespaced ? opName(f!) : undefined;
        if (op) counts.set(op, (counts.get(op) ?? 0) + 1);
        else if (e.func.kind === 'attr' && !namespaced) {
          const m = e.func.name;
          if (methodNames.has(m)) calledNames.add(m);
          else counts.set(`aten::${m}`, (counts.get(`aten::${m}`) ?? 0) + 1);
        }
      },
    });
    if (calledNames.size !== before || work.length === 0) enqueue();
  }
  return [...counts]
    .map(([op, count]) => ({ op, count }))
    .sort((a, b) => b.count - a.count || a.op.localeCompare(b.op));
}

function opName(path: string): string | undefined {
  if (path.startsWith('ops.prim.')) {
    const p = path.slice(9);
    return ['unchecked_cast', 'RaiseException', 'device', 'min', 'max', 'isinstance'].includes(p)
      ? undefined
      : `prim::${p}`;
  }
  for (const [prefix, add] of ATEN_PREFIXES) {
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    if (!/^\w+$/.test(rest) || PYTHON_LEVEL.has(rest) || rest === 'device') return undefined;
    return `aten::${add}${rest}`;
  }
  return undefined;
}

/** Lines for `jacscope info`. */
export function formatDescription(d: TorchScriptDescription): string[] {
  const n = (x: number): string => x.toLocaleString('en-US');
  const lines = [`TorchScript module ${d.rootType} (${d.kind}: ${d.kindReason})`];
  if (d.forward) {
    const params = d.forward.params.map((p) => `${p.name}: ${p.type}${p.default ? ` = ${p.default}` : ''}`);
    lines.push(`forward(${params.join(', ')}) -> ${d.forward.returns}`);
  }
  const p = d.parameters;
  lines.push(
    `parameters: ${n(p.real + p.complex)} in ${p.tensors} tensors (${n(p.real)} real, ${n(p.complex)} complex)` +
      (d.buffers.tensors
        ? `; buffers: ${n(d.buffers.real + d.buffers.complex)} in ${d.buffers.tensors}`
        : '') +
      `; ${d.modules} modules`,
  );
  if (d.ops.length)
    lines.push(`ops: ${d.ops.map((o) => (o.count > 1 ? `${o.op} ×${o.count}` : o.op)).join(', ')}`);
  return lines;
}
