/**
 * WebGPU for the models the graph engine runs from their own code (TorchScript): the device a run
 * uses, found as for fno1d-scalar (backend.ts: no Dawn in this process unless a probe found an
 * adapter worth using), and the run itself through the graph runner, which lowers the model first.
 * A model that does not lower (an op with no GPU kernel, control flow on data) runs on the CPU
 * after one note naming the op.
 */
import type { BackendChoice } from '../engine/backends/backend';
import { WebGpuContext } from '../engine/backends/webgpu/context';
import { WebGpuGraphRunner, type GraphRunResult } from '../engine/backends/webgpu/graph-runner';
import { LoadError } from '../engine/errors';
import type { GraphModel, InputArray } from '../engine/models/graph-model';
import { findGpu, loadNodeGpu } from './webgpu-node';

/** The device for a graph run: null for the CPU (`cpu`, or `auto` without a hardware adapter). */
export async function graphGpu(want: BackendChoice): Promise<WebGpuContext | null> {
  if (want === 'cpu') return null;
  const refuse = (reason: string) => {
    if (want === 'webgpu') throw new LoadError('--backend webgpu', `WebGPU is not available: ${reason}`);
    return null;
  };
  const found = await findGpu(want);
  if (!found.use) return refuse(found.reason ?? 'no adapter');
  const { gpu, reason } = await loadNodeGpu();
  if (!gpu) return refuse(reason ?? 'no WebGPU module');
  const ctx = await WebGpuContext.create(gpu);
  if (!ctx) return refuse('Dawn offers no adapter');
  if (want === 'auto' && ctx.adapter.software) {
    ctx.destroy();
    return null;
  }
  return ctx;
}

export interface GraphGpuRun {
  readonly inputs: ReadonlyMap<string, InputArray>;
  readonly wrt: string;
  readonly output?: number;
  readonly what: 'forward' | 'jacobian';
  readonly dtype: 'float32' | 'float64';
  onProgress?(done: number, total: number): void;
}

/**
 * The run on `ctx`, or null when the model does not lower (`note` says why, naming the op). The
 * results come in the output's dtype.
 */
export async function runGraphOnGpu(
  ctx: WebGpuContext,
  model: GraphModel,
  run: GraphGpuRun,
  note: (line: string) => void,
): Promise<GraphRunResult | null> {
  const runner = new WebGpuGraphRunner(ctx, model);
  try {
    const shapes = new Map([...run.inputs].map(([k, v]) => [k, v.shape.slice(1)]));
    const lowered = runner.lowerFor(shapes, run.wrt, run.what, run.output);
    if (!lowered.ok) {
      note(`note: WebGPU cannot run this model (${lowered.reason}); computing on the CPU`);
      return null;
    }
    const B = run.inputs.get(run.wrt)!.shape[0];
    const per = lowered.lowered.yShape.reduce((a, b) => a * b, 1);
    const Out = run.dtype === 'float32' ? Float32Array : Float64Array;
    const y = new Out(B * per);
    const J = run.what === 'jacobian' ? new Out(B * per * lowered.lowered.P) : undefined;
    return await runner.run({
      inputs: run.inputs,
      wrt: run.wrt,
      output: run.output,
      mode: run.what,
      out: { y, J },
      onProgress: run.onProgress,
    });
  } finally {
    runner.dispose();
  }
}
