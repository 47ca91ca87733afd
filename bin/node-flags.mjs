// V8 settings the engine wants in Node, set before the first WebAssembly module is compiled (they
// are process-wide, so helper threads share them). Used by the CLI launcher, the bench and the
// tests, so all three run the kernels people run.
import { createRequire } from 'node:module';

/**
 * Relaxed SIMD lets the WebAssembly GEMM use fused multiply-adds (src/engine/kernels/wasm/gemm.ts,
 * ~35% faster). V8 ships it from 11.4 (Chromium 114, Node 21); Node 20's V8 11.3 has it behind a
 * flag. Elsewhere nothing is set: the flag may be gone from later V8s.
 */
export function enableRelaxedSimd() {
  const [major, minor] = process.versions.v8.split('.').map(Number);
  if (major === 11 && minor < 4)
    createRequire(import.meta.url)('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
}
