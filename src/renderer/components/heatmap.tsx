/** The J heatmap: any two of the axes against each other, the rest fixed; hover shows the exact value. */
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { AXIS_LABEL, indexName } from '../lib/axes';
import type { Axis, AxisIndex, FeatureNames } from '../lib/axes';
import { exact, exactF32 } from '../lib/format';
import { sourceSlice } from '../lib/display';
import { registerCanvas } from '../store/canvases';
import { useStore } from '../store';
import { allOfJ } from '../lib/all-of-j';
import type { Display } from '../store';
import { cellAt, drawHeatmap } from './heatmap-draw';
import type { HeatmapLayout } from './heatmap-draw';
import { useWidth } from './use-width';

const HEIGHT = 380;

/** e.g. `J[b=0, t, o, k=3 (p3)]`; comparing: `J[b=2] − J[b=0] at [t, o, k=3 (p3)]`; a what-if says so. */
function sliceTitle(
  xAxis: Axis,
  yAxis: Axis,
  fixed: AxisIndex,
  names: FeatureNames,
  dims: { B: number; T: number },
  display: Display,
): string {
  const comparing = display.kind === 'compare';
  const parts = (['b', 't', 'o', 'k'] as const).flatMap((a) => {
    if (a === xAxis || a === yAxis) return [a];
    if (a === 'b') return comparing ? [] : [dims.B === 1 ? 'b=0' : `b=${display.sampleB ?? fixed.b}`];
    // y without a time axis: no t to name.
    if (a === 't' && dims.T === 1) return [];
    return a === 'o' || a === 'k'
      ? [`${a}=${fixed[a]} (${indexName(a, fixed[a], names)})`]
      : [`${a}=${fixed[a]}`];
  });
  if (comparing) return `${display.label} at [${parts.join(', ')}]`;
  return `J[${parts.join(', ')}]${display.kind === 'whatif' ? '  — what-if' : ''}`;
}

export function describeCell(
  at: AxisIndex,
  names: FeatureNames,
  value: number,
  fmt: (v: number) => string = exact,
  /** Whether y has more than one time step (else t is not named). */
  timed = true,
): string {
  return (
    `b=${at.b}  ${timed ? `t=${at.t}  ` : ''}o=${at.o} (${indexName('o', at.o, names)})  k=${at.k} (${indexName('k', at.k, names)})` +
    `  J = ${fmt(value)}`
  );
}

