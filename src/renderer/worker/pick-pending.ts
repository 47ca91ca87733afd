/**
 * The drop that waits for the variable picker's answer (one at a time: a new drop replaces it). The worker keeps
 * the files' bytes, so the answer loads them again without the UI sending them twice.
 */
import type { VarChoice } from './pick-protocol';
import type { ToWorker } from './protocol';
import type { RangeReader } from './byte-reader';
import type { LoadOutcome, Session } from './session';

type Files = { name: string; bytes: Uint8Array; lazy?: RangeReader }[];

export class PendingPick {
  private held: { pickId: number; file: string; files: Files; choices: Record<string, VarChoice> } | null =
    null;

  hold(pickId: number, file: string, files: Files, choices: Record<string, VarChoice>): void {
    this.held = { pickId, file, files, choices };
  }

  clear(): void {
    this.held = null;
  }

  /**
   * The files and choices to load again with the answer (`null` choice: the file is left out); null when that
   * question is no longer open (a newer drop replaced it).
   */
  answer(
    pickId: number,
    file: string,
    choice: VarChoice | null,
  ): { files: Files; choices: Record<string, VarChoice>; left?: string } | null {
    const h = this.held;
    if (!h || h.pickId !== pickId || h.file !== file) return null;
    this.held = null;
    if (choice === null)
      return { files: h.files.filter((f) => f.name !== file), choices: h.choices, left: file };
    return { files: h.files, choices: { ...h.choices, [file]: choice } };
  }
}

/** A load, or the picker's answer to one: the files (again) with the x and p chosen per file. */
export async function loadWithPicks(
  session: Session,
  pending: PendingPick,
  msg: Extract<ToWorker, { type: 'load' | 'pick' }>,
  hooks: Parameters<Session['load']>[1],
  /** How a file not sent whole is read (a Blob, or ranges main reads); absent: every file comes whole. */
  readerOf?: (f: Extract<ToWorker, { type: 'load' }>['files'][number]) => RangeReader | undefined,
): Promise<LoadOutcome> {
  let files: Files;
  let choices: Record<string, VarChoice>;
  let left: string | undefined;
  if (msg.type === 'load') {
    files = msg.files.map((f) => {
      const lazy = readerOf?.(f);
      return { name: f.name, bytes: new Uint8Array(f.bytes ?? new ArrayBuffer(0)), lazy };
    });
    choices = msg.choices ?? {};
  } else {
    const a = pending.answer(msg.pickId, msg.file, msg.choice);
    if (!a) {
      const text = `${msg.file}: that choice is no longer asked for (files dropped since replaced it)`;
      return {
        kind: 'unchanged',
        messages: [{ file: msg.file, level: 'warning', text }],
        staged: session.stagedFiles(),
      };
    }
    ({ files, choices, left } = a);
  }
  pending.clear();
  const outcome = await session.load(files, hooks, choices);
  if (outcome.kind === 'pick') pending.hold(msg.id, outcome.pick.file, files, choices);
  if (left)
    outcome.messages.unshift({ file: left, level: 'info', text: `${left}: not loaded (no x or p chosen)` });
  return outcome;
}
