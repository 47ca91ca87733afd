/**
 * Whether an adapter tiles its GEMM-shaped products (tape-wgsl-gemm.ts: 64×64 workgroup tiles staged
 * in workgroup memory) or runs them on the generic product kernel (one thread per output). Tiling is
 * what makes a GPU's GEMM fast; on SwiftShader it was slower but for large products (its barriers
 * cost more than the reuse saves), so no fixed choice fits every adapter.
 *
 * A software adapter takes the runner's own rule (tile only large products: gemmWorthTiling) without
 * measuring. Any other is measured once per context: both kernels on a seed-sized product (8,192
 * rows × 64 × 64: a 1×1 convolution of 64 seed samples' worth of one tangent direction), the faster
 * of their best times wins.
 */
import type { Tape } from '../../graph/lower/tape';
import type { WebGpuContext } from './context';
import { TapeRunner, type TapeRunnerOptions } from './tape-runner';

export type GemmMode = NonNullable<TapeRunnerOptions['gemm']>;

export interface GemmChoice {
  /** What the runners of this context use: 'auto' tiles products big enough, 'generic' never. */
  mode: GemmMode;
  /** For people: how it was chosen ('software adapter', or the two times). */
  reason: string;
  /** Best milliseconds of each kernel, when measured. */
  ms?: { tiled: number; generic: number };
}

/** The product measured: rows × K · K × N. */
const DEFAULT_ROWS = 8192;
const K = 64;
const N = 64;
const RUNS = 5;

/** The choice for this context's adapter (see above). */
export async function chooseGemm(context: WebGpuContext): Promise<GemmChoice> {
  if (context.adapter.software)
    return {
      mode: 'auto',
      reason: 'software adapter: only large products are tiled (measured on SwiftShader)',
    };
  const ms = await measureGemm(context);
  return {
    mode: ms.tiled < ms.generic ? 'auto' : 'generic',
    ms,
    reason: `measured ${DEFAULT_ROWS}×${K}×${N}: tiled ${ms.tiled.toFixed(2)} ms, generic ${ms.generic.toFixed(2)} ms`,
  };
}

/** C [rows, N] = A [rows, K] · W [K, N] as a tape (A and W constants, C its y). */
function productTape(rows: number): Tape {
  const fill = (n: number) => Float64Array.from({ length: n }, (_, i) => ((i * 7) % 13) / 13);
  return {
    bufs: [
      { len: rows * K, init: { k: 'const', data: fill(rows * K) }, op: 'A' },
      { len: K * N, init: { k: 'const', data: fill(K * N) }, op: 'W' },
      { len: rows * N, init: { k: 'output', name: 'y' }, op: 'C' },
    ],
    recs: [
      {
        kind: 'contract',
        op: 'gemm choice',
        shape: [rows, N, K],
        a: { buf: 0, strides: [K, 0, 1], offset: 0 },
        b: { buf: 1, strides: [0, 1, N], offset: 0 },
        out: { buf: 2, strides: [N, 1, 0], offset: 0 },
        scale: 1,
        accumulate: false,
      },
    ],
    y: 2,
    J: null,
  };
}

/** Best wall time of each kernel (a run and its read-back) over RUNS runs after a warm-up, in ms. */
export async function measureGemm(
  context: WebGpuContext,
  rows = DEFAULT_ROWS,
): Promise<{ tiled: number; generic: number }> {
  context.checkAlive();
  const tape = productTape(rows);
  const out = new Float32Array(rows * N);
  const ms = { tiled: Infinity, generic: Infinity };
  for (const gemm of ['tiled', 'generic'] as const) {
    const runner = await TapeRunner.create(context, tape, 1, 0, { gemm });
    try {
      await runner.run(new Map(), { y: out });
      for (let r = 0; r < RUNS; r++) {
        const t0 = performance.now();
        await runner.run(new Map(), { y: out });
        ms[gemm] = Math.min(ms[gemm], performance.now() - t0);
      }
    } finally {
      runner.destroy();
    }
  }
  return ms;
}
