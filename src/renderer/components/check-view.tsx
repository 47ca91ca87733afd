/**
 * "Check derivatives": J of the current sample against float64 central finite differences of the model's own
 * forward pass in every direction, run in the worker; the largest relative error, a verdict that says plainly
 * whether it passes, and where the error sits (O×P).
 */
import { useMemo } from 'react';
import { exact, formatMs } from '../lib/format';
import { useStore } from '../store';
import { runCheck } from '../store/explore-actions';
import { GridView } from './grid-view';
import type { GridSpec } from './grid-view';

/**
 * What "agrees" means. A float64 J against Richardson-extrapolated differences lands near 1e-11;
 * a float32 J (WebGPU) carries float32 rounding, a few 1e-7 on the fixtures, so it is held to 1e-4,
 * still far below what a wrong derivative gives.
 */
export const CHECK_TOLERANCE = { float64: 1e-6, float32: 1e-4 } as const;

export function CheckView() {
  const check = useStore((s) => s.check);
  const meta = useStore((s) => s.result?.meta);
  const b = useStore((s) => s.view.fixed.b);
  const whatIfHere = useStore((s) => s.whatIf?.b === s.view.fixed.b && !s.view.compare.on);
  const r = check.result && check.result.seq === meta?.seq ? check.result : null;
  // The loaded J's precision until a check has run, then the checked J's (a what-if J is float64).
  const loaded = useStore((s) => (s.result?.J instanceof Float32Array ? 'float32' : 'float64'));
  const precision = r?.precision ?? (whatIfHere ? 'float64' : loaded);
  const tol = CHECK_TOLERANCE[precision];

  const spec = useMemo<GridSpec | null>(() => {
    if (!r || !meta) return null;
    const { O, P, yNames, pNames } = meta;
    // log10 of the relative error: the interesting range spans many decades. Exact zeros show grey.
    const data = new Float64Array(O * P);
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < data.length; i++) {
      const v = r.errorMap[i] > 0 ? Math.log10(r.errorMap[i]) : NaN;
      data[i] = v;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!Number.isFinite(lo)) [lo, hi] = [-16, -15];
    const names = (list: string[]) => ({
      tick: (i: number) => list[i] ?? String(i),
      widest: (ctx: CanvasRenderingContext2D) =>
        Math.max(0, ...list.slice(0, 200).map((n) => ctx.measureText(n).width)),
    });
    return {
      data,
      nx: P,
      ny: O,
      x: { label: 'k (parameter)', ...names(pNames) },
      y: { label: 'o (output)', ...names(yNames) },
      colour: { kind: 'sequential', lo, hi: hi > lo ? hi : lo + 1 },
      legendLabel: 'log₁₀ error',
      title: 'relative error: max over t of |J − FD| / max|FD|',
      scaleNote: 'log10',
    };
  }, [r, meta]);

  if (!meta) return null;
  const ok = r ? r.maxRelError <= tol : false;
  const { yNames, pNames, B } = meta;
  return (
    <section className="card check-view" data-testid="check-view">
      <h2>Check derivatives</h2>
      <p className="note">
        Compares J of the current sample{B > 1 ? ` (b=${b})` : ''}
        {whatIfHere ? ', at its what-if values,' : ''} with float64 central finite differences of the model’s
        own forward pass, in all {meta.P} parameter directions. Passes when the largest relative error (over
        every t, o, k, relative to the largest derivative) is at most {tol.toExponential(0)}
        {precision === 'float32' ? ' (J was computed in float32 on WebGPU; a float64 J is held to 1e-6)' : ''}
        .
      </p>
      <div className="controls">
        <button
          type="button"
          data-testid="check-run"
          disabled={check.status === 'running'}
          onClick={runCheck}
        >
          Check derivatives
        </button>
        {check.status === 'running' && <span className="muted">computing finite differences…</span>}
        {check.status === 'failed' && <span className="msg error">{check.message}</span>}
      </div>
      {r && (
        <div className="check-result">
          <div
            className={`verdict ${ok ? 'ok' : 'bad'}`}
            data-testid="check-verdict"
            data-ok={ok ? 'yes' : 'no'}
          >
            <span className="verdict-mark">{ok ? '✓' : '✗'}</span>
            <div>
              <div>
                largest relative error{' '}
                <strong data-testid="check-max-rel" data-value={String(r.maxRelError)}>
                  {r.maxRelError.toExponential(2)}
                </strong>{' '}
                {ok ? '≤' : '>'} {tol.toExponential(0)}
              </div>
              <div className="verdict-text">
                {ok
                  ? 'J agrees with finite differences of the forward pass.'
                  : `J does NOT agree with finite differences of the forward pass: the derivatives shown may be wrong${r.kinked ? ' (or a step crossed a kink of ReLU, abs, clamp…: check the largest cells)' : ''}.`}
              </div>
            </div>
          </div>
          <p className="note" data-testid="check-details">
            Sample b={r.b} at its {r.whatIf ? 'what-if' : 'loaded'} p;{' '}
            {r.kinked
              ? `one central difference with step ${r.h}·max(1,|p_k|) (the model has kinks — ReLU, abs, clamp… — that a larger step may cross)`
              : `Richardson-extrapolated central differences (4·D(h/2) − D(h))/3 with h = ${r.h}·max(1,|p_k|)`}
            ; {r.forwardRows} perturbed forward passes in one batch, {formatMs(r.ms)}.
          </p>
          {spec && (
            <GridView
              spec={spec}
              height={Math.min(380, 90 + 20 * meta.O)}
              maxWidth={Math.max(420, 160 + 40 * meta.P)}
              testId="check-canvas"
              describe={(k, o) =>
                `${yNames[o]} / ${pNames[k]}: relative error ${exact(r.errorMap[o * meta.P + k])}`
              }
              hint="Hover to read the error of one (o, k)."
            />
          )}
        </div>
      )}
    </section>
  );
}
