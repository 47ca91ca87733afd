/**
 * Any graph model on WebGPU: the model is lowered to a tape (models/lowered.ts) once per input
 * shapes and mode, and the tape runs in chunks of samples (tape-runner.ts), float32 on the GPU.
 * Nothing here knows the model: fno1d-scalar (webgpu-backend.ts) and TorchScript archives come the
 * same way.
 *
 * Chunks: the first call of a shape runs a few samples and measures them; later chunks take about
 * `chunkMs` each (so progress and cancel come that often on a slow adapter too), within the
 * device's buffer limits and the workspace budget, pipelined (the next chunk computes while the
 * last one is read back). A chunk shorter than its runner's batch is padded (samples are
 * independent, checked by the lowering).
 */
import { CancelledError, ShapeError } from '../../errors';
import type { GraphModel, InputArray } from '../../models/graph-model';
import {
  lowerGraphModel,
  lowerGraphModelAsync,
  type LoweredModel,
  type Lowering,
  type LowerMode,
} from '../../models/lowered';
import { sizeOf } from '../../graph/tensor';
import type { OutputArray } from '../backend';
import { WebGpuError, type WebGpuContext } from './context';
import { TapeRunner, type TapeRunnerOptions } from './tape-runner';
import { plannedBytes } from './tape-slots';

export interface GraphRunnerOptions {
  /** Largest single buffer, in bytes. Default: the device's limits, and at most 256 MiB. */
  maxBufferBytes?: number;
  /** All of one runner's buffers together, in bytes. Default 512 MiB. */
  maxWorkspaceBytes?: number;
  /** At most this many samples per chunk. */
  maxChunkSamples?: number;
  /** Aim for chunks of about this many milliseconds (default 250). */
  chunkMs?: number;
  /** The kernel of GEMM-shaped products (tape-runner.ts); default: chosen per adapter. */
  gemm?: TapeRunnerOptions['gemm'];
}

export interface GraphRunRequest {
  readonly inputs: ReadonlyMap<string, InputArray>;
  readonly wrt: string;
  readonly output?: number;
  readonly mode: LowerMode;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  /** Where y [B, ...] and J [B, ..., P] go (allocated as float32 when absent). */
  out?: { y?: OutputArray; J?: OutputArray };
}

export interface GraphRunResult {
  y: OutputArray;
  yShape: number[];
  J: OutputArray | null;
  jShape: number[] | null;
}

/** The lowering of one call shape, and its runners by batch. */
interface Shape {
  readonly lowered: LoweredModel;
  readonly runners: Map<number, TapeRunner>;
  /** Measured ms per sample of the last first chunk. */
  msPerSample?: number;
}

const MiB = 1024 * 1024;
/** Samples in the chunk that measures an adapter's speed. */
const FIRST_CHUNK = 4;

export class WebGpuGraphRunner {
  private readonly shapes = new Map<string, Shape>();
  /** Why a call shape cannot run here (an op with no lowering ...), by key. */
  private readonly refused = new Map<string, string>();
  private disposed = false;

  constructor(
    readonly context: WebGpuContext,
    readonly model: GraphModel,
    private readonly opts: GraphRunnerOptions = {},
  ) {}

  /**
   * Whether the model lowers for these per-sample shapes; the reason (naming the op) when not. The
   * lowering is kept for the runs that follow.
   */
  lowerFor(
    shapes: ReadonlyMap<string, readonly number[]>,
    wrt: string,
    mode: LowerMode,
    output?: number,
  ): { ok: true; lowered: LoweredModel } | { ok: false; reason: string } {
    const key = keyOf(shapes, wrt, mode, output);
    const have = this.shapes.get(key);
    if (have) return { ok: true, lowered: have.lowered };
    const no = this.refused.get(key);
    if (no !== undefined) return { ok: false, reason: no };
    return this.keep(key, lowerGraphModel(this.model, { shapes, wrt, mode, output }));
  }

