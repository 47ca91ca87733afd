/**
 * The lowering half of the test body every op goes through (jvp-check.ts): the op run under the
 * recorder, its outputs and their tangents copied out, and the tape run in float64 (run-tape.ts)
 * on the same values must give what the graph engine gives. An op that cannot be recorded says why
 * (the recorder's problem, naming the op); lowering-gaps.ts lists the ops allowed to.
 */
import { expect } from 'vitest';
import { callOp, tangentOf } from '../../../src/engine/graph/dispatch';
import { Recorder, withRecorder } from '../../../src/engine/graph/lower/record';
import { runTape } from '../../../src/engine/graph/lower/run-tape';
import type { RuleTable } from '../../../src/engine/graph/rule';
import { dense, tan } from '../../../src/engine/graph/tangent';
import { GTensor, contiguousStrides } from '../../../src/engine/graph/tensor';
import { NOT_LOWERED } from './lowering-gaps';
import type { Call } from './jvp-check';

function tensorsIn(v: unknown, out: GTensor[] = []): GTensor[] {
  if (v instanceof GTensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => tensorsIn(e, out));
  return out;
}

/** The parts of a tensor's values a tape holds: re, and im for complex ones. */
function parts(t: GTensor): Float64Array[] {
  return t.kind === 'complex' && t.im ? [t.re, t.im] : [t.re];
}

/**
 * Record `op` on fresh arguments with tangents `dirs` (per argument tensor, in order; null: none)
 * and check the tape against the engine; or check that the op is listed as not lowering.
 */
export function checkLowering(
  table: RuleTable,
  op: string,
  build: () => Call,
  dirs: readonly (GTensor | null)[],
  P: number,
): void {
  const ctx = { P };
  const c = build();
  const ins = tensorsIn([c.args, Object.values(c.kwargs ?? {})]);
  ins.forEach((t, i) => {
    if (dirs[i]) t.tan = tan(dirs[i]!);
  });
  const rec = new Recorder();
  const values = new Map<string, Float64Array>();
  const declared = new Set<Float64Array>();
  const declare = (arr: Float64Array, name: string) => {
    if (declared.has(arr)) return;
    declared.add(arr);
    rec.input(arr, { k: 'input', name });
    values.set(name, Float64Array.from(arr));
  };
  ins.forEach((t, i) => {
    parts(t).forEach((a, k) => declare(a, `x${i}.${k}`));
    if (dirs[i]) parts(dirs[i]!).forEach((a, k) => declare(a, `t${i}.${k}`));
  });
  const engine: Float64Array[] = [];
  const tape = withRecorder(rec, () => {
    const outs = tensorsIn(callOp(table, op, c.args, c.kwargs ?? {}, ctx, true));
    rec.op = '(output)';
    const vals: GTensor[] = [];
    for (const o of outs) {
      vals.push(o);
      const t = tangentOf(o);
      if (t) vals.push(dense(t));
    }
    const total = vals.reduce((a, v) => a + parts(v).length * v.numel, 0);
    const y = rec.output(total, 'y');
    let at = 0;
    for (const v of vals)
      for (const arr of parts(v)) {
        rec.copyOut(
          v.shape,
          { arr, strides: v.strides, offset: v.offset },
          y,
          contiguousStrides(v.shape),
          at,
        );
        const copy = new Float64Array(v.numel);
        let k = 0;
        // the engine's values in row-major order
        const idx = new Array<number>(v.rank).fill(0);
        for (let e = 0; e < v.numel; e++) {
          let off = v.offset;
          for (let d = 0; d < v.rank; d++) off += idx[d] * v.strides[d];
          copy[k++] = arr[off];
          for (let d = v.rank - 1; d >= 0; d--)
            if (++idx[d] < v.shape[d]) break;
            else idx[d] = 0;
        }
        engine.push(copy);
        at += v.numel;
      }
    return rec.tape(y, null);
  });
  const gap = NOT_LOWERED.get(op);
  if (rec.problem !== null) {
    expect(
      gap,
      `${op} does not lower (${rec.problem}); lower it or list it in lowering-gaps.ts`,
    ).toBeDefined();
    return;
  }
  expect(gap, `${op} lowers now: remove it from lowering-gaps.ts`).toBeUndefined();
  const got = runTape(tape, { inputs: values, n: 1, P }).y;
  const want = new Float64Array(got.length);
  let at = 0;
  for (const e of engine) {
    want.set(e, at);
    at += e.length;
  }
  let err = 0;
  let ref = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i]) && Number.isNaN(got[i])) continue;
    err = Math.max(err, Math.abs(want[i] - got[i]));
    ref = Math.max(ref, Math.abs(want[i]));
  }
  expect(err / (ref || 1), `${op}: its tape vs the graph engine`).toBeLessThan(1e-12);
}
