/**
 * Traced or scripted? The archive does not say, so the code's style decides:
 *
 * - scripted (`torch.jit.script`): module classes carry `Final[...]` constants (`in_features :
 *   Final[int] = 3`), methods beside `forward` (`__len__` of containers, helpers such as
 *   `_conv_forward`; the tracer's `forward1`, `forward2` do not count), control flow
 *   (`if`/`for`/`while`) in module methods, `uninitialized(...)`, `ops.prim.RaiseException(...)`,
 *   calls of `__torch__.torch.nn.functional.*` wrappers (the tracer inlines them), reads of plain
 *   attributes (`self.use_pad: bool`; the tracer bakes their values in) and tensor attributes read
 *   twice in one method (the tracer reads each once, at the top).
 * - traced (`torch.jit.trace`): the tracer's parameter names `argument_1`, `ops.prim.NumToTensor`
 *   around sizes, factory calls with `pin_memory=False` and `device=torch.device("cpu")`, and
 *   slices up to 9223372036854775807.
 *
 * Free functions are ignored (a traced model may call scripted functions). Only one kind of evidence
 * decides; both (a traced model with scripted sub-modules, or the reverse) or neither give 'unknown'
 * (a traced single layer, say), and `reason` says what was seen.
 */
import type { FunctionDef, Stmt } from './ast';
import type { ClassInfo, CodeTable } from './classes';
import { typeToString } from './types';
import { dottedName, walk } from './walk';

export type ArchiveKind = 'traced' | 'scripted' | 'unknown';

/** 2^63 - 1 as a double (the tracer's "to the end" slice bound). */
const INT64_MAX = 2 ** 63;

export function detectKind(table: CodeTable, rootType: string): { kind: ArchiveKind; reason: string } {
  const scripted = new Set<string>();
  const traced = new Set<string>();
  for (const cls of table.classes.values()) {
    if (cls.kind !== 'module') continue;
    if ([...cls.attributes.values()].some((t) => t.kind === 'subscript' && dottedName(t.value) === 'Final'))
      scripted.add('Final constants');
    for (const [name, def] of cls.methods) {
      // The tracer names a module's second and later calls forward1, forward2, ...
      if (!/^forward\d*$/.test(name)) scripted.add(`methods beside forward (${name})`);
      for (const p of def.params) if (/^argument_\d+$/.test(p.name)) traced.add(`parameters named ${p.name}`);
      scanBody(def.body, scripted, traced);
      scanSelfReads(cls, def, scripted);
    }
  }
  const list = (s: Set<string>): string => [...s].slice(0, 3).join(', ');
  if (scripted.size && !traced.size) return { kind: 'scripted', reason: `the code has ${list(scripted)}` };
  if (traced.size && !scripted.size) return { kind: 'traced', reason: `the code has ${list(traced)}` };
  if (traced.size) {
    return {
      kind: 'unknown',
      reason: `mixed: traced code (${list(traced)}) and scripted code (${list(scripted)}) in ${rootType}`,
    };
  }
  return { kind: 'unknown', reason: 'the code shows neither tracing nor scripting' };
}

function scanBody(body: readonly Stmt[], scripted: Set<string>, traced: Set<string>): void {
  walk(body, {
    stmt(s) {
      if (s.kind === 'if' || s.kind === 'for' || s.kind === 'while') scripted.add(`control flow (${s.kind})`);
    },
    expr(e) {
      if (e.kind === 'int' && e.value >= INT64_MAX - 1024) traced.add('slices to 9223372036854775807');
      if (e.kind === 'attr' && dottedName(e)?.startsWith('__torch__.torch.nn.functional.'))
        scripted.add('calls of torch.nn.functional wrappers');
      if (e.kind !== 'call') return;
      const f = dottedName(e.func);
      if (f === 'uninitialized' || f === 'ops.prim.RaiseException') scripted.add(`${f}(...)`);
      if (f === 'ops.prim.NumToTensor') traced.add('ops.prim.NumToTensor(...)');
      if (
        e.kwargs.some((k) => k.name === 'pin_memory' && k.value.kind === 'const' && k.value.value === false)
      )
        traced.add('pin_memory=False');
    },
  });
}

/**
 * The tracer bakes plain attributes (ints, bools, strings) into the code and reads each tensor once
 * at the top of forward; scripted code reads `self.m` of any type, at every use.
 */
function scanSelfReads(cls: ClassInfo, def: FunctionDef, scripted: Set<string>): void {
  const self = def.params[0]?.name;
  if (!self) return;
  const tensorsRead = new Set<string>();
  walk(def.body, {
    expr(e) {
      if (e.kind !== 'attr' || e.value.kind !== 'name' || e.value.id !== self) return;
      const t = cls.attributes.get(e.name);
      if (!t) return;
      const type = typeToString(t);
      if (type === 'Tensor' || type === 'Optional[Tensor]') {
        if (tensorsRead.has(e.name)) scripted.add(`tensor attributes read twice (self.${e.name})`);
        tensorsRead.add(e.name);
      } else if (!type.startsWith('__torch__.')) {
        scripted.add(`plain attributes read (self.${e.name}: ${type})`);
      }
    },
  });
}
