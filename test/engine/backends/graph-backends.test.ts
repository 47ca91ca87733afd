/**
 * Every TorchScript fixture on every backend, one test body: the CPU's graph engine (float64) and,
 * where Dawn finds an adapter (SwiftShader here), the model lowered to WebGPU (float32), against
 * PyTorch's float64 y and J. And what happens to a model WebGPU cannot run: the runner refuses it
 * naming the op, before any work.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { WebGpuContext } from '../../../src/engine/backends/webgpu/context';
import { WebGpuGraphRunner } from '../../../src/engine/backends/webgpu/graph-runner';
import { WebGpuError } from '../../../src/engine/backends/webgpu/context';
import { RULES } from '../../../src/engine/graph/table';
import type { GraphProgram } from '../../../src/engine/graph/program';
import type { GTensor } from '../../../src/engine/graph/tensor';
import { GraphModel, type InputArray } from '../../../src/engine/models/graph-model';
import { graphHost } from '../../../src/engine/torchscript/graph-host';
import type { TensorHost } from '../../../src/engine/torchscript/host';
import { graphNpy, GRAPH_CASES, loadGraphFixture } from '../graph-fixture';
import { relErr } from '../helpers';
import { nodeGpuWithAdapter } from '../webgpu-node';

const probe = await nodeGpuWithAdapter();
const context = 'gpu' in probe ? await WebGpuContext.create(probe.gpu) : null;
if (!context)
  console.warn(
    `[graph-backends.test] WebGPU graph tests did not run: ${'reason' in probe ? probe.reason : 'no adapter'} — CPU only`,
  );
afterAll(() => context?.destroy());

interface Run {
  y: ArrayLike<number>;
  J: ArrayLike<number>;
  progress: number[];
}
interface Case {
  name: string;
  tol: number;
  run(model: GraphModel, inputs: Map<string, InputArray>, wrt: string, output?: number): Promise<Run>;
}

const backends: Case[] = [
  {
    name: 'cpu',
    tol: 1e-10,
    run: async (model, inputs, wrt, output) => {
      const progress: number[] = [];
      const r = await model.evaluateAsync(inputs, { wrt, output, onProgress: (d) => progress.push(d) });
      return { y: r.y, J: r.J!, progress };
    },
  },
];
if (context)
  backends.push({
    name: 'webgpu',
    tol: 1e-5,
    run: async (model, inputs, wrt, output) => {
      const runner = new WebGpuGraphRunner(context, model);
      try {
        const progress: number[] = [];
        const r = await runner.run({
          inputs,
          wrt,
          output,
          mode: 'jacobian',
          onProgress: (d) => progress.push(d),
        });
        // The forward-only tape gives the same y.
        const f = await runner.run({ inputs, wrt, output, mode: 'forward' });
        expect(relErr(f.y, r.y)).toBeLessThan(1e-6);
        return { y: r.y, J: r.J!, progress };
      } finally {
        runner.dispose();
      }
    },
  });

describe.each(backends)('graph fixtures on $name vs PyTorch float64', (bk) => {
  it.each(GRAPH_CASES)('%s', async (name) => {
    const { meta, model, inputs, output } = loadGraphFixture(name);
    const r = await bk.run(model, inputs, meta.wrt, output);
    const B = inputs.get(meta.wrt)!.shape[0];
    expect(relErr(Float64Array.from(r.y), graphNpy(name, 'y_f64.npy').data)).toBeLessThanOrEqual(bk.tol);
    expect(relErr(Float64Array.from(r.J), graphNpy(name, 'J_f64.npy').data)).toBeLessThanOrEqual(bk.tol);
    expect(r.progress.at(-1)).toBe(B);
  });
});

const AT = { file: 'test', line: 1, col: 1 };

describe.skipIf(!context)('WebGPU graph runner', () => {
  it('refuses a model it cannot lower (control flow on a value of p), naming the op', async () => {
    // if p[0, 0] > 0: y = p·x — the branch reads a value on the host (aten::Float)
    const prog: GraphProgram<TensorHost<GTensor>> = {
      origin: 'unknown',
      signature: [
        { name: 'x', type: 'Tensor' },
        { name: 'p', type: 'Tensor' },
      ],
      run: (h, args) => {
        const [x, p] = args as GTensor[];
        const p00 = h.call('aten::select', [h.call('aten::select', [p, 0, 0], {}, AT), 0, 0], {}, AT);
        const v = h.call('aten::Float', [p00], {}, AT) as number;
        return h.call(v > 0 ? 'aten::mul' : 'aten::sub', [p, x], {}, AT);
      },
    };
    const model = new GraphModel(prog, graphHost, RULES);
    const runner = new WebGpuGraphRunner(context!, model);
    const inputs = new Map<string, InputArray>([
      ['x', { shape: [2, 3], data: new Float64Array(6).fill(1) }],
      ['p', { shape: [2, 3], data: new Float64Array(6).fill(0.5) }],
    ]);
    const shapes = new Map([
      ['x', [3]],
      ['p', [3]],
    ]);
    const low = runner.lowerFor(shapes, 'p', 'jacobian');
    expect(low.ok).toBe(false);
    if (!low.ok) expect(low.reason).toMatch(/^aten::Float: a tensor value read on the host/);
    const run = runner.run({ inputs, wrt: 'p', mode: 'jacobian' });
    await expect(run).rejects.toBeInstanceOf(WebGpuError);
    await expect(run).rejects.toThrow(/cannot run on WebGPU: aten::Float/);
    runner.dispose();
  });
});
