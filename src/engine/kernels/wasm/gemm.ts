// AssemblyScript source of the WebAssembly SIMD float64 GEMM: compiled by asc (scripts/build-wasm.mjs)
// into ../gemm-wasm.generated.ts; ../gemm-wasm.ts is the JS side that copies operands in and out.
//
//   C[M,N] (+)= A[M,K] · B[K,N]   on operands already in linear memory.
//
// All pointers are byte addresses; leading dimensions are in elements.
//
// The register tile is 4 rows × 4 columns = 8 f64x2 accumulators, with A splatted one element at a time
// and B read as two vectors per k. V8 gives WebAssembly 15 usable xmm registers on x64; 4×4 needs 12
// (8 accumulators, 2 of B, 1 splat, 1 product) and compiles without spills. Measured alternatives under
// Node 20 (AMD EPYC): 4×6, 5×4, 6×4 and manually k-unrolled 4×4 ran 40–60% slower, 2×8 10–20% slower;
// packing B into column panels or A into 4-row panels was no faster than reading both in place, so
// neither is packed and no per-call pass over B is spent on it (B reaches 600 KB in the M=16, K=601,
// N=128 product, where such a pass is a sizeable share of the work).
//
// The module is built twice (scripts/build-wasm.mjs). SIMD128 alone has no f64x2 FMA, so there each step
// is a mul then an add. The relaxed-SIMD build uses relaxed_madd, which x64 engines compile to one fused
// multiply-add where the CPU has FMA: ~35% more GEMM throughput (22.6 against 16.6 GFLOP/s on the
// seed's largest product, Node 20, AMD EPYC), results then rounded once per step instead of twice.
// Relaxed SIMD ships in Chromium 114+ (so in Electron and the web build); Node 20 has it behind
// --experimental-wasm-relaxed-simd, which the CLI sets. The JS side takes the fused build where the
// engine validates it. Within one build, results do not depend on the thread or batch split.
//
// This file is the module's entry: the module's other kernels live in their own sources and are
// re-exported here.

// The app's tsc project includes src/, but this file is AssemblyScript (v128, f64x2, load<T>, usize):
// only asc can type-check it.
// @ts-nocheck

export { tanhArray } from './tanh';
export { binaryBlock } from './binary';

function madd(c: v128, a: v128, b: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(c, f64x2.mul(a, b));
}

function addTo(c: usize, v: v128, acc: bool): v128 {
  return acc ? f64x2.add(v, v128.load(c)) : v;
}

// The loops run on an end pointer rather than a k counter: one increment fewer per step.
function k4x4(a: usize, lda: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c00 = f64x2.splat(0),
    c01 = f64x2.splat(0),
    c10 = f64x2.splat(0),
    c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0),
    c21 = f64x2.splat(0),
    c30 = f64x2.splat(0),
    c31 = f64x2.splat(0);
  let a0 = a,
    a1 = a + lda,
    a2 = a1 + lda,
    a3 = a2 + lda;
  const end = a0 + ((<usize>K) << 3);
  while (a0 < end) {
    const b0 = v128.load(b),
      b1 = v128.load(b, 16);
    let x = v128.load64_splat(a0);
    c00 = madd(c00, x, b0);
    c01 = madd(c01, x, b1);
    x = v128.load64_splat(a1);
    c10 = madd(c10, x, b0);
    c11 = madd(c11, x, b1);
    x = v128.load64_splat(a2);
    c20 = madd(c20, x, b0);
    c21 = madd(c21, x, b1);
    x = v128.load64_splat(a3);
    c30 = madd(c30, x, b0);
    c31 = madd(c31, x, b1);
    a0 += 8;
    a1 += 8;
    a2 += 8;
    a3 += 8;
    b += ldb;
  }
  v128.store(c, addTo(c, c00, acc));
  v128.store(c + 16, addTo(c + 16, c01, acc));
  c += ldc;
  v128.store(c, addTo(c, c10, acc));
  v128.store(c + 16, addTo(c + 16, c11, acc));
  c += ldc;
  v128.store(c, addTo(c, c20, acc));
  v128.store(c + 16, addTo(c + 16, c21, acc));
  c += ldc;
  v128.store(c, addTo(c, c30, acc));
  v128.store(c + 16, addTo(c + 16, c31, acc));
}

function k4x2(a: usize, lda: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c0 = f64x2.splat(0),
    c1 = f64x2.splat(0),
    c2 = f64x2.splat(0),
    c3 = f64x2.splat(0);
  let a0 = a,
    a1 = a + lda,
    a2 = a1 + lda,
    a3 = a2 + lda;
  const end = a0 + ((<usize>K) << 3);
  while (a0 < end) {
    const b0 = v128.load(b);
    c0 = madd(c0, v128.load64_splat(a0), b0);
    c1 = madd(c1, v128.load64_splat(a1), b0);
    c2 = madd(c2, v128.load64_splat(a2), b0);
    c3 = madd(c3, v128.load64_splat(a3), b0);
    a0 += 8;
    a1 += 8;
    a2 += 8;
    a3 += 8;
    b += ldb;
  }
  v128.store(c, addTo(c, c0, acc));
  c += ldc;
  v128.store(c, addTo(c, c1, acc));
  c += ldc;
  v128.store(c, addTo(c, c2, acc));
  c += ldc;
  v128.store(c, addTo(c, c3, acc));
}

