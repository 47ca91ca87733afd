/**
 * Global sensitivity over the whole batch, from exact derivatives (DGSM): ν[o,k] = mean over b and t of
 * J[b,t,o,k]², the normalised index ν·Var(p_k)/Var(y_o), and the elasticity |J·p/y|; a ranked chart for one
 * output (or the mean over outputs), the O×P heatmap, and ν over time.
 */
import { useEffect, useMemo } from 'react';
import { rankParams } from '../lib/explore-format';
import { compact, exact, formatMs } from '../lib/format';
import { useStore, viewActions } from '../store';
import type { GsaState } from '../store';
import { cancelSensitivity, ensureSensitivity, exportExplore } from '../store/explore-actions';
import type { GsaMeasure } from '../worker/protocol';
import { GridView } from './grid-view';
import type { GridSpec } from './grid-view';

const MEASURES: { key: GsaMeasure; label: string; symbol: string; explain: string }[] = [
  {
    key: 'nu',
    label: 'ν = mean J²',
    symbol: 'ν',
    explain:
      'ν[o,k] = mean over samples b and steps t of J[b,t,o,k]²: how strongly y_o moves with p_k, in y per p units squared.',
  },
  {
    key: 'index',
    label: 'normalised index ν·Var(p)/Var(y)',
    symbol: 'ν·Var(p)/Var(y)',
    explain:
      'ν[o,k]·Var(p_k)/Var(y_o): ν scaled by how much p_k varies in the batch, relative to how much y_o varies — unit-free and comparable across parameters.',
  },
  {
    key: 'elasticity',
    label: 'elasticity |J·p/y|',
    symbol: '|J·p/y|',
    explain:
      'mean of |J·p/y|: the relative change of y_o per relative change of p_k, averaged where y is far from 0.',
  },
];

function measureOf(r: NonNullable<GsaState['result']>, m: GsaMeasure): Float64Array | null {
  return m === 'nu' ? r.nu : m === 'index' ? r.index : r.elasticity;
}

function finiteMax(a: Float64Array): number {
  let m = 0;
  for (const v of a) if (Number.isFinite(v) && v > m) m = v;
  return m;
}

function RankChart({
  rows,
  pNames,
  symbol,
}: {
  rows: { k: number; value: number }[];
  pNames: string[];
  symbol: string;
}) {
  const max = Math.max(...rows.map((r) => (Number.isFinite(r.value) ? r.value : 0)), 0);
  return (
    <ol className="rank-chart" data-testid="gsa-rank">
      {rows.map((r) => (
        <li key={r.k} data-k={r.k} title={`${pNames[r.k]}: ${symbol} = ${exact(r.value)}`}>
          <span className="rank-name">{pNames[r.k]}</span>
          <span className="rank-bar">
            <span style={{ width: `${max > 0 && Number.isFinite(r.value) ? (100 * r.value) / max : 0}%` }} />
          </span>
          <span className="rank-value num">{Number.isFinite(r.value) ? compact(r.value) : '—'}</span>
        </li>
      ))}
    </ol>
  );
}

