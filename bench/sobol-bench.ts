/**
 * The variance-based and streaming analyses on the seed model (T=601, Xf=20, P=14, O=15), as
 * people run them: whole `jacscope` processes.
 *
 * - `jacscope sobol` with N = 1024 base rows (16,384 forward passes of the design plus one at the
 *   centre), every core: wall time without the DGSM bound (forward passes only) and with it
 *   (N more Jacobians, the default).
 * - `jacscope sensitivity` over datasets of seed-model samples generated here into a temporary
 *   folder (x float32 [N,601,20], p [N,14]; written a chunk at a time, deleted afterwards): wall
 *   time, samples per second and peak resident memory (max RSS) of the process at each size — flat
 *   when the streaming works.
 *
 * Writes the numbers under a `sensitivity` key of bench/results/latest.json. `npm run bench` runs it
 * at the end (skip with --no-sobol); alone:
 *
 *   npx tsx bench/sobol-bench.ts [--sobol-n 1024] [--sizes 10000,100000] [--no-sobol-run] [--no-streaming]
 */
import { spawnSync } from 'node:child_process';
import { cliEnv } from './cli-env';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npyHeader } from '../src/engine/io/npy';
import { DEMO_CONFIG, demoData } from '../src/engine/models/demo';

const T = 601;

/** The repository (this file runs from bench/ or bundled into dist/bench/). */
function repoRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = join(dir, '..');
    if (up === dir) throw new Error('sobol-bench: cannot find the repository root');
    dir = up;
  }
  return dir;
}

interface ProcessRun {
  wall_s: number;
  peak_rss_mb: number;
  stdout: string;
}

/** One jacscope process: wall time and peak RSS (a preloaded hook reports the child's maxRSS). */
function runCli(root: string, dir: string, args: string[]): ProcessRun {
  const hook = join(dir, 'rss-hook.cjs');
  const rssFile = join(dir, 'rss.txt');
  writeFileSync(
    hook,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.JACSCOPE_BENCH_RSS, String(process.resourceUsage().maxRSS)));\n",
  );
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--require', hook, join(root, 'bin/jacscope.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...cliEnv(join(root, 'bin/jacscope.mjs')), JACSCOPE_BENCH_RSS: rssFile },
    maxBuffer: 1 << 24,
  });
  const wall_s = (performance.now() - t0) / 1000;
  const errors = r.stderr
    .split('\n')
    .filter((l) => l && !l.startsWith('note: '))
    .join('\n');
  if (r.status !== 0 || errors) throw new Error(`jacscope ${args[0]} failed: ${errors || r.status}`);
  return { wall_s, peak_rss_mb: Number(readFileSync(rssFile, 'utf8')) / 1024, stdout: r.stdout.trim() };
}

/** N seed-model samples as x.npy (float32) and p.npy (float64), written a chunk at a time. */
function writeDataset(dir: string, N: number): { x: string; p: string; bytes: number } {
  const { inp_dim_func: Xf, inp_dim_scalar: P } = DEMO_CONFIG;
  const x = join(dir, `x-${N}.npy`);
  const p = join(dir, `p-${N}.npy`);
  const fx = openSync(x, 'w');
  const fp = openSync(p, 'w');
  try {
    const put = (fd: number, bytes: Uint8Array) => {
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
    };
    const hx = npyHeader([N, T, Xf], 'float32');
    const hp = npyHeader([N, P], 'float64');
    put(fx, hx);
    put(fp, hp);
    const chunk = 500;
    for (let b = 0; b < N; b += chunk) {
      const n = Math.min(chunk, N - b);
      const d = demoData(n, T, DEMO_CONFIG, 1000 + b);
      const xf = Float32Array.from(d.x.data);
      put(fx, new Uint8Array(xf.buffer));
      put(fp, new Uint8Array(d.p.data.buffer));
    }
    return { x, p, bytes: hx.length + hp.length + N * (T * Xf * 4 + P * 8) };
  } finally {
    closeSync(fx);
    closeSync(fp);
  }
}

