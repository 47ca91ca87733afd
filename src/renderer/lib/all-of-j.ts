/**
 * The heatmap's "symmetric: all of J" scale: max |J| of the whole J when it is held; in sample mode the true max
 * over every sample once the streamed pass has found it (the global sensitivity), the shown sample's until then.
 */

export interface AllOfJ {
  limit: number;
  /** Whether the limit covers every sample (false: only the shown one, in sample mode before the pass). */
  everySample: boolean;
}

export function allOfJ(
  shownMax: number,
  result: { sampleB?: number | null; meta: { seq: number } } | null,
  gsa: { seq: number; jAbsMax?: number } | null | undefined,
): AllOfJ {
  if (!result || result.sampleB == null) return { limit: shownMax, everySample: true };
  if (gsa && gsa.seq === result.meta.seq && typeof gsa.jAbsMax === 'number' && gsa.jAbsMax > 0)
    return { limit: Math.max(gsa.jAbsMax, shownMax), everySample: true };
  return { limit: shownMax, everySample: false };
}
