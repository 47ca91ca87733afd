/**
 * The model panel's part for a model that runs from its own code (a TorchScript archive): traced or scripted,
 * the forward signature with the shapes of the data fed to it, which argument is p (a choice when forward takes
 * more than one tensor), y's shape, the ops with their counts and the parameter counts.
 */
import { formatCount, shapeText } from '../lib/format';
import { useStore } from '../store';
import { chooseWrt } from '../store/actions';
import type { GraphInfo, TensorCount } from '../worker/protocol';

function countText(c: TensorCount): string {
  const parts = [`${formatCount(c.real)} real`];
  if (c.complex) parts.push(`${formatCount(c.complex)} complex`);
  return `${formatCount(c.real + c.complex)} in ${c.tensors} tensor${c.tensors === 1 ? '' : 's'} (${parts.join(', ')})`;
}

/** The tensor argument differentiated: a choice when there is more than one. */
function WrtChoice({ g }: { g: GraphInfo }) {
  const busy = useStore((s) => s.job !== null);
  if (g.tensorArgs.length < 2)
    return (
      <span data-testid="graph-wrt" data-wrt={g.wrt}>
        {g.wrt} (forward&apos;s only tensor argument)
      </span>
    );
  return (
    <select
      data-testid="graph-wrt"
      data-wrt={g.wrt}
      value={g.wrt}
      disabled={busy}
      title="the argument J differentiates with respect to: it takes the p data, the other tensor argument takes x"
      onChange={(e) => chooseWrt(e.target.value)}
    >
      {g.tensorArgs.map((a) => (
        <option key={a} value={a}>
          {a}
        </option>
      ))}
    </select>
  );
}

function Signature({ g }: { g: GraphInfo }) {
  return (
    <table className="signature" data-testid="graph-signature">
      <caption>forward(…) → {g.returns}</caption>
      <tbody>
        {g.args.map((a) => (
          <tr key={a.name} className={a.role ?? ''}>
            <td className="arg">{a.name}</td>
            <td className="type">
              {a.type}
              {a.default !== undefined ? ` = ${a.default}` : ''}
            </td>
            <td className="num">{a.shape ? shapeText(a.shape) : ''}</td>
            <td className="role">{a.role === 'p' ? '← p (∂)' : a.role === 'x' ? '← x' : ''}</td>
          </tr>
        ))}
        <tr className="y">
          <td className="arg">y</td>
          <td className="type">{/^Tuple|^List/.test(g.returns) ? 'first tensor' : 'Tensor'}</td>
          <td className="num" data-testid="graph-y-shape">
            {shapeText(g.yShape)}
          </td>
          <td className="role">→ y</td>
        </tr>
      </tbody>
    </table>
  );
}

function Ops({ g }: { g: GraphInfo }) {
  const calls = g.ops.reduce((n, o) => n + o.count, 0);
  return (
    <details className="ops" open data-testid="graph-ops">
      <summary>
        ops: {g.ops.length} kinds, {calls} calls in the code
      </summary>
      <p>
        {g.ops.map((o) => (
          <span className="op" key={o.op}>
            {o.op.replace(/^aten::/, '')}
            {o.count > 1 ? <span className="count">×{o.count}</span> : null}
          </span>
        ))}
      </p>
    </details>
  );
}

export function GraphModelInfo({ g }: { g: GraphInfo }) {
  const multi = g.tensorArgs.length > 1;
  return (
    <div className="graph-info" data-testid="graph-info" data-kind={g.kind}>
      <div className="kv">
        <span>code</span>
        <span data-testid="graph-kind" title={g.kindReason}>
          {g.kind === 'unknown'
            ? 'TorchScript'
            : g.kind === 'traced'
              ? 'traced (torch.jit.trace)'
              : 'scripted (torch.jit.script)'}
        </span>
        <span>p is</span>
        <WrtChoice g={g} />
      </div>
      <Signature g={g} />
      {multi && (
        <p className="note">
          J = ∂y/∂{g.wrt}: the p data goes to {g.wrt}, the x data to {g.tensorArgs.find((a) => a !== g.wrt)}.
        </p>
      )}
      {g.yShape.length < 3 && (
        <p className="note" data-testid="graph-no-time">
          y {shapeText(g.yShape)} has no time axis: the views show it as one step (T = 1).
        </p>
      )}
      <Ops g={g} />
      <div className="kv">
        <span>parameters</span>
        <span data-testid="param-count">{countText(g.parameters)}</span>
        {g.buffers.tensors > 0 && (
          <>
            <span>buffers</span>
            <span>{countText(g.buffers)}</span>
          </>
        )}
        <span>modules</span>
        <span>{g.modules}</span>
      </div>
    </div>
  );
}