  /** As lowerFor, yielding between the lowering's steps; `signal` cancels (a CancelledError). */
  async lowerForAsync(
    shapes: ReadonlyMap<string, readonly number[]>,
    wrt: string,
    mode: LowerMode,
    output?: number,
    signal?: AbortSignal,
  ): Promise<{ ok: true; lowered: LoweredModel } | { ok: false; reason: string }> {
    const key = keyOf(shapes, wrt, mode, output);
    if (this.shapes.has(key) || this.refused.has(key)) return this.lowerFor(shapes, wrt, mode, output);
    return this.keep(key, await lowerGraphModelAsync(this.model, { shapes, wrt, mode, output }, signal));
  }

  private keep(
    key: string,
    r: Lowering,
  ): { ok: true; lowered: LoweredModel } | { ok: false; reason: string } {
    if (!r.ok) {
      this.refused.set(key, r.reason);
      return r;
    }
    this.shapes.set(key, { lowered: r.model, runners: new Map() });
    return { ok: true, lowered: r.model };
  }

  async run(req: GraphRunRequest): Promise<GraphRunResult> {
    this.checkAlive();
    const B = this.model.checkInputs(req.inputs, req.wrt);
    const shapes = new Map([...req.inputs].map(([k, v]) => [k, v.shape.slice(1)]));
    const lowering = await this.lowerForAsync(shapes, req.wrt, req.mode, req.output, req.signal);
    if (!lowering.ok) throw new WebGpuError(`this model cannot run on WebGPU: ${lowering.reason}`);
    const shape = this.shapes.get(keyOf(shapes, req.wrt, req.mode, req.output))!;
    const { lowered } = lowering;
    const perY = sizeOf(lowered.yShape);
    const P = lowered.P;
    const y = outputOf(req.out?.y, B * perY, 'y');
    const J = req.mode === 'jacobian' ? outputOf(req.out?.J, B * perY * P, 'J') : null;
    const result: GraphRunResult = {
      y,
      yShape: [B, ...lowered.yShape],
      J,
      jShape: J ? [B, ...lowered.yShape, P] : null,
    };
    // Chunks are pipelined: chunk k+1 is submitted before chunk k's read-back is awaited, so the
    // GPU computes while the host copies the previous chunk out. The first chunk alone is awaited
    // at once: it measures the adapter (and a cancel made at its progress stops the rest).
    let inFlight: { done: Promise<void>; end: number } | undefined;
    const finish = async (f: { done: Promise<void>; end: number }) => {
      await f.done;
      req.onProgress?.(f.end, B);
    };
    try {
      for (let b0 = 0, k = 0; b0 < B; k++) {
        if (req.signal?.aborted) throw new CancelledError();
        this.checkAlive();
        const want = Math.min(this.chunkSize(shape, k), B - b0);
        const runner = await this.runnerFor(shape, want);
        const n = Math.min(want, runner.n);
        const inputs = new Map<string, Float64Array>();
        for (const [name, a] of req.inputs) {
          const per = a.data.length / B;
          inputs.set(name, a.data.subarray(b0 * per, (b0 + n) * per));
        }
        const started = performance.now();
        const { done } = await runner.start(
          inputs,
          {
            y: y.subarray(b0 * perY, (b0 + n) * perY),
            J: J ? J.subarray(b0 * perY * P, (b0 + n) * perY * P) : undefined,
          },
          n,
        );
        b0 += n;
        const previous = inFlight;
        inFlight = { done, end: b0 };
        if (previous) await finish(previous);
        if (k === 0) {
          const first = inFlight;
          inFlight = undefined;
          await finish(first);
          shape.msPerSample = (performance.now() - started) / n;
        }
      }
      if (inFlight) await finish(inFlight);
      inFlight = undefined;
    } finally {
      // a chunk still reading back (after a cancel or an error) finishes before its buffers serve again
      await inFlight?.done.catch(() => undefined);
    }
    if (req.signal?.aborted) throw new CancelledError();
    return result;
  }

