import { ENTRY, WORKGROUP_SIZE, type Word } from './wgsl-common';

/**
 * What both kernels share: the parameters and bindings (0 params, 1 A, 2 W, 3 bias, 4 C), and the end
 * of a thread's 4×4 block: the bias added last (as the CPU adds it after the product), then its four
 * rows written, rows past M and columns past N skipped.
 */
const GEMM_COMMON = /* wgsl */ `
struct Params { total: u32, M: u32, N: u32, N4: u32, K: u32, lda: u32, aOff: u32, ldc: u32, cOff: u32, flags: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> W: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> C: array<f32>;

fn store(r: u32, j0: u32, v: vec4<f32>) {
  if (r >= u.M) { return; }
  let c0 = u.cOff + r * u.ldc + j0;
  C[c0] = v.x;
  if (j0 + 1u < u.N) { C[c0 + 1u] = v.y; }
  if (j0 + 2u < u.N) { C[c0 + 2u] = v.z; }
  if (j0 + 3u < u.N) { C[c0 + 3u] = v.w; }
}

fn finish(r0: u32, jq: u32, p0: vec4<f32>, p1: vec4<f32>, p2: vec4<f32>, p3: vec4<f32>) {
  var s0 = p0;
  var s1 = p1;
  var s2 = p2;
  var s3 = p3;
  // Bias last, as the CPU adds it after the product.
  if ((u.flags & 1u) != 0u) {
    let b = bias[jq];
    s0 += b;
    s1 += b;
    s2 += b;
    s3 += b;
  }
  let j0 = jq * 4u;
  store(r0, j0, s0);
  store(r0 + 1u, j0, s1);
  store(r0 + 2u, j0, s2);
  store(r0 + 3u, j0, s3);
}
`;

/**
 * Dense layer / 1×1 convolution: C[r, cOff + j] = Σ_k A[aOff + r·lda + k] · W[k, j] (+ bias[j]),
 * rows r = time × batch (× tangent) flattened, exactly as on the CPU.
 *
 * Each thread computes a 4×4 block (4 rows × 4 output channels): per k it loads 4 values of A and
 * one vec4 of W for 16 multiply-adds. That register blocking is what makes it fast where it runs
 * at all — measured on SwiftShader, 4–8× the one-output-per-thread kernel; tiling through
 * workgroup memory was 10× slower there (barriers), so there is none.
 *
 * W is uploaded as [K, N4·4] (N padded with zero columns to a multiple of 4) and read as vec4;
 * bias likewise. A is read as scalars (K, the input channels, need not be a multiple of 4).
 * Rows past M are clamped on read and skipped on write; padded columns are never written.
 *
 * Bindings: GEMM_COMMON's (bias a dummy when unused).
 */
export const GEMM_WGSL = /* wgsl */ `
${GEMM_COMMON}
${ENTRY}
  let jq = i % u.N4;
  let r0 = (i / u.N4) * 4u;
  let last = u.M - 1u;
  let a0 = u.aOff + r0 * u.lda;
  let a1 = u.aOff + min(r0 + 1u, last) * u.lda;
  let a2 = u.aOff + min(r0 + 2u, last) * u.lda;
  let a3 = u.aOff + min(r0 + 3u, last) * u.lda;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  var wk = jq;
  for (var k = 0u; k < u.K; k++) {
    let w = W[wk];
    s0 = fma(vec4<f32>(A[a0 + k]), w, s0);
    s1 = fma(vec4<f32>(A[a1 + k]), w, s1);
    s2 = fma(vec4<f32>(A[a2 + k]), w, s2);
    s3 = fma(vec4<f32>(A[a3 + k]), w, s3);
    wk += u.N4;
  }
  finish(r0, jq, s0, s1, s2, s3);
}
`;

/**
 * The same product through workgroup memory, for GPUs: a workgroup of 256 threads computes a tile of
 * 64 rows × 64 columns (16 vec4), each thread its 4×4 block as above, and the tile's A rows and W
 * columns are staged in workgroup memory 16 values of k at a time, so each is read from memory once
 * per tile rather than once per thread. Per output the multiply-adds run in the same k order as the
 * flat kernel's, so the two give the same bits. Which one runs is chosen per adapter (gemm-choice.ts):
 * on SwiftShader this one was 10× slower (barriers).
 *
 * The dispatch is one workgroup per tile (`total` = tiles); the 2-D grid of workgroups is rebuilt
 * into the tile index, which is uniform, so the early return leaves the barriers in uniform control.
 */
