import { afterAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../../src/engine/backends/backend';
import { CpuBackend } from '../../../src/engine/backends/cpu/cpu-backend';
import { FallbackBackend, selectBackend } from '../../../src/engine/backends/select';
import { WebGpuContext } from '../../../src/engine/backends/webgpu/context';
import {
  chebyshevEval,
  erfApprox,
  onePlusErfApprox,
  tanhFit,
} from '../../../src/engine/backends/webgpu/wgsl-functions';
import { bufferBytes } from '../../../src/engine/backends/webgpu/graph-runner';
import { lowerGraphModel } from '../../../src/engine/models/lowered';
import { WebGpuBackend } from '../../../src/engine/backends/webgpu/webgpu-backend';
import { CancelledError, ShapeError } from '../../../src/engine/errors';
import type { FnoConfig } from '../../../src/engine/models/config';
import { JACOBIAN_RUN } from '../../../src/engine/models/graph-model';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import { ACTIVATION_NAMES } from '../../../src/engine/ops/activations';
import { erf } from '../../../src/engine/ops/erf';
import type { HostTensor } from '../../../src/engine/tensor';
import { CASES, INPUT_SETS, loadCase, loadNpy } from '../fixtures';
import { randInt, randn, relErr, rng } from '../helpers';
import { randomTensors } from '../random-model';
import { nodeGpuWithAdapter } from '../webgpu-node';

// "Same test, every backend": one body, run for the CPU and — where Dawn finds an adapter (here
// SwiftShader's software Vulkan) — for WebGPU. Without an adapter only the CPU runs, and says so.

interface MakeOptions {
  /** Force chunks of one sample (the smallest buffer limit that still fits one). */
  tinyChunks?: { mode: 'forward' | 'jacobian'; T: number };
}

interface BackendCase {
  name: 'cpu' | 'webgpu' | 'webgpu (tiled GEMM)';
  /** max|err| / max|ref| against float64 references. */
  tol: number;
  make(config: FnoConfig, tensors: Map<string, HostTensor>, opts?: MakeOptions): Promise<ComputeBackend>;
}

const probe = await nodeGpuWithAdapter();
let context: WebGpuContext | null = null;
let noWebGpu: string | undefined;
if ('gpu' in probe) {
  try {
    context = await WebGpuContext.create(probe.gpu);
    if (!context) noWebGpu = 'no adapter on the second request';
  } catch (e) {
    noWebGpu = `device creation failed: ${(e as Error).message}`;
  }
} else noWebGpu = probe.reason;

/**
 * Options that make the backend run chunks of one sample through the real limit (bytes per buffer):
 * the largest size that fits one sample of every buffer and not two of some.
 */
function tinyChunkOptions(
  config: FnoConfig,
  tensors: Map<string, HostTensor>,
  mode: 'forward' | 'jacobian',
  T: number,
) {
  const model = new Fno1dScalar(config, tensors);
  const shapes = new Map([
    ['x', [T, config.inp_dim_func]],
    ['p', [config.inp_dim_scalar]],
  ]);
  const r = lowerGraphModel(model.graph, { shapes, wrt: 'p', mode });
  if (!r.ok) throw new Error(r.reason);
  const bytes = bufferBytes(r.model);
  const one = Math.max(...bytes.map((b) => b.c + b.s));
  const two = Math.min(...bytes.filter((b) => b.s > 0).map((b) => b.c + 2 * b.s));
  // Where a constant (a DFT basis) is larger than two samples of everything else, bytes cannot
  // force one sample per chunk: the sample limit does.
  return two - 4 >= one ? { maxBufferBytes: two - 4 } : { maxBufferBytes: one, maxChunkSamples: 1 };
}

const backends: BackendCase[] = [
  {
    name: 'cpu',
    tol: 1e-10,
    make: async (config, tensors, opts) =>
      new CpuBackend(config, tensors, { chunkSamples: opts?.tinyChunks ? 1 : undefined }),
  },
];
if (context) {
  const ctx = context;
  backends.push({
    name: 'webgpu',
    tol: 1e-5,
    make: async (config, tensors, opts) => {
      const tiny = opts?.tinyChunks;
      const b = await WebGpuBackend.create(
        ctx,
        config,
        tensors,
        tiny ? tinyChunkOptions(config, tensors, tiny.mode, tiny.T) : {},
      );
      if (tiny) expect(b.chunkCapacity(tiny.mode, tiny.T)).toBe(1);
      return b;
    },
  });
  // The same body with the workgroup-tiled GEMM kernel forced (a GPU's choice; SwiftShader's is the generic one).
  backends.push({
    name: 'webgpu (tiled GEMM)',
    tol: 1e-5,
    make: async (config, tensors, opts) => {
      const tiny = opts?.tinyChunks;
      return WebGpuBackend.create(ctx, config, tensors, {
        gemm: 'tiled',
        ...(tiny ? tinyChunkOptions(config, tensors, tiny.mode, tiny.T) : {}),
      });
    },
  });
  console.log(`[backends.test] WebGPU tests run on ${ctx.description}`);
} else {
  console.warn(`[backends.test] WebGPU tests did not run: ${noWebGpu} — CPU backend only`);
}
afterAll(() => context?.destroy());

function smallConfig(r: () => number, i: number): { config: FnoConfig; T: number; B: number } {
  const Ts = [2, 3, 5, 7, 11, 13, 17, 23, 31, 8, 16];
  const T = Ts[i % Ts.length];
  const maxModes = Math.floor(T / 2) + 1;
  const config: FnoConfig = {
    architecture: 'fno1d-scalar',
    inp_dim_func: randInt(r, 1, 4),
    inp_dim_scalar: i % 3 === 0 ? 1 : randInt(r, 1, 5),
    out_dim_func: i % 2 === 0 ? 1 : randInt(r, 1, 6),
    // Every other config keeps all T//2+1 modes (the Nyquist bin included for even T).
    modes: i % 2 === 0 ? maxModes : randInt(r, 1, maxModes),
    width: i % 4 === 0 ? 1 : randInt(r, 1, 9),
    hidden: randInt(r, 1, 6),
    layers: 1 + (i % 3),
    activation: ACTIVATION_NAMES[i % ACTIVATION_NAMES.length],
  };
  return { config, T, B: randInt(r, 1, 5) };
}

const f32 = (a: Float64Array) => a.map(Math.fround);
function toF32(m: Map<string, HostTensor>): Map<string, HostTensor> {
  return new Map(
    [...m].map(([k, t]) => [k, { ...t, data: f32(t.data), ...(t.imag ? { imag: f32(t.imag) } : {}) }]),
  );
}

describe.each(backends)('backend $name', (bk) => {
  describe.each(CASES)('vs PyTorch float64: %s', (name) => {
    const { config, tensors } = loadCase(name);
    it.each(INPUT_SETS[name])('$x / $p', async (set) => {
      const backend = await bk.make(config, tensors);
      try {
        expect(backend.kind).toBe(bk.name.startsWith('webgpu') ? 'webgpu' : 'cpu');
        const x = loadNpy(name, set.x);
        const p = loadNpy(name, set.p);
        const [B, T] = x.shape;
        const y = await backend.forward(x.data, p.data, B, T);
        const J = await backend.jacobian(x.data, p.data, B, T);
        expect(relErr(y, loadNpy(name, set.y).data)).toBeLessThanOrEqual(bk.tol);
        expect(relErr(J, loadNpy(name, set.j).data)).toBeLessThanOrEqual(bk.tol);
        // Both at once, with progress counted in samples.
        const progress: number[] = [];
        const both = await backend.evaluate(x.data, p.data, B, T, { onProgress: (d) => progress.push(d) });
        expect(relErr(both.y, loadNpy(name, set.y).data)).toBeLessThanOrEqual(bk.tol);
        expect(relErr(both.J, loadNpy(name, set.j).data)).toBeLessThanOrEqual(bk.tol);
        expect(progress.at(-1)).toBe(B);
      } finally {
        backend.dispose();
      }
    });
  });

  it('matches the CPU float64 model on random small configs (odd/prime T, all modes, every activation, 1–3 layers)', async () => {
    const r = rng(20240611);
    for (let i = 0; i < 16; i++) {
      const { config, T, B } = smallConfig(r, i);
      // Weights and inputs exactly representable in f32, so that the comparison measures the
      // kernels' arithmetic, not the rounding of the data (tiny models can be ill-conditioned).
      const tensors = toF32(randomTensors(config, r));
      const x = f32(randn(r, B * T * config.inp_dim_func));
      const p = f32(randn(r, B * config.inp_dim_scalar));
      const ref = new Fno1dScalar(config, tensors);
      const backend = await bk.make(config, tensors);
      try {
        const what = `config ${i}: ${JSON.stringify(config)} T=${T} B=${B}`;
        expect(relErr(await backend.forward(x, p, B, T), ref.forward(x, p, B, T)), what).toBeLessThanOrEqual(
          bk.tol,
        );
        expect(
          relErr(await backend.jacobian(x, p, B, T), ref.jacobian(x, p, B, T)),
          what,
        ).toBeLessThanOrEqual(bk.tol);
      } finally {
        backend.dispose();
      }
    }
  });

  it('processes a batch in chunks, streaming into one output, with progress per chunk', async () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const x = loadNpy('deep-fno1d', 'x4.npy');
    const p = loadNpy('deep-fno1d', 'p4.npy');
    const [B, T] = x.shape;
    for (const mode of ['forward', 'jacobian'] as const) {
      const backend = await bk.make(config, tensors, { tinyChunks: { mode, T } });
      try {
        const progress: [number, number][] = [];
        const out = await backend[mode](x.data, p.data, B, T, {
          onProgress: (d, t) => progress.push([d, t]),
        });
        const ref = loadNpy('deep-fno1d', mode === 'forward' ? 'y4_f64.npy' : 'jacobian4_f64.npy');
        expect(relErr(out, ref.data)).toBeLessThanOrEqual(bk.tol);
        // A chunk is one sample here; the CPU's Jacobian reports each run of the model.
        const step = mode === 'jacobian' && backend.kind === 'cpu' ? JACOBIAN_RUN : 1;
        const want = Array.from({ length: Math.ceil(B / step) }, (_, i) => [Math.min(B, (i + 1) * step), B]);
        expect(progress).toEqual(want);
      } finally {
        backend.dispose();
      }
    }
  });

  it('stops at the next chunk when cancelled, and works again afterwards', async () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const x = loadNpy('deep-fno1d', 'x4.npy');
    const p = loadNpy('deep-fno1d', 'p4.npy');
    const [B, T] = x.shape;
    const backend = await bk.make(config, tensors, { tinyChunks: { mode: 'jacobian', T } });
    try {
      const pre = new AbortController();
      pre.abort();
      await expect(backend.forward(x.data, p.data, B, T, { signal: pre.signal })).rejects.toBeInstanceOf(
        CancelledError,
      );
      await expect(backend.evaluate(x.data, p.data, B, T, { signal: pre.signal })).rejects.toBeInstanceOf(
        CancelledError,
      );
      const ac = new AbortController();
      let calls = 0;
      const run = backend.jacobian(x.data, p.data, B, T, {
        signal: ac.signal,
        onProgress: () => {
          calls++;
          ac.abort();
        },
      });
      await expect(run).rejects.toBeInstanceOf(CancelledError);
      expect(calls).toBe(1);
      const J = await backend.jacobian(x.data, p.data, B, T);
      expect(relErr(J, loadNpy('deep-fno1d', 'jacobian4_f64.npy').data)).toBeLessThanOrEqual(bk.tol);
    } finally {
      backend.dispose();
    }
  });

  it("writes into a caller's float32 or float64 array, across pipelined chunks too", async () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const x = loadNpy('deep-fno1d', 'x4.npy');
    const p = loadNpy('deep-fno1d', 'p4.npy');
    const [B, T] = x.shape;
    const { out_dim_func: O, inp_dim_scalar: P } = config;
    const refJ = loadNpy('deep-fno1d', 'jacobian4_f64.npy').data;
    const refY = loadNpy('deep-fno1d', 'y4_f64.npy').data;
    for (const tiny of [false, true]) {
      const backend = await bk.make(config, tensors, tiny ? { tinyChunks: { mode: 'jacobian', T } } : {});
      try {
        for (const Ctor of [Float32Array, Float64Array]) {
          // NaN-filled: a value the backend forgot to write would show.
          const J = new Ctor(B * T * O * P).fill(NaN);
          const y = new Ctor(B * T * O).fill(NaN);
          expect(await backend.jacobian(x.data, p.data, B, T, { out: J })).toBe(J);
          expect(await backend.forward(x.data, p.data, B, T, { out: y })).toBe(y);
          // float32 storage rounds at 6e-8 relative, well inside either tolerance used here.
          const tol = Math.max(bk.tol, 1e-7);
          expect(relErr(J, refJ), `${Ctor.name} tiny=${tiny}`).toBeLessThanOrEqual(tol);
          expect(relErr(y, refY), `${Ctor.name} tiny=${tiny}`).toBeLessThanOrEqual(tol);
        }
        await expect(
          backend.jacobian(x.data, p.data, B, T, { out: new Float32Array(B * T * O * P - 1) }),
        ).rejects.toThrow(/output for J has .* values; it needs/);
      } finally {
        backend.dispose();
      }
    }
  });

  it('rejects inputs that do not fit the model with the same messages', async () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const backend = await bk.make(config, tensors);
    try {
      const B = 1;
      const T = 8; // modes 12 > 8//2+1
      const x = new Float64Array(B * T * config.inp_dim_func);
      const p = new Float64Array(B * config.inp_dim_scalar);
      await expect(backend.jacobian(x, p, B, T)).rejects.toThrow(/keeps 12 modes, more than T\/\/2\+1 = 5/);
      await expect(backend.forward(x, p.subarray(1), B, 30)).rejects.toBeInstanceOf(ShapeError);
      const empty = await backend.jacobian(new Float64Array(0), new Float64Array(0), 0, 30);
      expect(empty.length).toBe(0);
    } finally {
      backend.dispose();
    }
  });
});

