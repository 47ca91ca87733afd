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
import { sizeOf } from '../engine/tensor';
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

/** A run's fixed choices: the inputs' per-sample shapes, p, the output, and what to compute. */
export interface GraphGpuPlan {
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly wrt: string;
  readonly output?: number;
  readonly what: 'forward' | 'jacobian';
}

/** A graph model lowered once for a run's shapes, then run on as many batches as it takes. */
export interface GraphGpuRunner {
  /** y (and J) of `inputs`' samples, in the output's dtype. */
  run(
    inputs: ReadonlyMap<string, InputArray>,
    dtype: 'float32' | 'float64',
    onProgress?: (done: number, total: number) => void,
  ): Promise<GraphRunResult>;
  dispose(): void;
}

/** The model on `ctx` for `plan`, or null when it does not lower (`note` says why, naming the op). */
export function graphGpuRunner(
  ctx: WebGpuContext,
  model: GraphModel,
  plan: GraphGpuPlan,
  note: (line: string) => void,
): GraphGpuRunner | null {
  const runner = new WebGpuGraphRunner(ctx, model);
  const shapes = new Map([...plan.shapes].map(([k, v]) => [k, [...v]]));
  const lowered = runner.lowerFor(shapes, plan.wrt, plan.what, plan.output);
  if (!lowered.ok) {
    runner.dispose();
    note(`note: WebGPU cannot run this model (${lowered.reason}); computing on the CPU`);
    return null;
  }
  const per = sizeOf(lowered.lowered.yShape);
  return {
    run(inputs, dtype, onProgress) {
      const B = inputs.get(plan.wrt)!.shape[0];
      const Out = dtype === 'float32' ? Float32Array : Float64Array;
      const y = new Out(B * per);
      const J = plan.what === 'jacobian' ? new Out(B * per * lowered.lowered.P) : undefined;
      return runner.run({
        inputs,
        wrt: plan.wrt,
        output: plan.output,
        mode: plan.what,
        out: { y, J },
        onProgress,
      });
    },
    dispose: () => runner.dispose(),
  };
}
