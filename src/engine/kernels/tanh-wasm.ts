/**
 * tanh over a float64 array in WebAssembly SIMD (./wasm/tanh.ts): the same bits as the scalar ./tanh.ts
 * at a fraction of its time (two values per vector, and no branch to mispredict).
 *
 * The module reads only its own memory, so values are copied in and back out, in blocks small enough to
 * stay in L1 between the copies and the kernel; that also bounds the module's memory whatever n is.
 */
import { tanh } from './tanh';
import { wasmKernels } from './wasm-module';

/** Values per block: 32 KB. */
const BLOCK = 4096;

/**
 * Below this many values the scalar loop is as fast: the subarrays, copies and call cost a fixed ~150 ns
 * (measured crossover 32–48 values; callers with shorter runs can skip tanhInto).
 */
export const TANH_WASM_MIN = 64;

/**
 * dst[dstOff + i] = tanh(src[srcOff + i]) for i < n, bit for bit as ./tanh.ts. src and dst may be the
 * same range (not partly overlapping ones). The scalar loop where the module is unavailable.
 */
export function tanhInto(
  src: Float64Array,
  srcOff: number,
  dst: Float64Array,
  dstOff: number,
  n: number,
): void {
  if (n <= 0) return;
  // subarray() would clamp a short range silently and the result would come from stale memory.
  if (srcOff < 0 || dstOff < 0 || srcOff + n > src.length || dstOff + n > dst.length) {
    throw new RangeError(`tanhInto: ${n} values do not fit the arrays at offsets ${srcOff}, ${dstOff}`);
  }
  const w = wasmKernels();
  if (w && w.resident(src) && w.resident(dst)) {
    // a resident arena's tensors: in place, no copies
    w.ex.tanhArray(src.byteOffset + 8 * srcOff, dst.byteOffset + 8 * dstOff, n);
    return;
  }
  const mem = w?.reserve(w.base + 8 * BLOCK);
  if (!w || !mem) {
    for (let i = 0; i < n; i++) dst[dstOff + i] = tanh(src[srcOff + i]);
    return;
  }
  const at = w.base >> 3;
  for (let i = 0; i < n; i += BLOCK) {
    const m = Math.min(BLOCK, n - i);
    mem.set(src.subarray(srcOff + i, srcOff + i + m), at);
    // In place: the kernel reads each vector before it writes it.
    w.ex.tanhArray(w.base, w.base, m);
    dst.set(mem.subarray(at, at + m), dstOff + i);
  }
}
