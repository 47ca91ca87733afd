/**
 * The Jacobian of a TorchScript model (any graph model jacscope runs from its own code) on WebGPU
 * against the CPU on the same machine: bench/make_scaled_models.py's scaled attention and CNN on a
 * lent GPU (bench/device-bench.sh), tiny sizes on SwiftShader here (then the times only show that the
 * path works).
 *
 *   npx tsx bench/graph-gpu-bench.ts --dir D                 # D: model.pt, x.npy, p.npy [, spec.json]
 *   npx tsx bench/graph-gpu-bench.ts --dir D --batches 1,64,1024 --budget 60
 *   npx tsx bench/graph-gpu-bench.ts --dir D --cpu-batches 1 --pool-batches 64 --threads 16
 *   npx tsx bench/graph-gpu-bench.ts --dir D --workspaces default,4096    # chunk budgets (MiB[/samples])
 *   npx tsx bench/graph-gpu-bench.ts --dir D --torch torch.json           # PyTorch's times in the table
 *   options: --runs N (3), --cpu-runs N (--runs), --verify-b N (2), --cpu-blocks, --no-gpu, --no-pool,
 *   --chunk-ms MS, --wrt NAME, --output I, --name NAME, --json-out FILE
 *
 * Lowering the model to a WebGPU tape is not timed (once per model and input shapes; its time is
 * printed: the scaled attention's took 80-140 s on a 2-core machine). Before any timing, WebGPU's J
 * (float32) is checked against the CPU's (float64) on the first --verify-b samples (max|err| /
 * max|ref|, printed and written; over 1e-4 the bench says MISMATCH), and the CPU's J against
 * PyTorch's float64 J_ref_f64.npy where the folder has one (make_scaled_models.py writes it). A
 * failed check or WebGPU call makes the exit status 1, after the results are written.
 *
 * Columns:
 *   WebGPU     WebGpuGraphRunner, J and y into float32 arrays reused between calls; every time
 *              includes converting and uploading the inputs and reading the whole J back into host
 *              memory. One untimed call per size first (it builds the size's runners), then the
 *              median of up to --runs calls.
 *   CPU 1 thr  The graph engine's GraphModel on the calling thread (float64; the CPU backend of
 *              graph models, the CLI's and the app's). By default one sample per program run
 *              (GraphModel.prepare + sample); --cpu-blocks runs GraphModel.evaluateAsync's runs of
 *              JACOBIAN_RUN samples instead. Both give the same J; for the scaled attention the
 *              runs of 4 took more time per sample in one measurement on a 2-core machine (2.9 s
 *              against 2.2 s, warmed up) and about 3× the memory (6-7 GB for one run: some 100 GB
 *              on 16 threads).
 *   CPU all    The same GraphModel in --threads worker_threads (default: every core), the batch
 *              split into runs of a multiple of JACOBIAN_RUN samples handed out as threads come
 *              free (bench/graph-cpu-worker.ts). jacscope itself has no multi-threaded CPU path for
 *              graph models (src/engine/backends/cpu/parallel-backend.ts is fno1d-scalar's); this is
 *              what one would be. Thread start-up is not timed; one untimed call of one sample per
 *              thread warms them up.
 *   PyTorch    From --torch (bench/graph_torch_bench.py's JSON): vmap(jacfwd) on the GPU, and with
 *              the result copied to host memory.
 * Sizes whose predicted time (per sample, from the size before) exceeds --budget seconds are
 * skipped, and each size's calls stop within it. In the table, a CPU time at a size larger than any
 * measured is extrapolated from the largest measured size's time per sample and marked "est.".
 * Writes bench/results/webgpu-<adapter>-graph-<name>.json (or --json-out; SwiftShader's name is
 * git-ignored, as webgpu-bench.ts's is).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { enableRelaxedSimd } from '../bin/node-flags.mjs';
import { loadNodeGpu } from '../src/cli/webgpu-node';
import { WebGpuContext } from '../src/engine/backends/webgpu/context';
import {
  bufferBytes,
  WebGpuGraphRunner,
  type GraphRunnerOptions,
} from '../src/engine/backends/webgpu/graph-runner';
import { RULES } from '../src/engine/graph/table';
import { readNpy } from '../src/engine/io/npy';
import { GraphModel, JACOBIAN_RUN, type InputArray } from '../src/engine/models/graph-model';
import type { LoweredModel } from '../src/engine/models/lowered';
import { readTorchScript } from '../src/engine/torchscript/archive';
import { graphHost } from '../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../src/engine/torchscript/program';
import { oneByOne, type WorkerReply, type WorkerRun } from './graph-cpu-worker';

// The kernels the CLI runs (its launcher sets the same V8 flags); process-wide, so the helper
// threads get them too.
enableRelaxedSimd();

const here = fileURLToPath(new URL('.', import.meta.url));
const MiB = 1024 * 1024;
/** WebGPU's J (float32) against the CPU's (float64): more than this is a MISMATCH. */
const VERIFY_TOL = 1e-4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The median of up to `runs` calls, fewer when the next would take the total past `budgetMs`. */
async function time(fn: () => Promise<unknown>, runs: number, budgetMs: number): Promise<number[]> {
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ts.push(performance.now() - t0);
    const total = ts.reduce((a, b) => a + b, 0);
    if (total + ts[ts.length - 1] > budgetMs) break;
  }
  return ts;
}