  /** Samples per chunk a call of this shape would run at most (device limits and budget). */
  capacity(lowered: LoweredModel): number {
    const L = this.context.device.limits;
    const maxBuffer = Math.min(
      this.opts.maxBufferBytes ?? 256 * MiB,
      L.maxStorageBufferBindingSize,
      L.maxBufferSize,
    );
    const maxTotal = this.opts.maxWorkspaceBytes ?? 512 * MiB;
    let cap = Infinity;
    // Every buffer's size is affine in the batch: c + s·n bytes.
    for (const { c, s } of bufferBytes(lowered)) {
      if (c + s > maxBuffer)
        throw new WebGpuError(
          `one sample needs a ${((c + s) / MiB).toFixed(1)} MiB buffer, more than this WebGPU device allows in one buffer (${(maxBuffer / MiB).toFixed(1)} MiB); use the CPU backend`,
        );
      if (s > 0) cap = Math.min(cap, Math.floor((maxBuffer - c) / s));
    }
    if (this.opts.maxChunkSamples !== undefined)
      cap = Math.min(cap, Math.max(1, Math.floor(this.opts.maxChunkSamples)));
    cap = Math.max(1, Number.isFinite(cap) ? cap : 1 << 20);
    // The whole run within the budget, its buffers shared as the runner shares them (tape-slots.ts):
    // nearly affine in the batch, so estimated from one and two samples and checked at the estimate.
    const [t1, t2] = [plannedBytes(lowered.at(1)), plannedBytes(lowered.at(2))];
    const slope = Math.max(1, t2 - t1);
    let n = Math.min(cap, Math.max(1, Math.floor((maxTotal - (t1 - slope)) / slope)));
    while (n > 1 && plannedBytes(lowered.at(n)) > maxTotal) n = Math.floor(n * 0.9);
    return n;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.shapes.values()) for (const r of s.runners.values()) r.destroy();
    this.shapes.clear();
  }

  /** Samples in chunk k: a few to measure, then about chunkMs' worth. */
  private chunkSize(shape: Shape, k: number): number {
    const ms = shape.msPerSample;
    if (ms === undefined) return k === 0 ? FIRST_CHUNK : Infinity;
    return Math.max(1, Math.floor((this.opts.chunkMs ?? 250) / Math.max(ms, 1e-6)));
  }

  /** A runner for chunks of `want` samples (at most the capacity), reusing one that fits. */
  private async runnerFor(shape: Shape, want: number): Promise<TapeRunner> {
    const n = Math.max(1, Math.min(want, this.capacity(shape.lowered)));
    let best: TapeRunner | undefined;
    for (const r of shape.runners.values()) if (r.n >= n && (!best || r.n < best.n)) best = r;
    // A runner at most twice too big serves (its padding costs less than a new one's set-up).
    if (best && best.n <= 2 * n) return best;
    const gemm = this.opts.gemm ?? (await this.context.gemmChoice()).mode;
    const runner = await TapeRunner.create(this.context, shape.lowered.at(n), n, shape.lowered.P, { gemm });
    shape.runners.set(n, runner);
    // Keep the two most recent sizes.
    while (shape.runners.size > 2) {
      const [oldest, r] = shape.runners.entries().next().value as [number, TapeRunner];
      r.destroy();
      shape.runners.delete(oldest);
    }
    return runner;
  }

  private checkAlive(): void {
    if (this.disposed) throw new WebGpuError('this WebGPU model has been disposed');
    this.context.checkAlive();
  }
}

/** Each buffer's float32 bytes as c + s·n for a batch of n. */
export function bufferBytes(lowered: LoweredModel): { c: number; s: number }[] {
  const [one, two] = [lowered.at(1), lowered.at(2)];
  return one.bufs.map((b, i) => {
    const s = (two.bufs[i].len - b.len) * 4;
    return { c: b.len * 4 - s, s };
  });
}

function keyOf(
  shapes: ReadonlyMap<string, readonly number[]>,
  wrt: string,
  mode: LowerMode,
  output?: number,
): string {
  return JSON.stringify([mode, wrt, output ?? null, [...shapes].sort()]);
}

function outputOf(given: OutputArray | undefined, length: number, what: string): OutputArray {
  if (given === undefined) return new Float32Array(length);
  if (given.length !== length)
    throw new ShapeError(`the output for ${what} has ${given.length} values; it needs ${length}`);
  return given;
}
