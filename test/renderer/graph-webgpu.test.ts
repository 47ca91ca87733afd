// Graph models (TorchScript archives) on WebGPU in the engine worker's session, in Node with Dawn on SwiftShader:
// WebGPU chosen computes on it (float32 J to 1e-5 of PyTorch's float64), auto skips a software adapter with a
// note, an adapter that says it is hardware (SwiftShader underneath) is checked against the CPU and used, a device
// lost moves the model to the CPU, the device goes with the model, and a model WebGPU cannot lower computes on
// the CPU with a note naming the op.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { selfCheckProblem } from '../../src/engine/backends/self-check';
import { Session } from '../../src/renderer/worker/session';
import { buildArchive } from '../engine/torchscript/zip-builder';
import { nodeGpuWithAdapter } from '../engine/webgpu-node';
import { relErr } from '../engine/helpers';
import { computed } from './j-stream-helpers';

const probe = await nodeGpuWithAdapter();
const dawn = 'gpu' in probe ? probe.gpu : null;
if (!dawn)
  console.warn(
    `[graph-webgpu.test] WebGPU session tests did not run: ${'reason' in probe ? probe.reason : ''}`,
  );

/** Every device the tests' GPU objects opened, to see that the session frees them. */
const devices: GPUDevice[] = [];
afterAll(() => devices.forEach((d) => d.destroy()));

/**
 * Dawn's GPU object, recording the devices it opens; `hardware`: its adapter says it is a hardware one (not
 * SwiftShader, not a fallback adapter), so that `auto` takes it as it would a real GPU.
 */
