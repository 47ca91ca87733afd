/**
 * Dense matrix product on float64, the CPU backend's one heavy kernel:
 *   C[M,N] (+)= A[M,K] · B[K,N]
 * with row-major operands given by leading dimensions (lda ≥ K, ldb ≥ N, ldc ≥ N) and offsets,
 * so callers can read and write strided row blocks (e.g. one sample's rows of a [modes, B, C] tensor)
 * without copies. Every model op is laid out so its work is one or a few such products, with
 * time × batch × tangent flattened into M and channels in N (never the tangent axis innermost).
 */
export interface GemmArgs {
  M: number;
  N: number;
  K: number;
  A: Float64Array;
  aOff?: number;
  lda?: number;
  B: Float64Array;
  bOff?: number;
  ldb?: number;
  C: Float64Array;
  cOff?: number;
  ldc?: number;
  /** Add into C instead of overwriting it. */
  accumulate?: boolean;
}

export type Gemm = (args: GemmArgs) => void;

/**
 * Plain-JavaScript GEMM: 4×4 register blocks over i-j with the k loop innermost.
 * The reference every faster kernel is tested against, and the fallback where WebAssembly is missing.
 */
export const gemmJs: Gemm = (g) => {
  const { M, N, K, A, B, C } = g;
  const aOff = g.aOff ?? 0;
  const bOff = g.bOff ?? 0;
  const cOff = g.cOff ?? 0;
  const lda = g.lda ?? K;
  const ldb = g.ldb ?? N;
  const ldc = g.ldc ?? N;
  const acc = g.accumulate ?? false;
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const a3 = a2 + lda;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let bp = bOff + j;
      for (let k = 0; k < K; k++, bp += ldb) {
        const b0 = B[bp], b1 = B[bp + 1], b2 = B[bp + 2], b3 = B[bp + 3];
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        c00 += x0 * b0; c01 += x0 * b1; c02 += x0 * b2; c03 += x0 * b3;
        c10 += x1 * b0; c11 += x1 * b1; c12 += x1 * b2; c13 += x1 * b3;
        c20 += x2 * b0; c21 += x2 * b1; c22 += x2 * b2; c23 += x2 * b3;
        c30 += x3 * b0; c31 += x3 * b1; c32 += x3 * b2; c33 += x3 * b3;
      }
      const r0 = cOff + i * ldc + j;
      const r1 = r0 + ldc;
      const r2 = r1 + ldc;
      const r3 = r2 + ldc;
      if (acc) {
        C[r0] += c00; C[r0 + 1] += c01; C[r0 + 2] += c02; C[r0 + 3] += c03;
        C[r1] += c10; C[r1 + 1] += c11; C[r1 + 2] += c12; C[r1 + 3] += c13;
        C[r2] += c20; C[r2 + 1] += c21; C[r2 + 2] += c22; C[r2 + 3] += c23;
        C[r3] += c30; C[r3 + 1] += c31; C[r3 + 2] += c32; C[r3 + 3] += c33;
      } else {
        C[r0] = c00; C[r0 + 1] = c01; C[r0 + 2] = c02; C[r0 + 3] = c03;
        C[r1] = c10; C[r1 + 1] = c11; C[r1 + 2] = c12; C[r1 + 3] = c13;
        C[r2] = c20; C[r2 + 1] = c21; C[r2 + 2] = c22; C[r2 + 3] = c23;
        C[r3] = c30; C[r3 + 1] = c31; C[r3 + 2] = c32; C[r3 + 3] = c33;
      }
    }
    for (let j = N4; j < N; j++) edge(i, i + 4, j);
  }
  for (let i = M4; i < M; i++) for (let j = 0; j < N; j++) edge(i, i + 1, j);

  function edge(i0: number, i1: number, j: number): void {
    for (let i = i0; i < i1; i++) {
      let s = 0;
      const ap = aOff + i * lda;
      let bp = bOff + j;
      for (let k = 0; k < K; k++, bp += ldb) s += A[ap + k] * B[bp];
      const cp = cOff + i * ldc + j;
      C[cp] = acc ? C[cp] + s : s;
    }
  }
};