export interface SobolBenchResult {
  date: string;
  threads: number;
  /** The machine's 1-minute load average before and after: other work on the machine slows every number. */
  load_average: { start: number; end: number };
  sobol: {
    /** When measured, if not in this run. */
    date?: string;
    N: number;
    forward_passes: number;
    wall_s_forward_only: number;
    wall_s_with_dgsm: number | null;
    peak_rss_mb: number;
  } | null;
  streaming: {
    date?: string;
    N: number;
    data_gb: number;
    wall_s: number;
    samples_per_s: number;
    peak_rss_mb: number;
  }[];
  note?: string;
}

/** Run the benchmark and record it in bench/results/latest.json under `sensitivity`. */
export async function sobolBench(argv: string[] = []): Promise<SobolBenchResult> {
  const root = repoRoot();
  const seed = join(root, 'test/fixtures/fno/seed-fno1d');
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const N = Number(opt('--sobol-n') ?? 1024);
  const sizes = (opt('--sizes') ?? '10000,100000').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-sobol-bench-'));
  const threads = availableParallelism();
  const result: SobolBenchResult = {
    date: new Date().toISOString(),
    threads,
    load_average: { start: loadavg()[0], end: NaN },
    sobol: null,
    streaming: [],
  };
  try {
    if (!argv.includes('--no-sobol-run')) {
      // One sample of the seed fixture; p ± 10% (the default for one sample).
      const args = [
        'sobol',
        '--model',
        join(seed, 'model.pt'),
        '--x',
        join(seed, 'x.npy'),
        '--p',
        join(seed, 'p.npy'),
      ];
      const fwd = runCli(root, dir, [
        ...args,
        '--n',
        String(N),
        '--dgsm',
        'off',
        '--out',
        join(dir, 'S.json'),
      ]);
      console.log(
        `\njacscope sobol, seed model, N = ${N} (${N * 16} forward passes), ${threads} threads: ${fwd.wall_s.toFixed(1)} s (peak RSS ${fwd.peak_rss_mb.toFixed(0)} MB)`,
      );
      let withJ: ProcessRun | null = null;
      if (!argv.includes('--no-dgsm')) {
        withJ = runCli(root, dir, [...args, '--n', String(N), '--out', join(dir, 'S-dgsm.json')]);
        console.log(`  with the DGSM bound (${N} Jacobians more): ${withJ.wall_s.toFixed(1)} s`);
      }
      result.sobol = {
        N,
        forward_passes: N * 16 + 1,
        wall_s_forward_only: fwd.wall_s,
        wall_s_with_dgsm: withJ?.wall_s ?? null,
        peak_rss_mb: Math.max(fwd.peak_rss_mb, withJ?.peak_rss_mb ?? 0),
      };
    }
    if (!argv.includes('--no-streaming'))
      for (const n of sizes) {
        const data = writeDataset(dir, n);
        const run = runCli(root, dir, [
          'sensitivity',
          '--model',
          join(seed, 'model.pt'),
          '--x',
          data.x,
          '--p',
          data.p,
          '--out',
          join(dir, `sens-${n}.json`),
        ]);
        rmSync(data.x);
        rmSync(data.p);
        const row = {
          N: n,
          data_gb: data.bytes / 1e9,
          wall_s: run.wall_s,
          samples_per_s: n / run.wall_s,
          peak_rss_mb: run.peak_rss_mb,
        };
        result.streaming.push(row);
        console.log(
          `jacscope sensitivity, seed model, ${n} samples (${row.data_gb.toFixed(2)} GB on disk), ${threads} threads: ${row.wall_s.toFixed(1)} s, ${row.samples_per_s.toFixed(1)} samples/s, peak RSS ${row.peak_rss_mb.toFixed(0)} MB`,
        );
      }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.load_average.end = loadavg()[0];
  const file = join(root, 'bench/results/latest.json');
  const latest = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
  // A part skipped this time keeps its previous numbers (with their date).
  const before = latest.sensitivity as SobolBenchResult | undefined;
  if (before && result.sobol === null && before.sobol) result.sobol = { ...before.sobol, date: before.date };
  if (before && result.streaming.length === 0)
    result.streaming = before.streaming.map((r) => ({ ...r, date: before.date }));
  latest.sensitivity = result;
  writeFileSync(file, JSON.stringify(latest, null, 2) + '\n');
  console.log('written: bench/results/latest.json (sensitivity)');
  return result;
}

const self = process.argv[1] ?? '';
if (/sobol-bench\.(ts|mjs)$/.test(self)) await sobolBench(process.argv.slice(2));
