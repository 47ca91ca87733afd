/**
 * Where a graph (TorchScript) model's batch computes for the backend choice, as the engine picks for
 * fno1d-scalar (backends/select.ts) and the CLI for graph models (cli/graph-gpu.ts):
 *  - `cpu`: the graph engine on the CPU, float64;
 *  - `auto`: WebGPU on a hardware adapter (checked against the CPU per input shapes); the CPU without one, and
 *    with a note on a software adapter (SwiftShader and the like run slower than the CPU backend);
 *  - `webgpu`: WebGPU on any adapter; an error when there is none (the previous result stays).
 * Either way a model that does not lower for the batch's shapes computes on the CPU with a note naming the op
 * (graph-gpu-backend.ts).
 */
import { WebGpuContext, describeAdapter, errText } from '../../engine/backends/webgpu/context';
import { BackendError } from './engine-contract';
import type { GraphBackend } from './engine-contract';
import { evaluateOnCpu, inputsFor, type CpuGraph } from './graph-cpu';
import { GpuGraphBackend } from './graph-gpu-backend';
import type { BackendWant } from './protocol';

/** The graph engine on the CPU; `note`: why not WebGPU, when it was wanted or tried. */
export function cpuGraphBackend(cpu: CpuGraph, note?: string): GraphBackend {
  return {
    evaluate: (roles, x, p, hooks) =>
      evaluateOnCpu(cpu, inputsFor(roles, x, p.data, p.shape[0]), roles.wrt, hooks, note),
    batch: (roles) => cpu.batch(roles),
    dispose: () => cpu.dispose(),
  };
}

/** `gpu`: `navigator.gpu` where the worker runs (null where there is none, and in the Node tests unless given). */
export async function selectGraphBackend(
  cpu: CpuGraph,
  want: BackendWant,
  gpu: GPU | null,
): Promise<GraphBackend> {
  if (want === 'cpu') return cpuGraphBackend(cpu);
  const explicit = want === 'webgpu';
  // No WebGPU, or no adapter: auto computes on the CPU as it always could; WebGPU chosen says why not.
  const without = (reason: string, note?: string) => {
    if (explicit) throw new BackendError(`${reason}; choose auto or CPU in the model panel`);
    return cpuGraphBackend(cpu, note);
  };
  if (!gpu) return without('WebGPU is not available here (no navigator.gpu)');
  let ctx: WebGpuContext | null;
  try {
    ctx = await WebGpuContext.create(gpu);
  } catch (e) {
    return without(errText(e), errText(e));
  }
  if (!ctx) return without('WebGPU is available but offers no adapter (no usable GPU or driver)');
  if (!explicit && ctx.adapter.software) {
    ctx.destroy();
    return cpuGraphBackend(
      cpu,
      `${describeAdapter(ctx.adapter)} is a software renderer, slower than the CPU backend; using the CPU (choose WebGPU to use it anyway)`,
    );
  }
  return new GpuGraphBackend(ctx, cpu, !explicit);
}
