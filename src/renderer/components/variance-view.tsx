/**
 * Variance-based global sensitivity: first-order and total Sobol' indices with 95% intervals for p drawn from
 * the distribution table, every other input fixed at the current sample; ranked bars for one output (at one
 * time step or averaged over time) beside the DGSM bound, a heatmap of ST, exports as S.json or CSV.
 */
import { useEffect, useMemo } from 'react';
import { exact, formatCount, formatMs } from '../lib/format';
import { sobolBars, stMatrix } from '../lib/sobol-view';
import { useStore } from '../store';
import {
  cancelSobol,
  ensureSobolDists,
  exportSobol,
  runSobol,
  setSobolForm,
  tableProblem,
  useSobol,
} from '../store/sobol';
import { DistTable } from './dist-table';
import { GridView } from './grid-view';
import type { GridSpec } from './grid-view';
import { SobolBars } from './sobol-bars';

function names(list: string[]) {
  return {
    tick: (i: number) => list[i] ?? String(i),
    widest: (ctx: CanvasRenderingContext2D) =>
      Math.max(0, ...list.slice(0, 200).map((n) => ctx.measureText(n).width)),
  };
}

function RunControls({ P, b }: { P: number; b: number }) {
  const s = useSobol();
  const pNames = useStore((st) => st.result?.meta.pNames ?? []);
  const problem = tableProblem(s.dists, pNames);
  const running = s.status === 'running';
  const frac = s.total > 0 ? s.done / s.total : 0;
  return (
    <div className="controls sobol-controls">
      <label className="field">
        <span>N (base rows)</span>
        <input
          type="number"
          min={2}
          step={1}
          value={s.N}
          disabled={running}
          data-testid="sobol-n"
          onChange={(e) => {
            const v = Math.round(Number(e.target.value));
            if (Number.isFinite(v) && v >= 2) setSobolForm({ N: v });
          }}
        />
      </label>
      <label className="field">
        <span>seed</span>
        <input
          type="number"
          min={0}
          step={1}
          value={s.seed}
          disabled={running}
          data-testid="sobol-seed"
          onChange={(e) => {
            const v = Math.round(Number(e.target.value));
            if (Number.isSafeInteger(v) && v >= 0) setSobolForm({ seed: v });
          }}
        />
      </label>
      <span className="hint">
        {formatCount(s.N * (P + 2))} forward passes + {formatCount(s.N)} Jacobians; other inputs at sample b ={' '}
        {b}
      </span>
      {running ? (
        <>
          <button type="button" onClick={cancelSobol} data-testid="sobol-cancel">
            Cancel
          </button>
          <progress max={1} value={frac} aria-label="Sobol' run progress" data-testid="sobol-progress" />
          <span className="num">{Math.floor(frac * 100)}%</span>
        </>
      ) : (
        <button
          type="button"
          className="primary"
          disabled={!!problem}
          title={problem ?? undefined}
          onClick={runSobol}
          data-testid="sobol-run"
        >
          Run
        </button>
      )}
      {problem && s.dists && <span className="note error">{problem}</span>}
    </div>
  );
}

