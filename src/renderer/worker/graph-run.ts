/**
 * Running a graph model for the session: the batch on the model's backend (WebGPU in float32 or the graph engine
 * on the CPU in float64, graph-backend.ts), y's shape mapped onto the views' [B,T,O] layout, and what the model
 * panel says about the model and its arguments.
 */
import type { JArray } from '../lib/j-array';
import type { BackendUsed, GraphBackend, RunHooks } from './engine-contract';
import { rolesOf, xArgOf } from './fit';
import type { GraphLoaded, Part } from './fit';
import type { GraphInfo } from './protocol';

/** y and J of a batch, how they map onto [B,T,O] and [B,T,O,P], and what computed them. */
export interface Evaluation {
  y: Float64Array;
  J: JArray;
  T: number;
  O: number;
  yShape: number[];
  timeAxis: boolean;
  backend: BackendUsed;
  ms: number;
  setupMs?: number;
}

/**
 * y [B, …] as the views' [B,T,O] (the same values in the same order): [B,T,O] as it is; [B,O] and [B] with
 * T = 1 and no time axis; [B,T,d1,d2,…] with O = d1·d2·….
 */
export function viewDims(yShape: readonly number[]): { T: number; O: number; timeAxis: boolean } {
  const inner = yShape.slice(1);
  if (inner.length === 0) return { T: 1, O: 1, timeAxis: false };
  if (inner.length === 1) return { T: 1, O: inner[0], timeAxis: false };
  return { T: inner[0], O: inner.slice(1).reduce((a, b) => a * b, 1), timeAxis: true };
}

/** y and J of the batch on `backend` (cancellable); setupMs: how long setting the backend up took, if it was. */
export async function evaluateGraph(
  m: GraphLoaded,
  x: Part | undefined,
  p: Part,
  backend: GraphBackend,
  hooks: RunHooks,
  setupMs?: number,
): Promise<Evaluation> {
  const t0 = performance.now();
  const roles = rolesOf(m, x?.tensor);
  const r = await backend.evaluate(roles, roles.xArg && x ? x.tensor.data : null, p.tensor, hooks);
  const ms = performance.now() - t0;
  return { y: r.y, J: r.J, yShape: r.yShape, ...viewDims(r.yShape), backend: r.backend, ms, setupMs };
}

/** The model panel's picture of a graph model: its arguments with the shapes fed to them, ops, parameters. */
export function graphInfo(m: GraphLoaded, x: Part | undefined, p: Part, yShape: number[]): GraphInfo {
  const g = m.graph;
  const xArg = xArgOf(m);
  return {
    kind: g.kind,
    kindReason: g.kindReason,
    rootType: g.rootType,
    args: g.args.map((a) =>
      a.name === m.wrt
        ? { ...a, role: 'p' as const, shape: p.tensor.shape.slice() }
        : a.name === xArg && x
          ? { ...a, role: 'x' as const, shape: x.tensor.shape.slice() }
          : { ...a },
    ),
    returns: g.returns,
    tensorArgs: g.tensorArgs.slice(),
    wrt: m.wrt,
    yShape: yShape.slice(),
    ops: g.ops.map((o) => ({ ...o })),
    parameters: { ...g.parameters },
    buffers: { ...g.buffers },
    modules: g.modules,
  };
}

/** Notes on data that fits: samples holding NaN or Inf (their J is not finite). */
export function nonFiniteNotes(x: Part | undefined, p: Part, B: number): string[] {
  const bad = new Set<number>();
  for (const part of [x, p]) {
    if (!part || B < 1) continue;
    const d = part.tensor.data;
    const per = d.length / B;
    for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) bad.add(Math.floor(i / per));
  }
  if (bad.size === 0) return [];
  const list = [...bad].sort((a, b) => a - b);
  const shown = list.slice(0, 10).join(', ') + (list.length > 10 ? ', …' : '');
  return [`${bad.size} sample(s) hold NaN or Inf (b = ${shown}); their J is not finite`];
}