describe.skipIf(!context)('WebGPU chunking', () => {
  it('sizes chunks by measured time: a first chunk of 4 measures, then as many as fit chunkMs', async () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const x4 = loadNpy('deep-fno1d', 'x4.npy');
    const p4 = loadNpy('deep-fno1d', 'p4.npy');
    const J4 = loadNpy('deep-fno1d', 'jacobian4_f64.npy').data;
    const [B4, T] = x4.shape;
    // Ten samples: the four fixture samples, twice, then the first two again.
    const pick = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1];
    const B = pick.length;
    const tile = (a: Float64Array) => {
      const per = a.length / B4;
      const out = new Float64Array(B * per);
      pick.forEach((s, i) => out.set(a.subarray(s * per, (s + 1) * per), i * per));
      return out;
    };
    // chunkMs 0: after the measuring chunk, one sample per chunk.
    const backend = await WebGpuBackend.create(context!, config, tensors, { chunkMs: 0 });
    try {
      const progress: number[] = [];
      const J = await backend.jacobian(tile(x4.data), tile(p4.data), B, T, {
        onProgress: (d) => progress.push(d),
      });
      expect(progress).toEqual([4, 5, 6, 7, 8, 9, 10]);
      expect(relErr(J, tile(J4))).toBeLessThanOrEqual(1e-5);
    } finally {
      backend.dispose();
    }
  });
});

