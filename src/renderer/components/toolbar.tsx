/** The top bar: open, recent files, exports, and the running job (progress + cancel after half a second). */
import { useEffect, useState } from 'react';
import { formatMs } from '../lib/format';
import { cancelJob, exportData, exportJ, exportPng, openDialog, openRecent } from '../store/actions';
import { ArrayExportMenu } from './array-export-menu';
import { MenuDisclosure } from './menu-disclosure';
import { useStore } from '../store';
import type { DataExportWhat } from '../worker/protocol';

function basename(p: string): string {
  return p.split(/[\\/]/).pop() ?? p;
}

function RecentMenu() {
  const recent = useStore((s) => s.recent);
  if (recent.length === 0) return null;
  return (
    <select
      className="recent"
      value=""
      aria-label="recent files"
      onChange={(e) => {
        if (e.target.value) void openRecent(e.target.value);
      }}
    >
      <option value="">Recent…</option>
      {recent.map((p) => (
        <option key={p} value={p} title={p}>
          {basename(p)}
        </option>
      ))}
    </select>
  );
}

function ExportMenu() {
  const hasResult = useStore((s) => s.result !== null);
  // A model without a time axis draws no line plot: nothing to export as a picture.
  const hasPlot = useStore((s) => s.result?.meta.timeAxis ?? false);
  const onChange = (v: string) => {
    switch (v) {
      case 'slice-csv':
      case 'slice-npy':
      case 'full-npy':
      case 'full-csv':
        return void exportJ(v);
      case 'heatmap-png':
        return void exportPng('heatmap', 'heatmap.png');
      case 'plot-png':
        return void exportPng('plot', 'line-plot.png');
      case 'summary-png':
        return void exportPng('summary', 'summary.png');
    }
  };
  return (
    <div className="export-buttons">
      <span className="label">Export</span>
      <button
        type="button"
        disabled={!hasResult}
        data-testid="export-slice-csv"
        onClick={() => onChange('slice-csv')}
      >
        slice CSV
      </button>
      <button
        type="button"
        disabled={!hasResult}
        data-testid="export-slice-npy"
        onClick={() => onChange('slice-npy')}
      >
        slice .npy
      </button>
      <button
        type="button"
        disabled={!hasResult}
        data-testid="export-full-npy"
        onClick={() => onChange('full-npy')}
      >
        J .npy
      </button>
      <button
        type="button"
        disabled={!hasResult}
        data-testid="export-full-csv"
        onClick={() => onChange('full-csv')}
      >
        J long CSV
      </button>
      <button
        type="button"
        disabled={!hasResult}
        data-testid="export-heatmap-png"
        onClick={() => onChange('heatmap-png')}
      >
        heatmap PNG
      </button>
      <button
        type="button"
        disabled={!hasPlot}
        data-testid="export-plot-png"
        onClick={() => onChange('plot-png')}
      >
        plot PNG
      </button>
      <ArrayExportMenu disabled={!hasResult} />
      <DataExportMenu disabled={!hasResult} />
    </div>
  );
}

const DATA_EXPORTS: { what: DataExportWhat; label: string; title: string }[] = [
  {
    what: 'y-sample-csv',
    label: 'y CSV',
    title: 'y of the current sample [T,O] as CSV (the what-if when shown)',
  },
  {
    what: 'y-sample-npy',
    label: 'y .npy',
    title: 'y of the current sample [T,O] as .npy (the what-if when shown)',
  },
  { what: 'y-all-npy', label: 'y all .npy', title: 'y of the whole batch [B,T,O] as .npy' },
  { what: 'y-all-csv', label: 'y all long CSV', title: 'y of the whole batch as long CSV (b,t,o,value)' },
  {
    what: 'y-all-h5',
    label: 'y all .h5',
    title: 'y of the whole batch [B,T,O] as HDF5 (axis names attached)',
  },
  { what: 'y-all-mat', label: 'y all .mat', title: 'y of the whole batch [B,T,O] as MATLAB v5 .mat' },
  { what: 'x-sample-csv', label: 'x CSV', title: 'x of the current sample [T,Xf] as CSV' },
  { what: 'x-sample-npy', label: 'x .npy', title: 'x of the current sample [T,Xf] as .npy' },
  { what: 'p-csv', label: 'p CSV', title: 'p of the whole batch [B,P] as CSV' },
  { what: 'p-npy', label: 'p .npy', title: 'p of the whole batch [B,P] as .npy' },
];

/** "data ▾": a disclosure with the exports of y, x and p (Escape or a click elsewhere closes it). */
function DataExportMenu({ disabled }: { disabled: boolean }) {
  const noX = useStore((s) => s.data !== null && s.data.xShape === null);
  const items = DATA_EXPORTS.map((d) => {
    const off = noX && d.what.startsWith('x-');
    return {
      id: d.what,
      label: d.label,
      title: off ? "this model's forward takes p alone: no x" : d.title,
      disabled: off,
    };
  });
  return (
    <MenuDisclosure
      label="data ▾"
      testId="export-data"
      ariaLabel="export data: y, x, p"
      title="export the data and the forward output (y, x, p)"
      groupLabel="data exports"
      disabled={disabled}
      items={items}
      onChoose={(id) => void exportData(id as DataExportWhat)}
    />
  );
}

function JobStatus() {
  const job = useStore((s) => s.job);
  const [, tick] = useState(0);
  useEffect(() => {
    if (!job) return;
    const timer = setInterval(() => tick((n) => n + 1), 250);
    return () => clearInterval(timer);
  }, [job?.id]);
  if (!job) return null;
  const elapsed = performance.now() - job.startedAt;
  if (elapsed < 500) return <span className="job quiet" data-testid="job" />;
  const frac = job.total > 0 ? job.done / job.total : 0;
  return (
    <div className="job" data-testid="job" role="status">
      <span className="job-label">
        {job.phase === 'reading' ? 'reading' : job.phase === 'exporting' ? 'exporting J' : 'computing J'} —{' '}
        {job.label}
        {job.total > 1 ? ` — ${job.done}/${job.total} samples` : ''} — {formatMs(elapsed)}
      </span>
      <progress max={1} value={job.phase !== 'reading' && job.total > 1 ? frac : undefined} />
      <button type="button" data-testid="cancel" disabled={job.cancelling} onClick={cancelJob}>
        {job.cancelling ? 'Cancelling…' : 'Cancel'}
      </button>
    </div>
  );
}

export function Toolbar() {
  const lastExport = useStore((s) => s.lastExport);
  return (
    <header className="toolbar">
      <h1>jacscope</h1>
      <button type="button" data-testid="open" onClick={() => void openDialog()}>
        Open…
      </button>
      <RecentMenu />
      <ExportMenu />
      <JobStatus />
      {lastExport && <span className="muted last-export">{lastExport}</span>}
    </header>
  );
}
