/**
 * x read lazily: the samples a request computes with, so the worker reads their rows from disk before it
 * answers (the computing itself is synchronous). A row that cannot be read fails that request with the reason.
 */
import type { ToWorker } from './protocol';
import type { XRows } from './x-rows';

/** The samples whose x a request needs (none for requests that need no x of a sample). */
export function samplesOf(msg: ToWorker): number[] {
  switch (msg.type) {
    case 'sample':
    case 'whatif':
    case 'check':
    case 'sweep':
    case 'export-data':
      return [msg.b];
    case 'compare':
      return [msg.b1, msg.b2];
    default:
      return [];
  }
}

/**
 * Runs `answer` once the rows `msg` needs are read (at once when x is held or nothing is needed); a read that
 * fails goes to `failed` with the request's id.
 */
export function withRows(
  rows: XRows | null | undefined,
  msg: ToWorker,
  answer: () => void,
  failed: (id: number, e: unknown) => void,
): void {
  const need =
    rows && rows.lazy && rows.per > 0
      ? samplesOf(msg).filter((b) => Number.isInteger(b) && b >= 0 && b < rows.B)
      : [];
  if (need.length === 0) return answer();
  need
    .reduce((p, b) => p.then(() => rows!.ensure(b, b + 1)), Promise.resolve())
    .then(answer, (e: unknown) => failed((msg as { id: number }).id, e));
}
