/**
 * Runs a tape (graph/lower/tape.ts) on WebGPU in float32: the semantics of run-tape.ts, the
 * float64 reference. One runner holds a tape's buffers for chunks of n samples; everything that
 * does not change between runs — buffers, constants, the seed, pipelines, bind groups, parameter
 * blocks — is made once in `create`, so a run is an upload, one command buffer and a read-back.
 */
import { readsOf, writesOf, type Rec, type Tape } from '../../graph/lower/tape';
import { errText, WebGpuError, type WebGpuContext } from './context';
import { contractKernel, contractShape, ewiseKernel, type KernelPlan, viewRange } from './tape-wgsl-kernels';
import { gemmDims, gemmKernel, gemmWorthTiling } from './tape-wgsl-gemm';
import { planSlots } from './tape-slots';
import { BufferUsage, dispatchGrid, MapModeRead } from './wgsl-common';

type Values = Float64Array | Float32Array;

interface Step {
  readonly pipeline: GPUComputePipeline;
  readonly bindGroup: GPUBindGroup;
  readonly grid: [number, number];
  /** Slots to clear before this step (a later tenant starting at zero: tape-slots.ts). */
  readonly clear: readonly { buf: GPUBuffer; bytes: number }[];
}

/**
 * An output buffer's read-back: two staging buffers (runs take turns, so one run's read-back
 * overlaps the next run's work) and its values per sample.
 */
interface Readback {
  readonly buf: number;
  readonly staging: [GPUBuffer, GPUBuffer];
  readonly perSample: number;
}

export interface TapeRunnerOptions {
  /**
   * The kernel of GEMM-shaped contractions (tape-wgsl-gemm.ts): 'auto' tiles those big enough
   * for it to pay (a higher bar on software adapters: gemmWorthTiling); 'tiled' and 'generic'
   * force one (for tests and measurements).
   */
  readonly gemm?: 'auto' | 'tiled' | 'generic';
}

/** Uniform blocks sit at multiples of this (WebGPU's minUniformBufferOffsetAlignment is at most 256). */
const UNIFORM_ALIGN = 256;

export class TapeRunner {
  private destroyed = false;
  /** Runs are submitted one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  /** The staging set the next run uses, and each set's read-back in flight. */
  private turn = 0;
  private readonly reading: [Promise<void> | null, Promise<void> | null] = [null, null];

  private constructor(
    private readonly ctx: WebGpuContext,
    private readonly tape: Tape,
    readonly n: number,
    private readonly gpu: GPUBuffer[],
    /** Buffers a record overwrites that must start each run as created, and their pristine copies. */
    private readonly restore: [buf: number, pristine: GPUBuffer][],
    private readonly uniforms: GPUBuffer,
    private readonly steps: Step[],
    private readonly y: Readback,
    private readonly J: Readback | null,
    /** Float32 scratch per input buffer (the chunk's values, zero-padded). */
    private readonly scratch: Map<number, Float32Array>,
  ) {}