describe('WebGPU kernels on the host', () => {
  it('the erf and tanh fits the kernels evaluate are within 1e-9 of float64', () => {
    let e = 0;
    for (let i = -7000; i <= 7000; i++) e = Math.max(e, Math.abs(erfApprox(i / 1000) - erf(i / 1000)));
    expect(e).toBeLessThan(1e-9);
    // GELU's 1 + erf(z) keeps its relative accuracy where it is tiny.
    let rel = 0;
    for (let z = -4; z <= -1; z += 0.001)
      rel = Math.max(rel, Math.abs(onePlusErfApprox(z) / (1 + erf(z)) - 1));
    expect(rel).toBeLessThan(1e-7);
    let t = 0;
    for (let i = 0; i <= 600; i++) {
      const x = i / 1000;
      t = Math.max(t, Math.abs(x * chebyshevEval(tanhFit(), x * x) - Math.tanh(x)));
    }
    expect(t).toBeLessThan(1e-9);
  });

  it('lowers the seed Jacobian with structure: no tangent grows with T before the first activation', () => {
    const { config, tensors } = loadCase('seed-fno1d');
    const model = new Fno1dScalar(config, tensors);
    const { inp_dim_func: Xf, inp_dim_scalar: P, width: w } = config;
    const T = 601;
    const shapes = new Map([
      ['x', [T, Xf]],
      ['p', [P]],
    ]);
    const r = lowerGraphModel(model.graph, { shapes, wrt: 'p', mode: 'jacobian' });
    if (!r.ok) throw new Error(r.reason);
    const tape = r.model.at(1);
    const first = tape.recs.findIndex((x) => x.op === 'aten::tanh');
    expect(first).toBeGreaterThan(0);
    // Before it: every record that reads the seed's descendants stays within P·(2w) values per
    // sample (p broadcast over time is one row), while the forward values are T·w.
    const seed = tape.bufs.findIndex((b) => b.init.k === 'seed');
    const tangent = new Set([seed]);
    for (const rec of tape.recs.slice(0, first)) {
      const ins = rec.kind === 'ewise' ? rec.ins : [rec.a, rec.b];
      const outs = rec.kind === 'ewise' ? rec.outs : [rec.out];
      if (!ins.some((a) => tangent.has(a.buf))) continue;
      for (const o of outs) {
        tangent.add(o.buf);
        expect(tape.bufs[o.buf].len, rec.op).toBeLessThanOrEqual(P * 2 * w);
      }
    }
    expect(tangent.size).toBeGreaterThan(5);
  });
});

