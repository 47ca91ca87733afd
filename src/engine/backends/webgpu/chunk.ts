/**
 * A WebGPU workspace (one plan's buffers, bind groups and parameter blocks for chunks of up to
 * `cap` samples) and what happens to one chunk in it: upload, dispatches, read-back.
 */
import type { OutputArray } from '../backend';
import { errText, WebGpuError } from './context';
import type { Plan } from './plan';
import { dispatchGrid, MapModeRead, MapModeWrite, packWords } from './wgsl-common';

/** One compiled step: its pipeline, bind group and parameter block. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  uniform: GPUBuffer;
  params: Plan['steps'][number]['params'];
  grid: [number, number];
}

/** A plan's buffers for chunks of up to `cap` samples, kept between calls. */
export interface Workspace {
  key: string;
  plan: Plan;
  cap: number;
  slots: GPUBuffer[];
  slotOf: number[];
  /** Two read-back buffers: one chunk is copied out of one while the next computes into the other. */
  staging: [GPUBuffer, GPUBuffer];
  /**
   * Two upload buffers, [x | p] of a chunk in float32, taking turns like the staging buffers.
   * Each is mapped again as soon as its chunk is done, so the next chunk converts x straight into
   * mapped memory: no Dawn-internal staging copy, no fresh host memory per call.
   */
  upload: [GPUBuffer, GPUBuffer];
  /** Offset of p in an upload buffer, in bytes. */
  pOffset: number;
  dispatches: Dispatch[];
  /** Chunk size the parameter blocks were last written for. */
  lastN: number;
  bytes: number;
}

/** Where a call's time went, in ms summed over its chunks (see WebGpuBackend.timings). */
export type Timings = ReturnType<typeof newTimings>;

/**
 * Upload chunk k (through upload buffer k % 2) and submit every step in one compute pass plus
 * the copy of its output into staging buffer k % 2. Returns the read-back: a function whose
 * promise resolves once the output is in `out` and the upload buffer is mapped again.
 */
export async function submitChunk(
  device: GPUDevice,
  ws: Workspace,
  k: number,
  x: Float64Array,
  p: Float64Array,
  n: number,
  out: OutputArray,
  timings: Timings,
): Promise<() => Promise<void>> {
  const { plan } = ws;
  const q = device.queue;
  const upload = ws.upload[k % 2];
  const staging = ws.staging[k % 2];
  // Mapped again by chunk k-2's read-back, which has finished; unmapped only if a call ended
  // on an error between the two.
  if (upload.mapState !== 'mapped') await upload.mapAsync(MapModeWrite);
  const t0 = performance.now();
  const xBytes = x.length * 4;
  const pBytes = p.length * 4;
  new Float32Array(upload.getMappedRange(0, xBytes)).set(x);
  new Float32Array(upload.getMappedRange(ws.pOffset, pBytes)).set(p);
  upload.unmap();
  if (ws.lastN !== n) {
    const maxDim = device.limits.maxComputeWorkgroupsPerDimension;
    for (const d of ws.dispatches) {
      const { words, threads } = d.params(n);
      q.writeBuffer(d.uniform, 0, packWords(words));
      d.grid = dispatchGrid(threads, maxDim);
    }
    ws.lastN = n;
  }
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  device.pushErrorScope('internal');
  const enc = device.createCommandEncoder({ label: ws.key });
  enc.copyBufferToBuffer(upload, 0, ws.slots[ws.slotOf[plan.x]], 0, xBytes);
  enc.copyBufferToBuffer(upload, ws.pOffset, ws.slots[ws.slotOf[plan.p]], 0, pBytes);
  const pass = enc.beginComputePass({ label: ws.key });
  for (const d of ws.dispatches) {
    if (d.grid[0] === 0) continue;
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(d.grid[0], d.grid[1]);
  }
  pass.end();
  const bytes = out.length * 4;
  enc.copyBufferToBuffer(ws.slots[ws.slotOf[plan.out]], 0, staging, 0, bytes);
  q.submit([enc.finish()]);
  const scopes = Promise.all([device.popErrorScope(), device.popErrorScope(), device.popErrorScope()]);
  const t1 = performance.now();
  timings.upload += t1 - t0;
  timings.chunks++;
  return async () => {
    try {
      // Map only once the queue is idle up to this chunk: on one H100 machine Dawn (Node)
      // answered a map requested while the GPU was busy late (0.5 GB back in 130 ms, against
      // 51 ms this way; bench/results/h100.md). Waiting first costs nothing elsewhere.
      await q.onSubmittedWorkDone();
      const t2 = performance.now();
      timings.gpuWait += t2 - t1;
      // Both settle before anything is thrown, so no map is left pending on either buffer.
      const maps = await Promise.allSettled([
        staging.mapAsync(MapModeRead, 0, bytes),
        upload.mapAsync(MapModeWrite),
      ]);
      const failed = maps.find((m): m is PromiseRejectedResult => m.status === 'rejected');
      if (failed) throw failed.reason;
      timings.map += performance.now() - t2;
    } catch (e) {
      const errs = await scopes.catch(() => []);
      throw new WebGpuError(`WebGPU read-back failed: ${firstError(errs) ?? errText(e)}`);
    }
    const errs = await scopes;
    try {
      const msg = firstError(errs);
      if (msg) throw new WebGpuError(`a WebGPU kernel failed: ${msg}`);
      const t3 = performance.now();
      out.set(new Float32Array(staging.getMappedRange(0, bytes)));
      timings.copyOut += performance.now() - t3;
    } finally {
      staging.unmap();
    }
  };
}

export function newTimings() {
  return { chunks: 0, upload: 0, gpuWait: 0, map: 0, copyOut: 0 };
}

export function destroyWorkspace(ws: Workspace): void {
  for (const s of ws.slots) s.destroy();
  for (const s of [...ws.staging, ...ws.upload]) s.destroy();
  for (const d of ws.dispatches) d.uniform.destroy();
}

function firstError(errs: (GPUError | null)[]): string | undefined {
  return errs.find((e): e is GPUError => e !== null)?.message;
}
