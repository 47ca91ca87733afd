/** A matrix drawn as a heatmap (drawGrid) with a hover readout: the picture of sweeps, sensitivities, errors. */
import { useCallback, useLayoutEffect, useRef, useState } from 'react';
import { registerCanvas } from '../store/canvases';
import { cellAt, drawGrid } from './heatmap-draw';
import type { GridDrawOptions, HeatmapLayout } from './heatmap-draw';
import { useWidth } from './use-width';

export type GridSpec = Omit<GridDrawOptions, 'cssWidth' | 'cssHeight'>;

interface Props {
  /** Memoise it: a new object redraws the canvas. */
  spec: GridSpec;
  height: number;
  testId: string;
  /** The hover text of a cell. */
  describe: (ix: number, iy: number, value: number) => string;
  hint: string;
  onPick?: (ix: number, iy: number) => void;
  /** The widest the picture gets (small matrices read better small). */
  maxWidth?: number;
}

export function GridView({ spec, height, testId, describe, hint, onPick, maxWidth }: Props) {
  const [wrapRef, width] = useWidth<HTMLDivElement>(600);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const layoutRef = useRef<HeatmapLayout | null>(null);
  const [hover, setHover] = useState<{ ix: number; iy: number } | null>(null);
  const w = Math.min(width, maxWidth ?? Infinity);

  useLayoutEffect(() => {
    const canvas = canvasRef.current;
    if (!canvas) return;
    layoutRef.current = drawGrid(canvas, { ...spec, cssWidth: w, cssHeight: height });
  }, [spec, w, height]);

  const setCanvas = useCallback(
    (el: HTMLCanvasElement | null) => {
      canvasRef.current = el;
      registerCanvas(testId, el);
    },
    [testId],
  );

  const cellFrom = (e: React.MouseEvent<HTMLCanvasElement>) => {
    const layout = layoutRef.current;
    if (!layout) return null;
    const r = e.currentTarget.getBoundingClientRect();
    return cellAt(layout, e.clientX - r.left, e.clientY - r.top);
  };
  const inRange = hover && hover.ix < spec.nx && hover.iy < spec.ny;
  return (
    <div className="grid-view" ref={wrapRef}>
      <canvas
        ref={setCanvas}
        data-testid={testId}
        className={onPick ? 'pickable' : undefined}
        onMouseMove={(e) => setHover(cellFrom(e))}
        onMouseLeave={() => setHover(null)}
        onClick={(e) => {
          const c = cellFrom(e);
          if (c && onPick) onPick(c.ix, c.iy);
        }}
      />
      <div className="readout">
        {inRange ? describe(hover.ix, hover.iy, spec.data[hover.iy * spec.nx + hover.ix]) : hint}
      </div>
    </div>
  );
}