export function VarianceView() {
  const meta = useStore((s) => s.result?.meta);
  const b = useStore((s) => s.view.fixed.b);
  const s = useSobol();
  const seq = meta?.seq;
  useEffect(() => {
    if (seq !== undefined) ensureSobolDists();
  }, [seq]);

  const r = s.result && s.result.seq === seq ? s.result : null;
  const o = r ? Math.min(s.o, r.O - 1) : 0;
  const t = r && r.timeAxis ? Math.min(s.t, r.T - 1) : -1;
  const bars = useMemo(() => (r ? sobolBars(r, o, t) : null), [r, o, t]);

  const heat = useMemo((): GridSpec | null => {
    if (!r || !meta) return null;
    const m = stMatrix(r, o);
    const kAxis = { label: 'k (feature)', ...names(meta.pNames) };
    return {
      data: m.data,
      nx: m.nx,
      ny: m.ny,
      x: r.timeAxis
        ? { label: 't (step)', tick: String, widest: (ctx) => ctx.measureText(String(r.T - 1)).width }
        : kAxis,
      y: r.timeAxis ? kAxis : { label: 'o (output)', ...names(meta.yNames) },
      colour: { kind: 'sequential', lo: 0, hi: 1 },
      legendLabel: 'ST',
      title: r.timeAxis ? `ST[t, k] over time — o=${o} (${meta.yNames[o]})` : 'ST[o, k]',
      scaleNote: '0…1',
    };
  }, [r, meta, o]);

  if (!meta) return null;
  const { P, yNames, pNames } = meta;
  const where = r
    ? `${yNames[o] ?? `o=${o}`}${r.timeAxis ? (t >= 0 ? `, t=${t}` : ', mean over time') : ''}`
    : '';
  return (
    <section
      className="card variance-view"
      data-testid="sobol-view"
      data-status={s.status}
      data-ready={r ? 'yes' : 'no'}
    >
      <h2>Variance-based sensitivity (Sobol&apos; indices)</h2>
      <p className="note">
        S1: the share of Var(y) that p_k explains alone; ST: its share with all its interactions (1 − ST is
        what the other features explain without p_k). Saltelli&apos;s design on scrambled Sobol&apos; points,
        first-order by Saltelli 2010, total by Jansen; 95% intervals from a block bootstrap. The bound: ST ≤
        ν·C/Var(y) with ν the mean of the exact (∂y/∂p_k)² at the same points and C = (b−a)²/π² for uniform,
        σ² for normal inputs.
      </p>
      <DistTable pNames={pNames} />
      <RunControls P={P} b={b} />
      {s.status === 'failed' && (
        <p
          className={s.message === 'cancelled' ? 'msg info' : 'msg error'}
          role="status"
          data-testid="sobol-message"
        >
          {s.message === 'cancelled' ? 'Cancelled: nothing was kept of that run.' : s.message}
        </p>
      )}
      {r && bars && heat && (
        <>
          <div className="controls">
            <label className="field">
              <span>output</span>
              <select
                value={o}
                data-testid="sobol-o"
                onChange={(e) => setSobolForm({ o: Number(e.target.value) })}
              >
                {yNames.slice(0, r.O).map((n, i) => (
                  <option key={i} value={i}>
                    {i} · {n}
                  </option>
                ))}
              </select>
            </label>
            {r.timeAxis && (
              <>
                <label className="field">
                  <span>time</span>
                  <select
                    value={t < 0 ? 'mean' : 'step'}
                    data-testid="sobol-t-mode"
                    onChange={(e) => setSobolForm({ t: e.target.value === 'mean' ? -1 : Math.max(0, s.t) })}
                  >
                    <option value="mean">mean over time</option>
                    <option value="step">at step t</option>
                  </select>
                </label>
                {t >= 0 && (
                  <label className="field">
                    <span>t = {t}</span>
                    <input
                      type="range"
                      min={0}
                      max={r.T - 1}
                      value={t}
                      data-testid="sobol-t"
                      onChange={(e) => setSobolForm({ t: Number(e.target.value) })}
                    />
                  </label>
                )}
              </>
            )}
            <div className="export-buttons">
              <span className="label">Export</span>
              <button
                type="button"
                data-testid="sobol-export-json"
                onClick={() => void exportSobol('sobol-json')}
              >
                S.json
              </button>
              <button
                type="button"
                data-testid="sobol-export-csv"
                onClick={() => void exportSobol('sobol-csv')}
              >
                CSV
              </button>
            </div>
          </div>
          <p className="note" data-testid="sobol-summary">
            N = {formatCount(r.n)}: {formatCount(r.evaluations)} model evaluations and{' '}
            {formatCount(r.jacobians)} Jacobians in {formatMs(r.ms)}, seed {r.seed}, sample b = {r.b}. Var(y)
            of {yNames[o]}
            {r.timeAxis ? (t >= 0 ? ` at t=${t}` : ' (mean over time)') : ''}:{' '}
            {exact(Number(varianceAt(r.variance, r.T, r.O, o, t).toPrecision(4)))}.
          </p>
          <div className={r.timeAxis ? 'sobol-stack' : 'row sobol-side'}>
            <div className="grow sobol-bars-wrap">
              <h3>S1 and ST, ranked — {where}</h3>
              <SobolBars bars={bars} pNames={pNames} where={where} />
            </div>
            <div className="grow">
              <GridView
                spec={heat}
                height={Math.min(420, 100 + 24 * (r.timeAxis ? P : r.O))}
                maxWidth={r.timeAxis ? undefined : Math.max(420, 160 + 48 * P)}
                testId="sobol-heatmap"
                describe={(ix, iy, v) =>
                  r.timeAxis
                    ? `t=${ix}  ${pNames[iy]}: ST = ${exact(v)}`
                    : `${yNames[iy]} / ${pNames[ix]}: ST = ${exact(v)}`
                }
                hint={r.timeAxis ? 'Click a step to show its bars.' : 'Click a row to show that output.'}
                onPick={(ix, iy) => (r.timeAxis ? setSobolForm({ t: ix }) : setSobolForm({ o: iy }))}
              />
            </div>
          </div>
        </>
      )}
    </section>
  );
}

function varianceAt(v: Float64Array, T: number, O: number, o: number, t: number): number {
  if (t >= 0) return v[t * O + o];
  let sum = 0;
  for (let i = 0; i < T; i++) sum += v[i * O + o];
  return sum / T;
}