function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    num = Math.max(num, Math.abs(a[i] - ref[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return den > 0 ? num / den : num;
}

const fmt = (v: number | null | undefined, est = false, d = 1): string =>
  v == null ? '—' : `${v >= 100 ? v.toFixed(0) : v.toFixed(d)}${est ? ' est.' : ''}`;

/** 'default (512 MiB)', '4096 MiB', '2048 MiB, chunks ≤ 128'. */
function wsLabel(ws: string): string {
  const [mib, samples] = ws.split('/').map(Number);
  return ws === 'default' ? 'default (512 MiB)' : `${mib} MiB${samples ? `, chunks ≤ ${samples}` : ''}`;
}

/** The runner's options for a workspace 'default' or 'MiB[/samples]'. */
function wsOptions(ws: string, chunkMs: number | undefined): GraphRunnerOptions {
  const [mib, samples] = ws.split('/').map(Number);
  const o: GraphRunnerOptions =
    ws === 'default'
      ? {}
      : {
          maxWorkspaceBytes: mib * MiB,
          maxBufferBytes: Math.floor((mib * MiB) / 2),
          maxChunkSamples: samples || undefined,
        };
  if (chunkMs !== undefined) o.chunkMs = chunkMs;
  return o;
}

/**
 * J on the calling thread, float64: GraphModel.evaluateAsync (runs of JACOBIAN_RUN samples) with
 * `blocks`, else one sample per program run (the same J; see graph-cpu-worker.ts).
 */
async function cpuJacobian(
  model: GraphModel,
  inputs: Map<string, InputArray>,
  opts: { wrt: string; output?: number },
  blocks: boolean,
): Promise<{ y: Float64Array; J: Float64Array; yShape: number[]; jShape: number[] }> {
  const r = blocks ? await model.evaluateAsync(inputs, opts) : oneByOne(model, inputs, opts);
  return { y: r.y, J: r.J!, yShape: r.yShape, jShape: r.jShape! };
}

/** Inputs of the first B samples (the files' samples repeated when B is larger). */
function inputsFor(all: Map<string, InputArray>, B: number): Map<string, InputArray> {
  const out = new Map<string, InputArray>();
  for (const [name, a] of all) {
    const N = a.shape[0];
    const per = a.data.length / N;
    let data: Float64Array;
    if (B <= N) data = a.data.subarray(0, B * per);
    else {
      data = new Float64Array(B * per);
      for (let b = 0; b < B; b += N) data.set(a.data.subarray(0, Math.min(N, B - b) * per), b * per);
    }
    out.set(name, { shape: [B, ...a.shape.slice(1)], data });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// CPU on every core: worker_threads, each with its own GraphModel.
// ---------------------------------------------------------------------------------------------

/**
 * The helper's code as one JavaScript file: beside this file in the device bundle
 * (bench/device-pack.sh), else bundled from bench/graph-cpu-worker.ts with esbuild once.
 */
async function workerEntry(): Promise<URL> {
  const bundled = new URL('./graph-cpu-worker.mjs', import.meta.url);
  if (existsSync(fileURLToPath(bundled))) return bundled;
  const { build } = await import('esbuild');
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-graph-bench-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const outfile = join(dir, 'graph-cpu-worker.mjs');
  await build({
    entryPoints: [join(here, 'graph-cpu-worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return pathToFileURL(outfile);
}

class GraphPool {
  private nextId = 0;
  private readonly waiting = new Map<number, (r: WorkerReply) => void>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers)
      w.on('message', (m: WorkerReply) => {
        const cb = this.waiting.get(m.id);
        this.waiting.delete(m.id);
        cb?.(m);
      });
  }

  static async start(threads: number, bytes: Uint8Array, file: string): Promise<GraphPool> {
    const url = await workerEntry();
    const workers = Array.from(
      { length: threads },
      () => new Worker(url, { workerData: { graphBench: true, bytes, file } }),
    );
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((res, rej) => {
            w.once('message', () => res());
            w.once('error', rej);
          }),
      ),
    );
    return new GraphPool(workers);
  }

  get threads(): number {
    return this.workers.length;
  }

  /** J of every sample into `J` (float64, reused), runs of `chunk` samples handed out in order. */
  async run(
    inputs: Map<string, InputArray>,
    wrt: string,
    output: number | undefined,
    J: Float64Array,
    chunk: number,
    blocks: boolean,
  ): Promise<void> {
    const B = inputs.get(wrt)!.shape[0];
    const perJ = J.length / B;
    let next = 0;
    const one = async (w: Worker): Promise<void> => {
      while (next < B) {
        const b0 = next;
        const n = Math.min(chunk, B - b0);
        next += n;
        const id = this.nextId++;
        const msg: WorkerRun = {
          id,
          wrt,
          output,
          blocks,
          inputs: [...inputs].map(([k, a]) => {
            const per = a.data.length / B;
            return [k, [n, ...a.shape.slice(1)], a.data.slice(b0 * per, (b0 + n) * per)];
          }),
        };
        const reply = await new Promise<WorkerReply>((res) => {
          this.waiting.set(id, res);
          w.postMessage(
            msg,
            msg.inputs.map(([, , d]) => d.buffer as ArrayBuffer),
          );
        });
        if ('error' in reply) throw new Error(`CPU helper thread: ${reply.error}`);
        J.set(reply.J, b0 * perJ);
      }
    };
    await Promise.all(this.workers.map(one));
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

// ---------------------------------------------------------------------------------------------

interface GpuRow {
  workspace: string;
  B: number;
  /** Samples per chunk at most (device limits and workspace). */
  capacity: number | null;
  warmup_ms: number | null;
  jacobian_f32_reused_ms: number | null;
  runs_ms?: number[];
  skipped?: string;
  error?: string;
}
interface CpuRow {
  B: number;
  jacobian_ms: number;
  runs_ms: number[];
}
interface TorchRow {
  B: number;
  chunk?: number;
  vmap_jacfwd_ms?: number;
  vmap_jacfwd_to_host_ms?: number;
  error?: string;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const list = (s: string | undefined) => (s ? s.split(',').filter(Boolean).map(Number) : []);
  const dir = opt('--dir');
  if (!dir) {
    console.error('usage: npx tsx bench/graph-gpu-bench.ts --dir DIR [options] (see the top of the file)');
    process.exit(2);
  }
  const batches = list(opt('--batches') ?? '1,64,1024');
  const cpuBatches = list(opt('--cpu-batches') ?? '1');
  const threads = Number(opt('--threads') ?? availableParallelism());
  const poolBatches = list(opt('--pool-batches') ?? String(threads * JACOBIAN_RUN));
  const workspaces = opt('--workspaces')?.split(',') ?? ['default'];
  const budgetMs = Number(opt('--budget') ?? 60) * 1000;
  const runs = Number(opt('--runs') ?? 3);
  const cpuRuns = Number(opt('--cpu-runs') ?? runs);
  const verifyB = Number(opt('--verify-b') ?? 2);
  const chunkMs = opt('--chunk-ms') !== undefined ? Number(opt('--chunk-ms')) : undefined;
  const torchFile = opt('--torch');
  const blocks = argv.includes('--cpu-blocks');

  // The model and its inputs.
  const specFile = join(dir, 'spec.json');
  const spec = existsSync(specFile)
    ? (JSON.parse(readFileSync(specFile, 'utf8')) as Record<string, unknown>)
    : {};
  const name = opt('--name') ?? (spec.name as string | undefined) ?? basename(resolve(dir));
  const archivePath = join(dir, 'model.pt');
  const bytes = new Uint8Array(readFileSync(archivePath));
  const model = new GraphModel(torchScriptProgram(readTorchScript(bytes, 'model.pt')), graphHost, RULES);
  const wrt = model.wrtArg(opt('--wrt') ?? (spec.wrt as string | undefined));
  const outputOpt = opt('--output');
  const output =
    outputOpt !== undefined
      ? Number(outputOpt)
      : ((spec.output_index as number | null | undefined) ?? undefined);
  const all = new Map<string, InputArray>();
  for (const arg of model.tensorArgs()) {
    const t = readNpy(new Uint8Array(readFileSync(join(dir, `${arg}.npy`))), `${arg}.npy`);
    all.set(arg, { shape: t.shape, data: t.data });
  }
  const available = all.get(wrt)!.shape[0];
  const shapes = new Map([...all].map(([k, v]) => [k, v.shape.slice(1)]));
  console.log(
    `graph-gpu-bench: ${name} (${archivePath}, ${(bytes.length / 1e6).toFixed(1)} MB), inputs ${[...all]
      .map(([k, v]) => `${k} [B,${v.shape.slice(1).join(',')}]`)
      .join(
        ', ',
      )} (${available} samples in the files), p = ${wrt}${output !== undefined ? `, output ${output}` : ''}`,
  );

  // The GPU.
  const { gpu, reason } = argv.includes('--no-gpu')
    ? { gpu: null, reason: '--no-gpu' }
    : await loadNodeGpu({ swiftshader: true });
  const ctx = gpu ? await WebGpuContext.create(gpu) : null;
  if (!ctx) console.log(`no WebGPU adapter (${reason ?? 'Dawn found none'}): CPU only`);
  else {
    const L = ctx.device.limits;
    console.log(
      `${ctx.description}; maxBufferSize ${(L.maxBufferSize / MiB).toFixed(0)} MiB, maxStorageBufferBindingSize ${(L.maxStorageBufferBindingSize / MiB).toFixed(0)} MiB; GEMM ${(await ctx.gemmChoice()).mode}`,
    );
  }

  // Check WebGPU against the CPU first.
  let verify: Record<string, unknown> | undefined;
  let failed = false;
  let yPer = 0;
  let P = 0;
  let cpuRef: Float64Array | undefined;
  // One runner for the check and every workspace: lowering a model this size takes long (the scaled
  // attention: 80-140 s on a 2-core machine), and a runner keeps its lowering. Its options object is
  // the one below, changed per workspace (checked: capacity must follow, else a runner per workspace).
  const opts: GraphRunnerOptions = wsOptions(workspaces[0], chunkMs);
  let runner = ctx ? new WebGpuGraphRunner(ctx, model, opts) : null;
  let lowered: LoweredModel | undefined;
  let lowerMs: number | undefined;
  {
    const vb = Math.max(1, Math.min(verifyB, available));
    const inputs = inputsFor(all, vb);
    const t0 = performance.now();
    const cpu = await cpuJacobian(model, inputs, { wrt, output }, blocks);
    cpuRef = cpu.J;
    const cpuMs = performance.now() - t0;
    yPer = cpu.y.length / vb;
    P = cpu.jShape![cpu.jShape!.length - 1];
    console.log(
      `y [B,${cpu.yShape.slice(1).join(',')}], J [B,${cpu.jShape!.slice(1).join(',')}] (${((yPer * P * 4) / 1e6).toFixed(2)} MB per sample in float32); CPU ${cpuMs.toFixed(0)} ms for ${vb} (untimed check)`,
    );
    verify = { B: vb };
    // jacscope's CPU J against PyTorch's float64 J (make_scaled_models.py's J_ref_f64.npy).
    const refFile = join(dir, 'J_ref_f64.npy');
    if (existsSync(refFile)) {
      const ref = readNpy(new Uint8Array(readFileSync(refFile)), 'J_ref_f64.npy');
      const n = Math.min(ref.shape[0], vb);
      const per = ref.data.length / ref.shape[0];
      verify.cpu_vs_torch_f64_J_rel_err = relErr(cpu.J.subarray(0, n * per), ref.data.subarray(0, n * per));
      console.log(
        `CPU (float64) vs PyTorch float64 (J_ref_f64.npy), ${n} samples: J ${(verify.cpu_vs_torch_f64_J_rel_err as number).toExponential(2)}`,
      );
      if ((verify.cpu_vs_torch_f64_J_rel_err as number) > 1e-8) failed = true;
    }
    if (runner) {
      try {
        const t1 = performance.now();
        const l = runner.lowerFor(shapes, wrt, 'jacobian', output);
        lowerMs = performance.now() - t1;
        if (!l.ok) throw new Error(`does not lower: ${l.reason}`);
        lowered = l.lowered;
        console.log(
          `lowered to a WebGPU tape in ${(lowerMs / 1000).toFixed(1)} s (untimed; once per model and shapes)`,
        );
        const g = await runner.run({ inputs, wrt, output, mode: 'jacobian' });
        verify.y_rel_err = relErr(g.y, cpu.y);
        verify.J_rel_err = relErr(g.J!, cpu.J!);
        verify.ok = (verify.J_rel_err as number) <= VERIFY_TOL && (verify.y_rel_err as number) <= VERIFY_TOL;
        failed = !verify.ok;
        console.log(
          `WebGPU (float32) vs CPU (float64), B=${vb}: y ${(verify.y_rel_err as number).toExponential(2)}, J ${(verify.J_rel_err as number).toExponential(2)} (max|err|/max|ref|) — ${verify.ok ? 'ok' : `MISMATCH (> ${VERIFY_TOL})`}`,
        );
      } catch (e) {
        verify.error = e instanceof Error ? e.message : String(e);
        failed = true;
        console.log(`WebGPU check failed: ${verify.error}`);
      }
    }
  }

  // WebGPU.
  const gpuRows: GpuRow[] = [];
  const lowering: Record<string, unknown> = {};
  if (ctx && runner && lowered && !verify?.error) {
    for (const ws of workspaces) {
      for (const k of Object.keys(opts)) delete opts[k as keyof GraphRunnerOptions];
      Object.assign(opts, wsOptions(ws, chunkMs));
      let capacity: number | null = null;
      try {
        const want = new WebGpuGraphRunner(ctx, model, wsOptions(ws, chunkMs)).capacity(lowered!);
        capacity = runner!.capacity(lowered!);
        if (capacity !== want) {
          // The runner copied its options: a new one (lowering again).
          runner!.dispose();
          runner = new WebGpuGraphRunner(ctx, model, wsOptions(ws, chunkMs));
          const l = runner.lowerFor(shapes, wrt, 'jacobian', output);
          if (!l.ok) throw new Error(`does not lower: ${l.reason}`);
          lowered = l.lowered;
          capacity = runner.capacity(lowered);
        }
        const bb = bufferBytes(lowered!);
        lowering.lower_ms = lowerMs;
        lowering.buffers = bb.length;
        lowering.bytes_fixed = bb.reduce((a, b) => a + b.c, 0);
        lowering.bytes_per_sample = bb.reduce((a, b) => a + b.s, 0);
        lowering.largest_buffer_per_sample = Math.max(...bb.map((b) => b.s));
      } catch (e) {
        console.log(`workspace ${ws}: ${e instanceof Error ? e.message : String(e)}`);
      }
      const active = runner!;
      console.log(
        `WebGPU, workspace ${wsLabel(ws)}: ≤ ${capacity ?? '?'} samples per chunk (${((Number(lowering.bytes_per_sample) || 0) / MiB).toFixed(1)} MiB of buffers per sample)`,
      );
      let perSample = 0;
      for (const B of batches) {
        const row: GpuRow = { workspace: ws, B, capacity, warmup_ms: null, jacobian_f32_reused_ms: null };
        const predicted = perSample * B;
        if (predicted > budgetMs) row.skipped = `predicted ${(predicted / 1000).toFixed(1)} s per call`;
        else {
          try {
            const inputs = inputsFor(all, B);
            const out = { y: new Float32Array(B * yPer), J: new Float32Array(B * yPer * P) };
            const call = () => active.run({ inputs, wrt, output, mode: 'jacobian', out });
            const t0 = performance.now();
            await call(); // builds this size's runners; touches the output's pages
            row.warmup_ms = performance.now() - t0;
            row.runs_ms = await time(call, runs, budgetMs - row.warmup_ms);
            row.jacobian_f32_reused_ms = median(row.runs_ms);
            perSample = row.jacobian_f32_reused_ms / B;
          } catch (e) {
            row.error = e instanceof Error ? e.message : String(e);
            failed = true;
          }
        }
        gpuRows.push(row);
        console.log(
          `  B=${String(B).padStart(5)}  J → reused f32 ${fmt(row.jacobian_f32_reused_ms).padStart(8)} ms  (first call ${fmt(row.warmup_ms)} ms; ${row.runs_ms?.length ?? 0} timed)${row.skipped ? `  skipped: ${row.skipped}` : ''}${row.error ? `  error: ${row.error}` : ''}`,
        );
      }
    }
  }
  runner?.dispose();

  // CPU, one thread.
  const cpuRows: CpuRow[] = [];
  let cpuPerSample = 0;
  for (const B of cpuBatches) {
    if (cpuPerSample * B > budgetMs) {
      console.log(`CPU 1 thread B=${B}: skipped (predicted ${((cpuPerSample * B) / 1000).toFixed(1)} s)`);
      continue;
    }
    const inputs = inputsFor(all, B);
    const J = new Float64Array(B * yPer * P);
    const y = new Float64Array(B * yPer);
    const call = () =>
      cpuJacobian(model, inputs, { wrt, output }, blocks).then((r) => (J.set(r.J), y.set(r.y)));
    // The first call is timed too when it is long (the verification above warmed the engine up).
    const ts = await time(call, cpuRuns, budgetMs);
    const ms = median(ts);
    cpuPerSample = ms / B;
    cpuRows.push({ B, jacobian_ms: ms, runs_ms: ts });
    console.log(`CPU 1 thread (float64) B=${String(B).padStart(5)}: ${fmt(ms)} ms`);
  }

  // CPU, every core.
  const poolRows: CpuRow[] = [];
  let poolInfo: Record<string, unknown> | undefined;
  const wantPool = poolBatches.length > 0 && threads > 0 && !argv.includes('--no-pool');
  if (wantPool) {
    const t0 = performance.now();
    const pool = await GraphPool.start(threads, bytes, 'model.pt');
    const startMs = performance.now() - t0;
    poolInfo = {
      threads,
      startup_ms: startMs,
      samples_per_program_run: blocks ? JACOBIAN_RUN : 1,
      how: 'bench/graph-cpu-worker.ts: one GraphModel per worker_thread, the batch handed out in runs of a multiple of JACOBIAN_RUN samples; jacscope has no multi-threaded CPU path for graph models',
    };
    console.log(
      `CPU all cores: ${threads} worker_threads, each with its own GraphModel (jacscope has no multi-threaded CPU path for graph models; this bench splits the batch), started in ${startMs.toFixed(0)} ms`,
    );
    try {
      // Warm-up: one sample per thread (compiles each thread's kernels).
      {
        const w = inputsFor(all, threads);
        const t1 = performance.now();
        await pool.run(w, wrt, output, new Float64Array(threads * yPer * P), 1, blocks);
        poolInfo.warmup_ms = performance.now() - t1;
        if (!cpuPerSample) cpuPerSample = (performance.now() - t1) / 1;
      }
      let poolPerSample = 0;
      for (const B of poolBatches) {
        const predicted = poolPerSample ? poolPerSample * B : (cpuPerSample * B) / threads;
        if (predicted > budgetMs) {
          console.log(`CPU all cores B=${B}: skipped (predicted ${(predicted / 1000).toFixed(1)} s)`);
          continue;
        }
        const inputs = inputsFor(all, B);
        const J = new Float64Array(B * yPer * P);
        // Runs small enough that every thread gets several, in multiples of JACOBIAN_RUN.
        const chunk = Math.max(JACOBIAN_RUN, Math.ceil(B / (threads * 4) / JACOBIAN_RUN) * JACOBIAN_RUN);
        const ts = await time(() => pool.run(inputs, wrt, output, J, chunk, blocks), cpuRuns, budgetMs);
        const ms = median(ts);
        poolPerSample = ms / B;
        poolRows.push({ B, jacobian_ms: ms, runs_ms: ts });
        console.log(`CPU all cores (${threads} threads) B=${String(B).padStart(5)}: ${fmt(ms)} ms`);
        // The threads' J is the calling thread's (the check's samples).
        if (cpuRef && cpuRef.length <= J.length) {
          const d = relErr(J.subarray(0, cpuRef.length), cpuRef);
          if (d > 1e-12)
            console.log(`  note: the threads' J differs from the calling thread's by ${d.toExponential(2)}`);
        }
      }
    } finally {
      await pool.close();
    }
  }

  // PyTorch (bench/graph_torch_bench.py), when given.
  let torch: { rows: TorchRow[]; [k: string]: unknown } | undefined;
  if (torchFile && existsSync(torchFile)) {
    try {
      torch = JSON.parse(readFileSync(torchFile, 'utf8'));
    } catch (e) {
      console.log(`--torch ${torchFile}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // The table: WebGPU (first workspace) against the rest.
  const byB = (rows: CpuRow[], B: number) => rows.find((r) => r.B === B)?.jacobian_ms;
  const estimate = (rows: CpuRow[], B: number): { ms: number; est: boolean } | null => {
    const m = byB(rows, B);
    if (m !== undefined) return { ms: m, est: false };
    // Upwards only: per-sample time at the largest size measured (a smaller batch is no faster per
    // sample, and on the threads it may leave some idle).
    const last = rows.reduce<CpuRow | undefined>((a, r) => (!a || r.B > a.B ? r : a), undefined);
    return last && B > last.B ? { ms: (last.jacobian_ms / last.B) * B, est: true } : null;
  };
  const summary = batches.map((B) => {
    const g = gpuRows.find((r) => r.B === B && r.workspace === workspaces[0])?.jacobian_f32_reused_ms ?? null;
    const c1 = estimate(cpuRows, B);
    const cp = estimate(poolRows, B);
    const t = torch?.rows.find((r) => r.B === B);
    return {
      B,
      J_MB_f32: (B * yPer * P * 4) / 1e6,
      webgpu_ms: g,
      cpu_1_thread_ms: c1?.ms ?? null,
      cpu_1_thread_estimated: c1?.est ?? null,
      cpu_all_cores_ms: cp?.ms ?? null,
      cpu_all_cores_estimated: cp?.est ?? null,
      speedup_vs_cpu_all_cores: g && cp ? cp.ms / g : null,
      torch_vmap_jacfwd_ms: t?.vmap_jacfwd_ms ?? null,
      torch_vmap_jacfwd_to_host_ms: t?.vmap_jacfwd_to_host_ms ?? null,
      torch_chunk: t?.chunk ?? null,
      speedup_vs_torch_to_host: g && t?.vmap_jacfwd_to_host_ms ? t.vmap_jacfwd_to_host_ms / g : null,
    };
  });
  console.log(
    `\n${name}: Jacobian, ms (WebGPU: workspace ${wsLabel(workspaces[0])}, J → reused f32, read-back included; CPU: float64; est. = extrapolated per sample)`,
  );
  console.log(
    '| B | J (f32) | WebGPU | CPU 1 thread | CPU all cores | WebGPU vs all cores | PyTorch vmap(jacfwd) | PyTorch, to host | WebGPU vs PyTorch to host |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const s of summary)
    console.log(
      `| ${s.B} | ${s.J_MB_f32 >= 1 ? `${s.J_MB_f32.toFixed(0)} MB` : `${(s.J_MB_f32 * 1e3).toFixed(0)} kB`} | ${fmt(s.webgpu_ms)} | ${fmt(s.cpu_1_thread_ms, !!s.cpu_1_thread_estimated)} | ${fmt(s.cpu_all_cores_ms, !!s.cpu_all_cores_estimated)} | ${s.speedup_vs_cpu_all_cores ? `${s.speedup_vs_cpu_all_cores.toFixed(1)}×` : '—'} | ${fmt(s.torch_vmap_jacfwd_ms)} | ${fmt(s.torch_vmap_jacfwd_to_host_ms)} | ${s.speedup_vs_torch_to_host ? `${s.speedup_vs_torch_to_host.toFixed(1)}×` : '—'} |`,
    );

  const adapterName = ctx
    ? (ctx.adapter.architecture || ctx.adapter.vendor || 'adapter').toLowerCase().replace(/[^a-z0-9]+/g, '-')
    : 'cpu';
  mkdirSync(`${here}results`, { recursive: true });
  const file = opt('--json-out') ?? `${here}results/webgpu-${adapterName}-graph-${name}.json`;
  writeFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        adapter: ctx?.adapter,
        description: ctx?.description,
        model: {
          name,
          dir: resolve(dir),
          archive_bytes: bytes.length,
          spec,
          wrt,
          output,
          y_per_sample: yPer,
          P,
        },
        lowering,
        verify,
        gpu: gpuRows,
        cpu_samples_per_program_run: blocks ? JACOBIAN_RUN : 1,
        cpu_1_thread: cpuRows,
        cpu_all_cores: { ...poolInfo, rows: poolRows },
        torch,
        summary,
        note: ctx?.adapter.software
          ? 'software adapter: these times show the path works, not GPU speed'
          : ctx
            ? undefined
            : 'no WebGPU adapter',
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`wrote ${file}`);
  ctx?.destroy();
  if (failed) {
    console.log('graph-gpu-bench: a check or a WebGPU call failed (see above)');
    process.exitCode = 1;
  }
}

await main();
