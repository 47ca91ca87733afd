/**
 * The input distribution of each p-feature for the variance-based tab: uniform(low, high) or normal(mean, std),
 * one editable row per feature, with D.json load and save (the CLI's format) and a reset to the defaults.
 */
import { useEffect, useRef, useState } from 'react';
import { distProblem } from '../lib/sobol-view';
import { loadSobolDists, resetSobolDists, saveSobolDists, setSobolDist, useSobol } from '../store/sobol';
import type { SobolDist } from '../worker/sobol-protocol';

/** The other kind with the same mean and variance (uniform half-width √3·σ). */
function convert(d: SobolDist, to: SobolDist['dist']): SobolDist {
  if (d.dist === to) return d;
  const r3 = Math.sqrt(3);
  if (d.dist === 'uniform') {
    const mean = (d.low + d.high) / 2;
    return { dist: 'normal', mean, std: Number(((d.high - d.low) / (2 * r3)).toPrecision(6)) };
  }
  const half = Number((r3 * d.std).toPrecision(6));
  return { dist: 'uniform', low: d.mean - half, high: d.mean + half };
}

/** A number field that keeps what is typed ("1.", "-") and commits whenever it reads as a finite number. */
function NumField({
  value,
  label,
  testId,
  onCommit,
}: {
  value: number;
  label: string;
  testId: string;
  onCommit: (v: number) => void;
}) {
  const [text, setText] = useState(String(value));
  useEffect(() => {
    setText((t) => (Number(t) === value && t.trim() !== '' ? t : String(value)));
  }, [value]);
  const bad = text.trim() === '' || !Number.isFinite(Number(text));
  return (
    <input
      type="text"
      inputMode="decimal"
      className="num dist-num"
      value={text}
      aria-label={label}
      aria-invalid={bad}
      data-testid={testId}
      onChange={(e) => {
        const t = e.target.value;
        setText(t);
        const v = Number(t);
        if (t.trim() !== '' && Number.isFinite(v)) onCommit(v);
      }}
    />
  );
}

export function DistTable({ pNames }: { pNames: string[] }) {
  const dists = useSobol((s) => s.dists);
  const note = useSobol((s) => s.distNote);
  const edited = useSobol((s) => s.edited);
  const error = useSobol((s) => s.distError);
  const running = useSobol((s) => s.status === 'running');
  const fileRef = useRef<HTMLInputElement>(null);
  if (!dists) return <p className="placeholder">Preparing the distributions…</p>;
  return (
    <div className="dist-table-wrap">
      <table className="dist-table" data-testid="sobol-dists">
        <caption>
          Input distributions: p is drawn from these, every other input stays at the chosen sample
        </caption>
        <thead>
          <tr>
            <th scope="col">k</th>
            <th scope="col">feature</th>
            <th scope="col">distribution</th>
            <th scope="col">parameters</th>
            <th scope="col">
              <span className="sr-only">problem</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {dists.map((d, k) => {
            const name = pNames[k] ?? `p${k}`;
            const problem = distProblem(d);
            return (
              <tr key={k} data-k={k} className={problem ? 'bad' : undefined}>
                <td className="num">{k}</td>
                <th scope="row">{name}</th>
                <td>
                  <select
                    value={d.dist}
                    aria-label={`${name}: distribution`}
                    data-testid={`sobol-dist-kind-${k}`}
                    disabled={running}
                    onChange={(e) => setSobolDist(k, convert(d, e.target.value as SobolDist['dist']))}
                  >
                    <option value="uniform">uniform(low, high)</option>
                    <option value="normal">normal(mean, std)</option>
                  </select>
                </td>
                <td className="dist-params">
                  {d.dist === 'uniform' ? (
                    <>
                      <label>
                        low
                        <NumField
                          value={d.low}
                          label={`${name}: low`}
                          testId={`sobol-dist-a-${k}`}
                          onCommit={(low) => setSobolDist(k, { ...d, low })}
                        />
                      </label>
                      <label>
                        high
                        <NumField
                          value={d.high}
                          label={`${name}: high`}
                          testId={`sobol-dist-b-${k}`}
                          onCommit={(high) => setSobolDist(k, { ...d, high })}
                        />
                      </label>
                    </>
                  ) : (
                    <>
                      <label>
                        mean
                        <NumField
                          value={d.mean}
                          label={`${name}: mean`}
                          testId={`sobol-dist-a-${k}`}
                          onCommit={(mean) => setSobolDist(k, { ...d, mean })}
                        />
                      </label>
                      <label>
                        std
                        <NumField
                          value={d.std}
                          label={`${name}: std`}
                          testId={`sobol-dist-b-${k}`}
                          onCommit={(std) => setSobolDist(k, { ...d, std })}
                        />
                      </label>
                    </>
                  )}
                </td>
                <td className="dist-problem" role={problem ? 'alert' : undefined}>
                  {problem ?? ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div className="dist-actions">
        <span className="note" data-testid="sobol-dist-note">
          {note}
          {edited && !/^From /.test(note) ? ' Edited.' : ''}
        </span>
        <input
          ref={fileRef}
          type="file"
          accept=".json,application/json"
          className="sr-only"
          tabIndex={-1}
          aria-hidden="true"
          data-testid="sobol-dist-file"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            e.target.value = '';
            if (f) loadSobolDists(await f.text(), f.name);
          }}
        />
        <button
          type="button"
          disabled={running}
          onClick={() => fileRef.current?.click()}
          data-testid="sobol-dist-load"
        >
          Load D.json…
        </button>
        <button type="button" onClick={() => void saveSobolDists()} data-testid="sobol-dist-save">
          Save D.json
        </button>
        <button type="button" disabled={running} onClick={resetSobolDists} data-testid="sobol-dist-reset">
          Defaults
        </button>
      </div>
      {error && (
        <p className="msg error" role="alert" data-testid="sobol-dist-error">
          {error}
        </p>
      )}
    </div>
  );
}
