import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gemmJs, type Gemm, type GemmArgs } from '../../../src/engine/kernels/gemm';
import { createWasmGemm } from '../../../src/engine/kernels/gemm-wasm';
import { GEMM_WASM_FUSED_BASE64 } from '../../../src/engine/kernels/gemm-wasm.generated';
import { cpuGemmName } from '../../../src/engine/kernels';
import { createKernels, wasmKernels } from '../../../src/engine/kernels/wasm-module';

/** Deterministic uniform(-1, 1) stream, so a failure reproduces. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    s ^= s >>> 12;
    return (s >>> 0) / 2 ** 31 - 1;
  };
}

function fill(n: number, rand: () => number): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = rand();
  return a;
}

interface Case extends Required<GemmArgs> {
  name: string;
}

/**
 * Operands with offsets and leading dimensions as asked; every cell of C (gaps included) starts at a
 * random value, so a kernel that writes outside the M×N block, or ignores C when accumulating, shows.
 */
function makeCase(
  M: number,
  N: number,
  K: number,
  opts: { pad?: [number, number, number]; off?: [number, number, number]; acc?: boolean; seed?: number } = {},
): Case {
  const rand = rng(opts.seed ?? M * 7919 + N * 104729 + K * 31);
  const [pa, pb, pc] = opts.pad ?? [0, 0, 0];
  const [aOff, bOff, cOff] = opts.off ?? [0, 0, 0];
  const lda = K + pa;
  const ldb = N + pb;
  const ldc = N + pc;
  const tail = 3; // cells past the last row: must stay untouched too
  return {
    name: `M=${M} N=${N} K=${K} lda=${lda} ldb=${ldb} ldc=${ldc} off=${aOff},${bOff},${cOff} acc=${!!opts.acc}`,
    M,
    N,
    K,
    A: fill(aOff + Math.max(0, M - 1) * lda + K + tail, rand),
    aOff,
    lda,
    B: fill(bOff + Math.max(0, K - 1) * ldb + N + tail, rand),
    bOff,
    ldb,
    C: fill(cOff + Math.max(0, M - 1) * ldc + N + tail, rand),
    cOff,
    ldc,
    accumulate: opts.acc ?? false,
  };
}

/**
 * Checks `gemm` against a naive float64 triple loop. The error of each cell is measured relative to
 * Σ_k |a_ik·b_kj| (+ |c_ij| when accumulating), the scale that bounds float64 rounding of any summation
 * order; a plain relative error is meaningless for cells that cancel to near zero.
 */
function check(gemm: Gemm, c: Case): void {
  const { M, N, K, A, B, C, aOff, bOff, cOff, lda, ldb, ldc, accumulate } = c;
  const A0 = A.slice();
  const B0 = B.slice();
  const C0 = C.slice();
  gemm(c);
  // Plain loops: vitest's deep equality on million-element arrays takes seconds.
  if (firstDifference(A, A0) >= 0 || firstDifference(B, B0) >= 0)
    throw new Error(`${c.name}: A or B modified`);
  const inside = new Uint8Array(C.length);
  let worst = 0;
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      const ci = cOff + i * ldc + j;
      inside[ci] = 1;
      let ref = accumulate ? C0[ci] : 0;
      let scale = accumulate ? Math.abs(C0[ci]) : 0;
      for (let k = 0; k < K; k++) {
        const p = A[aOff + i * lda + k] * B[bOff + k * ldb + j];
        ref += p;
        scale += Math.abs(p);
      }
      const err = Math.abs(C[ci] - ref) / (scale || 1);
      if (!(err <= worst)) worst = err; // NaN sticks
    }
  }
  expect(worst, `${c.name}: relative error`).toBeLessThanOrEqual(1e-13);
  for (let i = 0; i < C.length; i++) {
    if (!inside[i] && C[i] !== C0[i]) throw new Error(`${c.name}: wrote C[${i}] outside the block`);
  }
}

/** Index of the first cell where the arrays differ (NaN equals NaN), or -1. */
function firstDifference(x: Float64Array, y: Float64Array): number {
  for (let i = 0; i < x.length; i++)
    if (x[i] !== y[i] && !(Number.isNaN(x[i]) && Number.isNaN(y[i]))) return i;
  return x.length === y.length ? -1 : x.length;
}

const wasmGemm = createWasmGemm();

// Both builds of the module, each in an instance of its own: the plain SIMD128 one, and the fused
// multiply-add one (relaxed SIMD: this process has V8's flag, test/setup-node.ts).
const implementations: [string, Gemm | null][] = [
  ['gemmJs', gemmJs],
  ['wasm (shared)', wasmGemm],
  ['wasm plain', createWasmGemm(createKernels('plain'))],
  ['wasm fused', createWasmGemm(createKernels('fused'))],
];

