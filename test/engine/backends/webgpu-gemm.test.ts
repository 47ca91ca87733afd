// The two WebGPU GEMM kernels (kernel-gemm.ts) on the adapter Dawn finds (SwiftShader here): the tiled one
// gives the flat one's bits on every shape (edges of the 64×64 tiles and of the 16-deep k steps, strided and
// offset A and C, bias), both close to a float64 product; and how an adapter's kernel is chosen.
import { afterAll, describe, expect, it } from 'vitest';
import { WebGpuContext } from '../../../src/engine/backends/webgpu/context';
import { chooseGemm, measureGemm } from '../../../src/engine/backends/webgpu/gemm-choice';
import {
  GEMM_TILED_WGSL,
  GEMM_WGSL,
  type GemmVariant,
  gemmBiasToGpu,
  gemmParams,
  gemmWeightsToGpu,
} from '../../../src/engine/backends/webgpu/kernel-gemm';
import {
  BufferUsage,
  UNIFORM_BYTES,
  dispatchGrid,
  packWords,
} from '../../../src/engine/backends/webgpu/wgsl-common';
import { randn, rng } from '../helpers';
import { nodeGpuWithAdapter } from '../webgpu-node';

const probe = await nodeGpuWithAdapter();
const context = 'gpu' in probe ? await WebGpuContext.create(probe.gpu) : null;
if (!context)
  console.warn(
    `[webgpu-gemm.test] WebGPU GEMM tests did not run: ${'reason' in probe ? probe.reason : 'no adapter'}`,
  );
afterAll(() => context?.destroy());

interface Case {
  rows: number;
  K: number;
  N: number;
  lda?: number;
  aOff?: number;
  ldc?: number;
  cOff?: number;
  bias: boolean;
}

/** C as the kernel leaves it (every cell of the C buffer, the untouched ones included). */
async function run(
  ctx: WebGpuContext,
  variant: GemmVariant,
  c: Case,
  A: Float32Array,
  weight: Float64Array,
  b: Float64Array,
) {
  const device = ctx.device;
  const pipeline = await ctx.pipeline(variant === 'tiled' ? 'gemm-tiled' : 'gemm', 'tanh');
  const buf = (data: Float32Array, usage: number) => {
    const g = device.createBuffer({
      size: Math.max(16, data.byteLength),
      usage: usage | BufferUsage.COPY_DST,
    });
    device.queue.writeBuffer(g, 0, data as Float32Array<ArrayBuffer>);
    return g;
  };
  const ldc = c.ldc ?? c.N;
  const cLen = (c.cOff ?? 0) + c.rows * ldc + 3;
  const Cinit = new Float32Array(cLen).fill(-7);
  const gA = buf(A, BufferUsage.STORAGE);
  const gW = buf(gemmWeightsToGpu(weight, c.N, c.K), BufferUsage.STORAGE);
  const gB = buf(gemmBiasToGpu(b), BufferUsage.STORAGE);
  const gC = buf(Cinit, BufferUsage.STORAGE | BufferUsage.COPY_SRC);
  const read = device.createBuffer({
    size: Cinit.byteLength,
    usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
  });
  const { words, threads } = gemmParams(c, variant);
  const uni = device.createBuffer({ size: UNIFORM_BYTES, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  device.queue.writeBuffer(uni, 0, packWords(words));
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [uni, gA, gW, gB, gC].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  const [gx, gy] = dispatchGrid(threads, device.limits.maxComputeWorkgroupsPerDimension);
  pass.dispatchWorkgroups(gx, gy);
  pass.end();
  enc.copyBufferToBuffer(gC, 0, read, 0, Cinit.byteLength);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(0x0001);
  const out = new Float32Array(read.getMappedRange().slice(0));
  read.unmap();
  for (const g of [gA, gW, gB, gC, read, uni]) g.destroy();
  return out;
}

describe.skipIf(!context)('WebGPU GEMM kernels', () => {
  const ctx = context!;
  const cases: Case[] = [
    { rows: 1, K: 1, N: 1, bias: false },
    { rows: 5, K: 7, N: 3, bias: true },
    { rows: 64, K: 16, N: 64, bias: true },
    { rows: 65, K: 17, N: 65, bias: false },
    { rows: 130, K: 64, N: 15, bias: true },
    { rows: 301, K: 128, N: 70, lda: 131, aOff: 5, ldc: 75, cOff: 3, bias: true },
    { rows: 1000, K: 20, N: 64, bias: true },
  ];
  it.each(cases)('tiled = flat to the bit, both near float64: $rows×$K×$N', async (c) => {
    const r = rng(c.rows * 31 + c.K * 7 + c.N);
    const lda = c.lda ?? c.K;
    const A = Float32Array.from(randn(r, (c.aOff ?? 0) + c.rows * lda));
    const weight = randn(r, c.N * c.K).map(Math.fround);
    const b = randn(r, c.N).map(Math.fround);
    const flat = await run(ctx, 'flat', c, A, weight, b);
    const tiled = await run(ctx, 'tiled', c, A, weight, b);
    expect(Array.from(tiled)).toEqual(Array.from(flat));
    const ldc = c.ldc ?? c.N;
    let worst = 0;
    for (let i = 0; i < c.rows; i++)
      for (let j = 0; j < c.N; j++) {
        let ref = c.bias ? b[j] : 0;
        let scale = Math.abs(ref);
        for (let k = 0; k < c.K; k++) {
          const v = A[(c.aOff ?? 0) + i * lda + k] * weight[j * c.K + k];
          ref += v;
          scale += Math.abs(v);
        }
        worst = Math.max(worst, Math.abs(flat[(c.cOff ?? 0) + i * ldc + j] - ref) / scale);
      }
    expect(worst).toBeLessThan(1e-5);
    // Only the product's cells were written.
    const written = new Set<number>();
    for (let i = 0; i < c.rows; i++) for (let j = 0; j < c.N; j++) written.add((c.cOff ?? 0) + i * ldc + j);
    for (let i = 0; i < tiled.length; i++) if (!written.has(i)) expect(tiled[i]).toBe(-7);
  });

  it('a software adapter runs the flat kernel without measuring; both kernels can be timed', async () => {
    expect(ctx.adapter.software).toBe(true); // SwiftShader here
    const choice = await chooseGemm(ctx);
    expect(choice).toMatchObject({ variant: 'flat' });
    expect(choice.reason).toMatch(/software adapter/);
    const ms = await measureGemm(ctx, 256);
    expect(ms.flat).toBeGreaterThan(0);
    expect(ms.tiled).toBeGreaterThan(0);
    expect(GEMM_TILED_WGSL).not.toBe(GEMM_WGSL);
  });
});
