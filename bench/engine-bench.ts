/**
 * `npm run bench`: jacscope's forward pass and Jacobian on the seed configuration (T=601, Xf=20,
 * P=14, O=15, modes=16, width=64) at B = 1, 16, 64, against PyTorch on the same machine in the
 * same run, one thread each; then the largest B on every core (jacscope's helper threads against
 * PyTorch's intra-op threads). Medians of ≥ 5 runs and ≥ 1 s of runs after a warm-up (both sides); each batch size runs in its own
 * process so its peak memory (max RSS) is its own. Then the command line as people run it: the wall
 * time of `jacscope info` and of a whole `jacscope jacobian` process at B=64, against the same
 * Jacobian timed in process. Writes bench/results/latest.json.
 *
 *   npm run bench                      # everything
 *   npm run bench -- --batches 1,16    # fewer sizes
 *   npm run bench -- --no-torch        # skip PyTorch
 *   npm run bench -- --no-threads      # skip the every-core comparison
 *   npm run bench -- --no-cli          # skip the command-line timings
 *   npm run bench -- --no-sobol        # skip bench/sobol-bench.ts (Sobol' and streaming sensitivity)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { enableRelaxedSimd } from '../bin/node-flags.mjs';
import { cliEnv } from './cli-env';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodePoolWorker } from '../src/cli/cpu-pool';
import { cpuGemmName } from '../src/engine/kernels';
import { ParallelCpuBackend } from '../src/engine/backends/cpu/parallel-backend';
import { writeNpy } from '../src/engine/io/npy';
import { demoData, demoModel } from '../src/engine/models/demo';
import { Fno1dScalar } from '../src/engine/models/fno1d-scalar';
import { GraphModel } from '../src/engine/models/graph-model';
import { openModel } from '../src/engine/models/open-model';
import { RULES } from '../src/engine/graph/table';
import { graphHost } from '../src/engine/torchscript/graph-host';

// The kernels the CLI runs (its launcher sets the same V8 flags).
enableRelaxedSimd();

/** The repository (this file runs from bench/ or as a bundle in dist/bench/). */
const root = ((): string => {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = join(dir, '..');
    if (up === dir) throw new Error('engine-bench: cannot find the repository root');
    dir = up;
  }
  return dir;
})();
const here = join(root, 'bench/');
/** The seed configuration's PyTorch fixture (test/fixtures/README.md). */
const SEED = join(root, 'test/fixtures/fno/seed-fno1d');
/** The same model saved by torch.jit.trace (test/fixtures/graph/README.md). */
const TRACED = join(root, 'test/fixtures/graph/seed-fno1d-traced/model.pt');
const BIN = join(root, 'bin/jacscope.mjs');
const RUNS = 5;
const T = 601;

/**
 * How to start a child of this file: `npm run bench` runs a bundle of it (bench/run.mjs), as the
 * CLI runs its bundle, so children run the bundle directly; from the sources, through tsx.
 */
const SELF = fileURLToPath(import.meta.url);
const CHILD = SELF.endsWith('.mjs') ? [SELF] : ['--import', 'tsx', SELF];

/** In-process rows run under the CLI's allocator setting (bench/cli-env.ts), as the CLI runs. */
const ENGINE_ENV = { ...process.env, ...cliEnv(BIN) };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Warm-up per measured call: at least one call and this long, so that V8's optimising tiers have run. */
const WARM_MS = 500;
/** Short calls are timed until this much time has passed (pytorch_bench.py: MIN_TOTAL_MS). */
const MIN_TOTAL_MS = 1000;
const MAX_RUNS = 200;

/** The `sensitivity` section of an earlier latest.json (bench/sobol-bench.ts), if any. */
function previousSensitivity(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8')).sensitivity;
  } catch {
    return undefined;
  }
}

function time(fn: () => void, runs: number): number {
  // Warm-up: JIT tiers, plans, DFT choice, wasm memory growth (PyTorch's side needs one call).
  const w0 = performance.now();
  do fn();
  while (performance.now() - w0 < WARM_MS);
  // Short calls run until MIN_TOTAL_MS has passed (at least `runs` times), as pytorch_bench.py does:
  // a median of 5 calls of a few milliseconds moves with every pause of the machine.
  const ts: number[] = [];
  let total = 0;
  while (ts.length < runs || (total < MIN_TOTAL_MS && ts.length < MAX_RUNS)) {
    const t0 = performance.now();
    fn();
    const dt = performance.now() - t0;
    ts.push(dt);
    total += dt;
  }
  return median(ts);
}