describe.each(implementations)('%s', (_name, gemm) => {
  // Node 20 has WebAssembly SIMD, so a null here is a real failure, not an unsupported platform.
  it('is available', () => expect(gemm).not.toBeNull());
  const g = gemm as Gemm;

  it('handles every small shape, dense and strided, overwriting and accumulating', () => {
    const sizes = [1, 2, 3, 4, 5, 7, 8, 9];
    for (const M of sizes)
      for (const N of sizes)
        for (const K of [1, 2, 3, 5, 8]) {
          check(g, makeCase(M, N, K));
          check(g, makeCase(M, N, K, { pad: [1, 3, 2], off: [5, 1, 7], acc: true }));
        }
  });

  it('matches the reference on random shapes with random offsets, strides and accumulate', () => {
    const rand = rng(12345);
    const pick = (lo: number, hi: number) => lo + Math.floor(((rand() + 1) / 2) * (hi - lo + 1));
    for (let t = 0; t < 60; t++) {
      // Sizes straddle the 4-row/4-column tiles, the row blocks and the strided-copy paths.
      const M = pick(1, 700);
      const N = pick(1, 70);
      const K = pick(1, 140);
      const pad = () => (rand() < 0.4 ? 0 : pick(1, 3 * K));
      check(
        g,
        makeCase(M, N, K, {
          pad: [pad(), rand() < 0.4 ? 0 : pick(1, 2 * N), rand() < 0.4 ? 0 : pick(1, 2 * N)],
          off: [pick(0, 9), pick(0, 9), pick(0, 9)],
          acc: rand() < 0.5,
          seed: t,
        }),
      );
    }
  });

  it('matches on the app shapes, with primes and a strided C', () => {
    for (const [M, K, N] of [
      [8414, 32, 15],
      [601, 128, 64],
      [16, 601, 128],
      [601, 64, 1],
      [997, 20, 3],
      [1009, 1, 13],
      [601, 127, 31],
    ]) {
      check(g, makeCase(M, N, K));
      check(g, makeCase(M, N, K, { pad: [K, 1, N + 1], off: [3, 2, 1], acc: true }));
    }
  });

  it('spans many row blocks and reuses its memory across calls of changing size', () => {
    check(g, makeCase(20011, 17, 64, { acc: true }));
    check(g, makeCase(33, 40, 50));
    check(g, makeCase(6007, 9, 130, { pad: [400, 0, 5], off: [1, 0, 2] }));
  });

  it('propagates NaN and Infinity like the reference', () => {
    const c = makeCase(64, 16, 40);
    c.A[c.aOff + 5 * c.lda + 3] = NaN;
    c.B[c.bOff + 7 * c.ldb + 2] = Infinity;
    g(c);
    for (let j = 0; j < c.N; j++) expect(c.C[c.cOff + 5 * c.ldc + j]).toBeNaN();
    expect(Math.abs(c.C[c.cOff + 9 * c.ldc + 2])).toBe(Infinity);
    expect(Number.isFinite(c.C[c.cOff + 9 * c.ldc + 3])).toBe(true);
  });

  it('treats K = 0 as a product of zeros', () => {
    const c = makeCase(50, 60, 0);
    const C0 = c.C.slice();
    g({ ...c, accumulate: true });
    expect(firstDifference(c.C, C0)).toBe(-1);
    g(c);
    expect(c.C.subarray(0, c.M * c.N).every((v) => v === 0)).toBe(true);
  });
});

describe('wasm', () => {
  it('runs the fused build where the engine has relaxed SIMD', () => {
    expect(WebAssembly.validate(Uint8Array.from(atob(GEMM_WASM_FUSED_BASE64), (c) => c.charCodeAt(0)))).toBe(
      true,
    );
    expect(wasmKernels()!.build).toBe('fused');
    expect(cpuGemmName()).toBe('wasm-simd-fma');
  });

  it('the builds differ only in rounding: a fused step rounds once', () => {
    // C = 1·(−(1 + 2^-29)) + (1 + 2^-30)²: the second product is exactly 1 + 2^-29 + 2^-60, which
    // needs 61 bits. Rounded before the add (plain) its 2^-60 is lost; fused, it is the result.
    const e = 2 ** -30;
    const run = (gemm: Gemm) => {
      const C = new Float64Array(2);
      const B = Float64Array.of(-(1 + 2 * e), -(1 + 2 * e), 1 + e, 1 + e); // [K=2, N=2]
      gemm({ M: 1, N: 2, K: 2, A: Float64Array.of(1, 1 + e), B, C });
      return [...C];
    };
    expect(run(createWasmGemm(createKernels('plain'))!)).toEqual([0, 0]);
    expect(run(createWasmGemm(createKernels('fused'))!)).toEqual([2 ** -60, 2 ** -60]);
  });

  it('rejects operands too short for the shape instead of reading stale memory', () => {
    const c = makeCase(100, 100, 100);
    expect(() => wasmGemm!({ ...c, A: c.A.subarray(0, c.A.length - 10) })).toThrow(RangeError);
    expect(() => wasmGemm!({ ...c, C: c.C.subarray(0, c.C.length - 10) })).toThrow(RangeError);
  });
});

// The generated module must be what the AssemblyScript source compiles to today. The compiler is a
// devDependency; where it is not installed (a production install) there is nothing to compare with.
const ascInstalled = await import('assemblyscript/asc').then(
  () => true,
  () => false,
);

describe.skipIf(!ascInstalled)('gemm-wasm.generated.ts', () => {
  it('is up to date with src/engine/kernels/wasm/gemm.ts (run `npm run build:wasm`)', async () => {
    // A computed specifier: the build script is plain JavaScript outside the typed project.
    const script = new URL('../../../scripts/build-wasm.mjs', import.meta.url).href;
    const { buildWasm } = (await import(/* @vite-ignore */ script)) as {
      buildWasm(outFile?: string): Promise<string>;
    };
    const dir = await mkdtemp(join(tmpdir(), 'jacscope-wasm-'));
    try {
      const fresh = await readFile(await buildWasm(join(dir, 'gemm-wasm.generated.ts')), 'utf8');
      const committed = await readFile(
        new URL('../../../src/engine/kernels/gemm-wasm.generated.ts', import.meta.url),
        'utf8',
      );
      expect(fresh === committed, 'gemm-wasm.generated.ts is stale: run `npm run build:wasm`').toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
