/**
 * WebGPU timings of the seed configuration (T=601, Xf=20, P=14, O=15, modes=16, width=64) in Node
 * through Dawn — on SwiftShader's software Vulkan where the machine has no GPU (then the numbers
 * only show that the path works), on the real GPU where there is one (bench/device-bench.sh).
 *
 *   npx tsx bench/webgpu-bench.ts                         # B = 1, 64, 1024, 4096 within the budget
 *   npx tsx bench/webgpu-bench.ts --batches 1,64          # fewer sizes
 *   npx tsx bench/webgpu-bench.ts --budget 60             # skip sizes predicted to take longer (s)
 *   npx tsx bench/webgpu-bench.ts --cpu-batches 1,16,64   # the CPU backend side by side
 *   npx tsx bench/webgpu-bench.ts --verify test/fixtures/fno   # check against PyTorch first
 *   npx tsx bench/webgpu-bench.ts --workspaces 512,2048/128   # chunk budgets (MiB[/samples]) to compare
 *
 * Every time includes the upload of x and p and the read-back of the whole result into host
 * memory. The Jacobian is timed three ways: into a new float64 array (the default API), into a
 * new float32 array (half the bytes; the GPU computes in float32 anyway), and into one float32
 * array reused between runs (no page faults on fresh memory, as an app re-computing would have).
 * Each time is the median of up to 3 runs after a warm-up. Writes bench/results/webgpu-<adapter>.json
 * (or --json-out).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd } from '../bin/node-flags.mjs';
import { loadNodeGpu } from '../src/cli/webgpu-node';
import { CpuBackend } from '../src/engine/backends/cpu/cpu-backend';
import { measureGemm } from '../src/engine/backends/webgpu/gemm-choice';
import { WebGpuContext } from '../src/engine/backends/webgpu/context';
import { WebGpuBackend } from '../src/engine/backends/webgpu/webgpu-backend';
import { MapModeRead } from '../src/engine/backends/webgpu/wgsl-common';
import { readNpy } from '../src/engine/io/npy';
import { readSafetensors } from '../src/engine/io/safetensors';
import type { FnoConfig } from '../src/engine/models/config';
import { demoData, demoModel } from '../src/engine/models/demo';

// The CPU backend's kernels as the CLI runs them (its launcher sets the same V8 flags).
enableRelaxedSimd();

const here = fileURLToPath(new URL('.', import.meta.url));
const T = 601;
const MiB = 1024 * 1024;

interface Row {
  /** Workspace budget in MiB and, after a '/', the most samples per chunk ('default': neither set). */
  workspace_mib: string;
  B: number;
  chunk: number;
  forward_ms: number | null;
  /** Default API: a new float64 array. */
  jacobian_ms: number | null;
  jacobian_f32_ms: number | null;
  jacobian_f32_reused_ms: number | null;
  skipped?: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function time(fn: () => Promise<unknown>, budgetMs: number): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
    // One run is enough for the slow sizes: the budget is per size, not per run.
    if (ts.reduce((a, b) => a + b, 0) > budgetMs / 6) break;
  }
  return median(ts);
}

const fmt = (v: number | null | undefined, d = 1) => (v == null ? '—' : v.toFixed(d)).padStart(10);

