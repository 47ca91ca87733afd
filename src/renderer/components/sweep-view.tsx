/**
 * A 1-D sweep: one p-feature of the current sample along a range, the others held, and y and J along it as
 * heatmaps of sweep value × time for a chosen output (and parameter), exportable like a slice.
 */
import { useMemo } from 'react';
import { compact, exact, formatMs } from '../lib/format';
import { useStore } from '../store';
import type { State } from '../store';
import { cancelSweep, exportExplore, runSweep, setSweepPicture, sweepRange } from '../store/explore-actions';
import { viewActions } from '../store';
import { GridView } from './grid-view';
import type { GridSpec } from './grid-view';

/** A number field that takes effect on Enter or leaving it. */
function NumberField(props: {
  label: string;
  value: number;
  testId: string;
  onCommit: (v: number) => void;
  step?: string;
}) {
  const commit = (text: string) => {
    const v = Number(text);
    if (text.trim() !== '' && Number.isFinite(v) && v !== props.value) props.onCommit(v);
  };
  return (
    <label className="field">
      <span>{props.label}</span>
      <input
        type="number"
        step={props.step ?? 'any'}
        key={props.value}
        defaultValue={String(Number(props.value.toPrecision(8)))}
        data-testid={props.testId}
        onBlur={(e) => commit(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit((e.target as HTMLInputElement).value);
        }}
      />
    </label>
  );
}

function SweepForm() {
  const form = useStore((s) => s.view.sweep);
  const pNames = useStore((s) => s.result?.meta.pNames ?? NONE);
  // Two numbers, not an object: a selector must return the same value for the same state.
  const lo = useStore((s) => sweepRange(s)?.lo);
  const hi = useStore((s) => sweepRange(s)?.hi);
  const status = useStore((s) => s.sweep.status);
  const done = useStore((s) => s.sweep.done);
  const total = useStore((s) => s.sweep.total);
  const message = useStore((s) => s.sweep.message);
  if (lo === undefined || hi === undefined) return null;
  return (
    <div className="controls">
      <label className="field">
        <span>sweep parameter</span>
        <select
          value={form.k}
          data-testid="sweep-k"
          onChange={(e) => viewActions.setSweepForm({ k: Number(e.target.value), lo: null, hi: null })}
        >
          {pNames.map((n, k) => (
            <option key={k} value={k}>
              {k} · {n}
            </option>
          ))}
        </select>
      </label>
      <NumberField
        label="from"
        value={lo}
        testId="sweep-lo"
        onCommit={(lo) => viewActions.setSweepForm({ lo })}
      />
      <NumberField
        label="to"
        value={hi}
        testId="sweep-hi"
        onCommit={(hi) => viewActions.setSweepForm({ hi })}
      />
      <NumberField
        label="points N"
        value={form.n}
        step="1"
        testId="sweep-n"
        onCommit={(n) => viewActions.setSweepForm({ n: Math.max(2, Math.round(n)) })}
      />
      <button type="button" data-testid="sweep-run" disabled={status === 'running'} onClick={runSweep}>
        Run sweep
      </button>
      {status === 'failed' && (
        <span className="muted" data-testid="sweep-message">
          {message}
        </span>
      )}
      {status === 'running' && (
        <span className="sweep-progress" data-testid="sweep-progress">
          <progress max={Math.max(1, total)} value={done} /> {done}/{total} points{' '}
          <button type="button" data-testid="sweep-cancel" onClick={cancelSweep}>
            Cancel
          </button>
        </span>
      )}
    </div>
  );
}

/** The sweep's base point, said in words: which sample, and whether what-if values are in it. */
function baseNote(s: State): string {
  const b = s.view.fixed.b;
  const B = s.result?.meta.B ?? 1;
  const moved = s.whatIf?.b === b && !s.view.compare.on;
  return `${B > 1 ? `Sample b=${b}` : 'The sample'}, every other p held at its ${moved ? 'what-if' : 'loaded'} value.`;
}

const NONE: string[] = [];

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c];
  return out;
}