  /**
   * Check `tape` against the device's limits, create its buffers (constants and the seed
   * uploaded), compile its kernels and bind them. Throws an Error naming the buffer or record
   * that does not fit, and a WebGpuError for what WebGPU itself rejects.
   */
  static async create(
    ctx: WebGpuContext,
    tape: Tape,
    n: number,
    P: number,
    opts: TapeRunnerOptions = {},
  ): Promise<TapeRunner> {
    ctx.checkAlive();
    const device = ctx.device;
    const lim = device.limits;
    const maxBytes = Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize);
    tape.bufs.forEach((b, k) => {
      const bytes = b.len * 4;
      if (bytes > maxBytes)
        throw new Error(
          `tape buffer ${k} (${b.op}) needs ${bytes} bytes, more than this WebGPU device allows in one buffer (${maxBytes}: maxStorageBufferBindingSize ${lim.maxStorageBufferBindingSize}, maxBufferSize ${lim.maxBufferSize})`,
        );
      if (b.init.k === 'seed' && b.len !== P * n * P)
        throw new Error(`internal: the seed has ${b.len} values, not P·n·P = ${P * n * P}`);
      if (b.init.k === 'input' && b.len % n !== 0)
        throw new Error(`internal: input ${b.init.name} has ${b.len} values, not a multiple of n = ${n}`);
      if (b.init.k === 'const' && b.init.data.length !== b.len)
        throw new Error(
          `internal: tape buffer ${k} (${b.op}) has ${b.init.data.length} constants, not ${b.len}`,
        );
    });
    for (const [k, b] of [[tape.y, 'y'] as const, [tape.J, 'J'] as const]) {
      if (k === null) continue;
      const buf = tape.bufs[k];
      if (buf.init.k !== 'output' || buf.len % n !== 0)
        throw new Error(`internal: the tape's ${b} is not an output of n = ${n} samples`);
    }
    const maxBindings = lim.maxStorageBuffersPerShaderStage;
    const plans = tape.recs.map((r, k) => {
      checkRanges(tape, r, k);
      try {
        if (r.kind === 'ewise') return ewiseKernel(r, maxBindings);
        const cs = contractShape(r);
        if (!cs) return null;
        const g = gemmDims(cs);
        const mode = opts.gemm ?? 'auto';
        const tiled = mode === 'tiled' || (mode === 'auto' && gemmWorthTiling(cs, g, ctx.adapter.software));
        return g && tiled ? gemmKernel(r, cs, g, maxBindings) : contractKernel(r, cs, maxBindings);
      } catch (e) {
        throw new Error(`tape record ${k} (${r.op}): ${errText(e)}`);
      }
    });

    const written = new Set<number>();
    for (const r of tape.recs) writesOf(r).forEach((o) => written.add(o.buf));

