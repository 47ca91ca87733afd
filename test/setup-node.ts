// Every test process runs the WebAssembly kernels the CLI runs (bin/node-flags.mjs): on Node 20,
// the fused-multiply-add build behind V8's relaxed-SIMD flag. The plain build is tested explicitly
// (test/engine/kernels/gemm.test.ts).
import { enableRelaxedSimd } from '../bin/node-flags.mjs';

enableRelaxedSimd();
