import { gemmJs, type Gemm } from './gemm';
import { createWasmGemm } from './gemm-wasm';
import { wasmKernels } from './wasm-module';

let best: Gemm | undefined;
let bestName = 'js';

/** The fastest GEMM available here: WebAssembly SIMD where it instantiates, else plain JS. */
export function cpuGemm(): Gemm {
  if (!best) {
    const wasm = createWasmGemm();
    best = wasm ?? gemmJs;
    bestName = wasm ? (wasmKernels()?.build === 'fused' ? 'wasm-simd-fma' : 'wasm-simd') : 'js';
  }
  return best;
}

/**
 * Which kernel `cpuGemm` picked ('wasm-simd-fma', 'wasm-simd' or 'js'), for `info`, the app and the
 * bench.
 */
export function cpuGemmName(): string {
  cpuGemm();
  return bestName;
}

/** The CPU kernels in words, for people: 'WebAssembly SIMD + FMA', 'WebAssembly SIMD' or 'JavaScript'. */
export function cpuKernelLabel(): string {
  const name = cpuGemmName();
  return name === 'wasm-simd-fma'
    ? 'WebAssembly SIMD + FMA'
    : name === 'wasm-simd'
      ? 'WebAssembly SIMD'
      : 'JavaScript';
}
