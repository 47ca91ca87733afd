/**
 * WebAssembly SIMD float64 GEMM: a drop-in for gemmJs (same Gemm type and GemmArgs semantics).
 *
 * The module (./wasm-module.ts, shared with the tanh and elementwise kernels) can only read its own linear
 * memory. Operands already there (a resident arena's tensors, graph/tensor.ts) are used in place; the
 * others are copied in, and C back out. The copies are O(M·K + K·N + M·N) against O(M·N·K) work
 * and run at memcpy speed when the operands are dense; to keep them cheap M is processed in row blocks
 * small enough that the block of A just copied in is still in cache when the kernel reads it, and the
 * block of C the kernel wrote is still in cache when it is copied out. That also bounds the module's memory to B plus one block, whatever M is.
 */
import { gemmJs, type Gemm, type GemmArgs } from './gemm';
import { align64, wasmKernels, type WasmKernels } from './wasm-module';

/**
 * Bytes of A and C rows staged per kernel call: well inside a typical L2. Measured flat within noise from
 * 32 KB to 1 MB on the app's shapes; 4 MB blocks (which no longer fit) were slower.
 */
const BLOCK_BYTES = 256 * 1024;

/**
 * Strided rows shorter than this are copied by a plain loop: cheaper than creating a subarray per row
 * (measured: a subarray + set costs ~60 ns, the loop ~3 ns per element).
 */
const MIN_SUBARRAY_ROW = 24;

/**
 * Returns null where WebAssembly or its SIMD extension is unavailable or compilation is forbidden, so the
 * caller keeps gemmJs.
 */
export function createWasmGemm(w: WasmKernels | null = wasmKernels()): Gemm | null {
  if (!w) return null;
  const { ex } = w;

  return (g: GemmArgs): void => {
    const { M, N, K, A, B, C } = g;
    // The scratch's start moves up when parameters are pinned (wasm-module.ts).
    const base = w.base;
    if (M <= 0 || N <= 0) return;
    // An empty sum leaves nothing for the kernels to do; gemmJs's zero fill (or no-op) is the answer.
    // Everything else goes to the module: measured, it is faster than gemmJs even at M=N=K=4.
    if (K <= 0) return gemmJs(g);
    const aOff = g.aOff ?? 0;
    const bOff = g.bOff ?? 0;
    const cOff = g.cOff ?? 0;
    const lda = g.lda ?? K;
    const ldb = g.ldb ?? N;
    const ldc = g.ldc ?? N;
    const acc = g.accumulate ?? false;
    // A short array would make subarray() clamp silently and the product read stale memory; gemmJs
    // would read undefined and give NaN. Fail loudly instead.
    if (aOff + (M - 1) * lda + K > A.length || bOff + (K - 1) * ldb + N > B.length) {
      throw new RangeError(
        `gemm: A or B too short for M=${M} N=${N} K=${K} with the given offsets and strides`,
      );
    }
    if (cOff + (M - 1) * ldc + N > C.length) {
      throw new RangeError(`gemm: C too short for M=${M} N=${N} with the given offset and stride`);
    }

    // Operands in the module's memory already (a resident arena's tensors) are used in place.
    const inA = w.resident(A);
    const inB = w.resident(B);
    const inC = w.resident(C);

    // Strided operands whose gaps are no larger than their rows are copied as one span with the gaps,
    // keeping their leading dimension: one memcpy beats a call per row. C is the exception (below).
    const ldbW = ldb <= 2 * N ? ldb : N;
    const ldaW = lda <= 2 * K ? lda : K;
    const bLen = inB ? 0 : (K - 1) * ldbW + N;
    const aStart = align64(base + 8 * bLen);

    const rowBytes = 8 * ((inA ? 0 : ldaW) + (inC ? 0 : N));
    let rows = rowBytes === 0 ? M : Math.min(M, Math.max(4, Math.floor(BLOCK_BYTES / rowBytes)));
    // Blocks of a multiple of 4 rows leave the module's 1-row edge kernels to the last block only.
    if (rows < M) rows -= rows % 4;
    const cStart = align64(aStart + (inA ? 0 : 8 * ((rows - 1) * ldaW + K)));
    const mem = w.reserve(cStart + (inC ? 0 : 8 * rows * N));
    if (!mem) return gemmJs(g);

    const bPtr = inB ? B.byteOffset + 8 * bOff : base;
    const bLd = inB ? ldb : ldbW;
    if (!inB) copyIn(B, bOff, ldb, K, N, mem, base >> 3, ldbW);
    for (let i0 = 0; i0 < M; i0 += rows) {
      const mb = Math.min(rows, M - i0);
      if (!inA) copyIn(A, aOff + i0 * lda, lda, mb, K, mem, aStart >> 3, ldaW);
      const aPtr = inA ? A.byteOffset + 8 * (aOff + i0 * lda) : aStart;
      if (inC) {
        ex.gemm(
          aPtr,
          inA ? lda : ldaW,
          bPtr,
          bLd,
          C.byteOffset + 8 * (cOff + i0 * ldc),
          ldc,
          mb,
          N,
          K,
          acc ? 1 : 0,
        );
        continue;
      }
      // C stays dense in wasm memory and is written back row by row when strided: its gaps may belong to
      // other writers (e.g. other workers sharing the buffer), so they are never rewritten, not even
      // with the values they held.
      if (acc) copyIn(C, cOff + i0 * ldc, ldc, mb, N, mem, cStart >> 3, N);
      ex.gemm(aPtr, inA ? lda : ldaW, bPtr, bLd, cStart, N, mb, N, K, acc ? 1 : 0);
      copyOut(mem, cStart >> 3, mb, N, C, cOff + i0 * ldc, ldc);
    }
  };
}

/**
 * Copies `rows` × `cols` from `src` (row stride `ld`) to `dst` at `dstOff` with row stride `dstLd`;
 * `dstLd === ld` means copy the whole span, gaps included, at once.
 */
function copyIn(
  src: Float64Array,
  srcOff: number,
  ld: number,
  rows: number,
  cols: number,
  dst: Float64Array,
  dstOff: number,
  dstLd: number,
): void {
  if (dstLd === ld || rows === 1) {
    dst.set(src.subarray(srcOff, srcOff + (rows - 1) * ld + cols), dstOff);
  } else if (cols >= MIN_SUBARRAY_ROW) {
    for (let r = 0; r < rows; r++)
      dst.set(src.subarray(srcOff + r * ld, srcOff + r * ld + cols), dstOff + r * dstLd);
  } else {
    for (let r = 0; r < rows; r++) {
      const s = srcOff + r * ld;
      const d = dstOff + r * dstLd;
      for (let j = 0; j < cols; j++) dst[d + j] = src[s + j];
    }
  }
}

/** Copies a dense `rows` × `cols` block back to `dst` (row stride `ld`), touching only the block's cells. */
function copyOut(
  src: Float64Array,
  srcOff: number,
  rows: number,
  cols: number,
  dst: Float64Array,
  dstOff: number,
  ld: number,
): void {
  if (ld === cols || rows === 1) {
    dst.set(src.subarray(srcOff, srcOff + rows * cols), dstOff);
  } else if (cols >= MIN_SUBARRAY_ROW) {
    for (let r = 0; r < rows; r++)
      dst.set(src.subarray(srcOff + r * cols, srcOff + (r + 1) * cols), dstOff + r * ld);
  } else {
    for (let r = 0; r < rows; r++) {
      const s = srcOff + r * cols;
      const d = dstOff + r * ld;
      for (let j = 0; j < cols; j++) dst[d + j] = src[s + j];
    }
  }
}