export function SensitivityView() {
  const gsa = useStore((s) => s.gsa);
  const meta = useStore((s) => s.result?.meta);
  const view = useStore((s) => s.view.gsa);
  const seq = meta?.seq;
  useEffect(() => {
    if (seq !== undefined) ensureSensitivity();
  }, [seq]);

  const r = gsa.result && gsa.result.seq === seq ? gsa.result : null;
  const info = MEASURES.find((m) => m.key === view.measure)!;
  const m = r ? measureOf(r, view.measure) : null;

  const specs = useMemo(() => {
    if (!r || !m || !meta) return null;
    const { O, P, T, yNames, pNames } = meta;
    const names = (list: string[]) => ({
      tick: (i: number) => list[i] ?? String(i),
      widest: (ctx: CanvasRenderingContext2D) =>
        Math.max(0, ...list.slice(0, 200).map((n) => ctx.measureText(n).width)),
    });
    const matrix: GridSpec = {
      data: m,
      nx: P,
      ny: O,
      x: { label: 'k (parameter)', ...names(pNames) },
      y: { label: 'o (output)', ...names(yNames) },
      colour: { kind: 'sequential', lo: 0, hi: finiteMax(m) || 1 },
      legendLabel: info.symbol.length > 6 ? 'index' : info.symbol,
      title: `${info.symbol}[o, k]`,
      scaleNote: 'sequential',
    };
    // ν over time for the chosen output (mean over outputs for "all"): rows k, columns t.
    const o = view.o;
    const nuT = new Float64Array(P * T);
    for (let t = 0; t < T; t++)
      for (let k = 0; k < P; k++) {
        let v = 0;
        if (o >= 0) v = r.nuT[(t * O + o) * P + k];
        else {
          for (let i = 0; i < O; i++) v += r.nuT[(t * O + i) * P + k];
          v /= O;
        }
        nuT[k * T + t] = v;
      }
    const time: GridSpec = {
      data: nuT,
      nx: T,
      ny: P,
      x: { label: 't (step)', tick: String, widest: (ctx) => ctx.measureText(String(T - 1)).width },
      y: { label: 'k (parameter)', ...names(pNames) },
      colour: { kind: 'sequential', lo: 0, hi: finiteMax(nuT) || 1 },
      legendLabel: 'ν',
      title: `ν[t, o, k] = mean over samples of J²  —  ${o >= 0 ? `o=${o} (${yNames[o]})` : 'mean over outputs'}`,
      scaleNote: 'sequential',
    };
    return { matrix, time };
  }, [r, m, meta, view.o, info]);

  if (!meta) return null;
  const { O, P, yNames, pNames } = meta;
  const rows = m ? rankParams(m, O, P, view.o) : [];
  const exp = (what: Parameters<typeof exportExplore>[0]) => () =>
    void exportExplore(what, view.o, 0, view.measure);
  return (
    <section
      className="card sensitivity-view"
      data-testid="gsa-view"
      data-ready={r ? 'yes' : 'no'}
      data-streamed={r?.streamed ? 'yes' : 'no'}
    >
      <h2>Global sensitivity over the batch</h2>
      <div className="controls">
        <label className="field">
          <span>measure</span>
          <select
            value={view.measure}
            data-testid="gsa-measure"
            onChange={(e) => viewActions.setGsa({ measure: e.target.value as GsaMeasure })}
          >
            {MEASURES.map((x) => (
              <option key={x.key} value={x.key}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>rank parameters for</span>
          <select
            value={view.o}
            data-testid="gsa-o"
            onChange={(e) => viewActions.setGsa({ o: Number(e.target.value) })}
          >
            <option value={-1}>all outputs (mean)</option>
            {yNames.map((n, o) => (
              <option key={o} value={o}>
                {o} · {n}
              </option>
            ))}
          </select>
        </label>
        <div className="export-buttons">
          <span className="label">Export</span>
          <button type="button" disabled={!m} data-testid="gsa-export-csv" onClick={exp('gsa-csv')}>
            [O,P] CSV
          </button>
          <button type="button" disabled={!m} data-testid="gsa-export-npy" onClick={exp('gsa-npy')}>
            [O,P] .npy
          </button>
          <button type="button" disabled={!m} data-testid="gsa-export-rank" onClick={exp('gsa-rank-csv')}>
            ranking CSV
          </button>
          <button type="button" disabled={!r} data-testid="gsa-export-t" onClick={exp('gsa-t-npy')}>
            ν[t,o,k] .npy
          </button>
        </div>
      </div>
      <p className="note">
        {info.explain} From the exact J of all {meta.B.toLocaleString('en-US')} sample{meta.B > 1 ? 's' : ''}{' '}
        as loaded (what-if values are not included)
        {r?.streamed
          ? ', streamed: J was computed a chunk of samples at a time and summed, never kept whole.'
          : '.'}
        {r && ` Computed in ${formatMs(r.ms)}.`}
        {view.measure === 'elasticity' &&
          r &&
          ` Steps where |y_o| < ${r.yFloor * 100}% of its largest |y| are left out; grey: y_o is near 0 throughout.`}
      </p>
      {gsa.status === 'running' && (
        <p className="placeholder" data-testid="gsa-progress">
          {gsa.total
            ? `Streaming over the samples: ${gsa.done! < meta.B ? 'forward pass' : 'Jacobians'} ${Math.min(
                100,
                Math.round((100 * gsa.done!) / gsa.total),
              )}% `
            : 'Computing… '}
          {gsa.total ? (
            <button type="button" data-testid="gsa-cancel" onClick={cancelSensitivity}>
              Cancel
            </button>
          ) : null}
        </p>
      )}
      {gsa.status === 'failed' && <p className="msg error">{gsa.message}</p>}
      {r && !m && (
        <p className="msg warning" data-testid="gsa-no-index">
          The normalised index needs at least two samples whose p differ: with{' '}
          {meta.B === 1 ? 'one sample' : 'this batch'} Var(p) is 0. Load a batch (p [B,P] with B ≥ 2) to see
          it; ν and the elasticity are shown.
        </p>
      )}
      {specs && (
        <>
          <div className="row">
            <div className="grow">
              <GridView
                spec={specs.matrix}
                height={Math.min(420, 90 + 22 * O)}
                maxWidth={Math.max(420, 160 + 40 * P)}
                testId="gsa-matrix-canvas"
                describe={(k, o, v) => `${yNames[o]} / ${pNames[k]}: ${info.symbol} = ${exact(v)}`}
                hint="Click a row to rank the parameters for that output."
                onPick={(_k, o) => viewActions.setGsa({ o })}
              />
            </div>
            <div className="rank-wrap">
              <h3>
                {info.symbol}, ranked — {view.o >= 0 ? `${yNames[view.o]}` : 'mean over outputs'}
              </h3>
              <RankChart rows={rows} pNames={pNames} symbol={info.symbol} />
            </div>
          </div>
          {meta.timeAxis ? (
            <GridView
              spec={specs.time}
              height={Math.min(360, 90 + 16 * P)}
              testId="gsa-time-canvas"
              describe={(t, k, v) => `t=${t}  ${pNames[k]}: ν = ${exact(v)}`}
              hint="Hover to read ν at a time step."
            />
          ) : (
            <p className="placeholder" data-testid="gsa-no-time">
              This model&apos;s output has no time axis, so there is no ν over time: the matrix above is all
              of it.
            </p>
          )}
        </>
      )}
    </section>
  );
}