interface EngineRow {
  B: number;
  forward_ms: number;
  jacobian_ms: number;
  /** The same seed model saved by torch.jit.trace, run from its code by the graph engine. */
  traced_forward_ms: number;
  traced_jacobian_ms: number;
  peak_rss_mb: number;
  gemm: string;
}

/** One batch size, in this (child) process. */
function measure(B: number): EngineRow {
  // The seed fixture's weights, as bare weights (the state-dict builder's program) and as the
  // archive torch.jit.trace wrote for the same model (its own code, interpreted).
  const st = openModel(new Uint8Array(readFileSync(join(SEED, 'model.pt'))), 'model.pt');
  if (st.kind !== 'fno1d-scalar') throw new Error('the seed fixture is not recognised as fno1d-scalar');
  const model = new Fno1dScalar(st.recognized.config, st.recognized.tensors);
  const tr = openModel(new Uint8Array(readFileSync(TRACED)), 'model.pt');
  const traced = new GraphModel(tr.program, graphHost, RULES);
  const { x, p } = demoData(B, T);
  const inputs = new Map([
    ['x', { shape: x.shape, data: x.data }],
    ['p', { shape: p.shape, data: p.data }],
  ]);
  const forward_ms = time(() => model.forward(x.data, p.data, B, T), RUNS);
  const jacobian_ms = time(() => model.jacobian(x.data, p.data, B, T), RUNS);
  const traced_forward_ms = time(() => traced.forward(inputs), RUNS);
  const traced_jacobian_ms = time(() => traced.evaluate(inputs), RUNS);
  return {
    B,
    forward_ms,
    jacobian_ms,
    traced_forward_ms,
    traced_jacobian_ms,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    gemm: cpuGemmName(),
  };
}

/** The Jacobian of B samples on every core (ParallelCpuBackend), helpers started and warm. */
async function measureThreads(
  B: number,
  threads: number,
): Promise<{ B: number; threads: number; jacobian_ms: number }> {
  const { config, tensors } = demoModel();
  const par = new ParallelCpuBackend(config, tensors, nodePoolWorker, threads, { spawnAfterMs: 0 });
  const { x, p } = demoData(B, T);
  await par.jacobian(x.data, p.data, B, T); // starts the helpers
  await par.jacobian(x.data, p.data, B, T);
  const ts: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await par.jacobian(x.data, p.data, B, T);
    ts.push(performance.now() - t0);
  }
  par.dispose();
  return { B, threads, jacobian_ms: median(ts) };
}

interface CliTimes {
  /** `jacscope info --model <seed>/model.pt`: median and fastest wall time of a whole process. */
  info_ms: number;
  info_min_ms: number;
  /** `node -e 0`: the floor under any command line in Node on this machine. */
  node_start_ms: number;
  B: number;
  /** `jacscope jacobian` at B, default options (every core), as a whole process: median wall time. */
  jacobian_process_ms: number;
  /** The same with --threads 1. */
  jacobian_process_1thread_ms: number;
  /** The same Jacobian in process, one thread, median after a warm-up (the table's number). */
  jacobian_in_process_ms: number;
  /** jacobian_process_1thread_ms / jacobian_in_process_ms − 1: what starting a process adds. */
  process_overhead: number;
}

