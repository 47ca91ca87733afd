/**
 * Whether a dropped data file needs the variable picker: its listing, the choice remembered for its name, and
 * what to ask when that choice is missing or no longer fits the file.
 */
import { choiceProblem } from './data-choice';
import type { EngineAdapter } from './engine-contract';
import type { PickRequest, PickVariable, VarChoice } from './pick-protocol';

export interface PickCheck {
  /** Ask the user (nothing of the drop is read). */
  ask?: Omit<PickRequest, 'pickId'>;
  /** Read these variables as x and p. */
  use?: { choice: VarChoice; variables: PickVariable[] };
}

export async function pickFor(
  engine: EngineAdapter,
  f: { name: string; bytes: Uint8Array },
  remembered: VarChoice | undefined,
): Promise<PickCheck> {
  const listing = await engine.dataListing(f.bytes, f.name);
  if (!listing) return {};
  const { needsPick, ...rest } = listing;
  if (remembered) {
    const problem = choiceProblem(listing.variables, remembered);
    if (!problem) return { use: { choice: remembered, variables: listing.variables } };
    if (needsPick)
      return {
        ask: {
          ...rest,
          file: f.name,
          reason: `The choice remembered for ${f.name} no longer fits: ${problem}. Choose x and p.`,
        },
      };
  }
  if (!needsPick) return {};
  const n = listing.variables.filter((v) => v.dtype !== null).length;
  return {
    ask: {
      ...rest,
      file: f.name,
      reason: `${f.name} holds ${n} numeric arrays and their names do not say which are x and p.`,
    },
  };
}
