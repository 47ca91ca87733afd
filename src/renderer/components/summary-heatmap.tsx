/** A small O×P heatmap of the L2 norm over time of each J[b,:,o,k]: the influential parameters stand out. */
import { useCallback, useLayoutEffect, useRef, useState } from 'react';
import { SEQUENTIAL_LUT, LUT_SIZE, paintPixels, sequentialIndex } from '../lib/colormap';
import { compact, exact } from '../lib/format';
import { registerCanvas } from '../store/canvases';
import { useStore, viewActions } from '../store';
import { useAfterPaint } from './use-after-paint';
import { FONT_SMALL, INK, MUTED, markPainted, prepareCanvas } from './canvas-util';

const CELL_MAX = 22;

export function SummaryHeatmap() {
  const result = useStore((s) => s.result);
  // After a what-if the heatmap and the lines repaint first; the summary follows once that frame is painted.
  const display = useAfterPaint(useStore((s) => s.display));
  const dims = display?.dims ?? null;
  const summary = display?.summary ?? null;
  // Comparing: one summary, of the difference; sample mode: the shown sample's.
  const fixedB = useStore((s) => s.view.fixed.b);
  const b = display?.oneRow ? 0 : fixedB;
  const focusO = useStore((s) => s.view.fixed.o);
  const focusK = useStore((s) => s.view.fixed.k);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const geomRef = useRef({ left: 0, top: 0, cw: 1, ch: 1 });
  const [geom, setGeom] = useState(geomRef.current);
  const [hover, setHover] = useState<{ o: number; k: number } | null>(null);

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !result || !dims || !summary) return;
    const { O, P, T } = dims;
    const { yNames, pNames } = result.meta;
    const cw = Math.max(4, Math.min(CELL_MAX, Math.floor(360 / P)));
    const ch = Math.max(4, Math.min(CELL_MAX, Math.floor(300 / O)));
    const left = 44;
    const top = 22;
    const legendW = 60;
    const W = left + cw * P + legendW;
    const H = top + ch * O + 40;
    const ctx = prepareCanvas(canvas, W, H);
    if (!ctx) return;
    const l2 = summary.l2.subarray(b * O * P, (b + 1) * O * P);
    let max = 0;
    for (const v of l2) max = Math.max(max, v);
    const img = new ImageData(P, O);
    paintPixels(Float64Array.from(l2), img.data, SEQUENTIAL_LUT, (v) => sequentialIndex(v, max));
    const tmp = document.createElement('canvas');
    tmp.width = P;
    tmp.height = O;
    tmp.getContext('2d')?.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(tmp, left, top, cw * P, ch * O);
    ctx.strokeStyle = '#9aa1ad';
    ctx.strokeRect(left - 0.5, top - 0.5, cw * P + 1, ch * O + 1);
    ctx.font = FONT_SMALL;
    ctx.fillStyle = MUTED;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const yStep = Math.max(1, Math.ceil(12 / ch));
    for (let o = 0; o < O; o += yStep) ctx.fillText(yNames[o] ?? `y${o}`, left - 4, top + (o + 0.5) * ch);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    let labelW = 0;
    for (let k = 0; k < P; k++) labelW = Math.max(labelW, ctx.measureText(pNames[k] ?? `p${k}`).width);
    const xStep = Math.max(1, Math.ceil((labelW + 6) / cw));
    for (let k = 0; k < P; k += xStep)
      ctx.fillText(pNames[k] ?? `p${k}`, left + (k + 0.5) * cw, top + O * ch + 4);
    ctx.fillStyle = INK;
    ctx.textAlign = 'left';
    ctx.textBaseline = 'alphabetic';
    // One time step (y without a time axis): the norm over t is |J|.
    const what =
      T === 1
        ? display?.kind === 'compare'
          ? `|${display.label}|`
          : '|J[b,o,k]|'
        : `${display?.kind === 'compare' ? `‖${display.label}‖₂` : '‖J[b,:,o,k]‖₂'} over t`;
    ctx.fillText(`${what}   (rows o, columns k)`, left, top - 8);
    // Legend.
    const lx = left + cw * P + 12;
    const lh = ch * O;
    for (let i = 0; i < lh; i++) {
      const j = Math.round((1 - i / Math.max(1, lh - 1)) * (LUT_SIZE - 1)) * 4;
      ctx.fillStyle = `rgb(${SEQUENTIAL_LUT[j]},${SEQUENTIAL_LUT[j + 1]},${SEQUENTIAL_LUT[j + 2]})`;
      ctx.fillRect(lx, top + i, 10, 1);
    }
    ctx.strokeStyle = '#9aa1ad';
    ctx.strokeRect(lx - 0.5, top - 0.5, 11, lh + 1);
    ctx.fillStyle = MUTED;
    ctx.textBaseline = 'middle';
    ctx.fillText(compact(max), lx + 13, top + 4);
    ctx.fillText('0', lx + 13, top + lh - 4);
    geomRef.current = { left, top, cw, ch };
    setGeom(geomRef.current);
    markPainted(canvas);
  }, [result, display, summary, dims, b]);

  const setCanvas = useCallback((el: HTMLCanvasElement | null) => {
    canvasRef.current = el;
    registerCanvas('summary', el);
  }, []);

  if (!result || !dims || !summary) return null;
  const cellFrom = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const r = e.currentTarget.getBoundingClientRect();
    const g = geomRef.current;
    const k = Math.floor((e.clientX - r.left - g.left) / g.cw);
    const o = Math.floor((e.clientY - r.top - g.top) / g.ch);
    return o >= 0 && o < dims.O && k >= 0 && k < dims.P ? { o, k } : null;
  };
  const i = hover ? b * dims.O * dims.P + hover.o * dims.P + hover.k : -1;
  return (
    <div className="summary-heatmap">
      <div className="canvas-wrap">
        <canvas
          ref={setCanvas}
          data-testid="summary-canvas"
          onMouseMove={(e) => setHover(cellFrom(e))}
          onMouseLeave={() => setHover(null)}
          onClick={(e) => {
            const c = cellFrom(e);
            if (c) viewActions.focusPair(c);
          }}
        />
        {/* The heatmap's current (o,k), drawn over the canvas so that moving it does not redraw the picture. */}
        <div
          className="focus-marker"
          style={{
            left: geom.left + focusK * geom.cw,
            top: geom.top + focusO * geom.ch,
            width: geom.cw,
            height: geom.ch,
          }}
        />
      </div>
      <div className="readout">
        {hover
          ? `${result.meta.yNames[hover.o]} / ${result.meta.pNames[hover.k]}: ${dims.T === 1 ? `|J| = ${exact(summary.l2[i])}` : `‖J‖₂ = ${exact(summary.l2[i])}, max|J| = ${exact(summary.maxAbs[i])} at t=${summary.argT[i]}`}`
          : 'Click a cell to show that (o,k) in the heatmap and the line plot.'}
      </div>
    </div>
  );
}
