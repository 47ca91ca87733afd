/** Line plots over time of chosen (o,k) pairs of J, with the forward output y[b,:,o] beside them. */
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { CATEGORICAL } from '../lib/colormap';
import { exact, exactF32, shapeText } from '../lib/format';
import { sourceOutputSeries, sourceTimeSeries } from '../lib/display';
import { registerCanvas } from '../store/canvases';
import { useStore, viewActions } from '../store';
import type { Pair } from '../store/view';
import { drawLinePlot, timeAt } from './line-plot-draw';
import type { Panel, PlotLayout, Series } from './line-plot-draw';
import { useWidth } from './use-width';

function PairPicker({ yNames, pNames }: { yNames: string[]; pNames: string[] }) {
  const [o, setO] = useState(0);
  const [k, setK] = useState(0);
  return (
    <div className="pair-picker">
      <select value={o} aria-label="output" onChange={(e) => setO(Number(e.target.value))}>
        {yNames.map((n, i) => (
          <option key={i} value={i}>
            o={i} · {n}
          </option>
        ))}
      </select>
      <select value={k} aria-label="parameter" onChange={(e) => setK(Number(e.target.value))}>
        {pNames.map((n, i) => (
          <option key={i} value={i}>
            k={i} · {n}
          </option>
        ))}
      </select>
      <button type="button" onClick={() => viewActions.togglePair({ o, k })}>
        Add / remove
      </button>
    </div>
  );
}

function pairLabel(p: Pair, yNames: string[], pNames: string[]): string {
  return `∂${yNames[p.o] ?? `y${p.o}`}/∂${pNames[p.k] ?? `p${p.k}`}`;
}

