/** What data is loaded: files, shapes, dtypes and feature names. */
import { shapeText } from '../lib/format';
import { formatBytes } from '../lib/memory-budget';
import { useStore } from '../store';
import { streamsWholeJ } from '../store/stream-export';

function Names({ label, names }: { label: string; names: string[] }) {
  const shown = names.slice(0, 40).join(', ') + (names.length > 40 ? `, … (${names.length})` : '');
  return (
    <details className="names">
      <summary>
        {label} ({names.length})
      </summary>
      <p>{shown}</p>
    </details>
  );
}

export function DataPanel() {
  const data = useStore((s) => s.data);
  const meta = useStore((s) => s.result?.meta);
  // The precision the arithmetic ran in: float64 on the CPU, float32 on WebGPU (y and J alike).
  const precision = useStore((s) => (s.result?.J instanceof Float32Array ? 'float32' : 'float64'));
  const staged = useStore((s) => s.staged);
  const sampleB = useStore((s) => s.result?.sampleB ?? null);
  if (!data || !meta) return null;
  const mem = data.memory;
  const all = `J for all ${data.B.toLocaleString('en-US')} samples`;
  return (
    <section className="panel" data-testid="data-panel">
      <h2>Data</h2>
      <div className="kv">
        <span>x</span>
        {data.xShape ? (
          <span title={data.xFile}>
            <strong>{data.xFile}</strong> {shapeText(data.xShape)} {data.xDtype}
          </span>
        ) : (
          <span className="muted" data-testid="no-x">
            none: forward takes p alone
          </span>
        )}
        <span>p</span>
        <span title={data.pFile}>
          <strong>{data.pFile}</strong> {shapeText([data.B, data.P])} {data.pDtype}
        </span>
        <span>y</span>
        <span>
          <span data-testid="y-shape">{shapeText(meta.yShape)}</span> {precision}
        </span>
        <span>J</span>
        <span>
          <span data-testid="j-shape">{shapeText([...meta.yShape, meta.P])}</span> {precision}
        </span>
      </div>
      {mem && mem.mode === 'sample' ? (
        <div className="memory sample-mode" data-testid="j-memory" data-mode="sample">
          <p>
            {all} would need <strong>{formatBytes(mem.jBytes)}</strong>, over the memory budget of{' '}
            {formatBytes(mem.budgetBytes)}.
          </p>
          <p>
            J is computed per sample when shown (<span data-testid="sample-shown">sample {sampleB ?? 0}</span>{' '}
            now); the global sensitivity comes from one streamed pass over every sample.{' '}
            {streamsWholeJ()
              ? 'Exports of the whole J (.npy, .h5, .mat as MATLAB v7.3, long CSV) are written to disk a chunk of samples at a time.'
              : 'Exports of the whole J are refused.'}
          </p>
        </div>
      ) : mem ? (
        <p className="memory muted" data-testid="j-memory" data-mode="whole">
          {all}: {formatBytes(mem.jBytes)}, kept whole (memory budget {formatBytes(mem.budgetBytes)}).
        </p>
      ) : null}
      {data.xShape && <Names label="x features" names={data.xNames} />}
      <Names label="p features" names={data.pNames} />
      <Names label="outputs" names={meta.yNames} />
      {data.notes.map((n) => (
        <p className="note" key={n}>
          {n}
        </p>
      ))}
      {staged.length > 0 && (
        <p className="note" data-testid="staged">
          Waiting for a match: {staged.join(', ')}
        </p>
      )}
    </section>
  );
}
