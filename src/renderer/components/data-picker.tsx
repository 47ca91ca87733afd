/**
 * The variable picker: a data file holds several candidate arrays and their names do not say which are x and
 * p. A tree of the file's variables (groups, struct fields, dict keys) with shapes and dtypes; the user chooses
 * x and p (either may come from another file), and the choice is remembered for files of that name.
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import { shapeText } from '../lib/format';
import { answerPick } from '../store/actions';
import { closePicker, rememberChoice, usePicker } from '../store/data-picker';
import { choiceProblem, selectable, xIsOneFeature } from '../worker/data-choice';
import type { PickRequest, PickVariable, VarChoice } from '../worker/protocol';
import './data-picker.css';

interface Row {
  key: string;
  depth: number;
  label: string;
  /** Set for a variable; a group row has none. */
  v?: PickVariable;
}

/** The variables as tree rows: groups (HDF5 groups, structs, dicts) before their members, in file order. */
export function treeRows(vars: readonly PickVariable[], separator: PickRequest['separator']): Row[] {
  const rows: Row[] = [];
  const groups = new Set<string>();
  for (const v of vars) {
    const parts = separator ? v.name.split(separator).filter((s) => s !== '') : [v.name];
    if (parts.length === 0) parts.push(v.name === '' ? '(the array)' : v.name);
    for (let d = 0; d < parts.length - 1; d++) {
      const key = parts.slice(0, d + 1).join(separator);
      if (groups.has(key)) continue;
      groups.add(key);
      rows.push({ key: `g:${key}`, depth: d, label: `${parts[d]}${separator}` });
    }
    rows.push({ key: `v:${v.name}`, depth: parts.length - 1, label: parts[parts.length - 1], v });
  }
  return rows;
}

function hint(vars: PickVariable[], choice: VarChoice): string | null {
  const x = vars.find((v) => v.name === choice.x);
  if (!x || x.shape.length !== 2) return null;
  const [a, b] = x.shape;
  return xIsOneFeature(vars, choice, undefined)
    ? `x ${shapeText(x.shape)} is 2-D: read as x [${a},${b},1], ${a} samples of ${b} time steps with one function input each (Xf = 1).`
    : `x ${shapeText(x.shape)} is 2-D: read as one sample x [1,${a},${b}] (T = ${a}, Xf = ${b}); choose a p with ${a} rows to read it as ${a} samples with Xf = 1.`;
}

function Radio(props: {
  role: 'x' | 'p';
  name: string;
  label: string;
  checked: boolean;
  onPick: () => void;
}) {
  return (
    <input
      type="radio"
      name={`pick-${props.role}`}
      checked={props.checked}
      onChange={props.onPick}
      aria-label={`${props.role} = ${props.label}`}
      data-testid={`pick-${props.role}:${props.name}`}
    />
  );
}

function Picker({ request }: { request: PickRequest }) {
  const [choice, setChoice] = useState<VarChoice>(request.suggested);
  const dialogRef = useRef<HTMLDivElement>(null);
  const rows = useMemo(() => treeRows(request.variables, request.separator), [request]);
  useEffect(() => {
    setChoice(request.suggested);
    dialogRef.current?.querySelector<HTMLInputElement>('input:checked, input')?.focus();
  }, [request]);
  const problem = choiceProblem(request.variables, choice);
  const note = hint(request.variables, choice);
  const set = (role: 'x' | 'p', name: string | undefined) =>
    setChoice((c) => {
      const next = { ...c };
      if (name === undefined) delete next[role];
      else next[role] = name;
      return next;
    });
  const finish = (answer: VarChoice | null) => {
    if (answer) rememberChoice(request.file, answer);
    closePicker();
    answerPick(request.pickId, request.file, answer);
  };
  const titleId = `picker-title-${request.pickId}`;
  return (
    <div className="picker-backdrop">
      <div
        className="picker"
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid="data-picker"
        ref={dialogRef}
        onKeyDown={(e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            finish(null);
          }
        }}
      >
        <h2 id={titleId}>
          Choose x and p in <span className="picker-file">{request.file}</span>
        </h2>
        <p className="muted" data-testid="picker-format">
          {request.format} · {request.reason}
        </p>
        <div className="picker-scroll">
          <table className="var-tree" data-testid="picker-tree">
            <thead>
              <tr>
                <th scope="col">variable</th>
                <th scope="col">shape</th>
                <th scope="col">dtype</th>
                <th scope="col">x</th>
                <th scope="col">p</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) =>
                r.v ? (
                  <tr
                    key={r.key}
                    className={selectable(r.v) ? 'var' : 'var off'}
                    data-testid="picker-row"
                    data-name={r.v.name}
                  >
                    <td style={{ paddingLeft: 8 + 16 * r.depth }} title={r.v.name}>
                      {r.label}
                    </td>
                    <td className="shape">{shapeText(r.v.shape)}</td>
                    <td>{r.v.dtype ?? <span className="muted">{r.v.note ?? 'not numeric'}</span>}</td>
                    {(['x', 'p'] as const).map((role) => (
                      <td key={role} className="pick">
                        {selectable(r.v!) && (
                          <Radio
                            role={role}
                            name={r.v!.name}
                            label={r.v!.name}
                            checked={choice[role] === r.v!.name}
                            onPick={() => set(role, r.v!.name)}
                          />
                        )}
                      </td>
                    ))}
                  </tr>
                ) : (
                  <tr key={r.key} className="group">
                    <td colSpan={5} style={{ paddingLeft: 8 + 16 * r.depth }}>
                      {r.label}
                    </td>
                  </tr>
                ),
              )}
              <tr className="none">
                <td colSpan={3} className="muted">
                  none: from another file
                </td>
                {(['x', 'p'] as const).map((role) => (
                  <td key={role} className="pick">
                    <Radio
                      role={role}
                      name=""
                      label="none"
                      checked={choice[role] === undefined}
                      onPick={() => set(role, undefined)}
                    />
                  </td>
                ))}
              </tr>
            </tbody>
          </table>
        </div>
        {note && (
          <p className="note" data-testid="picker-hint">
            {note}
          </p>
        )}
        {problem && (
          <p className="picker-problem" role="status">
            {problem}
          </p>
        )}
        <p className="muted picker-remember">The choice is remembered for files named {request.file}.</p>
        <div className="picker-actions">
          <button type="button" data-testid="pick-cancel" onClick={() => finish(null)}>
            Leave this file out
          </button>
          <button
            type="button"
            className="primary"
            data-testid="pick-load"
            disabled={problem !== null}
            onClick={() => finish(choice)}
          >
            Load
          </button>
        </div>
      </div>
    </div>
  );
}

export function DataPicker() {
  const request = usePicker((s) => s.request);
  return request ? <Picker key={request.pickId} request={request} /> : null;
}
