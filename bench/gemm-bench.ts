/**
 * GFLOP/s of gemmJs vs the WebAssembly SIMD GEMM on the app's product shapes.
 *
 *   npx tsx bench/gemm-bench.ts [--runs 15]
 *
 * "wasm" is the drop-in (operands copied in and C out on every call), the number the engine gets;
 * "kernel" runs the module on operands already resident in its memory, so the gap between the two is
 * what the copies cost. The three are interleaved run by run so that load from other processes hits
 * them alike, and each reports the median over runs (each run repeats the product for ≥ ~20 ms);
 * "wasm best" is the drop-in's fastest run.
 */
import { loadavg } from 'node:os';
import { gemmJs, type Gemm } from '../src/engine/kernels/gemm';
import { createWasmGemm } from '../src/engine/kernels/gemm-wasm';
import { GEMM_WASM_BASE64 } from '../src/engine/kernels/gemm-wasm.generated';

interface Shape {
  M: number;
  K: number;
  N: number;
  note: string;
}

const SHAPES: Shape[] = [
  { M: 8414, K: 64, N: 32, note: '' },
  { M: 8414, K: 32, N: 15, note: 'N ≡ 3 mod 4' },
  { M: 601, K: 128, N: 64, note: '' },
  { M: 16, K: 601, N: 128, note: 'short M, B of 600 KB' },
  { M: 40000, K: 128, N: 128, note: 'largest' },
  { M: 8414, K: 64, N: 1, note: 'matrix × vector' },
  { M: 8414, K: 20, N: 3, note: 'tiny odd N' },
  { M: 8414, K: 1, N: 32, note: 'outer product' },
];

const argRuns = process.argv.indexOf('--runs');
const RUNS = argRuns > 0 ? Number(process.argv[argRuns + 1]) : 15;

function random(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface KernelExports {
  memory: WebAssembly.Memory;
  gemm(...args: number[]): void;
  heapBase(): number;
}

/** The bare module with A, B and C laid out once, for the copy-free "kernel" column. */
function residentKernel(M: number, K: number, N: number, A: Float64Array, B: Float64Array): () => void {
  const bytes = Uint8Array.from(atob(GEMM_WASM_BASE64), (ch) => ch.charCodeAt(0));
  const ex = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as KernelExports;
  const b = (ex.heapBase() + 63) & ~63;
  const a = (b + 8 * K * N + 63) & ~63;
  const c = (a + 8 * M * K + 63) & ~63;
  const need = c + 8 * M * N;
  ex.memory.grow(Math.max(0, Math.ceil((need - ex.memory.buffer.byteLength) / 65536)));
  const f64 = new Float64Array(ex.memory.buffer);
  f64.set(B, b / 8);
  f64.set(A, a / 8);
  return () => ex.gemm(a, K, b, N, c, N, M, N, K, 0);
}

function main(): void {
  const wasm = createWasmGemm();
  if (!wasm) {
    console.log('WebAssembly SIMD is unavailable here: nothing to compare.');
    return;
  }
  // Other processes sharing the cores skew every number; the load average says how much to trust them.
  const load = loadavg().map((x) => x.toFixed(1));
  console.log(
    `node ${process.version}, ${RUNS} runs, median GFLOP/s (float64), load average ${load.join(' ')}\n`,
  );
  console.log('shape                      |    js |  wasm | kernel | wasm/js | wasm best | note');
  console.log('---------------------------|-------|-------|--------|---------|-----------|------');
  for (const { M, K, N, note } of SHAPES) {
    const A = random(M * K, 1);
    const B = random(K * N, 2);
    const C = new Float64Array(M * N);
    const flops = 2 * M * N * K;
    const run = (g: Gemm) => () => g({ M, N, K, A, B, C });
    const candidates = [run(gemmJs), run(wasm), residentKernel(M, K, N, A, B)];
    // Repeat each timed run to ≥ ~20 ms at the fastest path's speed, so timer resolution does not matter.
    const reps = Math.max(1, Math.round(0.02 / (flops / 20e9)));
    const times: number[][] = candidates.map(() => []);
    for (const f of candidates) f(); // warm-up: tier up the JS and wasm code, grow memory once
    for (let r = 0; r < RUNS; r++) {
      candidates.forEach((f, i) => {
        // gemmJs is ~5× slower; fewer reps keep the bench short without hurting its resolution.
        const n = i === 0 ? Math.max(1, Math.round(reps / 5)) : reps;
        const t0 = performance.now();
        for (let q = 0; q < n; q++) f();
        times[i].push((performance.now() - t0) / n);
      });
    }
    const gf = times.map((t) => flops / median(t) / 1e6);
    // The fastest run approximates the uncontended speed when other processes load the machine.
    const best = flops / Math.min(...times[1]) / 1e6;
    const shape = `M=${M} K=${K} N=${N}`.padEnd(26);
    const col = (x: number, w: number) => x.toFixed(1).padStart(w);
    console.log(
      `${shape} | ${col(gf[0], 5)} | ${col(gf[1], 5)} | ${col(gf[2], 6)} | ${col(gf[1] / gf[0], 6)}× | ${col(best, 9)} | ${note}`,
    );
  }
}

main();
