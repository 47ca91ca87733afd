/**
 * WebGPU timings of the seed configuration (T=601, Xf=20, P=14, O=15, modes=16, width=64): forward
 * and Jacobian at B = 1, 64, 1024, 4096, in Node through Dawn (on SwiftShader's software Vulkan
 * where the machine has no GPU — then the numbers only show that the path works).
 *
 *   npx tsx bench/webgpu-bench.ts                     # every size that fits the time budget
 *   npx tsx bench/webgpu-bench.ts --batches 1,64      # fewer sizes
 *   npx tsx bench/webgpu-bench.ts --budget 60         # skip sizes predicted to take longer (s)
 *
 * Each time is the median of up to 3 runs after a warm-up at B = 1 (kernel compilation, buffer
 * creation). A size is skipped when the time per sample measured at the previous size predicts
 * more than the budget for one run. Writes bench/results/webgpu-<adapter>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadNodeGpu } from '../src/cli/webgpu-node';
import { WebGpuContext } from '../src/engine/backends/webgpu/context';
import { WebGpuBackend } from '../src/engine/backends/webgpu/webgpu-backend';
import { demoData, demoModel } from '../src/engine/models/demo';

const here = fileURLToPath(new URL('.', import.meta.url));
const T = 601;

interface Row {
  B: number;
  forward_ms: number | null;
  jacobian_ms: number | null;
  chunk_forward: number;
  chunk_jacobian: number;
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
    if (ts.reduce((a, b) => a + b, 0) > budgetMs / 2) break;
  }
  return median(ts);
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const batches = (opt('--batches') ?? '1,64,1024,4096').split(',').map(Number);
  const budgetS = Number(opt('--budget') ?? 60);

  const { gpu, reason } = await loadNodeGpu({ swiftshader: true });
  const ctx = gpu ? await WebGpuContext.create(gpu) : null;
  if (!ctx) {
    console.log(`webgpu-bench: no WebGPU adapter (${reason ?? 'Dawn found none'}); nothing to time`);
    return;
  }
  const { config, tensors } = demoModel();
  const backend = await WebGpuBackend.create(ctx, config, tensors);
  console.log(`webgpu-bench: ${ctx.description}, seed config, T=${T}`);

  // Warm-up: compile, create workspaces, first submissions.
  {
    const { x, p } = demoData(1, T);
    await backend.forward(x.data, p.data, 1, T);
    await backend.jacobian(x.data, p.data, 1, T);
  }

  const rows: Row[] = [];
  let perSample = { forward: 0, jacobian: 0 };
  for (const B of batches) {
    const row: Row = {
      B,
      forward_ms: null,
      jacobian_ms: null,
      chunk_forward: Math.min(B, backend.chunkCapacity('forward', T)),
      chunk_jacobian: Math.min(B, backend.chunkCapacity('jacobian', T)),
    };
    const predicted = B * (perSample.forward + perSample.jacobian);
    if (predicted > budgetS * 1000) {
      row.skipped = `predicted ${(predicted / 1000).toFixed(0)} s > ${budgetS} s`;
    } else {
      const { x, p } = demoData(B, T);
      row.forward_ms = await time(() => backend.forward(x.data, p.data, B, T), budgetS * 1000);
      row.jacobian_ms = await time(() => backend.jacobian(x.data, p.data, B, T), budgetS * 1000);
      perSample = { forward: row.forward_ms / B, jacobian: row.jacobian_ms / B };
    }
    rows.push(row);
    const f = (v: number | null) => (v === null ? '—' : v.toFixed(1)).padStart(12);
    console.log(
      `B=${String(B).padStart(5)}  forward ${f(row.forward_ms)} ms  jacobian ${f(row.jacobian_ms)} ms  chunk ${row.chunk_forward}/${row.chunk_jacobian}${row.skipped ? `  (skipped: ${row.skipped})` : ''}`,
    );
  }
  backend.dispose();
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
        adapter: ctx.adapter,
        description: ctx.description,
        config,
        T,
        rows,
        note: ctx.adapter.software
          ? 'software adapter: these times show the path works, not GPU speed'
          : undefined,
      },
      null,
      2,
    ),
  );
  console.log(`wrote ${file}`);
}

await main();
