import type { FnoConfig } from '../../models/config';
import { checkTensors } from '../../models/fno1d-layout';
import type { HostTensor } from '../../tensor';
import {
  checkRunInputs,
  serialQueue,
  outputArray,
  throwIfAborted,
  type ComputeBackend,
  type OutputArray,
  type RunOptions,
} from '../backend';
import { destroyWorkspace, newTimings, submitChunk, type Dispatch, type Workspace } from './chunk';
import { WebGpuContext, WebGpuError, type WebGpuContextOptions } from './context';
import { dftBases } from './kernel-dft';
import { gemmBiasToGpu, gemmWeightsToGpu } from './kernel-gemm';
import { mixWeightsToGpu } from './kernel-mix';
import {
  assignSlots,
  buildPlan,
  weightBias,
  weightMixIm,
  weightMixRe,
  weightW,
  type BufRef,
  type KernelKind,
  type Mode,
  type Plan,
} from './plan';
import type { GemmVariant } from './kernel-gemm';
import { BufferUsage, UNIFORM_BYTES } from './wgsl-common';

export interface WebGpuBackendOptions {
  /**
   * Largest single buffer, in bytes. Default: the device's maxStorageBufferBindingSize and
   * maxBufferSize, and at most 256 MiB. Batches whose buffers would be larger run in chunks.
   */
  maxBufferBytes?: number;
  /** All of one chunk's workspace buffers together, in bytes. Default 512 MiB. */
  maxWorkspaceBytes?: number;
  /** At most this many samples per chunk (progress and cancellation come between chunks). */
  maxChunkSamples?: number;
  /**
   * Aim for chunks of about this many milliseconds, so progress and cancel come that often on a
   * slow adapter too (a software one takes ~75 ms per seed Jacobian). Default 250.
   */
  chunkMs?: number;
  /** The GEMM kernel; default: the context's choice for its adapter (gemm-choice.ts). */
  gemm?: GemmVariant;
}

/** The kernels a model runs; the GEMM is 'gemm' or 'gemm-tiled', as chosen. */
const KERNELS: KernelKind[] = ['rfft', 'irfft', 'mix', 'ewise', 'act', 'transpose'];
const MiB = 1024 * 1024;
/** Samples in the chunk that measures an adapter's speed. */
const FIRST_CHUNK = 4;
const STORAGE = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;

/**
 * The fno1d-scalar model on WebGPU (float32). Weights are uploaded once; the DFT bases once per T;
 * workspaces (intermediate buffers, bind groups, parameter blocks) once per (mode, T) and reused
 * by later calls; each chunk of samples is one submission and one read-back.
 */
export class WebGpuBackend implements ComputeBackend {
  readonly kind = 'webgpu' as const;
  readonly description: string;
  readonly config: FnoConfig;
  readonly context: WebGpuContext;
  private readonly ownsContext: boolean;
  private readonly opts: WebGpuBackendOptions;
  private readonly pipelines: Partial<Record<KernelKind, GPUComputePipeline>>;
  /** The GEMM kernel this backend runs. */
  readonly gemm: GemmVariant;
  private readonly weights = new Map<string, GPUBuffer>();
  private readonly bases = new Map<number, { forward: GPUBuffer; inverse: GPUBuffer }>();
  private readonly workspaces: Workspace[] = [];
  private readonly dummy: GPUBuffer;
  private readonly dummyOut: GPUBuffer;
  /** One call at a time: calls share the workspaces. */
  private readonly serialize = serialQueue();
  private disposed = false;
  /**
   * Where the last call's time went, in ms summed over its chunks (chunks overlap, so the parts
   * can add up to more than the call): converting and uploading x and p and submitting, waiting
   * for the GPU, mapping, copying the result out. For benchmarks.
   */
  timings = newTimings();
  /** Per call shape (mode and T): the time per sample of the last first chunk, submit to read-back. */
  private readonly msPerSample = new Map<string, number>();

