/**
 * A graph model's batch on the CPU: the engine's GraphModel in float64, one sample at a time. The inputs are
 * built here from the session's roles (p to the differentiated argument, x to the other), for the CPU and
 * WebGPU alike.
 */
import type { GraphModel, InputArray } from '../../engine';
import type { BackendUsed, GraphRoles, RunHooks } from './engine-contract';

export const GRAPH_CPU_DESCRIPTION = 'CPU (graph engine, float64)';

/** The model's inputs by argument name: p [B,P] and, when it takes one, x [B, ...xSample]. */
export function inputsFor(
  roles: GraphRoles,
  x: Float64Array | null,
  p: Float64Array,
  B: number,
): Map<string, InputArray> {
  const m = new Map<string, InputArray>();
  m.set(roles.wrt, { shape: [B, B > 0 ? p.length / B : 0], data: p });
  if (roles.xArg) m.set(roles.xArg, { shape: [B, ...roles.xSample], data: x ?? new Float64Array(0) });
  return m;
}

/** y and J of the batch on the CPU (cancellable between samples); `note` says why not WebGPU, if it was wanted. */
export async function evaluateOnCpu(
  model: GraphModel,
  inputs: ReadonlyMap<string, InputArray>,
  wrt: string,
  hooks: RunHooks,
  note?: string,
): Promise<{ y: Float64Array; yShape: number[]; J: Float64Array; backend: BackendUsed }> {
  const r = await model.evaluateAsync(inputs, { wrt, signal: hooks.signal, onProgress: hooks.onProgress });
  return {
    y: r.y,
    yShape: r.yShape,
    J: r.J!,
    backend: { description: GRAPH_CPU_DESCRIPTION, kind: 'cpu', note },
  };
}
