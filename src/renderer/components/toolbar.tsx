/** The top bar: open, recent files, exports, and the running job (progress + cancel after half a second). */
import { useEffect, useState } from 'react';
import { formatMs } from '../lib/format';
import { cancelJob, exportJ, exportPng, openDialog, openRecent } from '../store/actions';
import { useStore } from '../store';

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
        disabled={!hasResult}
        data-testid="export-plot-png"
        onClick={() => onChange('plot-png')}
      >
        plot PNG
      </button>
    </div>
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
        {job.phase === 'reading' ? 'reading' : 'computing J'} — {job.label}
        {job.total > 1 ? ` — ${job.done}/${job.total} samples` : ''} — {formatMs(elapsed)}
      </span>
      <progress max={1} value={job.phase === 'computing' && job.total > 1 ? frac : undefined} />
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