const TM = 64;
const TN4 = 16;
const TK = 16;
export const GEMM_TILED_WGSL = /* wgsl */ `
${GEMM_COMMON}

const TM = ${TM}u;
const TN4 = ${TN4}u;
const TK = ${TK}u;
var<workgroup> As: array<f32, ${TM * TK}>;
var<workgroup> Ws: array<vec4<f32>, ${TK * TN4}>;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let tile = wid.y * nwg.x + wid.x;
  if (tile >= u.total) { return; }
  let tilesN = (u.N4 + TN4 - 1u) / TN4;
  let rowT = (tile / tilesN) * TM;
  let colT = (tile % tilesN) * TN4;
  let tx = lid % TN4;
  let ty = lid / TN4;
  let last = u.M - 1u;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < u.K; k0 += TK) {
    // A: TM × TK values, four per thread, stored k-major; rows past M clamped, k past K zero.
    for (var e = 0u; e < ${(TM * TK) / 256}u; e++) {
      let idx = lid + e * ${WORKGROUP_SIZE}u;
      let r = idx / TK;
      let kk = idx % TK;
      let k = k0 + kk;
      let row = min(rowT + r, last);
      var a = 0.0;
      if (k < u.K) { a = A[u.aOff + row * u.lda + k]; }
      As[kk * TM + r] = a;
    }
    // W: TK × TN4 vec4, one per thread; k past K and columns past N4 zero.
    {
      let kk = lid / TN4;
      let c = colT + lid % TN4;
      let k = k0 + kk;
      var w = vec4<f32>(0.0);
      if (k < u.K && c < u.N4) { w = W[k * u.N4 + c]; }
      Ws[lid] = w;
    }
    workgroupBarrier();
    let steps = min(TK, u.K - k0);
    for (var kk = 0u; kk < steps; kk++) {
      let w = Ws[kk * TN4 + tx];
      let ar = kk * TM + ty * 4u;
      s0 = fma(vec4<f32>(As[ar]), w, s0);
      s1 = fma(vec4<f32>(As[ar + 1u]), w, s1);
      s2 = fma(vec4<f32>(As[ar + 2u]), w, s2);
      s3 = fma(vec4<f32>(As[ar + 3u]), w, s3);
    }
    workgroupBarrier();
  }
  let jq = colT + tx;
  if (jq >= u.N4) { return; }
  finish(rowT + ty * 4u, jq, s0, s1, s2, s3);
}
`;

/** The flat kernel (one thread per 4×4 block) or the tiled one (one workgroup per 64×64 tile). */
export type GemmVariant = 'flat' | 'tiled';

export interface GemmShape {
  rows: number;
  N: number;
  K: number;
  lda?: number;
  aOff?: number;
  ldc?: number;
  cOff?: number;
  bias: boolean;
}

export function gemmParams(g: GemmShape, variant: GemmVariant = 'flat'): { words: Word[]; threads: number } {
  const N4 = Math.ceil(g.N / 4);
  // Flat: one thread per 4×4 block, `total` threads. Tiled: one workgroup per tile, `total` tiles.
  const tiles = Math.ceil(g.rows / TM) * Math.ceil(N4 / TN4);
  const threads = variant === 'tiled' ? tiles * WORKGROUP_SIZE : Math.ceil(g.rows / 4) * N4;
  return {
    threads,
    words: [
      variant === 'tiled' ? tiles : threads,
      g.rows,
      g.N,
      N4,
      g.K,
      g.lda ?? g.K,
      g.aOff ?? 0,
      g.ldc ?? g.N,
      g.cOff ?? 0,
      g.bias ? 1 : 0,
    ],
  };
}

/** PyTorch's Linear/Conv1d weight [out, in(, 1)] → W [in, out padded to a multiple of 4], f32. */
export function gemmWeightsToGpu(weight: Float64Array, outF: number, inF: number): Float32Array {
  const N4 = Math.ceil(outF / 4) * 4;
  const W = new Float32Array(inF * N4);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) W[i * N4 + o] = weight[o * inF + i];
  return W;
}

/** A bias [out] padded to a multiple of 4, f32. */
export function gemmBiasToGpu(bias: Float64Array): Float32Array {
  const b = new Float32Array(Math.ceil(bias.length / 4) * 4);
  b.set(bias);
  return b;
}
