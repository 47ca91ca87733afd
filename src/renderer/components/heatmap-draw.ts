/**
 * Draws a J slice as a heatmap: cells through a diverging LUT (one ImageData at the slice's own resolution,
 * scaled without smoothing), index/feature-name ticks, axis labels and a colour legend. The layout it returns
 * maps a mouse position to a cell in O(1).
 */
import { AXIS_LABEL, indexName } from '../lib/axes';
import type { FeatureNames } from '../lib/axes';
import { DIVERGING_LUT, LUT_SIZE, divergingIndex, paintPixels } from '../lib/colormap';
import { compact } from '../lib/format';
import type { Slice2D } from '../lib/slice';
import { FONT, FONT_SMALL, INK, MUTED, indexTicks, markPainted, prepareCanvas } from './canvas-util';

export interface HeatmapLayout {
  left: number;
  top: number;
  width: number;
  height: number;
  nx: number;
  ny: number;
}

export interface HeatmapDrawOptions {
  slice: Slice2D;
  names: FeatureNames;
  /** The colour scale runs over [-limit, limit]. */
  limit: number;
  title: string;
  scaleNote: string;
  cssWidth: number;
  cssHeight: number;
}

const scratch: { canvas: OffscreenCanvas | HTMLCanvasElement | null } = { canvas: null };

function scratchCanvas(w: number, h: number): OffscreenCanvas | HTMLCanvasElement {
  if (!scratch.canvas)
    scratch.canvas =
      typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(w, h) : document.createElement('canvas');
  const c = scratch.canvas;
  if (c.width !== w) c.width = w;
  if (c.height !== h) c.height = h;
  return c;
}

function tickLabel(axis: Slice2D['xAxis'], i: number, names: FeatureNames): string {
  return axis === 'o' || axis === 'k' ? indexName(axis, i, names) : String(i);
}

const widthCache = new WeakMap<string[], number>();

/** The widest tick label of an axis: the last index for numbers; all names (measured once per list) for o/k. */
function widestLabel(
  ctx: CanvasRenderingContext2D,
  axis: Slice2D['xAxis'],
  n: number,
  names: FeatureNames,
): number {
  if (axis !== 'o' && axis !== 'k') return ctx.measureText(String(Math.max(0, n - 1))).width;
  const list = axis === 'o' ? names.y : names.p;
  let w = widthCache.get(list);
  if (w === undefined) {
    w = 0;
    for (let i = 0; i < Math.min(n, 2000); i++)
      w = Math.max(w, ctx.measureText(tickLabel(axis, i, names)).width);
    widthCache.set(list, w);
  }
  return w;
}

export function drawHeatmap(canvas: HTMLCanvasElement, o: HeatmapDrawOptions): HeatmapLayout | null {
  const { slice, names, limit, cssWidth: W, cssHeight: H } = o;
  const ctx = prepareCanvas(canvas, W, H);
  if (!ctx) return null;
  const { nx, ny, xAxis, yAxis } = slice;

  ctx.font = FONT_SMALL;
  const yLabelW = widestLabel(ctx, yAxis, ny, names);
  const left = Math.min(160, Math.ceil(yLabelW) + 38);
  const right = 86;
  const top = 28;
  const bottom = 44;
  const width = Math.max(10, W - left - right);
  const height = Math.max(10, H - top - bottom);

  // Cells.
  const img = new ImageData(nx, ny);
  paintPixels(slice.data, img.data, DIVERGING_LUT, (v) => divergingIndex(v, limit));
  const sc = scratchCanvas(nx, ny);
  const sctx = sc.getContext('2d') as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (sctx) {
    sctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(sc, 0, 0, nx, ny, left, top, width, height);
  }
  ctx.strokeStyle = '#9aa1ad';
  ctx.lineWidth = 1;
  ctx.strokeRect(left - 0.5, top - 0.5, width + 1, height + 1);

  // Title.
  ctx.fillStyle = INK;
  ctx.font = '600 13px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'alphabetic';
  ctx.fillText(o.title, left, top - 10);

  // X ticks.
  ctx.font = FONT_SMALL;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const xMax = widestLabel(ctx, xAxis, nx, names);
  for (const i of indexTicks(nx, width, Math.max(40, xMax + 10))) {
    const x = left + ((i + 0.5) / nx) * width;
    ctx.fillRect(Math.round(x) - 0.5, top + height, 1, 4);
    ctx.fillText(tickLabel(xAxis, i, names), x, top + height + 6);
  }
  // Y ticks.
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const i of indexTicks(ny, height, 14)) {
    const y = top + ((i + 0.5) / ny) * height;
    ctx.fillRect(left - 4, Math.round(y) - 0.5, 4, 1);
    ctx.fillText(tickLabel(yAxis, i, names), left - 6, y);
  }
  // Axis labels.
  ctx.fillStyle = INK;
  ctx.font = FONT;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(AXIS_LABEL[xAxis], left + width / 2, H - 4);
  ctx.save();
  ctx.translate(12, top + height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'top';
  ctx.fillText(AXIS_LABEL[yAxis], 0, -6);
  ctx.restore();

  drawLegend(ctx, left + width + 18, top, 14, height, limit, o.scaleNote);
  markPainted(canvas);
  return { left, top, width, height, nx, ny };
}

function drawLegend(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  w: number,
  h: number,
  limit: number,
  note: string,
): void {
  for (let i = 0; i < h; i++) {
    const f = 1 - i / Math.max(1, h - 1);
    const j = Math.round(f * (LUT_SIZE - 1)) * 4;
    ctx.fillStyle = `rgb(${DIVERGING_LUT[j]},${DIVERGING_LUT[j + 1]},${DIVERGING_LUT[j + 2]})`;
    ctx.fillRect(x, y + i, w, 1);
  }
  ctx.strokeStyle = '#9aa1ad';
  ctx.strokeRect(x - 0.5, y - 0.5, w + 1, h + 1);
  ctx.fillStyle = MUTED;
  ctx.font = FONT_SMALL;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const ticks = [limit, limit / 2, 0, -limit / 2, -limit];
  ticks.forEach((v, i) => {
    const ty = y + (i / 4) * h;
    ctx.fillRect(x + w, Math.round(ty) - 0.5, 3, 1);
    ctx.fillText(v === 0 ? '0' : compact(v), x + w + 5, ty);
  });
  ctx.fillStyle = INK;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText('J', x, y - 4);
  // The scale's kind, right-aligned on the title line above the plot's right edge.
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'right';
  ctx.fillText(`colour scale: ${note}`, x - 18, y - 10);
}

/** The cell under a point (CSS pixels relative to the canvas), or null outside the plot. */
export function cellAt(layout: HeatmapLayout, px: number, py: number): { ix: number; iy: number } | null {
  const fx = (px - layout.left) / layout.width;
  const fy = (py - layout.top) / layout.height;
  if (fx < 0 || fx >= 1 || fy < 0 || fy >= 1) return null;
  return { ix: Math.floor(fx * layout.nx), iy: Math.floor(fy * layout.ny) };
}
