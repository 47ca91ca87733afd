/**
 * Whether x and p must be chosen in a data file, and the guess the picker starts from. Pure (no engine): it works
 * on the file's listing. A file whose x and p are settled by their names (x/p, func_inp/scalar_inp, also as the
 * last part of a path or dotted name, one of each) loads directly, as does a file holding one array; any other
 * file with more than one candidate asks the user.
 */
import type { PickVariable, VarChoice } from './pick-protocol';

const X_NAMES = ['x', 'func_inp'];
const P_NAMES = ['p', 'scalar_inp'];

/** A numeric, real array: what can be x or p. */
export function selectable(v: PickVariable): boolean {
  return v.dtype !== null && !v.dtype.startsWith('complex');
}

function lastPart(n: string): string {
  const parts = n.split(/[/.]/).filter((s) => s !== '');
  return parts.length ? parts[parts.length - 1] : n;
}

function parentOf(n: string): string {
  const i = Math.max(n.lastIndexOf('/'), n.lastIndexOf('.'));
  return i > 0 ? n.slice(0, i) : '';
}

/** The one candidate named like `names` (exactly first, then by last part; near x's group when that settles it). */
function byName(vars: PickVariable[], names: string[], near?: string): string | undefined {
  const exact = names.flatMap((c) => vars.filter((v) => v.name === c || v.name === `/${c}`));
  if (exact.length > 0) return exact[0].name;
  let hits = vars.filter((v) => names.includes(lastPart(v.name)));
  if (hits.length > 1 && near !== undefined) {
    const sib = hits.filter((v) => parentOf(v.name) === near);
    if (sib.length === 1) hits = sib;
  }
  return hits.length === 1 ? hits[0].name : undefined;
}

export interface ChoiceNeed {
  /** True when the file holds more than one candidate and names do not settle x and p. */
  needsPick: boolean;
  /** What the picker preselects. */
  suggested: VarChoice;
}

export function choiceNeed(all: PickVariable[]): ChoiceNeed {
  const vars = all.filter(selectable);
  const xName = byName(vars, X_NAMES);
  const pName = byName(
    vars.filter((v) => v.name !== xName),
    P_NAMES,
    xName !== undefined ? parentOf(xName) : undefined,
  );
  const needsPick = vars.length > 1 && !(xName !== undefined && pName !== undefined);
  const suggested: VarChoice = {};
  const only = (c: PickVariable[]) => (c.length === 1 ? c[0].name : undefined);
  suggested.x = xName ?? only(vars.filter((v) => v.shape.length === 3 && v.name !== pName));
  const B = vars.find((v) => v.name === suggested.x)?.shape[0];
  let pc = vars.filter((v) => v.shape.length === 2 && v.name !== suggested.x);
  if (B !== undefined && pc.length > 1) pc = pc.filter((v) => v.shape[0] === B);
  suggested.p = pName ?? only(pc);
  if (suggested.x === undefined) delete suggested.x;
  if (suggested.p === undefined) delete suggested.p;
  return { needsPick, suggested };
}

/** Why a remembered or given choice does not fit the file's listing (null: it fits). */
export function choiceProblem(all: PickVariable[], choice: VarChoice): string | null {
  if (choice.x === undefined && choice.p === undefined) return 'neither x nor p is chosen';
  if (choice.x !== undefined && choice.x === choice.p) return `'${choice.x}' cannot be both x and p`;
  for (const role of ['x', 'p'] as const) {
    const name = choice[role];
    if (name === undefined) continue;
    const v = all.find((a) => a.name === name);
    if (!v) return `it has no variable '${name}'`;
    if (!selectable(v))
      return `'${name}' is not a real numeric array (${v.note ?? v.dtype ?? 'not numeric'})`;
  }
  return null;
}

/**
 * Whether x [B,T] (2-D) beside p [B,P] of the same B (B > 1) is to be read as [B,T,1]: one function input per
 * time step (Xf = 1), unless the model says Xf is something else.
 */
export function xIsOneFeature(all: PickVariable[], choice: VarChoice, modelXf: number | undefined): boolean {
  const x = all.find((v) => v.name === choice.x);
  const p = all.find((v) => v.name === choice.p);
  if (!x || x.shape.length !== 2) return false;
  if (modelXf !== undefined) return modelXf === 1;
  return !!p && p.shape.length === 2 && p.shape[0] === x.shape[0] && x.shape[0] > 1;
}
