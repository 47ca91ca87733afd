/**
 * What model is loaded: architecture, hyperparameters (given / inferred / assumed), parameter counts; for a
 * TorchScript model its code's description (graph-model-info.tsx). Then where it computed.
 */
import { formatCount, formatMs } from '../lib/format';
import { GraphModelInfo } from './graph-model-info';
import { useStore } from '../store';
import { chooseBackend } from '../store/actions';
import { BACKEND_WANTS } from '../worker/protocol';
import type { BackendWant, HyperKey } from '../worker/protocol';

const BACKEND_LABELS: Record<BackendWant, string> = {
  auto: 'auto (GPU if there)',
  cpu: 'CPU (float64)',
  webgpu: 'WebGPU (float32)',
};

/** The backend choice, what computed the shown result, how long it took, and why WebGPU was not used. */
function BackendInfo() {
  const choice = useStore((s) => s.backendChoice);
  const error = useStore((s) => s.backendError);
  const meta = useStore((s) => s.result?.meta);
  const busy = useStore((s) => s.job !== null);
  return (
    <>
      <div className="kv">
        <span>compute on</span>
        <select
          className="backend-choice"
          data-testid="backend-choice"
          value={choice}
          disabled={busy}
          onChange={(e) => chooseBackend(e.target.value as BackendWant)}
        >
          {BACKEND_WANTS.map((w) => (
            <option key={w} value={w}>
              {BACKEND_LABELS[w]}
            </option>
          ))}
        </select>
        {meta && (
          <>
            <span>computed on</span>
            <span data-testid="backend" data-kind={meta.backendKind} title={meta.backend}>
              {meta.backend}
            </span>
            <span>time</span>
            <span data-testid="compute-time">
              {formatMs(meta.ms)}
              {meta.setupMs !== undefined && meta.setupMs >= 1 ? ` (+ ${formatMs(meta.setupMs)} set-up)` : ''}
            </span>
          </>
        )}
      </div>
      {meta?.backendNote && (
        <p className="note" data-testid="backend-note">
          {meta.backendKind === 'cpu' && !meta.backendNote.startsWith('WebGPU') ? 'Not on WebGPU: ' : ''}
          {meta.backendNote}
        </p>
      )}
      {error && (
        <p className="note error" data-testid="backend-error">
          {BACKEND_LABELS[choice]} could not be used: {error}
          {/[.!?]$/.test(error) ? '' : '.'}
          {meta ? ` The result shown was computed on ${meta.backend}.` : ''}
        </p>
      )}
    </>
  );
}

const KEYS: { key: HyperKey; label: string }[] = [
  { key: 'inp_dim_func', label: 'Xf (inp_dim_func)' },
  { key: 'inp_dim_scalar', label: 'P (inp_dim_scalar)' },
  { key: 'out_dim_func', label: 'O (out_dim_func)' },
  { key: 'modes', label: 'modes' },
  { key: 'width', label: 'width' },
  { key: 'hidden', label: 'hidden' },
  { key: 'layers', label: 'layers' },
  { key: 'activation', label: 'activation' },
];

export function ModelPanel() {
  const model = useStore((s) => s.model);
  if (!model) return <section className="panel">No model yet.</section>;
  const assumed = KEYS.filter((k) => model.origin[k.key] === 'assumed');
  const head = (
    <div className="kv">
      <span>file</span>
      <strong data-testid="model-file" title={model.file}>
        {model.file}
      </strong>
      <span>format</span>
      <span>{model.format}</span>
      <span>architecture</span>
      <span data-testid="architecture">{model.architecture}</span>
    </div>
  );
  if (model.graph)
    return (
      <section className="panel" data-testid="model-panel">
        <h2>Model</h2>
        {head}
        <GraphModelInfo g={model.graph} />
        {model.notes.map((n) => (
          <p className="note" key={n}>
            {n}
          </p>
        ))}
        <BackendInfo />
      </section>
    );
  return (
    <section className="panel" data-testid="model-panel">
      <h2>Model</h2>
      {head}
      <table className="hyper">
        <tbody>
          {KEYS.map(({ key, label }) => (
            <tr key={key}>
              <td>{label}</td>
              <td className="num">{String(model.config[key])}</td>
              <td className={`origin ${model.origin[key] ?? ''}`}>{model.origin[key] ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {assumed.length > 0 && (
        <p className="note">
          Assumed {assumed.map((k) => `${k.key} = ${String(model.config[k.key])}`).join(', ')}: the weights do
          not say; a config.json dropped with the model overrides it.
        </p>
      )}
      {model.configFile && <p className="note">Configuration from {model.configFile}.</p>}
      <div className="kv">
        <span>parameters</span>
        <span data-testid="param-count">
          {formatCount(model.params.real)} real + {formatCount(model.params.complex)} complex
        </span>
        <span>tensors</span>
        <span>{model.tensorCount}</span>
      </div>
      <BackendInfo />
    </section>
  );
}
