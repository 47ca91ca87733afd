/**
 * A graph model's batch on WebGPU: the engine's graph runner lowers the model to a tape per input shapes (kept
 * for the next batch of the same shapes) and runs it in float32, chunked, with progress and cancel. The CPU
 * takes over, saying why in the note, when
 *  - the model does not lower for these shapes (an op with no GPU kernel, control flow on data): this batch;
 *  - on `auto`, the first run of these shapes disagrees with the CPU (selfCheckProblem): these shapes;
 *  - WebGPU fails at run time (device lost, out of memory): the model, from then on, as FallbackBackend does
 *    for fno1d-scalar in the engine.
 */
import { CancelledError, ShapeError, WebGpuGraphRunner } from '../../engine';
import type { InputArray } from '../../engine';
import { errText, type WebGpuContext } from '../../engine/backends/webgpu/context';
import type { BackendUsed, GraphBackend, GraphRoles, RunHooks, Tensor } from './engine-contract';
import { evaluateOnCpu, inputsFor, type CpuGraph } from './graph-cpu';
import { selfCheckProblem } from '../../engine/backends/self-check';

/** Samples of the batch the self-check runs on both. */
const CHECK_SAMPLES = 2;

export class GpuGraphBackend implements GraphBackend {
  private runner: WebGpuGraphRunner | null;
  /** Set once WebGPU failed at run time: why; the CPU computes from then on. */
  private failed: string | undefined;
  /** The self-check's verdict by input shapes: undefined when WebGPU agreed with the CPU. */
  private readonly checked = new Map<string, string | undefined>();

  /** `verify`: check each new input shape against the CPU before trusting the adapter (auto). */
  constructor(
    private readonly ctx: WebGpuContext,
    private readonly cpu: CpuGraph,
    private readonly verify: boolean,
  ) {
    this.runner = new WebGpuGraphRunner(ctx, cpu.model);
  }

  async evaluate(roles: GraphRoles, x: Float64Array | null, p: Tensor, hooks: RunHooks) {
    const inputs = inputsFor(roles, x, p.data, p.shape[0]);
    const onCpu = (note: string) => evaluateOnCpu(this.cpu, inputs, roles.wrt, hooks, note);
    const runner = this.runner;
    if (!runner) return onCpu(this.failed!);
    try {
      const shapes = new Map([...inputs].map(([k, v]) => [k, v.shape.slice(1)]));
      const lowering = await runner.lowerForAsync(shapes, roles.wrt, 'jacobian', undefined, hooks.signal);
      if (!lowering.ok)
        return onCpu(`WebGPU cannot run this model (${lowering.reason}); computing on the CPU`);
      if (this.verify) {
        const problem = await this.check(
          runner,
          inputs,
          roles.wrt,
          JSON.stringify([roles.wrt, [...shapes]]),
          hooks,
        );
        if (problem) return onCpu(`${this.ctx.description}: ${problem}; computing on the CPU`);
      }
      const B = p.shape[0];
      const perY = lowering.lowered.yShape.reduce((a, b) => a * b, 1);
      // y is small: float64 as the views take it; J stays float32 as computed (JArray), as for fno1d-scalar.
      const r = await runner.run({
        inputs,
        wrt: roles.wrt,
        mode: 'jacobian',
        out: { y: new Float64Array(B * perY) },
        onProgress: hooks.onProgress,
        signal: hooks.signal,
      });
      const backend: BackendUsed = { description: this.ctx.description, kind: 'webgpu' };
      return { y: r.y as Float64Array, yShape: r.yShape, J: r.J!, backend };
    } catch (e) {
      // Cancellation and input errors are the caller's: the CPU would stop or fail the same way.
      if (e instanceof CancelledError || e instanceof ShapeError || hooks.signal?.aborted) throw e;
      this.failed = `WebGPU failed and the CPU took over: ${this.ctx.description}: ${errText(e)}`;
      this.releaseGpu();
      return onCpu(this.failed);
    }
  }

  dispose(): void {
    this.releaseGpu();
    this.cpu.dispose();
  }

  /** The device and its runner; the CPU (and its helper threads) stay for the batches that follow. */
  private releaseGpu(): void {
    this.runner?.dispose();
    this.runner = null;
    this.ctx.destroy();
  }

  /** The verdict for these shapes: y and J of the batch's first samples on WebGPU against the CPU, once. */
  private async check(
    runner: WebGpuGraphRunner,
    inputs: ReadonlyMap<string, InputArray>,
    wrt: string,
    key: string,
    hooks: RunHooks,
  ): Promise<string | undefined> {
    if (this.checked.has(key)) return this.checked.get(key);
    const B = inputs.get(wrt)!.shape[0];
    const n = Math.min(CHECK_SAMPLES, B);
    const few = new Map<string, InputArray>();
    for (const [name, a] of inputs)
      few.set(name, { shape: [n, ...a.shape.slice(1)], data: a.data.subarray(0, (a.data.length / B) * n) });
    const gpu = await runner.run({ inputs: few, wrt, mode: 'jacobian', signal: hooks.signal });
    const cpu = await this.cpu.model.evaluateAsync(few, { wrt, signal: hooks.signal });
    const problem = selfCheckProblem({ y: gpu.y, J: gpu.J! }, { y: cpu.y, J: cpu.J! });
    this.checked.set(key, problem);
    return problem;
  }
}