describe('selectBackend', () => {
  const { config, tensors } = loadCase('deep-fno1d');
  const fakeGpu = (requestAdapter: () => Promise<GPUAdapter | null>) =>
    ({ requestAdapter }) as unknown as GPU;

  it('cpu when asked, and auto without WebGPU, silently', async () => {
    for (const sel of [
      await selectBackend({ want: 'cpu', gpu: 'gpu' in probe ? probe.gpu : null, config, tensors }),
      await selectBackend({ want: 'auto', gpu: null, config, tensors }),
      await selectBackend({ want: 'auto', gpu: fakeGpu(async () => null), config, tensors }),
    ]) {
      expect(sel.backend.kind).toBe('cpu');
      expect(sel.fallbackReason).toBeUndefined();
      expect(sel.backend.description).toMatch(/^CPU/);
      sel.backend.dispose();
    }
  });

  it('webgpu without WebGPU or without an adapter is an error that says so', async () => {
    await expect(selectBackend({ want: 'webgpu', gpu: null, config, tensors })).rejects.toThrow(
      /not available/,
    );
    await expect(
      selectBackend({ want: 'webgpu', gpu: fakeGpu(async () => null), config, tensors }),
    ).rejects.toThrow(/no adapter/);
  });

  it('auto falls back to the CPU with the reason when the device cannot be created', async () => {
    const adapter = {
      info: { vendor: 'acme', architecture: 'x', device: 'gpu9', description: 'Acme GPU 9' },
      limits: {
        maxStorageBufferBindingSize: 1 << 27,
        maxBufferSize: 1 << 28,
        maxStorageBuffersPerShaderStage: 8,
      },
      requestDevice: async () => {
        throw new Error('out of device memory');
      },
    } as unknown as GPUAdapter;
    const sel = await selectBackend({ want: 'auto', gpu: fakeGpu(async () => adapter), config, tensors });
    expect(sel.backend.kind).toBe('cpu');
    expect(sel.fallbackReason).toMatch(/Acme GPU 9.*out of device memory/);
    await expect(
      selectBackend({ want: 'webgpu', gpu: fakeGpu(async () => adapter), config, tensors }),
    ).rejects.toThrow(/out of device memory/);
  });

  it('moves to the CPU when a WebGPU call fails, and reports it', async () => {
    const failing: ComputeBackend = {
      kind: 'webgpu',
      description: 'WebGPU: test',
      forward: async () => {
        throw new Error('device lost');
      },
      jacobian: async () => {
        throw new Error('device lost');
      },
      evaluate: async () => {
        throw new Error('device lost');
      },
      dispose: () => {},
    };
    const reasons: string[] = [];
    const b = new FallbackBackend(
      failing,
      () => new CpuBackend(config, tensors),
      (r) => reasons.push(r),
    );
    const x = loadNpy('deep-fno1d', 'x.npy');
    const p = loadNpy('deep-fno1d', 'p.npy');
    const [B, T] = x.shape;
    const J = await b.jacobian(x.data, p.data, B, T);
    expect(relErr(J, loadNpy('deep-fno1d', 'jacobian_f64.npy').data)).toBeLessThanOrEqual(1e-10);
    expect(b.kind).toBe('cpu');
    expect(reasons).toEqual(['WebGPU: test: device lost']);
    b.dispose();
  });

  it.runIf(context !== null)(
    'uses a real adapter: auto skips a software one unless allowed, webgpu takes it',
    async () => {
      const gpu = 'gpu' in probe ? probe.gpu : null;
      const auto = await selectBackend({ want: 'auto', gpu, config, tensors });
      if (auto.adapter?.software) {
        expect(auto.backend.kind).toBe('cpu');
        expect(auto.note).toMatch(/software/);
      } else expect(auto.backend.kind).toBe('webgpu');
      auto.backend.dispose();

      const allowed = await selectBackend({ want: 'auto', gpu, config, tensors, allowSoftwareAdapter: true });
      expect(allowed.backend.kind).toBe('webgpu');
      expect(allowed.fallbackReason).toBeUndefined();
      expect(allowed.backend.description).toMatch(/^WebGPU: /);
      allowed.backend.dispose();

      const forced = await selectBackend({ want: 'webgpu', gpu, config, tensors });
      expect(forced.backend.kind).toBe('webgpu');
      forced.backend.dispose();
    },
  );
});
