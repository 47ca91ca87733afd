/** For every (o,k): the L2 norm over time, the largest |J| and where it occurs; sortable; click to focus. */
import { memo, useMemo } from 'react';
import { compact } from '../lib/format';
import { sortRows, summaryRows } from '../lib/summary';
import type { SummaryRow, SummarySortKey } from '../lib/summary';
import { useStore, viewActions } from '../store';
import { useAfterPaint } from './use-after-paint';

const COLUMNS: { key: SummarySortKey; label: string; title: string }[] = [
  { key: 'o', label: 'output o', title: 'output index and name' },
  { key: 'k', label: 'parameter k', title: 'parameter index and name' },
  { key: 'l2', label: '‖J‖₂ over t', title: 'sqrt(sum over t of J[b,t,o,k]²)' },
  { key: 'maxAbs', label: 'max |J|', title: 'largest |J[b,t,o,k]| over t' },
  { key: 'argT', label: 'at t', title: 'the time step of the largest |J|' },
];

const MAX_ROWS = 300;

interface RowProps {
  r: SummaryRow;
  yName: string;
  pName: string;
  focused: boolean;
  /** More than one time step: the table has the 'max |J|' and 'at t' columns. */
  timed: boolean;
}

/** One (o,k) row; memoised, so moving the focus re-renders two rows, not all of them. */
const Row = memo(function Row({ r, yName, pName, focused, timed }: RowProps) {
  return (
    <tr className={focused ? 'focus' : undefined} onClick={() => viewActions.focusPair({ o: r.o, k: r.k })}>
      <td>
        {r.o} · {yName}
      </td>
      <td>
        {r.k} · {pName}
      </td>
      <td className="num" title={String(r.l2)}>
        {compact(r.l2)}
      </td>
      {timed && (
        <>
          <td className="num" title={String(r.maxAbs)}>
            {compact(r.maxAbs)}
          </td>
          <td className="num">{r.argT}</td>
        </>
      )}
    </tr>
  );
});

export function SummaryTable() {
  const result = useStore((s) => s.result);
  // After a what-if the heatmap and the lines repaint first; the summary follows once that frame is painted.
  const display = useAfterPaint(useStore((s) => s.display));
  const dims = display?.dims ?? null;
  const summary = display?.summary ?? null;
  // Comparing: one summary, of the difference; sample mode: the shown sample's.
  const fixedB = useStore((s) => s.view.fixed.b);
  const b = display?.oneRow ? 0 : fixedB;
  const sort = useStore((s) => s.view.summarySort);
  const focusO = useStore((s) => s.view.fixed.o);
  const focusK = useStore((s) => s.view.fixed.k);
  const rows = useMemo(
    () => (summary && dims ? sortRows(summaryRows(summary, dims, b), sort.key, sort.desc) : []),
    [summary, dims?.B, dims?.O, dims?.P, b, sort.key, sort.desc],
  );
  if (!result || !dims) return null;
  const { yNames, pNames } = result.meta;
  // One time step (y without a time axis): the norm over t is |J| and "at t" says nothing.
  const timed = dims.T > 1;
  const columns = timed
    ? COLUMNS
    : COLUMNS.filter((c) => c.key !== 'argT' && c.key !== 'maxAbs').map((c) =>
        c.key === 'l2' ? { ...c, label: '|J|', title: '|J[b,o,k]|' } : c,
      );
  return (
    <div className="summary-table">
      <table data-testid="summary-table">
        <thead>
          <tr>
            {columns.map((c) => (
              <th
                key={c.key}
                title={c.title}
                aria-sort={sort.key === c.key ? (sort.desc ? 'descending' : 'ascending') : 'none'}
              >
                <button type="button" onClick={() => viewActions.sortSummary(c.key)}>
                  {c.label}
                  {sort.key === c.key ? (sort.desc ? ' ▼' : ' ▲') : ''}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.slice(0, MAX_ROWS).map((r) => (
            <Row
              key={`${r.o}-${r.k}`}
              r={r}
              yName={yNames[r.o]}
              pName={pNames[r.k]}
              focused={r.o === focusO && r.k === focusK}
              timed={timed}
            />
          ))}
        </tbody>
      </table>
      {rows.length > MAX_ROWS && (
        <div className="muted">
          showing the first {MAX_ROWS} of {rows.length} rows in this order
        </div>
      )}
    </div>
  );
}