/** WebGPU against PyTorch's float64 fixtures (max|err| / max|ref|), on this adapter. */
async function verify(ctx: WebGpuContext, dir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const rel = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    let num = 0;
    let den = 0;
    for (let i = 0; i < a.length; i++) {
      num = Math.max(num, Math.abs(a[i] - b[i]));
      den = Math.max(den, Math.abs(b[i]));
    }
    return num / den;
  };
  // The input sets with float64 references (test/fixtures/README.md): the seed case keeps no
  // batch-of-4 Jacobian, the deep case has both sets.
  const one = ['x.npy', 'p.npy', 'y_f64.npy', 'jacobian_f64.npy'];
  const four = ['x4.npy', 'p4.npy', 'y4_f64.npy', 'jacobian4_f64.npy'];
  const cases: [string, string[][]][] = [
    ['seed-fno1d', [one]],
    ['deep-fno1d', [one, four]],
  ];
  for (const [name, sets] of cases) {
    const file = (f: string) => new Uint8Array(readFileSync(join(dir, name, f)));
    const tensors = readSafetensors(file('model.safetensors'), 'model.safetensors').tensors;
    const config = JSON.parse(readFileSync(join(dir, name, 'config.json'), 'utf8')) as FnoConfig;
    const backend = await WebGpuBackend.create(ctx, config, tensors);
    try {
      for (const [xs, ps, ys, js] of sets) {
        const x = readNpy(file(xs), xs);
        const p = readNpy(file(ps), ps);
        const [B, Tx] = x.shape;
        const y = await backend.forward(x.data, p.data, B, Tx);
        const J = await backend.jacobian(x.data, p.data, B, Tx);
        out[`${name} ${xs} y`] = rel(y, readNpy(file(ys), ys).data);
        out[`${name} ${xs} J`] = rel(J, readNpy(file(js), js).data);
      }
    } finally {
      backend.dispose();
    }
  }
  return out;
}

/**
 * The read-back floor: copy a buffer of `bytes` into a mappable one, map it and copy it into a
 * reused host array — what any WebGPU program pays to bring a result of that size home.
 */
async function readbackProbe(ctx: WebGpuContext, bytes: number): Promise<{ bytes: number; ms: number }> {
  const d = ctx.device;
  const src = d.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const dst = d.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const host = new Float32Array(bytes / 4);
  try {
    const ms = await time(async () => {
      const enc = d.createCommandEncoder();
      enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
      d.queue.submit([enc.finish()]);
      await dst.mapAsync(MapModeRead, 0, bytes);
      host.set(new Float32Array(dst.getMappedRange(0, bytes)));
      dst.unmap();
    }, 60_000);
    return { bytes, ms };
  } finally {
    src.destroy();
    dst.destroy();
  }
}

/**
 * Where the read-back time goes (for a GPU machine): the copy into a mappable buffer, the map, and
 * the host copy out of the mapping (twice: the second shows whether the mapping is cached), against
 * a plain host-to-host copy of the same size; for one large buffer and for 64 MiB pieces.
 */