    const made: GPUBuffer[] = [];
    const buffer = (size: number, usage: number, label: string) => {
      const g = device.createBuffer({ size: Math.max(16, Math.ceil(size / 4) * 4), usage, label });
      made.push(g);
      return g;
    };
    try {
      return await scoped(device, 'could not set up the tape on WebGPU', async () => {
        const usage = BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC;
        // Buffers a run makes share slots where their lives do not overlap (tape-slots.ts).
        const plan = planSlots(tape);
        const slots = plan.slotLen.map((len, k) => buffer(len * 4, usage, `tape slot ${k}`));
        const gpu = tape.bufs.map((b, k) =>
          plan.slotOf[k] >= 0 ? slots[plan.slotOf[k]] : buffer(b.len * 4, usage, `tape ${k} (${b.op})`),
        );
        const restore: [number, GPUBuffer][] = [];
        tape.bufs.forEach((b, k) => {
          let data: Float32Array | undefined;
          if (b.init.k === 'const') data = Float32Array.from(b.init.data);
          if (b.init.k === 'seed') data = seed(n, P);
          if (!data) return;
          device.queue.writeBuffer(gpu[k], 0, data as Float32Array<ArrayBuffer>);
          if (written.has(k)) {
            const pristine = buffer(b.len * 4, BufferUsage.COPY_SRC | BufferUsage.COPY_DST, `pristine ${k}`);
            device.queue.writeBuffer(pristine, 0, data as Float32Array<ArrayBuffer>);
            restore.push([k, pristine]);
          }
        });
        const indexed = plans.map((p, k) => [p, k] as const);
        const liveAt = indexed.filter(
          (e): e is readonly [KernelPlan, number] => e[0] !== null && e[0].threads > 0,
        );
        const live = liveAt.map(([p]) => p);
        // Each planned clear goes before the first step at or after its record.
        const clears = [...plan.clearBefore].sort((x, y) => x[0] - y[0]);
        const clearsFor = (k: number, prev: number) =>
          clears
            .filter(([i]) => i > prev && i <= k)
            .flatMap(([, cs]) => cs.map((c) => ({ buf: slots[c.slot], bytes: c.len * 4 })));
        // Every record's parameter block in one buffer, each at a multiple of UNIFORM_ALIGN.
        const offsets: number[] = [];
        let end = 0;
        for (const p of live) {
          offsets.push(end);
          end += Math.ceil(p.params.byteLength / UNIFORM_ALIGN) * UNIFORM_ALIGN;
        }
        const uniforms = buffer(end, BufferUsage.UNIFORM | BufferUsage.COPY_DST, 'tape parameters');
        const pipelines = await Promise.all(live.map((p) => ctx.pipelineFor(p.wgsl, p.wgsl)));
        const maxDim = lim.maxComputeWorkgroupsPerDimension;
        const steps = live.map((p, k): Step => {
          device.queue.writeBuffer(uniforms, offsets[k], p.params);
          const entries: GPUBindGroupEntry[] = [
            { binding: 0, resource: { buffer: uniforms, offset: offsets[k], size: p.params.byteLength } },
            ...p.bufs.map((b, j) => ({ binding: j + 1, resource: { buffer: gpu[b] } })),
          ];
          const layout = pipelines[k].getBindGroupLayout(0);
          const bindGroup = device.createBindGroup({ layout, entries });
          const clear = clearsFor(liveAt[k][1], k > 0 ? liveAt[k - 1][1] : -1);
          return { pipeline: pipelines[k], bindGroup, grid: dispatchGrid(p.threads, maxDim), clear };
        });
        const staging = (k: number, name: string) =>
          buffer(tape.bufs[k].len * 4, BufferUsage.MAP_READ | BufferUsage.COPY_DST, `read ${name}`);
        const readback = (k: number, name: string): Readback => ({
          buf: k,
          staging: [staging(k, name), staging(k, name)],
          perSample: tape.bufs[k].len / n,
        });
        const scratch = new Map<number, Float32Array>();
        tape.bufs.forEach((b, k) => b.init.k === 'input' && scratch.set(k, new Float32Array(b.len)));
        const J = tape.J === null ? null : readback(tape.J, 'J');
        return new TapeRunner(ctx, tape, n, gpu, restore, uniforms, steps, readback(tape.y, 'y'), J, scratch);
      });
    } catch (e) {
      for (const g of made) g.destroy();
      throw e;
    }
  }

  /**
   * Run the tape on one chunk: `inputs` by name, each [samples, ...] (samples ≤ n; the rest of
   * the chunk is zeros), and read the first `samples` samples of y (and of J, when the tape has one
   * and out.J is given) into `out`.
   */
  async run(
    inputs: ReadonlyMap<string, Values>,
    out: { y?: Values; J?: Values },
    samples = this.n,
  ): Promise<void> {
    const { done } = await this.start(inputs, out, samples);
    await done;
  }

  /**
   * Submit a run (as `run`) and resolve once its work is queued on the GPU, with `done` for its
   * read-back: the caller may start the next run meanwhile, and the GPU computes it while this one's
   * results are copied out. The inputs are copied at submission.
   */
  start(
    inputs: ReadonlyMap<string, Values>,
    out: { y?: Values; J?: Values },
    samples = this.n,
  ): Promise<{ done: Promise<void> }> {
    const p = this.queue.then(async () => {
      const set = this.turn;
      this.turn ^= 1;
      // the staging buffers of this set are free once the run that used them last is read back
      await this.reading[set]?.catch(() => undefined);
      const { done } = await this.submit(inputs, out, samples, set);
      done.catch(() => undefined); // awaited by the caller
      this.reading[set] = done;
      return { done };
    });
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Upload, encode and submit one run; `done` reads its results back. */
  private async submit(
    inputs: ReadonlyMap<string, Values>,
    out: { y?: Values; J?: Values },
    samples: number,
    set: number,
  ): Promise<{ done: Promise<void> }> {
    if (this.destroyed) throw new Error('the tape runner has been destroyed');
    this.ctx.checkAlive();
    if (!Number.isInteger(samples) || samples < 0 || samples > this.n)
      throw new Error(`a tape run takes 0 to ${this.n} samples, not ${samples}`);
    const reads: [Readback, Values][] = [];
    if (out.y) reads.push([this.y, out.y]);
    if (out.J && this.J) reads.push([this.J, out.J]);
    for (const [r, arr] of reads)
      if (arr.length < samples * r.perSample)
        throw new Error(`an output array holds ${arr.length} values, ${samples * r.perSample} are needed`);
    const { device } = this.ctx;
    const bufs = this.tape.bufs;
    for (const [k, f32] of this.scratch) {
      const init = bufs[k].init;
      const name = init.k === 'input' ? init.name : '';
      const v = inputs.get(name);
      const want = samples * (bufs[k].len / this.n);
      if (!v) throw new Error(`the tape needs the input '${name}'`);
      if (v.length !== want)
        throw new Error(`input '${name}' has ${v.length} values; ${samples} samples of it are ${want}`);
      f32.set(v);
      f32.fill(0, want);
    }

    await scoped(device, 'a WebGPU tape run failed', () => {
      for (const [k, f32] of this.scratch)
        device.queue.writeBuffer(this.gpu[k], 0, f32 as Float32Array<ArrayBuffer>);
      const enc = device.createCommandEncoder({ label: 'tape' });
      const cleared = new Set<GPUBuffer>();
      bufs.forEach((b, k) => {
        if ((b.init.k === 'zero' || b.init.k === 'output') && !cleared.has(this.gpu[k])) {
          cleared.add(this.gpu[k]);
          enc.clearBuffer(this.gpu[k]);
        }
      });
      for (const [k, pristine] of this.restore)
        enc.copyBufferToBuffer(pristine, 0, this.gpu[k], 0, this.gpu[k].size);
      let pass = enc.beginComputePass({ label: 'tape' });
      for (const s of this.steps) {
        if (s.clear.length) {
          // a slot's next tenant starts at zero: clearing is a command of its own, between passes
          pass.end();
          for (const c of s.clear) enc.clearBuffer(c.buf, 0, c.bytes);
          pass = enc.beginComputePass({ label: 'tape' });
        }
        pass.setPipeline(s.pipeline);
        pass.setBindGroup(0, s.bindGroup);
        pass.dispatchWorkgroups(s.grid[0], s.grid[1]);
      }
      pass.end();
      for (const [r] of reads) {
        const bytes = samples * r.perSample * 4;
        if (bytes > 0) enc.copyBufferToBuffer(this.gpu[r.buf], 0, r.staging[set], 0, bytes);
      }
      device.queue.submit([enc.finish()]);
    });
    const done = (async () => {
      for (const [r, arr] of reads) {
        const count = samples * r.perSample;
        if (count === 0) continue;
        const staging = r.staging[set];
        try {
          await staging.mapAsync(MapModeRead, 0, count * 4);
        } catch (e) {
          throw new WebGpuError(`WebGPU read-back failed: ${errText(e)}`);
        }
        try {
          arr.set(new Float32Array(staging.getMappedRange(0, count * 4)));
        } finally {
          staging.unmap();
        }
      }
    })();
    return { done };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const g of new Set(this.gpu)) g.destroy();
    for (const [, g] of this.restore) g.destroy();
    this.uniforms.destroy();
    for (const r of [this.y, this.J]) r?.staging.forEach((g) => g.destroy());
  }
}

