/**
 * Whether J for every sample fits the memory budget, and, when it does not, sample mode's first evaluation:
 * the model on the CPU in float64 behind a SampleSource (one sample's y and J at a time), sample 0 computed.
 * The size of one sample's y is known from the model's configuration (fno1d-scalar) or from running sample 0
 * (a graph model, whose output shape only its code knows).
 */
import { jBytes, isOutOfMemory, outOfMemoryText } from '../lib/memory-budget';
import type { JMemory } from '../lib/memory-budget';
import type { EngineModel } from './engine-contract';
import { rolesOf } from './fit';
import type { Combination } from './fit';
import { viewDims } from './graph-run';
import type { Evaluation } from './graph-run';
import type { BackendWant } from './protocol';
import { SampleSource } from './sample-source';
import { memoryRows } from './x-rows';
import type { XRows } from './x-rows';

export const SAMPLE_MODE_BACKEND = 'CPU (float64), one sample at a time';

export interface MemoryPlan {
  memory: JMemory;
  /** Sample mode: the source and sample 0's evaluation. */
  sample?: { source: SampleSource; ev: Evaluation };
}

/** x of a combination by sample: read from disk as needed (opened lazily) or held; none when forward takes p alone. */
export function xRowsOf(c: Combination): XRows {
  const [B] = c.p.tensor.shape;
  const t = c.x?.tensor;
  if (c.model.kind === 'graph' && !rolesOf(c.model, t).xArg) return memoryRows(new Float64Array(0), B);
  return t?.rows ?? memoryRows(t?.data ?? new Float64Array(0), B);
}

/** The model and x of a combination, as the explore tools see them. */
function netOf(c: Combination): { net: EngineModel; x: XRows } {
  const x = xRowsOf(c);
  if (c.model.kind === 'graph') return { net: c.model.graph.engineModel(rolesOf(c.model, c.x?.tensor)), x };
  return { net: c.model.net, x };
}

export async function planMemory(
  c: Combination,
  budgetBytes: number,
  want: BackendWant,
): Promise<MemoryPlan> {
  const [B, P] = c.p.tensor.shape;
  let T: number;
  let O: number;
  let yInner: number[];
  let timeAxis: boolean;
  if (c.model.kind === 'graph') {
    const roles = rolesOf(c.model, c.x?.tensor);
    const rows = xRowsOf(c);
    await rows.ensure(0, Math.min(1, B));
    const x0 = roles.xArg && rows.per > 0 ? rows.get(0, Math.min(1, B)) : null;
    const one = { dtype: c.p.tensor.dtype, shape: [1, P], data: c.p.tensor.data.subarray(0, P) };
    const r = await c.model.graph.evaluate(roles, x0, one, {});
    ({ T, O, timeAxis } = viewDims(r.yShape));
    yInner = r.yShape.slice(1);
  } else {
    T = c.x!.tensor.shape[1];
    O = Number(c.model.rec.config.out_dim_func);
    yInner = [T, O];
    timeAxis = true;
  }
  // Float64 for either model and backend, as fno1d-scalar always planned: the plan is made before the backend
  // is known, and WebGPU's float32 J (half of it) only ever errs on the side of memory left over.
  const bytes = jBytes(B, T, O, P);
  // x read from disk as needed is never whole in memory: J then is per sample too, whatever its size.
  const lazyX = !!c.x?.tensor.rows;
  if (bytes <= budgetBytes && !lazyX) return { memory: { mode: 'whole', jBytes: bytes, budgetBytes } };

  const t0 = performance.now();
  const { net, x } = netOf(c);
  const source = new SampleSource(net, x, c.p.tensor.data, { B, T, O, P });
  let first;
  try {
    await source.ensure(0, 1);
    first = source.block(0);
  } catch (e) {
    if (isOutOfMemory(e)) throw new Error(outOfMemoryText('J of one sample', T * O * P * 8));
    throw e;
  }
  // Sample mode computes on the CPU whatever the model (fno1d-scalar or graph) and the choice: said unless chosen.
  const note =
    want === 'cpu'
      ? undefined
      : lazyX
        ? 'x is read from disk as needed: J is computed one sample at a time on the CPU in float64'
        : 'J over the memory budget is computed one sample at a time on the CPU in float64';
  return {
    memory: lazyX
      ? { mode: 'sample', jBytes: bytes, budgetBytes, lazyX }
      : { mode: 'sample', jBytes: bytes, budgetBytes },
    sample: {
      source,
      ev: {
        y: first.y,
        J: first.J,
        T,
        O,
        yShape: [B, ...yInner],
        timeAxis,
        backend: { description: SAMPLE_MODE_BACKEND, kind: 'cpu', note },
        ms: performance.now() - t0,
      },
    },
  };
}
