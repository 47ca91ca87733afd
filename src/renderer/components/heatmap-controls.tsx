/** Which axes the heatmap shows, sliders/selectors for the fixed ones, and the colour scale. */
import { AXIS_LABEL, availableAxes, axisLength, fixedAxes, indexName } from '../lib/axes';
import type { Axis, Dims, FeatureNames } from '../lib/axes';
import { compact } from '../lib/format';
import { select, useStore, viewActions } from '../store';
import type { ScaleMode } from '../store/view';
import { setCompare } from '../store/explore-actions';

function AxisPicker({ which, dims }: { which: 'x' | 'y'; dims: Dims }) {
  const value = useStore((s) => (which === 'x' ? s.view.xAxis : s.view.yAxis));
  // Sample mode holds one sample's J: b is not offered as an axis.
  const sampled = useStore((s) => s.result?.sampleB != null);
  return (
    <label className="field">
      <span>{which === 'x' ? 'horizontal' : 'vertical'}</span>
      <select
        data-testid={`axis-${which}`}
        value={value}
        onChange={(e) => viewActions.setAxis(which, e.target.value as Axis)}
      >
        {availableAxes(dims)
          .filter((a) => !(sampled && a === 'b'))
          .map((a) => (
            <option key={a} value={a}>
              {AXIS_LABEL[a]}
            </option>
          ))}
      </select>
    </label>
  );
}

function FixedAxis({ axis, dims, names }: { axis: Axis; dims: Dims; names: FeatureNames }) {
  const value = useStore((s) => s.view.fixed[axis]);
  const n = axisLength(dims, axis);
  const named = axis === 'o' || axis === 'k';
  return (
    <div className="field fixed-axis">
      <span>
        {AXIS_LABEL[axis]}
        {named ? '' : ` = ${value}`}
      </span>
      <div className="fixed-inputs">
        <input
          type="range"
          min={0}
          max={n - 1}
          step={1}
          value={value}
          data-testid={`slider-${axis}`}
          aria-label={`${AXIS_LABEL[axis]} index`}
          onChange={(e) => viewActions.setFixed(axis, Number(e.target.value))}
        />
        {named ? (
          <select
            value={value}
            data-testid={`select-${axis}`}
            aria-label={AXIS_LABEL[axis]}
            onChange={(e) => viewActions.setFixed(axis, Number(e.target.value))}
          >
            {Array.from({ length: n }, (_, i) => (
              <option key={i} value={i}>
                {i} · {indexName(axis, i, names)}
              </option>
            ))}
          </select>
        ) : (
          <input
            type="number"
            min={0}
            max={n - 1}
            value={value}
            data-testid={`number-${axis}`}
            aria-label={`${AXIS_LABEL[axis]} index`}
            onChange={(e) => viewActions.setFixed(axis, Number(e.target.value))}
          />
        )}
      </div>
    </div>
  );
}

function ScaleControl() {
  const scale = useStore((s) => s.view.scale);
  const globalMax = useStore((s) => s.display?.summary.globalMaxAbs ?? 0);
  return (
    <div className="field">
      <span>colour scale</span>
      <div className="fixed-inputs">
        <select
          value={scale.mode}
          data-testid="scale-mode"
          onChange={(e) => {
            const mode = e.target.value as ScaleMode;
            if (mode === 'fixed' && scale.mode !== 'fixed' && globalMax > 0)
              viewActions.setScaleLimit(Number(globalMax.toPrecision(2)));
            viewActions.setScaleMode(mode);
          }}
        >
          <option value="slice">symmetric: this slice</option>
          <option value="all">symmetric: all of J</option>
          <option value="fixed">fixed ±</option>
        </select>
        {scale.mode === 'fixed' && (
          <input
            type="number"
            className="limit"
            step="any"
            min={0}
            defaultValue={compact(scale.limit)}
            key={scale.limit}
            data-testid="scale-limit"
            aria-label="colour limit"
            onBlur={(e) => viewActions.setScaleLimit(Number(e.target.value))}
            onKeyDown={(e) => {
              if (e.key === 'Enter') viewActions.setScaleLimit(Number((e.target as HTMLInputElement).value));
            }}
          />
        )}
      </div>
    </div>
  );
}

/** J[b₁] − J[b₂] in place of J, in every Jacobian view (only with two samples or more). */
function CompareControl({ B }: { B: number }) {
  const compare = useStore((s) => s.view.compare);
  const sample = (which: 'b1' | 'b2', label: string) => (
    <input
      type="number"
      min={0}
      max={B - 1}
      value={compare[which]}
      data-testid={`compare-${which}`}
      aria-label={label}
      onChange={(e) => setCompare({ [which]: Number(e.target.value) })}
    />
  );
  return (
    <div className="field compare">
      <span>compare two samples</span>
      <div className="fixed-inputs">
        <label className="check">
          <input
            type="checkbox"
            checked={compare.on}
            data-testid="compare-on"
            onChange={(e) => setCompare({ on: e.target.checked })}
          />
          J[b₁] − J[b₂]
        </label>
        b₁ {sample('b1', 'first sample')} b₂ {sample('b2', 'second sample')}
      </div>
    </div>
  );
}

export function HeatmapControls() {
  const dims = useStore(select.viewDims);
  const B = useStore((s) => s.result?.meta.B ?? 1);
  const names = useStore((s) => s.result?.meta.pNames);
  const yNames = useStore((s) => s.result?.meta.yNames);
  const xAxis = useStore((s) => s.view.xAxis);
  const yAxis = useStore((s) => s.view.yAxis);
  if (!dims || !names || !yNames) return null;
  const fixed = fixedAxes(dims, xAxis, yAxis);
  return (
    <div className="controls" data-testid="heatmap-controls">
      <AxisPicker which="x" dims={dims} />
      <AxisPicker which="y" dims={dims} />
      {fixed.map((a) => (
        <FixedAxis key={a} axis={a} dims={dims} names={{ y: yNames, p: names }} />
      ))}
      <ScaleControl />
      {B > 1 && <CompareControl B={B} />}
      <div className="hint">
        {fixed[0] && (
          <>
            ←/→ {fixed[0]}
            {fixed[1] ? `, ↑/↓ ${fixed[1]}` : ''} (Shift ×10)
          </>
        )}
      </div>
    </div>
  );
}