function gpuOf(gpu: GPU, hardware = false): GPU {
  const adapterOf = (a: GPUAdapter): GPUAdapter =>
    new Proxy(a, {
      get(target, key) {
        if (key === 'requestDevice')
          return async (d?: GPUDeviceDescriptor) => {
            const device = await target.requestDevice(d);
            devices.push(device);
            return device;
          };
        if (hardware && key === 'info')
          return { vendor: 'test', architecture: 'pretend', device: 'GPU', description: 'Test GPU' };
        if (hardware && key === 'isFallbackAdapter') return false;
        const v = Reflect.get(target, key, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  return {
    requestAdapter: async (o?: GPURequestAdapterOptions) => {
      const a = await gpu.requestAdapter(o);
      return a && adapterOf(a);
    },
    getPreferredCanvasFormat: () => gpu.getPreferredCanvasFormat(),
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  } as GPU;
}

const graphDir = resolve(__dirname, '../fixtures/graph');
const file = (fixture: string, name: string, as = name) => ({
  name: as,
  bytes: new Uint8Array(readFileSync(resolve(graphDir, fixture, name))),
});
const ref = (fixture: string, name: string) => readNpy(file(fixture, name).bytes, name).data;
const load = (s: Session, fixture: string) =>
  s.load(['model.pt', 'x.npy', 'p.npy'].map((n) => file(fixture, n)));

/** Whether `device` is destroyed within a second (its `lost` settles then). */
async function released(device: GPUDevice): Promise<boolean> {
  const late = new Promise<false>((r) => setTimeout(() => r(false), 1000));
  return Promise.race([device.lost.then(() => true), late]);
}

/**
 * A TorchScript archive WebGPU cannot lower by nature: control flow on a value of p (aten::Float reads it on
 * the host). With p[0,0] > 0, y = p·x and J[b,i,k] = δ_ik · x[b,i].
 */
const branchModel = () => ({
  name: 'branch.pt',
  bytes: buildArchive(
    [
      'class M(Module):',
      '  __parameters__ = []',
      '  __buffers__ = []',
      '  training : bool',
      '  def forward(self: __torch__.M, x: Tensor, p: Tensor) -> Tensor:',
      '    if float(torch.select(torch.select(p, 0, 0), 0, 0)) > 0.:',
      '      return torch.mul(p, x)',
      '    return torch.sub(x, p)',
      '',
    ].join('\n'),
  ),
});

describe.skipIf(!dawn)('graph models on WebGPU in the session', () => {
  it.each(['film-mlp', 'fno1d-gelu-traced'])(
    'WebGPU chosen: %s computes on it, J in float32 to 1e-5 of PyTorch',
    async (fixture) => {
      const s = new Session(createEngineAdapter({ gpu: gpuOf(dawn!) }));
      await s.setBackend('webgpu');
      const r = computed(await load(s, fixture));
      expect(r.meta.backendKind).toBe('webgpu');
      expect(r.meta.backend).toMatch(/^WebGPU: .*software/);
      expect(r.meta.backendNote).toBeUndefined();
      expect(r.J).toBeInstanceOf(Float32Array);
      expect(relErr(r.J, ref(fixture, 'J_f64.npy'))).toBeLessThanOrEqual(1e-5);
      expect(relErr(r.y, ref(fixture, 'y_f64.npy'))).toBeLessThanOrEqual(1e-5);
      // The next batch of the model runs on the same device: nothing set up again.
      const r2 = computed(await s.load([file(fixture, 'p.npy', 'p2.npy')]));
      expect(r2.meta.backendKind).toBe('webgpu');
      expect(r2.meta.setupMs).toBeUndefined();
      expect(relErr(r2.J, ref(fixture, 'J_f64.npy'))).toBeLessThanOrEqual(1e-5);
    },
  );

  it('auto skips a software adapter: the CPU computes in float64 and the note says why', async () => {
    const s = new Session(createEngineAdapter({ gpu: gpuOf(dawn!) }));
    const r = computed(await load(s, 'film-mlp'));
    expect(r.meta.backendKind).toBe('cpu');
    expect(r.meta.backend).toBe('CPU (graph engine, float64)');
    expect(r.meta.backendNote).toMatch(/^WebGPU: .* is a software renderer, .*using the CPU \(choose WebGPU/);
    expect(r.J).toBeInstanceOf(Float64Array);
    expect(relErr(r.J, ref('film-mlp', 'J_f64.npy'))).toBeLessThanOrEqual(1e-10);
  });

  it('auto takes a hardware adapter once it agrees with the CPU; a device lost moves the model to the CPU for good', async () => {
    const before = devices.length;
    const s = new Session(createEngineAdapter({ gpu: gpuOf(dawn!, true) }));
    const r = computed(await load(s, 'film-mlp'));
    expect(r.meta.backendKind).toBe('webgpu');
    expect(r.meta.backend).toBe('WebGPU: Test GPU (test pretend)');
    expect(r.meta.backendNote).toBeUndefined();
    expect(relErr(r.J, ref('film-mlp', 'J_f64.npy'))).toBeLessThanOrEqual(1e-5);
    expect(devices.length).toBe(before + 1);
    const device = devices[before];
    device.destroy();
    await device.lost;
    const r2 = computed(await s.load([file('film-mlp', 'p.npy', 'p2.npy')]));
    expect(r2.meta.backendKind).toBe('cpu');
    expect(r2.meta.backendNote).toMatch(/^WebGPU failed and the CPU took over: WebGPU: Test GPU .*: .*lost/);
    expect(relErr(r2.J, ref('film-mlp', 'J_f64.npy'))).toBeLessThanOrEqual(1e-10);
    const r3 = computed(await s.load([file('film-mlp', 'p.npy', 'p3.npy')]));
    expect(r3.meta.backendKind).toBe('cpu');
    expect(r3.meta.backendNote).toBe(r2.meta.backendNote);
  });

  it('a cancelled run on WebGPU is cancelled, not a WebGPU failure: the next batch runs there again', async () => {
    const s = new Session(createEngineAdapter({ gpu: gpuOf(dawn!) }));
    await s.setBackend('webgpu');
    const r = computed(await load(s, 'film-mlp'));
    const stop = new AbortController();
    stop.abort();
    const o = await s.load([file('film-mlp', 'p.npy', 'p2.npy')], { signal: stop.signal });
    expect(o.kind).toBe('cancelled');
    expect(s.result).toBe(r);
    const r2 = computed(await s.load([file('film-mlp', 'p.npy', 'p3.npy')]));
    expect(r2.meta.backendKind).toBe('webgpu');
    expect(r2.meta.backendNote).toBeUndefined();
    expect(r2.meta.setupMs).toBeUndefined();
  });

  it('frees the device when another model replaces the model, and when the CPU is chosen', async () => {
    const before = devices.length;
    const s = new Session(createEngineAdapter({ gpu: gpuOf(dawn!) }));
    await s.setBackend('webgpu');
    expect(computed(await load(s, 'fno1d-gelu-traced')).meta.backendKind).toBe('webgpu');
    expect(devices.length).toBe(before + 1);
    const r = computed(await load(s, 'film-mlp'));
    expect(r.meta.backendKind).toBe('webgpu');
    expect(await released(devices[before])).toBe(true);
    expect(devices.length).toBe(before + 2);
    expect(computed(await s.setBackend('cpu')).meta.backendKind).toBe('cpu');
    expect(await released(devices[before + 1])).toBe(true);
  });

  it.each([
    ['webgpu', false],
    ['auto', true],
  ] as const)(
    '%s: a model WebGPU cannot lower computes on the CPU, the note naming the op',
    async (want, hardware) => {
      const s = new Session(createEngineAdapter({ gpu: gpuOf(dawn!, hardware) }));
      await s.setBackend(want);
      const x = [1, 2, 3, -1, 0.5, 4];
      const p = [0.1, -0.2, 0.3, 1.5, -2, 0];
      const npy = (name: string, v: number[]) => ({
        name,
        bytes: writeNpy({ shape: [2, 3], data: Float64Array.from(v) }, 'float64'),
      });
      const r = computed(await s.load([branchModel(), npy('x.npy', x), npy('p.npy', p)]));
      expect(r.meta.backendKind).toBe('cpu');
      expect(r.meta.backendNote).toMatch(
        /^WebGPU cannot run this model \(aten::Float: a tensor value read on the host.*\); computing on the CPU$/,
      );
      const J = new Float64Array(18);
      for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) J[b * 9 + i * 4] = x[b * 3 + i];
      expect(relErr(r.J, J)).toBeLessThan(1e-12);
    },
  );
});

describe('the self-check of WebGPU against the CPU', () => {
  const cpu = { y: [1, -2, Infinity], J: [0.5, 0, 1] };
  it('passes within 1e-2 of the largest value, skipping values the CPU cannot give', () => {
    expect(selfCheckProblem({ y: [1.001, -2, NaN], J: [0.5, 1e-7, 1] }, cpu)).toBeUndefined();
  });
  it('fails on a difference beyond it, or a NaN where the CPU is finite, naming y or J', () => {
    expect(selfCheckProblem({ y: [1, -2, 0], J: [0.5, 0.1, 1] }, cpu)).toMatch(
      /^the self-check failed \(J differs from the CPU by 1\.0e-1 relative\)$/,
    );
    expect(selfCheckProblem({ y: [NaN, -2, 0], J: [0.5, 0, 1] }, cpu)).toMatch(/y differs .* NaN relative/);
    expect(selfCheckProblem({ y: [1, -2], J: [0.5, 0, 1] }, cpu)).toMatch(/y has 2 values, not 3/);
  });
});
