/**
 * The variable picker's state: the question the worker asked (a data file with several candidates), and the
 * answers remembered per file name in localStorage, sent with every later load of a file of that name.
 */
import { create } from 'zustand';
import type { PickRequest, VarChoice } from '../worker/protocol';

export const usePicker = create<{ request: PickRequest | null }>(() => ({ request: null }));

export function showPicker(request: PickRequest): void {
  usePicker.setState({ request });
}

export function closePicker(): void {
  usePicker.setState({ request: null });
}

const PREFIX = 'jacscope.data-choice:';

function storage(): Storage | null {
  try {
    return typeof localStorage !== 'undefined' ? localStorage : null;
  } catch {
    return null; // storage disabled (a sandboxed page): nothing is remembered
  }
}

function parse(text: string | null): VarChoice | null {
  if (!text) return null;
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null) return null;
    const o = v as Record<string, unknown>;
    const out: VarChoice = {};
    if (typeof o.x === 'string') out.x = o.x;
    if (typeof o.p === 'string') out.p = o.p;
    return out.x === undefined && out.p === undefined ? null : out;
  } catch {
    return null;
  }
}

/** The choices remembered for these file names (only those that have one). */
export function rememberedChoices(names: readonly string[]): Record<string, VarChoice> {
  const s = storage();
  const out: Record<string, VarChoice> = {};
  if (!s) return out;
  for (const n of names) {
    const c = parse(s.getItem(PREFIX + n));
    if (c) out[n] = c;
  }
  return out;
}

export function rememberChoice(file: string, choice: VarChoice): void {
  try {
    storage()?.setItem(PREFIX + file, JSON.stringify(choice));
  } catch {
    // Full or disabled storage: the choice holds for this load only.
  }
}
