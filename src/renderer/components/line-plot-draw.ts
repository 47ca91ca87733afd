/** Draws series over time (J[b,:,o,k] lines, and optionally y[b,:,o] below them) on one canvas. */
import { compact, niceTicks } from '../lib/format';
import { FONT, FONT_SMALL, GRID, INK, MUTED, markPainted, prepareCanvas } from './canvas-util';

export interface Series {
  label: string;
  color: string;
  values: Float64Array;
  dashed?: boolean;
  /** Drawn but left out of the legend (the panel title explains it, e.g. "dashed: loaded p"). */
  noLegend?: boolean;
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  height: number;
}

export interface PlotLayout {
  left: number;
  width: number;
  T: number;
  panels: { top: number; height: number }[];
}

function range(series: Series[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of series)
    for (let i = 0; i < s.values.length; i++) {
      const v = s.values[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  if (!Number.isFinite(lo)) return [-1, 1];
  if (lo === hi) return [lo - 1e-12 - Math.abs(lo) * 0.1, hi + 1e-12 + Math.abs(hi) * 0.1];
  const pad = (hi - lo) * 0.06;
  return [lo - pad, hi + pad];
}

function drawSeries(
  ctx: CanvasRenderingContext2D,
  s: Series,
  left: number,
  top: number,
  width: number,
  height: number,
  lo: number,
  hi: number,
): void {
  const T = s.values.length;
  const X = (t: number) => left + (T <= 1 ? 0 : (t / (T - 1)) * width);
  const Y = (v: number) => top + (1 - (v - lo) / (hi - lo)) * height;
  ctx.strokeStyle = s.color;
  // One pixel: a hairline rasterises about ten times faster than 1.5 px in software (Skia's fast path), which
  // keeps a what-if repaint of ten 601-point curves within a frame.
  ctx.lineWidth = 1;
  ctx.setLineDash(s.dashed ? [5, 3] : []);
  ctx.beginPath();
  if (T <= width * 2) {
    for (let t = 0; t < T; t++) {
      if (t === 0) ctx.moveTo(X(t), Y(s.values[t]));
      else ctx.lineTo(X(t), Y(s.values[t]));
    }
  } else {
    // Many more samples than pixels: draw each pixel column's min–max.
    const cols = Math.ceil(width);
    for (let c = 0; c < cols; c++) {
      const t0 = Math.floor((c / cols) * T);
      const t1 = Math.max(t0 + 1, Math.floor(((c + 1) / cols) * T));
      let mn = Infinity;
      let mx = -Infinity;
      for (let t = t0; t < t1; t++) {
        const v = s.values[t];
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      if (c === 0) ctx.moveTo(left + c, Y(mn));
      ctx.lineTo(left + c, Y(mn));
      ctx.lineTo(left + c, Y(mx));
    }
  }
  ctx.stroke();
  ctx.setLineDash([]);
}

export function drawLinePlot(
  canvas: HTMLCanvasElement,
  panels: Panel[],
  T: number,
  cssWidth: number,
): PlotLayout | null {
  const gap = 30;
  const top0 = 26;
  const bottom = 42;
  const H = top0 + panels.reduce((a, p) => a + p.height, 0) + gap * (panels.length - 1) + bottom;
  const ctx = prepareCanvas(canvas, cssWidth, H);
  if (!ctx) return null;
  const left = 78;
  const right = 16;
  const width = Math.max(10, cssWidth - left - right);
  const out: PlotLayout = { left, width, T, panels: [] };
  let top = top0;
  for (const panel of panels) {
    const height = panel.height;
    out.panels.push({ top, height });
    const [lo, hi] = range(panel.series);
    // Grid and y ticks.
    ctx.font = FONT_SMALL;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    for (const v of niceTicks(lo, hi, Math.max(2, Math.floor(height / 40)))) {
      const y = top + (1 - (v - lo) / (hi - lo)) * height;
      ctx.fillStyle = v === 0 ? '#b9bfca' : GRID;
      ctx.fillRect(left, Math.round(y) - 0.5, width, 1);
      ctx.fillStyle = MUTED;
      ctx.fillText(compact(v), left - 6, y);
    }
    ctx.strokeStyle = '#9aa1ad';
    ctx.lineWidth = 1;
    ctx.strokeRect(left - 0.5, top - 0.5, width + 1, height + 1);
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    for (const s of panel.series) drawSeries(ctx, s, left, top, width, height, lo, hi);
    ctx.restore();
    // Title + legend.
    ctx.font = '600 13px system-ui, sans-serif';
    ctx.fillStyle = INK;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    ctx.fillText(panel.title, left, top - 8);
    let lx = left + ctx.measureText(panel.title).width + 16;
    ctx.font = FONT_SMALL;
    for (const s of panel.series) {
      if (s.noLegend) continue;
      const w = ctx.measureText(s.label).width;
      if (lx + w + 24 > left + width) break;
      ctx.strokeStyle = s.color;
      ctx.lineWidth = 2;
      ctx.setLineDash(s.dashed ? [4, 2] : []);
      ctx.beginPath();
      ctx.moveTo(lx, top - 12);
      ctx.lineTo(lx + 14, top - 12);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = INK;
      ctx.fillText(s.label, lx + 18, top - 8);
      lx += w + 32;
    }
    // Y label.
    ctx.save();
    ctx.font = FONT;
    ctx.fillStyle = INK;
    ctx.translate(14, top + height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(panel.yLabel, 0, 0);
    ctx.restore();
    top += height + gap;
  }
  // Shared time axis under the last panel.
  const last = out.panels[out.panels.length - 1];
  const yAxis = last.top + last.height;
  ctx.font = FONT_SMALL;
  ctx.fillStyle = MUTED;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const t of niceTicks(0, T - 1, Math.max(2, Math.floor(width / 80)))) {
    const x = left + (T <= 1 ? 0 : (t / (T - 1)) * width);
    ctx.fillRect(Math.round(x) - 0.5, yAxis, 1, 4);
    ctx.fillText(String(Math.round(t)), x, yAxis + 6);
  }
  ctx.font = FONT;
  ctx.fillStyle = INK;
  ctx.textBaseline = 'bottom';
  ctx.fillText('t (step)', left + width / 2, H - 4);
  markPainted(canvas);
  return out;
}

/** The time index under x (CSS pixels), or null outside the plot. */
export function timeAt(layout: PlotLayout, px: number): number | null {
  const f = (px - layout.left) / layout.width;
  if (f < 0 || f > 1) return null;
  return Math.round(f * (layout.T - 1));
}
