/** Number formatting for the UI and exports. */

/** Full precision (shortest round-trip form): for hover and exports. */
export function exact(v: number): string {
  return Number.isFinite(v) ? String(v) : String(v);
}

/**
 * For values computed in float32 (WebGPU): the shortest decimal that reads back as the same
 * float32, where exact() would print the float64 digits of the float32 (0.01234568003565073 for
 * 0.01234568). Values that are not float32 get exact().
 */
export function exactF32(v: number): string {
  if (!Number.isFinite(v) || Math.fround(v) !== v) return exact(v);
  for (let digits = 1; digits < 9; digits++) {
    const s = Number(v.toPrecision(digits));
    if (Math.fround(s) === v) return String(s);
  }
  return String(Number(v.toPrecision(9)));
}

/** Compact: 4 significant digits, exponent when far from 1. */
export function compact(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(2);
  return Number(v.toPrecision(4)).toString();
}

/** "nice" ticks between lo and hi (at most about n). */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const span = hi - lo;
  const raw = span / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return ticks;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(ms < 10 ? 1 : 0)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