export function LinePlot() {
  const result = useStore((s) => s.result);
  const display = useStore((s) => s.display);
  const dims = display?.dims ?? null;
  const pairs = useStore((s) => s.view.pairs);
  const fixedB = useStore((s) => s.view.fixed.b);
  // Comparing: the display holds one sample's worth (the difference).
  const b = display?.kind === 'compare' ? 0 : fixedB;
  const showOutput = useStore((s) => s.view.showOutput);
  const [wrapRef, width] = useWidth<HTMLDivElement>(600);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const layoutRef = useRef<PlotLayout | null>(null);
  const [hoverT, setHoverT] = useState<number | null>(null);

  const panels = useMemo<Panel[]>(() => {
    if (!result || !dims || !display) return [];
    const { yNames, pNames } = result.meta;
    const { src, original, kind } = display;
    const colour = (i: number) => CATEGORICAL[i % CATEGORICAL.length];
    // A what-if draws the loaded sample dashed beside it, so the change reads at a glance.
    const jSeries: Series[] = [];
    pairs.forEach((p, i) => {
      jSeries.push({
        label: pairLabel(p, yNames, pNames),
        color: colour(i),
        values: sourceTimeSeries(src, b, p.o, p.k),
      });
      if (original)
        jSeries.push({
          label: `${pairLabel(p, yNames, pNames)} (loaded p)`,
          color: colour(i),
          values: sourceTimeSeries(original, b, p.o, p.k),
          dashed: true,
          noLegend: true,
        });
    });
    const sampleNote = dims.B > 1 ? ` (b=${display.sampleB ?? b})` : '';
    const jTitle =
      kind === 'compare'
        ? `${display.label} over time`
        : kind === 'whatif'
          ? `J over time${sampleNote}, what-if — dashed: loaded p`
          : `J over time${sampleNote}`;
    const out: Panel[] = [
      { title: jTitle, yLabel: kind === 'compare' ? 'ΔJ' : 'J', series: jSeries, height: 220 },
    ];
    if (showOutput) {
      const seen = new Set<number>();
      const ySeries: Series[] = [];
      for (let i = 0; i < pairs.length; i++) {
        const o = pairs[i].o;
        if (seen.has(o)) continue;
        seen.add(o);
        const name = `${yNames[o] ?? `y${o}`}`;
        // Without a what-if, y is dashed to set it apart from J; with one, the what-if is solid and the
        // loaded output dashed.
        ySeries.push({
          label: name,
          color: colour(i),
          values: sourceOutputSeries(src, b, o),
          dashed: !original,
        });
        if (original)
          ySeries.push({
            label: `${name} (loaded p)`,
            color: colour(i),
            values: sourceOutputSeries(original, b, o),
            dashed: true,
            noLegend: true,
          });
      }
      const yTitle =
        kind === 'compare'
          ? display.label.replace(/J/g, 'y')
          : kind === 'whatif'
            ? 'forward output y, what-if — dashed: loaded p'
            : 'forward output y';
      out.push({ title: yTitle, yLabel: kind === 'compare' ? 'Δy' : 'y', series: ySeries, height: 150 });
    }
    return out;
  }, [result, display, dims, pairs, b, showOutput]);

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas || !dims || panels.length === 0) return;
    layoutRef.current = drawLinePlot(canvas, panels, dims.T, width);
  }, [panels, width, dims?.T]);

  const setCanvas = useCallback((el: HTMLCanvasElement | null) => {
    canvasRef.current = el;
    registerCanvas('plot', el);
  }, []);

  if (!result || !dims) return null;
  if (!result.meta.timeAxis)
    return (
      <p className="placeholder" data-testid="plot-no-time">
        This model&apos;s output has no time axis (y is {shapeText(result.meta.yShape)}): there is nothing to
        plot over time. The heatmap shows J as outputs × parameters, and the summary ranks every (o, k).
      </p>
    );
  const { yNames, pNames } = result.meta;
  const L = layoutRef.current;
  // Computed on WebGPU (float32): its float32 digits, not float64 ones.
  const fmt = display?.kind === 'data' && result.J instanceof Float32Array ? exactF32 : exact;
  let readout = 'Hover to read values at a time step.';
  if (hoverT !== null && L) {
    readout =
      `t=${hoverT}: ` +
      panels
        .flatMap((p) => p.series)
        .map((s) => `${s.label} = ${fmt(s.values[hoverT])}`)
        .join('   ');
  }
  return (
    <div className="line-plot" ref={wrapRef}>
      <div className="chips">
        {pairs.map((p, i) => (
          <span className="chip" key={`${p.o}-${p.k}`}>
            <span className="swatch" style={{ background: CATEGORICAL[i % CATEGORICAL.length] }} />
            {pairLabel(p, yNames, pNames)}
            <button type="button" aria-label="remove" onClick={() => viewActions.togglePair(p)}>
              ×
            </button>
          </span>
        ))}
        {pairs.length === 0 && (
          <span className="muted">No pairs chosen: add one below or click the summary.</span>
        )}
      </div>
      <div className="canvas-wrap">
        <canvas
          ref={setCanvas}
          data-testid="plot-canvas"
          onMouseMove={(e) => {
            if (!layoutRef.current) return;
            const r = e.currentTarget.getBoundingClientRect();
            setHoverT(timeAt(layoutRef.current, e.clientX - r.left));
          }}
          onMouseLeave={() => setHoverT(null)}
        />
        {hoverT !== null && L && (
          <div
            className="crosshair"
            style={{
              left: L.left + (L.T <= 1 ? 0 : (hoverT / (L.T - 1)) * L.width),
              top: L.panels[0].top,
              height:
                L.panels[L.panels.length - 1].top + L.panels[L.panels.length - 1].height - L.panels[0].top,
            }}
          />
        )}
      </div>
      <div className="readout">{readout}</div>
      <div className="plot-options">
        <PairPicker yNames={yNames} pNames={pNames} />
        <label className="check">
          <input
            type="checkbox"
            checked={showOutput}
            onChange={(e) => viewActions.setShowOutput(e.target.checked)}
          />
          show forward output y
        </label>
      </div>
    </div>
  );
}