// A single column is a dot product per row. Splatting A against one B element would waste half of every
// vector, so pairs of k go in the two lanes instead (A's row is contiguous in k; the two B elements are
// gathered from consecutive rows of B) and the lanes are summed at the end. This is the whole product
// when N = 1.
function k4x1(a: usize, lda: usize, b: usize, ldb: usize, c: usize, ldc: usize, K: i32, acc: bool): void {
  let c0 = f64x2.splat(0),
    c1 = f64x2.splat(0),
    c2 = f64x2.splat(0),
    c3 = f64x2.splat(0);
  let a0 = a,
    a1 = a + lda,
    a2 = a1 + lda,
    a3 = a2 + lda;
  const end = a0 + ((<usize>(K & ~1)) << 3);
  const ldb2 = ldb << 1;
  while (a0 < end) {
    const bb = v128.load64_lane(b + ldb, v128.load64_zero(b), 1);
    c0 = madd(c0, v128.load(a0), bb);
    c1 = madd(c1, v128.load(a1), bb);
    c2 = madd(c2, v128.load(a2), bb);
    c3 = madd(c3, v128.load(a3), bb);
    a0 += 16;
    a1 += 16;
    a2 += 16;
    a3 += 16;
    b += ldb2;
  }
  let s0 = f64x2.extract_lane(c0, 0) + f64x2.extract_lane(c0, 1);
  let s1 = f64x2.extract_lane(c1, 0) + f64x2.extract_lane(c1, 1);
  let s2 = f64x2.extract_lane(c2, 0) + f64x2.extract_lane(c2, 1);
  let s3 = f64x2.extract_lane(c3, 0) + f64x2.extract_lane(c3, 1);
  if (K & 1) {
    const bk = load<f64>(b);
    s0 += load<f64>(a0) * bk;
    s1 += load<f64>(a1) * bk;
    s2 += load<f64>(a2) * bk;
    s3 += load<f64>(a3) * bk;
  }
  if (acc) {
    s0 += load<f64>(c);
    s1 += load<f64>(c + ldc);
    s2 += load<f64>(c + 2 * ldc);
    s3 += load<f64>(c + 3 * ldc);
  }
  store<f64>(c, s0);
  store<f64>(c + ldc, s1);
  store<f64>(c + 2 * ldc, s2);
  store<f64>(c + 3 * ldc, s3);
}

// One-row kernels for the last M % 4 rows.
function k1x4(a: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f64x2.splat(0),
    c1 = f64x2.splat(0);
  const end = a + ((<usize>K) << 3);
  while (a < end) {
    const x = v128.load64_splat(a);
    c0 = madd(c0, x, v128.load(b));
    c1 = madd(c1, x, v128.load(b, 16));
    a += 8;
    b += ldb;
  }
  v128.store(c, addTo(c, c0, acc));
  v128.store(c + 16, addTo(c + 16, c1, acc));
}

function k1x2(a: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f64x2.splat(0);
  const end = a + ((<usize>K) << 3);
  while (a < end) {
    c0 = madd(c0, v128.load64_splat(a), v128.load(b));
    a += 8;
    b += ldb;
  }
  v128.store(c, addTo(c, c0, acc));
}

function k1x1(a: usize, b: usize, ldb: usize, c: usize, K: i32, acc: bool): void {
  let c0 = f64x2.splat(0);
  const end = a + ((<usize>(K & ~1)) << 3);
  const ldb2 = ldb << 1;
  while (a < end) {
    c0 = madd(c0, v128.load(a), v128.load64_lane(b + ldb, v128.load64_zero(b), 1));
    a += 16;
    b += ldb2;
  }
  let s = f64x2.extract_lane(c0, 0) + f64x2.extract_lane(c0, 1);
  if (K & 1) s += load<f64>(a) * load<f64>(b);
  if (acc) s += load<f64>(c);
  store<f64>(c, s);
}

/**
 * C (+)= A·B with A at byte address `a` (row stride lda elements), B at `b` (ldb), C at `c` (ldc).
 * The 4-row group is the outer loop so its 4·K elements of A stay in L1 across the sweep over B's
 * column panels.
 */
export function gemm(
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  c: usize,
  ldc: i32,
  M: i32,
  N: i32,
  K: i32,
  accumulate: bool,
): void {
  const ldaB = (<usize>lda) << 3,
    ldbB = (<usize>ldb) << 3,
    ldcB = (<usize>ldc) << 3;
  const N4 = N & ~3;
  const tail2 = (N & 2) != 0;
  const tail1 = (N & 1) != 0;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const ar = a + <usize>i * ldaB;
    const cr = c + <usize>i * ldcB;
    for (let j = 0; j < N4; j += 4) {
      k4x4(ar, ldaB, b + ((<usize>j) << 3), ldbB, cr + ((<usize>j) << 3), ldcB, K, accumulate);
    }
    let j = N4;
    if (tail2) {
      k4x2(ar, ldaB, b + ((<usize>j) << 3), ldbB, cr + ((<usize>j) << 3), ldcB, K, accumulate);
      j += 2;
    }
    if (tail1) k4x1(ar, ldaB, b + ((<usize>j) << 3), ldbB, cr + ((<usize>j) << 3), ldcB, K, accumulate);
  }
  for (; i < M; i++) {
    const ar = a + <usize>i * ldaB;
    const cr = c + <usize>i * ldcB;
    for (let j = 0; j < N4; j += 4) {
      k1x4(ar, b + ((<usize>j) << 3), ldbB, cr + ((<usize>j) << 3), K, accumulate);
    }
    let j = N4;
    if (tail2) {
      k1x2(ar, b + ((<usize>j) << 3), ldbB, cr + ((<usize>j) << 3), K, accumulate);
      j += 2;
    }
    if (tail1) k1x1(ar, b + ((<usize>j) << 3), ldbB, cr + ((<usize>j) << 3), K, accumulate);
  }
}

/** First free byte after the module's static data: the JS side lays its buffers out from here. */
export function heapBase(): usize {
  return __heap_base;
}
