/**
 * The ranges the what-if sliders cover. Where the batch varies a feature, the data's own min…max widened by
 * 10% (5% each side), so every sample sits inside with a little room past the extremes. Where it does not
 * (one sample, or a constant column) there is no spread to learn from: p_k ± 3·max(1, |p_k|), which is ±3 for
 * standardised inputs and ±3 times the value for large ones.
 */
export interface PRange {
  lo: number;
  hi: number;
  /** True when the range comes from the batch's spread; false when it is the ±3·max(1,|p|) fallback. */
  spread: boolean;
}

export const WIDEN = 0.1;
export const NO_SPREAD_SCALE = 3;

export function pRanges(p: Float64Array, B: number, P: number): PRange[] {
  const out: PRange[] = [];
  for (let k = 0; k < P; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let b = 0; b < B; b++) {
      const v = p[b * P + k];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo)) {
      // No finite value at all: a range around 0 so the slider still works.
      out.push({ lo: -NO_SPREAD_SCALE, hi: NO_SPREAD_SCALE, spread: false });
    } else if (hi > lo) {
      const pad = ((hi - lo) * WIDEN) / 2;
      out.push({ lo: lo - pad, hi: hi + pad, spread: true });
    } else {
      const half = NO_SPREAD_SCALE * Math.max(1, Math.abs(lo));
      out.push({ lo: lo - half, hi: lo + half, spread: false });
    }
  }
  return out;
}

/** The slider's step: a thousandth of the range (fine enough to feel continuous, coarse enough to land on). */
export function sliderStep(r: PRange): number {
  return (r.hi - r.lo) / 1000;
}
