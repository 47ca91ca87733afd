import { gemmJs, type Gemm } from './gemm';
import { createWasmGemm } from './gemm-wasm';

let best: Gemm | undefined;
let bestName = 'js';

/** The fastest GEMM available here: WebAssembly SIMD where it instantiates, else plain JS. */
export function cpuGemm(): Gemm {
  if (!best) {
    const wasm = createWasmGemm();
    best = wasm ?? gemmJs;
    bestName = wasm ? 'wasm-simd' : 'js';
  }
  return best;
}

/** Which kernel `cpuGemm` picked ('wasm-simd' or 'js'), for `info`, the app and the bench. */
export function cpuGemmName(): string {
  cpuGemm();
  return bestName;
}