  private constructor(
    context: WebGpuContext,
    ownsContext: boolean,
    config: FnoConfig,
    pipelines: Partial<Record<KernelKind, GPUComputePipeline>>,
    opts: WebGpuBackendOptions,
    gemm: GemmVariant,
  ) {
    this.context = context;
    this.ownsContext = ownsContext;
    this.config = config;
    this.pipelines = pipelines;
    this.gemm = gemm;
    this.opts = opts;
    this.description = context.description;
    const device = context.device;
    this.dummy = device.createBuffer({ label: 'dummy', size: 16, usage: BufferUsage.STORAGE });
    this.dummyOut = device.createBuffer({ label: 'dummy out', size: 16, usage: BufferUsage.STORAGE });
  }

  /**
   * Build the model on a context: check the tensors, compile every kernel (a failure here is what
   * backend selection falls back on), upload the weights.
   */
  static async create(
    context: WebGpuContext,
    config: FnoConfig,
    tensors: Map<string, HostTensor>,
    opts: WebGpuBackendOptions = {},
    ownsContext = false,
  ): Promise<WebGpuBackend> {
    checkTensors(config, tensors);
    const gemm = opts.gemm ?? (await context.gemmChoice()).variant;
    const kernels: KernelKind[] = [gemm === 'tiled' ? 'gemm-tiled' : 'gemm', ...KERNELS];
    const compiled = await Promise.all(kernels.map((k) => context.pipeline(k, config.activation)));
    const pipelines = Object.fromEntries(kernels.map((k, i) => [k, compiled[i]])) as Partial<
      Record<KernelKind, GPUComputePipeline>
    >;
    const b = new WebGpuBackend(context, ownsContext, config, pipelines, opts, gemm);
    b.uploadWeights(tensors);
    return b;
  }

  forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    return this.serialize(() => this.run('forward', x, p, B, T, opts));
  }

  jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A> = {},
  ): Promise<A> {
    return this.serialize(() => this.run('jacobian', x, p, B, T, opts));
  }

  /**
   * The forward pass, then the Jacobian (the forward pass is the small part on a GPU); J in
   * float32, as computed.
   */
  async evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: Omit<RunOptions, 'out'> = {},
  ): Promise<{ y: Float64Array; J: Float32Array }> {
    const y = await this.forward(x, p, B, T, { signal: opts.signal });
    const c = this.config;
    const out = new Float32Array(B * T * c.out_dim_func * c.inp_dim_scalar);
    const J = await this.jacobian(x, p, B, T, { ...opts, out });
    return { y, J };
  }

  /** Samples per chunk a call of this shape would use (for tests, and to show in the app). */
  chunkCapacity(mode: Mode, T: number): number {
    const plan = buildPlan(this.config, T, mode, this.gemm);
    return this.capacity(plan, assignSlots(plan).slotPerSample);
  }

  /** Bytes the largest buffer needs per sample for a call of this shape (the unit of chunking). */
  largestBufferBytesPerSample(mode: Mode, T: number): number {
    return Math.max(...assignSlots(buildPlan(this.config, T, mode, this.gemm)).slotPerSample) * 4;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const ws of this.workspaces.splice(0)) destroyWorkspace(ws);
    for (const b of this.weights.values()) b.destroy();
    for (const b of this.bases.values()) {
      b.forward.destroy();
      b.inverse.destroy();
    }
    this.weights.clear();
    this.bases.clear();
    this.dummy.destroy();
    this.dummyOut.destroy();
    if (this.ownsContext) this.context.destroy();
  }

  /**
   * Chunks are pipelined: chunk k+1 is uploaded and submitted before chunk k's read-back is
   * awaited, so the GPU computes while the host copies the previous chunk out (two staging
   * buffers take turns). Queue order keeps the shared workspace buffers safe: chunk k's output
   * is copied to its staging buffer before chunk k+1's commands run.
   */
  private async run<A extends OutputArray>(
    mode: Mode,
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: RunOptions<A>,
  ): Promise<A> {
    this.checkAlive();
    const c = this.config;
    checkRunInputs(c, x, p, B, T);
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = c;
    const outPerSample = mode === 'forward' ? T * O : T * O * P;
    const out = outputArray(opts, B * outPerSample, mode === 'forward' ? 'y' : 'J');
    throwIfAborted(opts.signal);
    if (B === 0) return out;
    const speedKey = `${mode}:T=${T}`;
    // Room for the first chunk only: a slow adapter then never allocates (and zero-fills) buffers
    // for samples it would not compute in one chunk anyway.
    let ws = this.workspace(mode, T, Math.min(B, this.chunkSize(speedKey, 0)));
    this.timings = newTimings();
    // The chunk whose read-back is under way while the next one computes.
    let inFlight: { done: Promise<void>; end: number } | undefined;
    const finish = async (f: { done: Promise<void>; end: number }) => {
      await f.done;
      opts.onProgress?.(f.end, B);
    };
    try {
      for (let b0 = 0, k = 0, n = 0; b0 < B; b0 += n, k++) {
        throwIfAborted(opts.signal);
        this.checkAlive();
        const want = Math.min(this.chunkSize(speedKey, k), B - b0);
        // Grow once the speed is known (nothing is in flight right after the first chunk).
        if (want > ws.cap && !inFlight) ws = this.workspace(mode, T, want);
        n = Math.min(want, ws.cap);
        const started = performance.now();
        const readBack = await submitChunk(
          this.context.device,
          ws,
          k,
          x.subarray(b0 * T * Xf, (b0 + n) * T * Xf),
          p.subarray(b0 * P, (b0 + n) * P),
          n,
          out.subarray(b0 * outPerSample, (b0 + n) * outPerSample),
          this.timings,
        );
        const next = { done: readBack(), end: b0 + n };
        next.done.catch(() => undefined); // awaited below or in `finally`, whichever comes first
        const previous = inFlight;
        inFlight = next;
        if (previous) await finish(previous);
        // The first chunk's progress (and a cancel made there) comes before the second is sent.
        if (k === 0) {
          inFlight = undefined;
          await finish(next);
          this.msPerSample.set(speedKey, (performance.now() - started) / n);
        }
      }
      if (inFlight) await finish(inFlight);
      inFlight = undefined;
    } finally {
      // A chunk still in flight (after a cancel or an error) must finish mapping before its
      // buffers can be used again.
      await inFlight?.done.catch(() => undefined);
    }
    throwIfAborted(opts.signal);
    return out;
  }

  /**
   * Samples in chunk k: as many as take about `chunkMs` at the speed measured for this call shape
   * (at most the capacity the device limits allow). Before any measurement, a first chunk of a
   * few samples measures it.
   */
  private chunkSize(speedKey: string, k: number): number {
    const ms = this.msPerSample.get(speedKey);
    if (ms === undefined) return k === 0 ? FIRST_CHUNK : Infinity;
    return Math.max(1, Math.floor((this.opts.chunkMs ?? 250) / ms));
  }

  /** The workspace for (mode, T) with room for min(B, capacity) samples, reusing one if it is big enough. */
  private workspace(mode: Mode, T: number, B: number): Workspace {
    const key = `${mode}:T=${T}`;
    const i = this.workspaces.findIndex((w) => w.key === key);
    const plan = i >= 0 ? this.workspaces[i].plan : buildPlan(this.config, T, mode, this.gemm);
    const { slotOf, slotPerSample } = assignSlots(plan);
    const want = Math.min(B, this.capacity(plan, slotPerSample));
    if (i >= 0) {
      const ws = this.workspaces[i];
      this.workspaces.splice(i, 1);
      if (ws.cap >= want) {
        this.workspaces.unshift(ws); // most recently used first
        return ws;
      }
      destroyWorkspace(ws);
    }
    const ws = this.createWorkspace(key, plan, slotOf, slotPerSample, want);
    this.workspaces.unshift(ws);
    // Keep two workspaces (say, forward and Jacobian at one T); free older ones.
    for (const old of this.workspaces.splice(2)) destroyWorkspace(old);
    return ws;
  }

  /** Samples per chunk: every buffer within the per-buffer limit, all within the workspace budget. */
  private capacity(plan: Plan, slotPerSample: number[]): number {
    const L = this.context.device.limits;
    const maxBuffer = Math.min(
      this.opts.maxBufferBytes ?? 256 * MiB,
      L.maxStorageBufferBindingSize,
      L.maxBufferSize,
    );
    const maxTotal = this.opts.maxWorkspaceBytes ?? 512 * MiB;
    const largest = Math.max(...slotPerSample) * 4;
    // The slots, and two of each: staging (out), upload (x and p).
    const perSample = (name: 'out' | 'x' | 'p') => plan.buffers[plan[name]].perSample;
    const total =
      (slotPerSample.reduce((a, b) => a + b, 0) + 2 * (perSample('out') + perSample('x') + perSample('p'))) *
      4;
    if (largest > maxBuffer) {
      throw new WebGpuError(
        `one sample at T = ${plan.T} needs a ${(largest / MiB).toFixed(1)} MiB buffer for the ${plan.mode === 'jacobian' ? 'Jacobian' : 'forward pass'}, more than this WebGPU device allows in one buffer (${(maxBuffer / MiB).toFixed(1)} MiB); use the CPU backend`,
      );
    }
    let cap = Math.min(Math.floor(maxBuffer / largest), Math.max(1, Math.floor(maxTotal / total)));
    if (this.opts.maxChunkSamples !== undefined)
      cap = Math.min(cap, Math.max(1, Math.floor(this.opts.maxChunkSamples)));
    return Math.max(1, cap);
  }

  private createWorkspace(
    key: string,
    plan: Plan,
    slotOf: number[],
    slotPerSample: number[],
    cap: number,
  ): Workspace {
    const device = this.context.device;
    const P = this.config.inp_dim_scalar;
    const slots = slotPerSample.map((e, i) =>
      device.createBuffer({
        label: `${key} slot ${i}`,
        size: Math.max(16, align4(e * cap * 4)),
        usage: STORAGE,
      }),
    );
    const outBytes = plan.buffers[plan.out].perSample * cap * 4;
    const stagingBuffer = (i: number) =>
      device.createBuffer({
        label: `${key} read-back ${i}`,
        size: Math.max(16, align4(outBytes)),
        usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
      });
    const staging: [GPUBuffer, GPUBuffer] = [stagingBuffer(0), stagingBuffer(1)];
    if (plan.eye !== undefined) {
      // The seed ∂p/∂p: [cap, P, P], an identity per sample (the first n samples serve any chunk).
      const eye = new Float32Array(cap * P * P);
      for (let b = 0; b < cap; b++) for (let k = 0; k < P; k++) eye[(b * P + k) * P + k] = 1;
      device.queue.writeBuffer(slots[slotOf[plan.eye]], 0, eye);
    }
    const bases = this.basesFor(plan.T);
    const resolve = (r: BufRef): GPUBuffer => {
      switch (r.t) {
        case 'work':
          return slots[slotOf[r.id]];
        case 'weight': {
          const b = this.weights.get(r.name);
          if (!b) throw new Error(`internal: weight ${r.name} not uploaded`);
          return b;
        }
        case 'basis':
          return bases[r.which];
        case 'dummy':
          return this.dummy;
        case 'dummyOut':
          return this.dummyOut;
      }
    };
    const dispatches: Dispatch[] = plan.steps.map((s, i) => {
      const pipeline = this.pipelines[s.kernel];
      if (!pipeline) throw new Error(`internal: the kernel '${s.kernel}' was not compiled for this model`);
      const uniform = device.createBuffer({
        label: `${key} ${i} ${s.label}`,
        size: UNIFORM_BYTES,
        usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      });
      const bindGroup = device.createBindGroup({
        label: `${key} ${i} ${s.label}`,
        layout: pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: uniform } },
          ...s.bindings.map((r, k) => ({ binding: k + 1, resource: { buffer: resolve(r) } })),
        ],
      });
      return { pipeline, bindGroup, uniform, params: s.params, grid: [0, 0] };
    });
    // getMappedRange wants offsets in multiples of 8.
    const pOffset = Math.ceil((plan.buffers[plan.x].perSample * cap * 4) / 8) * 8;
    const uploadBuffer = (i: number) =>
      device.createBuffer({
        label: `${key} upload ${i}`,
        size: Math.max(16, pOffset + plan.buffers[plan.p].perSample * cap * 4),
        usage: BufferUsage.MAP_WRITE | BufferUsage.COPY_SRC,
        mappedAtCreation: true,
      });
    const upload: [GPUBuffer, GPUBuffer] = [uploadBuffer(0), uploadBuffer(1)];
    const bytes = slots.reduce((a, b) => a + b.size, 0) + 2 * staging[0].size + 2 * upload[0].size;
    return { key, plan, cap, slots, slotOf, staging, upload, pOffset, dispatches, lastN: -1, bytes };
  }

  private basesFor(T: number): { forward: GPUBuffer; inverse: GPUBuffer } {
    let b = this.bases.get(T);
    if (!b) {
      const { forward, inverse } = dftBases(T, this.config.modes);
      b = {
        forward: this.upload(`rfft basis T=${T}`, forward),
        inverse: this.upload(`irfft basis T=${T}`, inverse),
      };
      // Bases of lengths no workspace uses any more are dropped (they are rebuilt in milliseconds).
      for (const [t, old] of this.bases) {
        if (!this.workspaces.some((w) => w.plan.T === t)) {
          old.forward.destroy();
          old.inverse.destroy();
          this.bases.delete(t);
        }
      }
      this.bases.set(T, b);
    }
    return b;
  }

  private uploadWeights(tensors: Map<string, HostTensor>): void {
    const c = this.config;
    const get = (name: string) => tensors.get(name)!;
    const linear = (prefix: string, gpuName: string) => {
      const w = get(`${prefix}.weight`);
      this.weights.set(
        weightW(gpuName),
        this.upload(`${prefix}.weight`, gemmWeightsToGpu(w.data, w.shape[0], w.shape[1])),
      );
      this.weights.set(
        weightBias(gpuName),
        this.upload(`${prefix}.bias`, gemmBiasToGpu(get(`${prefix}.bias`).data)),
      );
    };
    linear('linear_p', 'linear_p');
    linear('linear_scalar', 'linear_scalar');
    for (let i = 0; i < c.layers; i++) {
      linear(`lin${i}`, `lin${i}`);
      const s = get(`spect${i + 1}.weights1`);
      const m = mixWeightsToGpu(s.data, s.imag!, s.shape[0], s.shape[1], s.shape[2]);
      this.weights.set(weightMixRe(i), this.upload(`spect${i + 1} re`, m.re));
      this.weights.set(weightMixIm(i), this.upload(`spect${i + 1} im`, m.im));
    }
    linear('linear_q', 'linear_q');
    linear('output_layer', 'output_layer');
  }

  private upload(label: string, data: Float32Array): GPUBuffer {
    const device = this.context.device;
    const size = Math.max(16, align4(data.byteLength));
    const limit = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
    if (size > limit) {
      throw new WebGpuError(
        `${label} needs ${(size / MiB).toFixed(1)} MiB, more than this WebGPU device allows in one buffer (${(limit / MiB).toFixed(1)} MiB)`,
      );
    }
    const b = device.createBuffer({ label, size, usage: STORAGE, mappedAtCreation: true });
    new Float32Array(b.getMappedRange()).set(data);
    b.unmap();
    return b;
  }

  private checkAlive(): void {
    if (this.disposed) throw new WebGpuError('this WebGPU backend has been disposed');
    this.context.checkAlive();
  }
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Open a device on `gpu` and build the model on it; the backend owns the device and releases it
 * on dispose. Null when `gpu` has no adapter.
 */
export async function createWebGpuBackend(
  gpu: GPU,
  config: FnoConfig,
  tensors: Map<string, HostTensor>,
  opts: WebGpuBackendOptions & WebGpuContextOptions = {},
): Promise<WebGpuBackend | null> {
  const ctx = await WebGpuContext.create(gpu, opts);
  if (!ctx) return null;
  try {
    return await WebGpuBackend.create(ctx, config, tensors, opts, true);
  } catch (e) {
    ctx.destroy();
    throw e;
  }
}
