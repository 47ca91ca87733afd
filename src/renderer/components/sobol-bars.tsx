/**
 * Ranked bars of the first-order (S1) and total (ST) Sobol' indices of one output, with their 95% whiskers and
 * the derivative-based (DGSM) upper bound of ST as a mark beside each ST bar; an estimate above its bound is
 * flagged. Each row is focusable and reads out its values.
 */
import { compact, niceTicks } from '../lib/format';
import { barDomain } from '../lib/sobol-view';
import type { SobolBar } from '../lib/sobol-view';

function pm(v: number, c: number): string {
  return Number.isFinite(v) ? `${compact(v)} ± ${compact(c)}` : '—';
}

export function SobolBars({ bars, pNames, where }: { bars: SobolBar[]; pNames: string[]; where: string }) {
  const [lo, hi] = barDomain(bars);
  const pos = (v: number) => `${(100 * (Math.min(hi, Math.max(lo, v)) - lo)) / (hi - lo)}%`;
  const span = (a: number, b: number) => ({
    left: pos(Math.min(a, b)),
    width: `calc(${pos(Math.max(a, b))} - ${pos(Math.min(a, b))})`,
  });
  const ticks = niceTicks(lo, hi, 5);
  const flagged = bars.filter((b) => b.exceeds > 0).length;
  return (
    <div className="sobol-bars" data-testid="sobol-bars">
      <div className="sobol-legend" aria-hidden="true">
        <span>
          <i className="sw s1" /> S1 first-order
        </span>
        <span>
          <i className="sw st" /> ST total
        </span>
        <span>
          <i className="sw whisk" /> 95% interval
        </span>
        <span>
          <i className="sw bound" /> DGSM upper bound of ST
        </span>
      </div>
      <ol className="sobol-rows" aria-label={`Sobol' indices ranked by ST, ${where}`}>
        {bars.map((b) => {
          const name = pNames[b.k] ?? `p${b.k}`;
          const beyond = Number.isFinite(b.bound) && b.bound > hi;
          const label =
            `${name}: S1 ${pm(b.s1, b.s1Conf)}, ST ${pm(b.st, b.stConf)}, DGSM bound on ST ${pm(b.bound, b.boundConf)}` +
            (b.exceeds
              ? `; ST is above its bound${b.steps > 1 ? ` at ${b.exceeds} of ${b.steps} steps` : ''}`
              : '');
          return (
            <li
              key={b.k}
              className={b.exceeds ? 'sobol-row exceeds' : 'sobol-row'}
              tabIndex={0}
              aria-label={label}
              title={label}
              data-k={b.k}
              data-s1={b.s1}
              data-st={b.st}
              data-s1-conf={b.s1Conf}
              data-st-conf={b.stConf}
              data-bound={b.bound}
              data-exceeds={b.exceeds}
            >
              <span className="sobol-name">{name}</span>
              <span className="sobol-track">
                {ticks.map((t) => (
                  <span key={t} className={t === 0 ? 'grid zero' : 'grid'} style={{ left: pos(t) }} />
                ))}
                {Number.isFinite(b.s1) && (
                  <>
                    <span className="bar s1" style={span(0, b.s1)} />
                    <span className="whisk s1" style={span(b.s1 - b.s1Conf, b.s1 + b.s1Conf)} />
                  </>
                )}
                {Number.isFinite(b.st) && (
                  <>
                    <span className="bar st" style={span(0, b.st)} />
                    <span className="whisk st" style={span(b.st - b.stConf, b.st + b.stConf)} />
                  </>
                )}
                {Number.isFinite(b.bound) && (
                  <span
                    className={beyond ? 'bound beyond' : 'bound'}
                    style={{ left: beyond ? '100%' : pos(b.bound) }}
                  >
                    {beyond && <span className="bound-text">→</span>}
                  </span>
                )}
              </span>
              <span className="sobol-values num" aria-hidden="true">
                <span>S1 {pm(b.s1, b.s1Conf)}</span>
                <span>ST {pm(b.st, b.stConf)}</span>
                <span className="bound-value">bound {Number.isFinite(b.bound) ? compact(b.bound) : '—'}</span>
              </span>
              {b.exceeds > 0 && (
                <span className="sobol-flag" aria-hidden="true" data-testid={`sobol-flag-${b.k}`}>
                  ⚠ ST above its DGSM bound{b.steps > 1 ? ` (${b.exceeds}/${b.steps} steps)` : ''}
                </span>
              )}
            </li>
          );
        })}
      </ol>
      <div className="sobol-axis" aria-hidden="true">
        <span className="sobol-name" />
        <span className="sobol-track">
          {ticks.map((t) => (
            <span key={t} className="tick" style={{ left: pos(t) }}>
              {compact(t)}
            </span>
          ))}
        </span>
        <span className="sobol-values" />
      </div>
      <p className="axis-label">Sobol&apos; index: share of Var(y) (unit-free) {where}</p>
      {flagged > 0 && (
        <p className="msg warning" data-testid="sobol-exceeds">
          {flagged} total {flagged > 1 ? 'indices are' : 'index is'} above the derivative-based upper bound
          beyond their intervals: the estimate (or the model&apos;s derivative) is suspect there; try a larger
          N.
        </p>
      )}
    </div>
  );
}
