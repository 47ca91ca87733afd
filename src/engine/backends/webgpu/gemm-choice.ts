/**
 * Which GEMM kernel an adapter runs (kernel-gemm.ts): the flat one (a thread per 4×4 block) or the tiled one
 * (workgroup tiles staged in workgroup memory). Tiling is what makes a GPU's GEMM fast, and on SwiftShader it
 * was 10× slower (its barriers cost more than the reuse saves), so no fixed choice fits every adapter.
 *
 * A software adapter takes the flat kernel without measuring. Any other is measured once per context: both
 * kernels on a seed-sized product (8,192 rows × 64 × 64, the spectral layers' 1×1 convolutions at B = 64 of
 * one tangent direction's worth), the faster of their best times wins. Both give the same bits, so the choice
 * changes only the time.
 */
import type { WebGpuContext } from './context';
import { GEMM_TILED_WGSL, GEMM_WGSL, type GemmVariant, gemmParams } from './kernel-gemm';
import { BufferUsage, UNIFORM_BYTES, dispatchGrid, packWords } from './wgsl-common';

export interface GemmChoice {
  variant: GemmVariant;
  /** For people: how it was chosen ('software adapter', or the two times). */
  reason: string;
  /** Best milliseconds of each kernel, when measured. */
  ms?: Record<GemmVariant, number>;
}

/** The product measured: rows × K · K × N. */
const DEFAULT_ROWS = 8192;
const K = 64;
const N = 64;
const RUNS = 5;

/** The kernel for this context's adapter (see above). */
export async function chooseGemm(context: WebGpuContext): Promise<GemmChoice> {
  if (context.adapter.software)
    return { variant: 'flat', reason: 'software adapter: workgroup tiling costs more than it saves there' };
  const ms = await measureGemm(context);
  const variant: GemmVariant = ms.tiled < ms.flat ? 'tiled' : 'flat';
  return {
    variant,
    ms,
    reason: `measured ${DEFAULT_ROWS}×${K}×${N}: tiled ${ms.tiled.toFixed(2)} ms, flat ${ms.flat.toFixed(2)} ms`,
  };
}

/** Best wall time (submit to done) of each kernel over RUNS runs after a warm-up, in ms, on `ROWS` rows. */
export async function measureGemm(
  context: WebGpuContext,
  ROWS = DEFAULT_ROWS,
): Promise<Record<GemmVariant, number>> {
  context.checkAlive();
  const device = context.device;
  const bytes = { A: ROWS * K * 4, W: K * N * 4, C: ROWS * N * 4 };
  const storage = BufferUsage.STORAGE | BufferUsage.COPY_DST;
  const A = device.createBuffer({ label: 'gemm choice A', size: bytes.A, usage: storage });
  const W = device.createBuffer({ label: 'gemm choice W', size: bytes.W, usage: storage });
  const bias = device.createBuffer({ label: 'gemm choice bias', size: N * 4, usage: storage });
  const C = device.createBuffer({ label: 'gemm choice C', size: bytes.C, usage: BufferUsage.STORAGE });
  const uniforms: GPUBuffer[] = [];
  try {
    // Values do not change the time; zeros would let nothing be skipped anyway on a GPU.
    const fill = (buf: GPUBuffer, n: number) =>
      device.queue.writeBuffer(
        buf,
        0,
        Float32Array.from({ length: n }, (_, i) => ((i * 7) % 13) / 13),
      );
    fill(A, ROWS * K);
    fill(W, K * N);
    fill(bias, N);
    const out = {} as Record<GemmVariant, number>;
    for (const [variant, code] of [
      ['flat', GEMM_WGSL],
      ['tiled', GEMM_TILED_WGSL],
    ] as const) {
      const module = device.createShaderModule({ label: `gemm ${variant}`, code });
      const pipeline = await device.createComputePipelineAsync({
        label: `gemm ${variant}`,
        layout: 'auto',
        compute: { module, entryPoint: 'main' },
      });
      const { words, threads } = gemmParams({ rows: ROWS, N, K, bias: true }, variant);
      const uniform = device.createBuffer({
        label: 'gemm choice params',
        size: UNIFORM_BYTES,
        usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST,
      });
      uniforms.push(uniform);
      device.queue.writeBuffer(uniform, 0, packWords(words));
      const group = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [uniform, A, W, bias, C].map((buffer, binding) => ({ binding, resource: { buffer } })),
      });
      const [gx, gy] = dispatchGrid(threads, device.limits.maxComputeWorkgroupsPerDimension);
      const once = async () => {
        const enc = device.createCommandEncoder();
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(gx, gy);
        pass.end();
        const t0 = performance.now();
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        return performance.now() - t0;
      };
      await once();
      let best = Infinity;
      for (let r = 0; r < RUNS; r++) best = Math.min(best, await once());
      out[variant] = best;
    }
    return out;
  } finally {
    for (const b of [A, W, bias, C, ...uniforms]) b.destroy();
  }
}