export function Heatmap() {
  const result = useStore((s) => s.result);
  const display = useStore((s) => s.display);
  const xAxis = useStore((s) => s.view.xAxis);
  const yAxis = useStore((s) => s.view.yAxis);
  const fixed = useStore((s) => s.view.fixed);
  const scale = useStore((s) => s.view.scale);
  const gsaResult = useStore((s) => s.gsa.result);
  const dims = display?.dims ?? null;
  const [wrapRef, width] = useWidth<HTMLDivElement>();
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const layoutRef = useRef<HeatmapLayout | null>(null);
  const [hover, setHover] = useState<{ ix: number; iy: number; px: number; py: number } | null>(null);

  const names = useMemo<FeatureNames | null>(
    () => (result ? { y: result.meta.yNames, p: result.meta.pNames } : null),
    [result],
  );
  const slice = useMemo(
    () => (display ? sourceSlice(display.src, xAxis, yAxis, fixed) : null),
    [display, xAxis, yAxis, fixed],
  );
  const all = allOfJ(display?.summary.globalMaxAbs ?? 0, result, gsaResult);
  const limit =
    scale.mode === 'fixed' ? scale.limit : scale.mode === 'all' ? all.limit : (slice?.maxAbs ?? 0);
  const scaleNote =
    scale.mode === 'fixed'
      ? 'fixed range'
      : scale.mode === 'all'
        ? all.everySample
          ? 'symmetric, all of J'
          : 'symmetric, this sample (all of J once the global sensitivity has run)'
        : 'symmetric, this slice';

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !slice || !names || !dims || !display) return;
    const t0 = performance.now();
    layoutRef.current = drawHeatmap(canvas, {
      slice,
      names,
      limit,
      title: sliceTitle(xAxis, yAxis, fixed, names, dims, display),
      legendLabel: display.kind === 'compare' ? 'ΔJ' : 'J',
      scaleNote,
      cssWidth: width,
      cssHeight: HEIGHT,
    });
    canvas.dataset.drawMs = (performance.now() - t0).toFixed(2);
  }, [slice, names, limit, width, scaleNote]);

  const setCanvas = useCallback((el: HTMLCanvasElement | null) => {
    canvasRef.current = el;
    registerCanvas('heatmap', el);
  }, []);

  const onMove = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const layout = layoutRef.current;
    if (!layout) return;
    const r = e.currentTarget.getBoundingClientRect();
    const px = e.clientX - r.left;
    const py = e.clientY - r.top;
    const cell = cellAt(layout, px, py);
    setHover(cell ? { ...cell, px, py } : null);
  };

  let readout = 'Hover over the heatmap to read exact values.';
  let tip: {
    text: string[];
    x: number;
    y: number;
    box: { x: number; y: number; w: number; h: number };
  } | null = null;
  if (hover && slice && names && layoutRef.current && hover.ix < slice.nx && hover.iy < slice.ny) {
    const at: AxisIndex = { ...fixed, [xAxis]: hover.ix, [yAxis]: hover.iy };
    const value = slice.data[hover.iy * slice.nx + hover.ix];
    // The loaded J as WebGPU computed it (float32): its float32 digits, not float64 ones.
    const fmt = display?.kind === 'data' && result?.J instanceof Float32Array ? exactF32 : exact;
    readout = describeCell(at, names, value, fmt, (dims?.T ?? 2) > 1);
    // Comparing: the value is a difference of two samples, not J of sample b.
    if (display?.kind === 'compare') readout = `${display.label}:  ${readout.replace(/^b=\d+\s+/, '')}`;
    const L = layoutRef.current;
    const cw = L.width / L.nx;
    const ch = L.height / L.ny;
    tip = {
      text: [
        `${AXIS_LABEL[xAxis]}: ${hover.ix}${xAxis === 'o' || xAxis === 'k' ? ` · ${indexName(xAxis, hover.ix, names)}` : ''}`,
        `${AXIS_LABEL[yAxis]}: ${hover.iy}${yAxis === 'o' || yAxis === 'k' ? ` · ${indexName(yAxis, hover.iy, names)}` : ''}`,
        `J = ${fmt(value)}`,
      ],
      x: hover.px,
      y: hover.py,
      box: { x: L.left + hover.ix * cw, y: L.top + hover.iy * ch, w: cw, h: ch },
    };
  }

  if (!result) return <div className="placeholder">Computing the built-in demo…</div>;
  return (
    <div className="heatmap" ref={wrapRef} data-display={display?.kind ?? 'none'}>
      <div className="canvas-wrap">
        <canvas
          ref={setCanvas}
          data-testid="heatmap-canvas"
          onMouseMove={onMove}
          onMouseLeave={() => setHover(null)}
          aria-label="Jacobian heatmap"
        />
        {tip && (
          <>
            <div
              className="cell-outline"
              style={{
                left: tip.box.x,
                top: tip.box.y,
                width: Math.max(2, tip.box.w),
                height: Math.max(2, tip.box.h),
              }}
            />
            <div
              className="tooltip"
              data-testid="heatmap-tooltip"
              style={{
                left: Math.min(tip.x + 14, width - 230),
                top: tip.y + 16 > HEIGHT - 70 ? tip.y - 74 : tip.y + 16,
              }}
            >
              {tip.text.map((t) => (
                <div key={t}>{t}</div>
              ))}
            </div>
          </>
        )}
      </div>
      <div className="readout" data-testid="hover-readout">
        {readout}
      </div>
    </div>
  );
}
