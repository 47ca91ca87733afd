/** Small helpers for crisp canvas drawing at any device pixel ratio. */

export const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const FONT_SMALL = '11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
export const INK = '#1f2430';
export const MUTED = '#5b6475';
export const GRID = '#e3e6ec';

/** Sizes the canvas backing store for CSS size w×h and returns a context scaled to CSS pixels. */
export function prepareCanvas(
  canvas: HTMLCanvasElement,
  w: number,
  h: number,
): CanvasRenderingContext2D | null {
  const dpr = Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
  const bw = Math.max(1, Math.round(w * dpr));
  const bh = Math.max(1, Math.round(h * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${h}px`;
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  return ctx;
}

/** Evenly spaced integer tick positions for an index axis of n cells drawn over `pixels`. */
export function indexTicks(n: number, pixels: number, minSpacing: number): number[] {
  if (n <= 0) return [];
  const per = pixels / n;
  let step = Math.max(1, Math.ceil(minSpacing / Math.max(per, 1e-9)));
  const nice = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
  step = nice.find((s) => s >= step) ?? step;
  const ticks: number[] = [];
  for (let i = 0; i < n; i += step) ticks.push(i);
  return ticks;
}

/** Bumps the canvas's paint counter (read by tests to know a repaint happened). */
export function markPainted(canvas: HTMLCanvasElement): void {
  canvas.dataset.paintSeq = String(Number(canvas.dataset.paintSeq ?? '0') + 1);
}

export function useDevicePixelRatio(): number {
  return Math.max(1, Math.min(3, globalThis.devicePixelRatio || 1));
}