async function readbackDetail(gpu: GPU, bytes: number): Promise<void> {
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return;
  const extended = adapter.features.has('buffer-map-extended-usages' as GPUFeatureName);
  console.log(`adapter features: ${[...adapter.features].join(' ')}`);
  const d = await adapter.requestDevice({
    requiredFeatures: extended ? ['buffer-map-extended-usages' as GPUFeatureName] : [],
    requiredLimits: { maxBufferSize: adapter.limits.maxBufferSize },
  });
  const host = new Float32Array(bytes / 4);
  const host2 = new Float32Array(bytes / 4).fill(1);
  for (const [label, usage, piece] of [
    ['MAP_READ|COPY_DST, whole', GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, bytes],
    ['MAP_READ|COPY_DST, 64 MiB pieces', GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, 64 * MiB],
    ...(extended
      ? ([
          [
            'MAP_READ|COPY_DST|STORAGE, whole',
            GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST | GPUBufferUsage.STORAGE,
            bytes,
          ],
        ] as const)
      : []),
  ] as const) {
    const src = d.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const dst = d.createBuffer({ size: piece, usage });
    for (let rep = 0; rep < 3; rep++) {
      const t = { dma: 0, map: 0, range: 0, copy1: 0, copy2: 0, unmap: 0 };
      for (let off = 0; off < bytes; off += piece) {
        const n = Math.min(piece, bytes - off);
        let t0 = performance.now();
        const enc = d.createCommandEncoder();
        enc.copyBufferToBuffer(src, off, dst, 0, n);
        d.queue.submit([enc.finish()]);
        await d.queue.onSubmittedWorkDone();
        let t1 = performance.now();
        t.dma += t1 - t0;
        await dst.mapAsync(MapModeRead, 0, n);
        t0 = performance.now();
        t.map += t0 - t1;
        const r = new Float32Array(dst.getMappedRange(0, n));
        t1 = performance.now();
        t.range += t1 - t0;
        host.set(r, off / 4);
        t0 = performance.now();
        t.copy1 += t0 - t1;
        host.set(r, off / 4);
        t1 = performance.now();
        t.copy2 += t1 - t0;
        dst.unmap();
        t.unmap += performance.now() - t1;
      }
      const t0 = performance.now();
      host2.set(host);
      const hostCopy = performance.now() - t0;
      console.log(
        `  ${label}: ${Object.entries(t)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(', ')} ms; host→host copy ${hostCopy.toFixed(1)} ms`,
      );
    }
    src.destroy();
    dst.destroy();
  }
  d.destroy();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (s: string | undefined) => (s ? s.split(',').map(Number) : []);
  const batches = list(opt('--batches') ?? '1,64,1024,4096');
  const cpuBatches = list(opt('--cpu-batches'));
  const workspaces = opt('--workspaces')?.split(',') ?? ['default'];
  const budgetS = Number(opt('--budget') ?? 60);
  const verifyDir = opt('--verify');

  const { gpu, reason } = await loadNodeGpu({ swiftshader: true });
  const ctx = gpu ? await WebGpuContext.create(gpu) : null;
  if (!ctx) {
    console.log(`webgpu-bench: no WebGPU adapter (${reason ?? 'Dawn found none'}); nothing to time`);
    return;
  }
  const L = ctx.device.limits;
  if (argv.includes('--readback-detail')) {
    await readbackDetail(gpu!, 1024 * T * 15 * 14 * 4);
  }
  console.log(
    `webgpu-bench: ${ctx.description}, seed config, T=${T}; maxBufferSize ${(L.maxBufferSize / MiB).toFixed(0)} MiB, maxStorageBufferBindingSize ${(L.maxStorageBufferBindingSize / MiB).toFixed(0)} MiB`,
  );
  // The GEMM kernel this adapter runs, and both kernels' times (measured here even where the choice
  // needs no measurement, so a GPU's table shows what tiling buys).
  const gemmChoice = await ctx.gemmChoice();
  const gemmMs = gemmChoice.ms ?? (await measureGemm(ctx));
  console.log(
    `GEMM-shaped products: ${gemmChoice.mode} (${gemmChoice.reason}); 8192×64×64: generic ${gemmMs.generic.toFixed(2)} ms, tiled ${gemmMs.tiled.toFixed(2)} ms`,
  );

  let accuracy: Record<string, number> | undefined;
  if (verifyDir) {
    accuracy = await verify(ctx, verifyDir);
    for (const [k, v] of Object.entries(accuracy))
      console.log(`  vs PyTorch float64: ${k.padEnd(28)} ${v.toExponential(2)}`);
  }

  const { config, tensors } = demoModel();
  const rows: Row[] = [];
  for (const ws of workspaces) {
    const [mib, samples] = ws.split('/').map(Number);
    const backend = await WebGpuBackend.create(
      ctx,
      config,
      tensors,
      ws === 'default'
        ? {}
        : {
            maxWorkspaceBytes: mib * MiB,
            maxBufferBytes: Math.floor((mib * MiB) / 2),
            maxChunkSamples: samples || undefined,
          },
    );
    console.log(
      `workspace ${ws === 'default' ? 'default (512 MiB)' : `${mib} MiB${samples ? `, chunks ≤ ${samples}` : ''}`}`,
    );
    console.log('      B |  chunk |   fwd ms | J f64 ms | J f32 ms | J f32 reused ms');
    // Warm-up: compile, create workspaces, first submissions.
    {
      const { x, p } = demoData(1, T);
      await backend.forward(x.data, p.data, 1, T);
      await backend.jacobian(x.data, p.data, 1, T);
    }
    let perSample = 0;
    for (const B of batches) {
      const row: Row = {
        workspace_mib: ws,
        B,
        chunk: Math.min(B, backend.chunkCapacity('jacobian', T)),
        forward_ms: null,
        jacobian_ms: null,
        jacobian_f32_ms: null,
        jacobian_f32_reused_ms: null,
      };
      const predicted = B * perSample * 4;
      if (predicted > budgetS * 1000) {
        row.skipped = `predicted ${(predicted / 1000).toFixed(0)} s > ${budgetS} s`;
      } else {
        const { x, p } = demoData(B, T);
        const n = B * T * config.out_dim_func * config.inp_dim_scalar;
        const budget = budgetS * 1000;
        row.forward_ms = await time(() => backend.forward(x.data, p.data, B, T), budget);
        row.jacobian_ms = await time(() => backend.jacobian(x.data, p.data, B, T), budget);
        row.jacobian_f32_ms = await time(
          () => backend.jacobian(x.data, p.data, B, T, { out: new Float32Array(n) }),
          budget,
        );
        const reused = new Float32Array(n);
        await backend.jacobian(x.data, p.data, B, T, { out: reused }); // touch its pages once
        row.jacobian_f32_reused_ms = await time(
          () => backend.jacobian(x.data, p.data, B, T, { out: reused }),
          budget,
        );
        perSample = row.jacobian_ms / B;
      }
      rows.push(row);
      console.log(
        `  ${String(B).padStart(5)} | ${String(row.chunk).padStart(6)} |${fmt(row.forward_ms)}|${fmt(row.jacobian_ms)}|${fmt(row.jacobian_f32_ms)}|${fmt(row.jacobian_f32_reused_ms)}${row.skipped ? `  (skipped: ${row.skipped})` : ''}`,
      );
    }
    backend.dispose();
  }

  // The read-back floor at the size of the B=1024 Jacobian in float32 (0.5 GB).
  const jBytes = 1024 * T * config.out_dim_func * config.inp_dim_scalar * 4;
  let readback: { bytes: number; ms: number } | undefined;
  if (jBytes <= Math.min(L.maxBufferSize, 2 ** 31) && !ctx.adapter.software) {
    readback = await readbackProbe(ctx, jBytes);
    console.log(
      `read-back floor: ${(readback.bytes / 1e6).toFixed(0)} MB GPU → host array in ${readback.ms.toFixed(1)} ms (${(readback.bytes / 1e6 / readback.ms).toFixed(1)} GB/s)`,
    );
  }

  // The CPU backend on the same machine, for "the GPU is ahead from B = …".
  const cpuRows: { B: number; forward_ms: number; jacobian_ms: number }[] = [];
  if (cpuBatches.length) {
    const cpu = new CpuBackend(config, tensors);
    console.log(`${cpu.description}, same machine`);
    {
      const { x, p } = demoData(1, T);
      await cpu.jacobian(x.data, p.data, 1, T);
    }
    for (const B of cpuBatches) {
      const { x, p } = demoData(B, T);
      const forward_ms = await time(() => cpu.forward(x.data, p.data, B, T), budgetS * 1000);
      const jacobian_ms = await time(() => cpu.jacobian(x.data, p.data, B, T), budgetS * 1000);
      cpuRows.push({ B, forward_ms, jacobian_ms });
      console.log(
        `  B=${String(B).padStart(5)}  forward ${fmt(forward_ms)} ms  jacobian ${fmt(jacobian_ms)} ms`,
      );
    }
    cpu.dispose();
  }
  ctx.destroy();

  const name = (ctx.adapter.architecture || ctx.adapter.vendor || 'adapter')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-');
  mkdirSync(`${here}results`, { recursive: true });
  const file = opt('--json-out') ?? `${here}results/webgpu-${name}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        adapter: ctx.adapter,
        description: ctx.description,
        gemm: { mode: gemmChoice.mode, reason: gemmChoice.reason, ms: gemmMs },
        limits: {
          maxBufferSize: L.maxBufferSize,
          maxStorageBufferBindingSize: L.maxStorageBufferBindingSize,
        },
        config,
        T,
        accuracy_vs_pytorch_f64: accuracy,
        readback_floor: readback,
        // engine-bench reads forward_ms / jacobian_ms of the default-workspace rows.
        rows: rows.filter((r) => r.workspace_mib === workspaces[0]),
        variants: rows,
        cpu: cpuRows,
        note: ctx.adapter.software
          ? 'software adapter: these times show the path works, not GPU speed'
          : undefined,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${file}`);
}

await main();
