/**
 * Live what-if: one slider per p-feature of the current sample. Moving one recomputes y and J of that sample
 * in the worker, and every Jacobian view redraws with it (the loaded sample dashed beside it).
 */
import { memo, useMemo } from 'react';
import { compact, formatMs } from '../lib/format';
import { NO_SPREAD_SCALE, sliderStep } from '../lib/p-range';
import type { PRange } from '../lib/p-range';
import { sampleP, useStore } from '../store';
import { resetWhatIf, setWhatIfValue } from '../store/explore-actions';

/** Enough digits to tell slider positions apart, few enough to read. */
function shown(v: number): string {
  return String(Number(v.toPrecision(6)));
}

interface RowProps {
  k: number;
  name: string;
  value: number;
  loaded: number;
  range: PRange;
  /** Mark features whose range is the no-spread fallback (when only some are). */
  mark: boolean;
  disabled: boolean;
}

const Row = memo(function Row({ k, name, value, loaded, range, mark, disabled }: RowProps) {
  const changed = value !== loaded;
  const commit = (text: string) => {
    const v = Number(text);
    if (text.trim() !== '' && Number.isFinite(v)) setWhatIfValue(k, v);
  };
  return (
    <div className={`what-if-row${changed ? ' changed' : ''}`}>
      <span className="what-if-name" title={`p${k} · ${name} (loaded: ${loaded})`}>
        {mark && !range.spread ? '*' : ''}
        {name}
      </span>
      <input
        type="range"
        min={range.lo}
        max={range.hi}
        step={sliderStep(range)}
        value={Math.min(range.hi, Math.max(range.lo, value))}
        list={`what-if-loaded-${k}`}
        disabled={disabled}
        data-testid={`whatif-slider-${k}`}
        aria-label={`${name} what-if value`}
        onChange={(e) => setWhatIfValue(k, Number(e.target.value))}
      />
      {/* The loaded value as a tick on the slider's track. */}
      <datalist id={`what-if-loaded-${k}`}>
        <option value={loaded} />
      </datalist>
      <input
        type="number"
        step="any"
        key={value}
        defaultValue={shown(value)}
        disabled={disabled}
        data-testid={`whatif-number-${k}`}
        aria-label={`${name} exact value`}
        onBlur={(e) => commit(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commit((e.target as HTMLInputElement).value);
        }}
      />
      <button
        type="button"
        className="what-if-reset"
        title={`back to the loaded value ${loaded}`}
        aria-label={`reset ${name}`}
        disabled={disabled || !changed}
        onClick={() => resetWhatIf(k)}
      >
        ↺
      </button>
    </div>
  );
});

export function WhatIfPanel() {
  const result = useStore((s) => s.result);
  const b = useStore((s) => s.view.fixed.b);
  const whatIf = useStore((s) => s.whatIf);
  const stats = useStore((s) => s.whatIfStats);
  const ms = useStore((s) => s.whatIfShown?.ms);
  // The p of the what-if on screen, exactly (read by the end-to-end tests).
  const shownP = useStore((s) => s.whatIfShown?.p.join(',') ?? '');
  const comparing = useStore((s) => s.view.compare.on);
  const loaded = useMemo(() => (result ? sampleP(result, Math.min(b, result.meta.B - 1)) : []), [result, b]);
  if (!result) return null;
  const { pNames, B } = result.meta;
  const values = whatIf?.b === b ? whatIf.p : loaded;
  const ranges = result.pRanges;
  const fallback = ranges.filter((r) => !r.spread).length;
  const status = comparing
    ? 'off while comparing two samples'
    : stats.busy
      ? 'computing…'
      : whatIf
        ? `y and J recomputed in ${formatMs(ms ?? 0)}`
        : 'at the loaded values';
  return (
    <section
      className="panel what-if"
      data-testid="what-if"
      data-busy={stats.busy ? 'yes' : 'no'}
      data-sent={stats.sent}
      data-shown={stats.shown}
      data-active={whatIf ? 'yes' : 'no'}
      data-shown-p={shownP}
    >
      <h2>What-if{B > 1 ? ` · sample b=${b}` : ''}</h2>
      <p className="note">
        Move a slider or type a value: y and J of this sample are recomputed and every view follows (the
        loaded values dashed).
      </p>
      <div className="what-if-grid">
        {pNames.map((name, k) => (
          <Row
            key={k}
            k={k}
            name={name}
            value={values[k]}
            loaded={loaded[k]}
            range={ranges[k]}
            mark={fallback > 0 && fallback < ranges.length}
            disabled={comparing}
          />
        ))}
      </div>
      <div className="what-if-foot">
        <button
          type="button"
          data-testid="whatif-reset"
          disabled={!whatIf || comparing}
          onClick={() => resetWhatIf()}
        >
          Reset all
        </button>
        <span className="muted" data-testid="whatif-status">
          {status}
        </span>
      </div>
      <p className="note" data-testid="whatif-ranges">
        {fallback < ranges.length && 'Slider ranges: the batch’s min…max, widened by 10%. '}
        {fallback > 0 &&
          `${fallback === ranges.length ? 'One sample' : '* No spread in the batch'}: the data gives no range, so the sliders cover p ± ${NO_SPREAD_SCALE}·max(1, |p|)` +
            (fallback === ranges.length && ranges[0]
              ? ` (e.g. ${compact(ranges[0].lo)} … ${compact(ranges[0].hi)} for ${pNames[0]})`
              : '') +
            '.'}
      </p>
    </section>
  );
}
