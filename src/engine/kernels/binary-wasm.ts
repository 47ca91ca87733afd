/**
 * Elementwise add/sub/mul (and alpha − a·b: tanh's derivative) over one block of a strided loop in WebAssembly SIMD (./wasm/binary.ts), for
 * operands that are already in the module's memory (a resident arena's tensors, graph/tensor.ts): two
 * values per instruction and no copies, where V8's scalar loop takes about 2 ns a value. The same two
 * roundings per value as the JS loop (no FMA), so the results are identical bits.
 */
import { wasmKernels } from './wasm-module';

/** Blocks smaller than this stay in JS: the call and the checks cost about as much. */
const MIN_VALUES = 32;

/** The most values of an operand outside the module's memory copied in for one block. */
const MAX_COPIED = 8192;

/** Whether [s, s + n) and [t, t + m) (element offsets in one buffer) overlap. */
function overlaps(s: number, n: number, t: number, m: number): boolean {
  return s < t + m && t < s + n;
}

/** First and one-past-last element a block touches (rows at stride r, each of n0 at stride 1 or 0). */
function span(at: number, n1: number, r: number, n0: number, unit: number): [number, number] {
  const last = at + (n1 - 1) * r;
  const lo = Math.min(at, last);
  const hi = Math.max(at, last) + (unit ? n0 : 1);
  return [lo, hi];
}

/**
 * A block of n1 rows of n0 values: o[io + u·o1 + j·o0] = a[ia + u·a1 + j·a0] op b[ib + u·b1 + j·b0],
 * u < n1, j < n0 (strided.ts forBlocks); the elementwise kernels' arguments.
 */
export type BlockOperands = [
  n1: number,
  n0: number,
  o: Float64Array,
  io: number,
  o1: number,
  o0: number,
  a: Float64Array,
  ia: number,
  a1: number,
  a0: number,
  b: Float64Array,
  ib: number,
  b1: number,
  b0: number,
];
/** A block and the op's scalar (add/sub: b's factor; alpha − a·b: alpha). */
export type BlockArgs = [...BlockOperands, alpha: number];

/**
 * One block of op (0 add, 1 sub, 2 mul, 3 alpha − a·b) with o contiguous along j and a, b contiguous
 * (a0/b0 = 1) or one value per row (0) there. Returns false, having done nothing, where the module cannot
 * take the block (operands not resident, other strides, too small, or an output that partly overlaps an
 * input: the JS loop's element order is then what the caller wants).
 */
export const binaryBlockWasm: (op: 0 | 1 | 2 | 3, ...block: BlockArgs) => boolean = (
  op,
  n1,
  n0,
  o,
  io,
  o1,
  o0,
  a,
  ia,
  a1,
  a0,
  b,
  ib,
  b1,
  b0,
  alpha,
) => {
  if (o0 !== 1 || (a0 !== 0 && a0 !== 1) || (b0 !== 0 && b0 !== 1) || n1 * n0 < MIN_VALUES) return false;
  const w = wasmKernels();
  if (!w || !w.resident(o)) return false;
  const inA = w.resident(a);
  const inB = w.resident(b);
  // An operand outside the module's memory (a bias, a weight) is copied into the scratch when small.
  const [al, ah] = span(ia, n1, a1, n0, a0);
  const [bl, bh] = span(ib, n1, b1, n0, b0);
  if ((!inA && ah - al > MAX_COPIED) || (!inB && bh - bl > MAX_COPIED)) return false;
  const ob = o.byteOffset >> 3;
  const [os, oe] = span(ob + io, n1, o1, n0, 1);
  let aPtr: number;
  let bPtr: number;
  if (inA) {
    const ab = a.byteOffset >> 3;
    // o may be exactly a (accumulation); any other overlap keeps the JS loop
    const sameA = ob + io === ab + ia && o1 === a1 && a0 === 1;
    if (!sameA && overlaps(os, oe - os, ab + al, ah - al)) return false;
    aPtr = 8 * (ab + ia);
  } else aPtr = 0;
  if (inB) {
    const bb = b.byteOffset >> 3;
    if (overlaps(os, oe - os, bb + bl, bh - bl)) return false;
    bPtr = 8 * (bb + ib);
  } else bPtr = 0;
  if (!inA || !inB) {
    const aLen = inA ? 0 : ah - al;
    const mem = w.reserve(w.base + 8 * (aLen + (inB ? 0 : bh - bl)));
    if (!mem) return false;
    const at = w.base >> 3;
    if (!inA) {
      mem.set(a.subarray(al, ah), at);
      aPtr = 8 * (at + ia - al);
    }
    if (!inB) {
      mem.set(b.subarray(bl, bh), at + aLen);
      bPtr = 8 * (at + aLen + ib - bl);
    }
  }
  w.ex.binaryBlock(op, n1, n0, 8 * (ob + io), 8 * o1, aPtr, 8 * a1, a0, bPtr, 8 * b1, b0, alpha);
  return true;
};