function SweepPictures() {
  const sweep = useStore((s) => s.sweep);
  const form = useStore((s) => s.view.sweep);
  const meta = useStore((s) => s.result?.meta);
  const r = sweep.result;
  const slice = sweep.slice;
  const specs = useMemo(() => {
    if (!r || !slice || !meta) return null;
    const N = r.values.length;
    const T = meta.T;
    const { yNames, pNames } = meta;
    const valueAxis = {
      label: `${pNames[r.k] === `p${r.k}` ? pNames[r.k] : `${pNames[r.k]} (p${r.k})`}, swept`,
      tick: (i: number) => compact(r.values[i]),
      widest: (ctx: CanvasRenderingContext2D) =>
        Math.max(
          ctx.measureText(compact(r.values[0])).width,
          ctx.measureText(compact(r.values[N - 1])).width,
        ),
    };
    // Without a time axis each picture is one row: the sweep value across.
    const timeAxis = {
      label: meta.timeAxis ? 't (step)' : 'no time axis',
      tick: (i: number) => String(i),
      widest: (ctx: CanvasRenderingContext2D) => ctx.measureText(String(T - 1)).width,
    };
    // Pictures are sweep value (horizontal) × time (vertical); the worker sends [N,T].
    const yData = transpose(slice.y, N, T);
    const jData = transpose(slice.J, N, T);
    let lo = Infinity;
    let hi = -Infinity;
    let jMax = 0;
    for (const v of yData) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    for (const v of jData) jMax = Math.max(jMax, Math.abs(v));
    const oName = yNames[slice.o];
    const y: GridSpec = {
      data: yData,
      nx: N,
      ny: T,
      x: valueAxis,
      y: timeAxis,
      colour: { kind: 'sequential', lo, hi: hi > lo ? hi : lo + 1e-12 },
      legendLabel: 'y',
      title: `y[·, t, o=${slice.o} (${oName})] along ${pNames[r.k]}`,
      scaleNote: 'min…max',
    };
    const J: GridSpec = {
      data: jData,
      nx: N,
      ny: T,
      x: valueAxis,
      y: timeAxis,
      colour: { kind: 'diverging', limit: jMax },
      legendLabel: 'J',
      title: `∂${oName}/∂${pNames[slice.j]} along ${pNames[r.k]}`,
      scaleNote: 'symmetric',
    };
    return { y, J };
  }, [r, slice, meta]);
  if (!meta) return null;
  if (!r || !slice || !specs)
    return (
      <p className="placeholder" data-testid="sweep-empty">
        {sweep.status === 'failed' ? sweep.message : 'Choose a parameter and a range, then run the sweep.'}
      </p>
    );
  const { yNames, pNames } = meta;
  const describe = (what: 'y' | 'J') => (ix: number, iy: number, v: number) =>
    `${pNames[r.k]} = ${exact(r.values[ix])}  ${meta.timeAxis ? `t=${iy}  ` : ''}${what === 'y' ? `${yNames[slice.o]}` : `∂${yNames[slice.o]}/∂${pNames[slice.j]}`} = ${exact(v)}`;
  const exp = (what: Parameters<typeof exportExplore>[0]) => () => void exportExplore(what, slice.o, slice.j);
  return (
    <>
      <div className="controls">
        <label className="field">
          <span>output o</span>
          <select
            value={form.o}
            data-testid="sweep-o"
            onChange={(e) => setSweepPicture({ o: Number(e.target.value) })}
          >
            {yNames.map((n, o) => (
              <option key={o} value={o}>
                {o} · {n}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>J with respect to</span>
          <select
            value={form.j}
            data-testid="sweep-j"
            onChange={(e) => setSweepPicture({ j: Number(e.target.value) })}
          >
            {pNames.map((n, k) => (
              <option key={k} value={k}>
                {k} · {n}
              </option>
            ))}
          </select>
        </label>
        <div className="export-buttons">
          <span className="label">Export</span>
          <button type="button" data-testid="sweep-export-y-csv" onClick={exp('sweep-y-csv')}>
            y CSV
          </button>
          <button type="button" data-testid="sweep-export-y-npy" onClick={exp('sweep-y-npy')}>
            y .npy
          </button>
          <button type="button" data-testid="sweep-export-J-csv" onClick={exp('sweep-J-csv')}>
            J CSV
          </button>
          <button type="button" data-testid="sweep-export-J-npy" onClick={exp('sweep-J-npy')}>
            J .npy
          </button>
          <button type="button" data-testid="sweep-export-all-y" onClick={exp('sweep-all-y-npy')}>
            all y [N,T,O]
          </button>
          <button type="button" data-testid="sweep-export-all-J" onClick={exp('sweep-all-J-npy')}>
            all J [N,T,O,P]
          </button>
        </div>
      </div>
      {!meta.timeAxis && (
        <p className="note" data-testid="sweep-no-time">
          This model&apos;s output has no time axis: each picture is one row, the sweep value across; hover
          reads the values.
        </p>
      )}
      <GridView
        spec={specs.y}
        height={meta.timeAxis ? 300 : 130}
        testId="sweep-y-canvas"
        describe={describe('y')}
        hint="Hover to read y along the sweep."
      />
      <GridView
        spec={specs.J}
        height={meta.timeAxis ? 300 : 130}
        testId="sweep-J-canvas"
        describe={describe('J')}
        hint="Hover to read J along the sweep."
      />
    </>
  );
}

export function SweepView() {
  const note = useStore(baseNote);
  const status = useStore((s) => s.sweep.status);
  const slice = useStore((s) => s.sweep.slice);
  const r = useStore((s) => s.sweep.result);
  const pNames = useStore((s) => s.result?.meta.pNames ?? NONE);
  return (
    <section
      className="card sweep-view"
      data-testid="sweep-view"
      data-status={status}
      data-o={slice?.o ?? ''}
      data-j={slice?.j ?? ''}
    >
      <h2>Sweep one parameter</h2>
      <SweepForm />
      <p className="note">
        {note} The range starts as the what-if slider’s; N points from one end to the other, computed as one
        batch in the worker.
        {r && (
          <span data-testid="sweep-done">
            {' '}
            Last sweep: {pNames[r.k]} over {compact(r.values[0])} … {compact(r.values[r.values.length - 1])},{' '}
            {r.values.length} points, {formatMs(r.ms)}.
          </span>
        )}
      </p>
      <SweepPictures />
    </section>
  );
}