/** Wall times of a command, after one unmeasured run (which also rebuilds a stale CLI bundle). */
function wallTimes(args: string[], runs: number): number[] {
  const once = () => {
    const t0 = performance.now();
    // Through the launcher's shebang, as `npx jacscope` starts it (its environment included).
    const r = spawnSync(BIN, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
    const ms = performance.now() - t0;
    if (r.status !== 0 || r.stderr) throw new Error(`jacscope ${args[0]} failed: ${r.stderr || r.status}`);
    return ms;
  };
  once();
  return Array.from({ length: runs }, once);
}

/** The command line: `info`, and the B-sample Jacobian as a process against `inProcessMs`. */
function measureCli(B: number, inProcessMs: number): CliTimes {
  const model = join(SEED, 'model.pt');
  const info = wallTimes(['info', '--model', model], 2 * RUNS + 1);
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-bench-cli-'));
  try {
    const { x, p } = demoData(B, T);
    writeFileSync(join(dir, 'x.npy'), writeNpy(x, 'float32'));
    writeFileSync(join(dir, 'p.npy'), writeNpy(p, 'float32'));
    const args = ['jacobian', '--model', model, '--x', join(dir, 'x.npy'), '--p', join(dir, 'p.npy')];
    const all = median(wallTimes([...args, '--out', join(dir, 'J.npy')], RUNS));
    const one = median(wallTimes([...args, '--out', join(dir, 'J1.npy'), '--threads', '1'], RUNS));
    return {
      info_ms: median(info),
      info_min_ms: Math.min(...info),
      node_start_ms: nodeStartMs(),
      B,
      jacobian_process_ms: all,
      jacobian_process_1thread_ms: one,
      jacobian_in_process_ms: inProcessMs,
      process_overhead: one / inProcessMs - 1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch, functorch'], { stdio: 'ignore' }).status === 0;
}

type TorchRow = { B: number; forward_ms: number; vmap_jacfwd_ms?: number; functional_forward_ms?: number };
interface TorchRun {
  torch: string;
  threads: number;
  rows: TorchRow[];
  peak_rss_mb: number;
}

/** bench/pytorch_bench.py on the seed model with `threads` intra-op threads, in `env`. */
function torchRun(batches: number[], threads: number, env: NodeJS.ProcessEnv): TorchRun {
  const args = [
    '--fixtures',
    SEED,
    '--batches',
    batches.join(','),
    '--runs',
    String(RUNS),
    '--threads',
    String(threads),
  ];
  const out = execFileSync('/usr/bin/python3', [`${here}pytorch_bench.py`, ...args], {
    encoding: 'utf8',
    env: threads === 1 ? { ...env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' } : env,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(out) as TorchRun;
}

/**
 * PyTorch as people run it and under the CLI's allocator setting (huge pages speed up its
 * vmap(jacfwd) several times at B = 64), each time the faster of the two: PyTorch's best.
 */
function torchBest(batches: number[], threads: number): TorchRun {
  const plain = torchRun(batches, threads, process.env);
  const tuned = torchRun(batches, threads, ENGINE_ENV);
  const best = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
  return {
    ...plain,
    peak_rss_mb: Math.max(plain.peak_rss_mb, tuned.peak_rss_mb),
    rows: plain.rows.map((r, i) => {
      const t = tuned.rows[i];
      return {
        B: r.B,
        forward_ms: best(r.forward_ms, t.forward_ms)!,
        vmap_jacfwd_ms: best(r.vmap_jacfwd_ms, t.vmap_jacfwd_ms),
        functional_forward_ms: best(r.functional_forward_ms, t.functional_forward_ms),
      };
    }),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const child = argv.indexOf('--child');
  if (child >= 0) {
    process.stdout.write(JSON.stringify(measure(Number(argv[child + 1]))));
    return;
  }
  const childThreads = argv.indexOf('--child-threads');
  if (childThreads >= 0) {
    const [B, n] = [Number(argv[childThreads + 1]), Number(argv[childThreads + 2])];
    process.stdout.write(JSON.stringify(await measureThreads(B, n)));
    return;
  }
  const bi = argv.indexOf('--batches');
  const batches = (bi >= 0 ? argv[bi + 1] : '1,16,64').split(',').map(Number);
  const withTorch = !argv.includes('--no-torch') && torchAvailable();
  const withGpu = !argv.includes('--no-webgpu');
  const withCli = !argv.includes('--no-cli');

  const engine: EngineRow[] = [];
  for (const B of batches) {
    const out = execFileSync(process.execPath, [...CHILD, '--child', String(B)], {
      encoding: 'utf8',
      env: ENGINE_ENV,
      maxBuffer: 1 << 20,
    });
    engine.push(JSON.parse(out) as EngineRow);
    console.error(`jacscope B=${B} done`);
  }
  // The command line right after the in-process rows it is compared with.
  let cli: CliTimes | null = null;
  if (withCli) {
    const CLI_B = 64;
    const inProcess =
      engine.find((e) => e.B === CLI_B) ??
      (JSON.parse(
        execFileSync(process.execPath, [...CHILD, '--child', String(CLI_B)], {
          encoding: 'utf8',
          env: ENGINE_ENV,
          maxBuffer: 1 << 20,
        }),
      ) as EngineRow);
    console.error(`jacscope command line: info, jacobian B=${CLI_B} …`);
    cli = measureCli(CLI_B, inProcess.jacobian_ms);
  }
  // Every core, as people run them: jacscope's helper threads against PyTorch's intra-op threads,
  // each measured right after its one-thread run (a long run on a shared VM can slow down later).
  const cores = availableParallelism();
  const Bmax = Math.max(...batches);
  const withThreads = cores > 1 && !argv.includes('--no-threads');
  let mineAll: number | undefined;
  if (withThreads) {
    console.error(`jacscope on all ${cores} cores, B=${Bmax} …`);
    mineAll = (
      JSON.parse(
        execFileSync(process.execPath, [...CHILD, '--child-threads', String(Bmax), String(cores)], {
          encoding: 'utf8',
          env: ENGINE_ENV,
          maxBuffer: 1 << 20,
        }),
      ) as { jacobian_ms: number }
    ).jacobian_ms;
  }
  let torch: TorchRun | null = null;
  let torchAll: number | undefined;
  if (withTorch) {
    console.error('PyTorch …');
    torch = torchBest(batches, 1);
    if (withThreads) {
      console.error(`PyTorch on all ${cores} cores, B=${Bmax} …`);
      const r = torchBest([Bmax], cores).rows[0];
      torchAll = Math.min(r.functional_forward_ms ?? Infinity, r.vmap_jacfwd_ms ?? Infinity);
    }
  } else {
    console.error('PyTorch not available (/usr/bin/python3 -c "import torch" failed): jacscope numbers only');
  }

  type GpuRow = { B: number; forward_ms: number | null; jacobian_ms: number | null; skipped?: string };
  let gpu: { description: string; adapter: { software?: boolean }; rows: GpuRow[] } | null = null;
  if (withGpu) {
    // WebGPU through Dawn; on a machine without a GPU, SwiftShader (slow: it shows the path works).
    console.error('WebGPU …');
    const out = join(mkdtempSync(join(tmpdir(), 'jacscope-bench-')), 'webgpu.json');
    const icd = '/usr/lib/chromium/vk_swiftshader_icd.json';
    const env = { ...process.env };
    if (!env.VK_ICD_FILENAMES && existsSync(icd)) env.VK_ICD_FILENAMES = icd;
    try {
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          `${here}webgpu-bench.ts`,
          '--batches',
          batches.join(','),
          '--budget',
          '30',
          '--json-out',
          out,
        ],
        { encoding: 'utf8', env, stdio: ['ignore', 'ignore', 'ignore'] },
      );
      if (existsSync(out)) gpu = JSON.parse(readFileSync(out, 'utf8'));
    } catch {
      gpu = null;
    }
  }

  const rows = engine.map((e) => {
    const t = torch?.rows.find((r) => r.B === e.B);
    const g = gpu?.rows.find((r) => r.B === e.B);
    const torchBest = t
      ? Math.min(t.functional_forward_ms ?? Infinity, t.vmap_jacfwd_ms ?? Infinity)
      : undefined;
    return {
      ...e,
      torch_forward_ms: t?.forward_ms,
      torch_vmap_jacfwd_ms: t?.vmap_jacfwd_ms,
      torch_functional_forward_ms: t?.functional_forward_ms,
      webgpu_forward_ms: g?.forward_ms ?? undefined,
      webgpu_jacobian_ms: g?.jacobian_ms ?? undefined,
      speedup_forward: t ? t.forward_ms / e.forward_ms : undefined,
      speedup_jacobian_vs_best: torchBest ? torchBest / e.jacobian_ms : undefined,
      traced_speedup_jacobian_vs_best: torchBest ? torchBest / e.traced_jacobian_ms : undefined,
      traced_over_state_dict: e.traced_jacobian_ms / e.jacobian_ms,
    };
  });
  const f = (v: number | undefined, d = 1) => (v === undefined ? '—' : v.toFixed(d));
  console.log(
    `\njacscope vs PyTorch ${torch?.torch ?? '(absent)'}, seed configuration T=${T}, one thread each, median of ≥ ${RUNS} runs and ≥ ${MIN_TOTAL_MS / 1000} s of them (ms)\n` +
      `jacscope under its CLI's ${Object.entries(cliEnv(BIN))
        .map(([k, v]) => `${k}=${v}`)
        .join(' ')}; PyTorch the faster of with and without it\n`,
  );
  console.log(
    '  B | jacscope fwd | jacscope J | peak MB | webgpu fwd | webgpu J | torch fwd | torch vmap(jacfwd) | torch functional.jacobian | J speedup vs best torch',
  );
  console.log(
    '----|--------------|------------|---------|------------|----------|-----------|--------------------|---------------------------|------------------------',
  );
  for (const r of rows) {
    console.log(
      `${String(r.B).padStart(3)} | ${f(r.forward_ms, 2).padStart(12)} | ${f(r.jacobian_ms, 2).padStart(10)} | ${f(r.peak_rss_mb, 0).padStart(7)} | ${f(r.webgpu_forward_ms).padStart(10)} | ${f(r.webgpu_jacobian_ms).padStart(8)} | ${f(r.torch_forward_ms, 2).padStart(9)} | ${f(r.torch_vmap_jacfwd_ms).padStart(18)} | ${f(r.torch_functional_forward_ms).padStart(25)} | ${r.speedup_jacobian_vs_best ? `${r.speedup_jacobian_vs_best.toFixed(1)}×` : '—'}`,
    );
  }
  console.log(
    `\nThe same model saved by torch.jit.trace, run from its code (graph engine; target: ≥ 5× PyTorch's best, J ≤ 1.25× the state-dict model's)\n`,
  );
  console.log('  B | traced fwd | traced J | traced J / state-dict J | traced J speedup vs best torch');
  console.log('----|------------|----------|-------------------------|-------------------------------');
  for (const r of rows) {
    console.log(
      `${String(r.B).padStart(3)} | ${f(r.traced_forward_ms, 2).padStart(10)} | ${f(r.traced_jacobian_ms, 2).padStart(8)} | ${f(r.traced_over_state_dict, 2).padStart(23)} | ${r.traced_speedup_jacobian_vs_best ? `${r.traced_speedup_jacobian_vs_best.toFixed(1)}×` : '—'}`,
    );
  }
  if (gpu) {
    const soft = gpu.adapter.software
      ? ' (a software adapter: these times show the path works, not GPU speed)'
      : '';
    console.log(`\n${gpu.description}${soft}`);
  } else if (withGpu) console.log('\nWebGPU: no adapter here');
  const perSample = rows.map((r) => r.jacobian_ms / r.B);
  console.log(
    `\nJacobian time per sample: ${perSample.map((v, i) => `B=${rows[i].B}: ${v.toFixed(2)} ms`).join(', ')}`,
  );
  const allCores =
    mineAll === undefined
      ? null
      : {
          threads: cores,
          B: Bmax,
          jacscope_jacobian_ms: mineAll,
          torch_best_jacobian_ms: torchAll,
          speedup_vs_torch: torchAll ? torchAll / mineAll : undefined,
        };
  if (mineAll !== undefined) {
    console.log(
      `\nall ${cores} cores, B=${Bmax}: jacscope J ${f(mineAll)} ms (helper threads warm; one thread: ${f(rows.find((r) => r.B === Bmax)?.jacobian_ms)} ms)` +
        (torchAll
          ? `, PyTorch best ${f(torchAll)} ms with ${cores} threads: ${(torchAll / mineAll).toFixed(1)}×`
          : ''),
    );
  }
  if (cli) {
    console.log(
      `\ncommand line: jacscope info ${f(cli.info_ms, 0)} ms wall (fastest ${f(cli.info_min_ms, 0)} ms; node alone starts in ${f(cli.node_start_ms, 0)} ms)`,
    );
    console.log(
      `  jacobian B=${cli.B} as a whole process: ${f(cli.jacobian_process_1thread_ms, 0)} ms with --threads 1, ` +
        `${f(cli.jacobian_process_ms, 0)} ms on every core; in process ${f(cli.jacobian_in_process_ms, 0)} ms (one thread): ` +
        `+${(100 * cli.process_overhead).toFixed(0)}% for the process`,
    );
  }
  const dir = `${here}results`;
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true });
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: await_cpus(), node: process.version },
    config: 'seed (T=601, Xf=20, P=14, O=15, modes=16, width=64, hidden=32, layers=1, tanh)',
    // jacscope runs under its CLI's environment; PyTorch is the faster of with and without it.
    engine_env: cliEnv(BIN),
    runs: RUNS,
    torch: torch ? { version: torch.torch, threads: torch.threads, peak_rss_mb: torch.peak_rss_mb } : null,
    webgpu: gpu ? { description: gpu.description, software: gpu.adapter.software ?? false } : null,
    rows,
    all_cores: allCores,
    command_line: cli,
    // Kept from the last run that measured it when this one skips it (--no-sobol), with its date.
    sensitivity: argv.includes('--no-sobol') ? previousSensitivity(`${dir}/latest.json`) : undefined,
  };
  writeFileSync(`${dir}/latest.json`, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nwritten: bench/results/latest.json`);
  // Sobol' (N = 1024) and streaming sensitivity on the seed model: bench/sobol-bench.ts, which adds
  // a `sensitivity` key to latest.json.
  if (!argv.includes('--no-sobol')) await (await import('./sobol-bench')).sobolBench(argv);
}

/** Median wall time of `node -e 0`: the floor under any command line in Node. */
let nodeStart: number | undefined;
function nodeStartMs(): number {
  nodeStart ??= median(
    Array.from({ length: 7 }, () => {
      const t0 = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      return performance.now() - t0;
    }),
  );
  return nodeStart;
}

function await_cpus(): string {
  try {
    return execFileSync('sh', ['-c', "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2; nproc"], {
      encoding: 'utf8',
    })
      .trim()
      .replace(/\n/g, ' × ');
  } catch {
    return 'unknown';
  }
}

await main();
