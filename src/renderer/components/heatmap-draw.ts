/**
 * Draws a J slice as a heatmap: cells through a diverging LUT (one ImageData at the slice's own resolution,
 * scaled without smoothing), index/feature-name ticks, axis labels and a colour legend. The layout it returns
 * maps a mouse position to a cell in O(1).
 */
import { AXIS_LABEL, indexName } from '../lib/axes';
import type { FeatureNames } from '../lib/axes';
import {
  DIVERGING_LUT,
  LUT_SIZE,
  SEQUENTIAL_LUT,
  divergingIndex,
  paintPixels,
  sequentialIndex,
} from '../lib/colormap';
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
  /** Above the legend ("J", or "ΔJ" for a difference). */
  legendLabel?: string;
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
  const { slice, names } = o;
  const { xAxis, yAxis } = slice;
  return drawGrid(canvas, {
    data: slice.data,
    nx: slice.nx,
    ny: slice.ny,
    x: {
      label: AXIS_LABEL[xAxis],
      tick: (i) => tickLabel(xAxis, i, names),
      widest: (ctx) => widestLabel(ctx, xAxis, slice.nx, names),
    },
    y: {
      label: AXIS_LABEL[yAxis],
      tick: (i) => tickLabel(yAxis, i, names),
      widest: (ctx) => widestLabel(ctx, yAxis, slice.ny, names),
    },
    colour: { kind: 'diverging', limit: o.limit },
    legendLabel: o.legendLabel ?? 'J',
    title: o.title,
    scaleNote: o.scaleNote,
    cssWidth: o.cssWidth,
    cssHeight: o.cssHeight,
  });
}

/** One axis of a grid picture: its label, the text of tick i, and the widest tick text. */
export interface GridAxis {
  label: string;
  tick: (i: number) => string;
  widest: (ctx: CanvasRenderingContext2D) => number;
}

/** Diverging about 0 over ±limit, or sequential over lo…hi (values outside are clamped; NaN is grey). */
export type GridColour =
  { kind: 'diverging'; limit: number } | { kind: 'sequential'; lo: number; hi: number };

export interface GridDrawOptions {
  /** Values at [iy * nx + ix]. */
  data: Float64Array;
  nx: number;
  ny: number;
  x: GridAxis;
  y: GridAxis;
  colour: GridColour;
  legendLabel: string;
  title: string;
  scaleNote: string;
  cssWidth: number;
  cssHeight: number;
}

const NAN_RGB = [200, 203, 210];

/** Any matrix as a heatmap with ticks, axis labels and a colour legend (the J heatmap is one use). */
export function drawGrid(canvas: HTMLCanvasElement, o: GridDrawOptions): HeatmapLayout | null {
  const { data, nx, ny, cssWidth: W, cssHeight: H, colour } = o;
  const ctx = prepareCanvas(canvas, W, H);
  if (!ctx) return null;

  ctx.font = FONT_SMALL;
  const yLabelW = o.y.widest(ctx);
  const left = Math.min(160, Math.ceil(yLabelW) + 38);
  // Room for the legend's tick labels at 4 significant digits ("-0.007939").
  const right = 98;
  const top = 28;
  const bottom = 44;
  const width = Math.max(10, W - left - right);
  const height = Math.max(10, H - top - bottom);

  // Cells.
  const img = new ImageData(nx, ny);
  if (colour.kind === 'diverging')
    paintPixels(data, img.data, DIVERGING_LUT, (v) => divergingIndex(v, colour.limit));
  else {
    const span = colour.hi - colour.lo;
    paintPixels(data, img.data, SEQUENTIAL_LUT, (v) => sequentialIndex(v - colour.lo, span));
  }
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i])) img.data.set(NAN_RGB, i * 4);
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
  const xMax = o.x.widest(ctx);
  for (const i of indexTicks(nx, width, Math.max(40, xMax + 10))) {
    const x = left + ((i + 0.5) / nx) * width;
    ctx.fillRect(Math.round(x) - 0.5, top + height, 1, 4);
    ctx.fillText(o.x.tick(i), x, top + height + 6);
  }
  // Y ticks.
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const i of indexTicks(ny, height, 14)) {
    const y = top + ((i + 0.5) / ny) * height;
    ctx.fillRect(left - 4, Math.round(y) - 0.5, 4, 1);
    ctx.fillText(o.y.tick(i), left - 6, y);
  }
  // Axis labels.
  ctx.fillStyle = INK;
  ctx.font = FONT;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  ctx.fillText(o.x.label, left + width / 2, H - 4);
  ctx.save();
  ctx.translate(12, top + height / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'top';
  ctx.fillText(o.y.label, 0, -6);
  ctx.restore();

  drawLegend(ctx, left + width + 18, top, 14, height, colour, o.legendLabel, o.scaleNote);
  markPainted(canvas);
  return { left, top, width, height, nx, ny };
}

const strips = new Map<Uint8ClampedArray, HTMLCanvasElement>();

/** The colour scale as a 1×LUT_SIZE picture, top = largest, made once per scale (drawn scaled, not per pixel row). */
function legendStrip(lut: Uint8ClampedArray): HTMLCanvasElement | null {
  let c = strips.get(lut);
  if (c) return c;
  c = document.createElement('canvas');
  c.width = 1;
  c.height = LUT_SIZE;
  const img = new ImageData(1, LUT_SIZE);
  for (let i = 0; i < LUT_SIZE; i++)
    img.data.set(lut.subarray((LUT_SIZE - 1 - i) * 4, (LUT_SIZE - i) * 4), i * 4);
  const sctx = c.getContext('2d');
  if (!sctx) return null;
  sctx.putImageData(img, 0, 0);
  strips.set(lut, c);
  return c;
}

function drawLegend(
  ctx: CanvasRenderingContext2D,
  x: number,
  y: number,
  w: number,
  h: number,
  colour: GridColour,
  label: string,
  note: string,
): void {
  const strip = legendStrip(colour.kind === 'diverging' ? DIVERGING_LUT : SEQUENTIAL_LUT);
  if (strip) {
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(strip, x, y, w, h);
  }
  ctx.strokeStyle = '#9aa1ad';
  ctx.strokeRect(x - 0.5, y - 0.5, w + 1, h + 1);
  ctx.fillStyle = MUTED;
  ctx.font = FONT_SMALL;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const ticks =
    colour.kind === 'diverging'
      ? [colour.limit, colour.limit / 2, 0, -colour.limit / 2, -colour.limit]
      : [0, 0.25, 0.5, 0.75, 1].map((f) => colour.hi - f * (colour.hi - colour.lo));
  ticks.forEach((v, i) => {
    const ty = y + (i / 4) * h;
    ctx.fillRect(x + w, Math.round(ty) - 0.5, 3, 1);
    ctx.fillText(v === 0 ? '0' : compact(v), x + w + 5, ty);
  });
  ctx.fillStyle = INK;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  ctx.fillText(label, x, y - 4);
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
