/** The window: tool bar, side panels (model, data, messages), the heatmap, line plots and the summary. */
import { useEffect, useState } from 'react';
import { CheckView } from './components/check-view';
import { DataPicker } from './components/data-picker';
import { DataPanel } from './components/data-panel';
import { Heatmap } from './components/heatmap';
import { HeatmapControls } from './components/heatmap-controls';
import { LinePlot } from './components/line-plot';
import { DropNotes, MessageList } from './components/messages';
import { ModelPanel } from './components/model-panel';
import { SensitivityView } from './components/sensitivity-view';
import { SummaryHeatmap } from './components/summary-heatmap';
import { SummaryTable } from './components/summary-table';
import { SweepView } from './components/sweep-view';
import { VarianceView } from './components/variance-view';
import { Toolbar } from './components/toolbar';
import { ViewTabs } from './components/view-tabs';
import { WhatIfPanel } from './components/what-if-panel';
import { clearAnchors, useStore, viewActions } from './store';
import { dropFiles } from './store/actions';

function hasFiles(e: DragEvent): boolean {
  return !!e.dataTransfer && Array.from(e.dataTransfer.types).includes('Files');
}

/** Drops anywhere on the window; a drag overlay while files hover. */
function useWindowDrop(): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    let depth = 0;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth++;
      setDragging(true);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const files = Array.from(e.dataTransfer?.files ?? []);
      if (files.length === 0) return;
      clearAnchors();
      void dropFiles(files, { x: e.clientX, y: e.clientY });
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return dragging;
}

/** Arrow keys step the fixed axes, unless the focus is in a form control that uses them. */
function useArrowKeys(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      const t = e.target as HTMLElement | null;
      if (
        t &&
        (t.tagName === 'INPUT' || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA' || t.isContentEditable)
      )
        return;
      if (viewActions.key(e.key, e.shiftKey)) e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}

export function App() {
  const dragging = useWindowDrop();
  useArrowKeys();
  const seq = useStore((s) => s.result?.meta.seq ?? 0);
  const busy = useStore((s) => s.job !== null);
  const tab = useStore((s) => s.view.tab);
  return (
    <div className="app" data-result-seq={seq} data-busy={busy ? 'yes' : 'no'}>
      <Toolbar />
      <div className="body">
        <aside className="side">
          <ModelPanel />
          <DataPanel />
          <WhatIfPanel />
          <MessageList />
          <p className="hint drop-hint">
            Drop model (.pt, .safetensors, config.json) and data (.npy, .npz, .csv, .h5, .mat, .pt tensors)
            files anywhere.
          </p>
        </aside>
        <main className="main">
          <ViewTabs />
          {tab === 'jacobian' && (
            <>
              <section className="card">
                <HeatmapControls />
                <Heatmap />
              </section>
              <div className="row">
                <section className="card grow">
                  <LinePlot />
                </section>
                <section className="card summary">
                  <h2>Most influential (o, k)</h2>
                  <SummaryHeatmap />
                  <SummaryTable />
                </section>
              </div>
            </>
          )}
          {tab === 'sweep' && <SweepView />}
          {tab === 'sensitivity' && <SensitivityView />}
          {tab === 'variance' && <VarianceView />}
          {tab === 'check' && <CheckView />}
        </main>
      </div>
      <DropNotes />
      <DataPicker />
      {dragging && (
        <div className="drop-overlay" data-testid="drop-overlay">
          <div>Drop model and data files to load them</div>
        </div>
      )}
    </div>
  );
}
