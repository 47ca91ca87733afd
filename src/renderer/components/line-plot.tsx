/** Line plots over time of chosen (o,k) pairs of J, with the forward output y[b,:,o] beside them. */
import { useCallback, useLayoutEffect, useMemo, useRef, useState } from 'react';
import { CATEGORICAL } from '../lib/colormap';
import { exact } from '../lib/format';
import { outputSeries, timeSeries } from '../lib/slice';
import { registerCanvas } from '../store/canvases';
import { select, useStore, viewActions } from '../store';
import type { Pair } from '../store/view';
import { drawLinePlot, timeAt } from './line-plot-draw';
import type { Panel, PlotLayout } from './line-plot-draw';
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
  const dims = useStore(select.dims);
  const pairs = useStore((s) => s.view.pairs);
  const b = useStore((s) => s.view.fixed.b);
  const showOutput = useStore((s) => s.view.showOutput);
  const [wrapRef, width] = useWidth<HTMLDivElement>(600);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const layoutRef = useRef<PlotLayout | null>(null);
  const [hoverT, setHoverT] = useState<number | null>(null);

  const panels = useMemo<Panel[]>(() => {
    if (!result || !dims) return [];
    const { yNames, pNames } = result.meta;
    const jSeries = pairs.map((p, i) => ({
      label: pairLabel(p, yNames, pNames),
      color: CATEGORICAL[i % CATEGORICAL.length],
      values: timeSeries(result.J, dims, b, p.o, p.k),
    }));
    const out: Panel[] = [
      { title: `J over time${dims.B > 1 ? ` (b=${b})` : ''}`, yLabel: 'J', series: jSeries, height: 220 },
    ];
    if (showOutput) {
      const seen = new Set<number>();
      const ySeries = [];
      for (let i = 0; i < pairs.length; i++) {
        const o = pairs[i].o;
        if (seen.has(o)) continue;
        seen.add(o);
        ySeries.push({
          label: `${yNames[o] ?? `y${o}`}`,
          color: CATEGORICAL[i % CATEGORICAL.length],
          values: outputSeries(result.y, dims, b, o),
          dashed: true,
        });
      }
      out.push({ title: 'forward output y', yLabel: 'y', series: ySeries, height: 150 });
    }
    return out;
  }, [result, dims?.B, dims?.T, dims?.O, dims?.P, pairs, b, showOutput]);

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
  const { yNames, pNames } = result.meta;
  const L = layoutRef.current;
  let readout = 'Hover to read values at a time step.';
  if (hoverT !== null && L) {
    readout =
      `t=${hoverT}: ` +
      panels
        .flatMap((p) => p.series)
        .map((s) => `${s.label} = ${exact(s.values[hoverT])}`)
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