/** The tangent seed [P, n, P]: the identity in every sample. */
function seed(n: number, P: number): Float32Array {
  const eye = new Float32Array(P * n * P);
  for (let k = 0; k < P; k++) for (let s = 0; s < n; s++) eye[(k * n + s) * P + k] = 1;
  return eye;
}

/** Every view of a record must stay inside its buffer (a GPU would clamp, not fail). */
function checkRanges(tape: Tape, r: Rec, k: number): void {
  if (r.shape.some((d) => d === 0)) return;
  const views = [...readsOf(r), ...writesOf(r)];
  for (const v of views) {
    const buf = tape.bufs[v.buf];
    if (!buf || v.strides.length !== r.shape.length)
      throw new Error(`internal: tape record ${k} (${r.op}) has a malformed view of buffer ${v.buf}`);
    const [lo, hi] = viewRange(r.shape, v);
    if (lo < 0 || hi >= buf.len)
      throw new Error(
        `internal: tape record ${k} (${r.op}) reaches elements ${lo}..${hi} of buffer ${v.buf} (${buf.op}), which has ${buf.len}`,
      );
  }
}

/** Run `f` inside validation, out-of-memory and internal error scopes; the first error is thrown. */
async function scoped<T>(device: GPUDevice, what: string, f: () => T | Promise<T>): Promise<T> {
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  let result: { ok: true; v: T } | { ok: false; e: unknown };
  try {
    result = { ok: true, v: await f() };
  } catch (e) {
    result = { ok: false, e };
  }
  const errs = await Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
  const err = errs.find((e): e is GPUError => e !== null);
  if (err) throw new WebGpuError(`${what}: ${err.message}`);
  if (!result.ok) throw result.e;
  return result.v;
}
