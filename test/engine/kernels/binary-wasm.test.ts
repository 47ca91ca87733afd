/**
 * A run's tensors in the WebAssembly module's memory (graph/tensor.ts Arena, from its first reset on),
 * used in place by the GEMM and by the elementwise add/sub/mul of kernels/binary-wasm.ts: bit for bit the
 * JS loops' results; refused (the JS loop runs) for operands outside the memory or an output that partly
 * overlaps an input; arenas moved by another's growth or by a scratch that outgrew its space come back.
 */
import { describe, expect, it } from 'vitest';
import { Arena } from '../../../src/engine/graph/tensor';
import { binaryBlockWasm } from '../../../src/engine/kernels/binary-wasm';
import { gemmJs } from '../../../src/engine/kernels/gemm';
import { createWasmGemm } from '../../../src/engine/kernels/gemm-wasm';
import { PINNED_MAX_BYTES, createKernels, wasmKernels } from '../../../src/engine/kernels/wasm-module';
import { randn, rng } from '../helpers';

const w = wasmKernels()!;

/** `n` arrays of the given sizes from an arena placed in the module's memory. */
function residentArrays(sizes: number[]): Float64Array[] {
  const arena = new Arena();
  for (const n of sizes) arena.alloc(n, false);
  arena.reset(); // places the slots
  return sizes.map((n) => arena.alloc(n, true));
}

type Op = 0 | 1 | 2 | 3;
const jsOp = (op: Op, x: number, y: number, alpha: number) =>
  op === 3 ? alpha - x * y : op === 2 ? x * y : op === 0 ? x + alpha * y : x - alpha * y;

/** The reference: the JS loop of elementwise.ts, element by element. */
function jsBlock(
  op: Op,
  n1: number,
  n0: number,
  o: Float64Array,
  io: number,
  o1: number,
  a: Float64Array,
  ia: number,
  a1: number,
  a0: number,
  b: Float64Array,
  ib: number,
  b1: number,
  b0: number,
  alpha: number,
): void {
  for (let u = 0; u < n1; u++, io += o1, ia += a1, ib += b1)
    for (let j = 0; j < n0; j++) o[io + j] = jsOp(op, a[ia + j * a0], b[ib + j * b0], alpha);
}

describe('resident tensors', () => {
  it("an arena's run takes its new slots from the module memory: distinct, zeroed when asked", () => {
    expect(w).toBeTruthy();
    const arena = new Arena();
    arena.reset(); // a run starts
    const a = arena.alloc(1000, true);
    const b = arena.alloc(3001, false);
    const c = arena.alloc(7, true);
    for (const s of [a, b, c]) expect(w.resident(s)).toBe(true);
    expect([a.length, b.length, c.length]).toEqual([1000, 3001, 7]);
    expect(a.every((v) => v === 0) && c.every((v) => v === 0)).toBe(true);
    a.fill(1);
    b.fill(2);
    c.fill(3);
    expect(a.every((v) => v === 1) && b.every((v) => v === 2) && c.every((v) => v === 3)).toBe(true);
    // the next run gets the same slots, laid out again, still resident
    arena.reset();
    const again = [arena.alloc(1000, true), arena.alloc(3001, false), arena.alloc(7, true)];
    for (const s of again) expect(w.resident(s)).toBe(true);
    expect(again[0].every((v) => v === 0)).toBe(true);
  });

  it('a slot that grows in a later run is resident too, and the run after lays it out with the rest', () => {
    const arena = new Arena();
    arena.reset();
    const small = arena.alloc(100, false);
    const other = arena.alloc(50, false);
    arena.reset();
    const grown = arena.alloc(20_000, true);
    const next = arena.alloc(50, false);
    expect(w.resident(grown) && w.resident(next)).toBe(true);
    grown.fill(5);
    next.fill(6);
    expect(grown.every((v) => v === 5)).toBe(true);
    expect(small.length + other.length).toBe(150);
    arena.reset();
    const laid = arena.alloc(20_000, true);
    expect(w.resident(laid) && laid.length === 20_000 && laid.every((v) => v === 0)).toBe(true);
  });

  it('storage taken outside a run (no reset yet) stays in the JS heap', () => {
    expect(w.resident(new Arena().alloc(1000, true))).toBe(false);
  });

  it('add, sub, mul and 1 − y·y over blocks equal the JS loop bit for bit, broadcast rows and accumulation included', () => {
    const r = rng(3);
    const [o, a, b, ref] = residentArrays([4000, 4000, 4000, 4000]);
    a.set(randn(r, 4000));
    b.set(randn(r, 4000));
    for (const op of [0, 1, 2, 3] as Op[])
      for (const [a0, b0] of [
        [1, 1],
        [0, 1],
        [1, 0],
        [0, 0],
      ])
        for (const [n1, n0] of [
          [1, 37],
          [7, 33],
          [14, 32],
        ]) {
          const alpha = op === 2 ? 1 : 0.75;
          const args = [n1, n0, 3, 41, a, 5, 43, a0, b, 2, 47, b0, alpha] as const;
          o.fill(NaN);
          ref.fill(NaN);
          const [m1, m0, io, o1, A, ia, a1, A0, B, ib, b1, B0, al] = args;
          expect(binaryBlockWasm(op, m1, m0, o, io, o1, 1, A, ia, a1, A0, B, ib, b1, B0, al)).toBe(
            n1 * n0 >= 32,
          );
          if (n1 * n0 < 32) continue;
          jsBlock(op, m1, m0, ref, io, o1, A, ia, a1, A0, B, ib, b1, B0, al);
          expect(Array.from(o)).toEqual(Array.from(ref));
        }
    // d += s in place (the output is the first operand)
    const d = Float64Array.from(a);
    const want = Float64Array.from(a);
    jsBlock(0, 10, 40, want, 0, 50, want, 0, 50, 1, b, 7, 40, 1, 1);
    const [dr] = residentArrays([4000]);
    dr.set(d);
    expect(binaryBlockWasm(0, 10, 40, dr, 0, 50, 1, dr, 0, 50, 1, b, 7, 40, 1, 1)).toBe(true);
    expect(Array.from(dr)).toEqual(Array.from(want));
  });

  it('copies small operands from outside the memory, and refuses large ones and partly overlapping outputs', () => {
    const [o, a] = residentArrays([20_000, 20_000]);
    // a small operand outside the memory (a bias) is copied in; a large one keeps the JS loop
    const r = rng(5);
    a.set(randn(r, 20_000));
    const bias = randn(r, 64);
    expect(binaryBlockWasm(0, 4, 64, o, 0, 64, 1, a, 0, 64, 1, bias, 0, 0, 1, 1)).toBe(true);
    const want = new Float64Array(256);
    jsBlock(0, 4, 64, want, 0, 64, a, 0, 64, 1, bias, 0, 0, 1, 1);
    expect(Array.from(o.subarray(0, 256))).toEqual(Array.from(want));
    const heap = randn(r, 20_000);
    expect(binaryBlockWasm(2, 150, 64, o, 0, 64, 1, a, 0, 64, 1, heap, 0, 64, 1, 1)).toBe(false);
    // o shifted by one element over a: the JS loop's order decides
    expect(binaryBlockWasm(0, 1, 200, a, 1, 0, 1, a, 0, 0, 1, o, 0, 0, 1, 1)).toBe(false);
    expect(binaryBlockWasm(0, 1, 200, o, 0, 0, 1, a, 0, 0, 1, o, 1, 0, 1, 1)).toBe(false);
    // a strided output is the JS loop's
    expect(binaryBlockWasm(0, 1, 200, o, 0, 0, 2, a, 0, 0, 1, a, 0, 0, 1, 1)).toBe(false);
  });

  it('an arena detached by another arena growing the memory is placed again', () => {
    const first = new Arena();
    first.alloc(500, false);
    first.reset();
    expect(w.resident(first.alloc(500, false))).toBe(true);
    // a second arena larger than the memory holds: its placement grows the memory
    const big = new Arena();
    big.alloc(w.ex.memory.buffer.byteLength / 8 + 100_000, false);
    big.reset();
    first.reset();
    const again = first.alloc(500, true);
    expect(again.length).toBe(500);
    expect(w.resident(again)).toBe(true);
    expect(again.every((v) => v === 0)).toBe(true);
  });

  it('a GEMM whose scratch would grow under placed arenas falls back, and the arenas move up', () => {
    const arena = new Arena();
    arena.alloc(100, false);
    arena.reset();
    expect(w.resident(arena.alloc(100, false))).toBe(true);
    const before = w.generation;
    // B of 3,000,000 values (24 MB) needs more scratch than lies below the arenas
    const [M, K, N] = [3, 3000, 1000];
    const r = rng(9);
    const A = randn(r, M * K);
    const B = randn(r, K * N);
    const C = new Float64Array(M * N);
    const ref = new Float64Array(M * N);
    createWasmGemm()!({ M, N, K, A, B, C });
    gemmJs({ M, N, K, A, B, C: ref });
    for (let i = 0; i < M * N; i++)
      expect(Math.abs(C[i] - ref[i])).toBeLessThan(1e-10 * (1 + Math.abs(ref[i])));
    expect(w.generation).toBeGreaterThan(before);
    arena.reset();
    const moved = arena.alloc(100, false);
    expect(w.resident(moved)).toBe(true);
    // and now the product runs in the module again, with room below the arenas
    const C2 = new Float64Array(M * N);
    createWasmGemm()!({ M, N, K, A, B, C: C2 });
    for (let i = 0; i < M * N; i++)
      expect(Math.abs(C2[i] - ref[i])).toBeLessThan(1e-10 * (1 + Math.abs(ref[i])));
    expect(w.generation).toBe(before + 1);
  });
});

describe('pinned storage (packed model parameters)', () => {
  it('is given only while a region is placed, below the scratch, kept across growth, read in place by the GEMM', () => {
    const k = createKernels('fused')!;
    expect(k.pin(10)).toBeNull(); // no region yet: the memory may still grow under a call
    expect(k.residentRegion(1000)).not.toBeNull();
    const base0 = k.base;
    const at = k.pin(6)!;
    expect(at).toBe(base0 >> 3);
    expect(k.base).toBeGreaterThanOrEqual(base0 + 48);
    expect(k.base % 64).toBe(0);
    const A = k.view(at, 6);
    A.set([1, 2, 3, 4, 5, 6]); // [2,3]
    // The GEMM finds it resident and reads it in place.
    const gemm = createWasmGemm(k)!;
    expect(k.resident(A)).toBe(true);
    const C = new Float64Array(4);
    gemm({ M: 2, N: 2, K: 3, A, B: Float64Array.of(1, 0, 0, 1, 1, 1), C });
    expect(Array.from(C)).toEqual([1 + 3, 2 + 3, 4 + 6, 5 + 6]);
    // Growing the memory (a larger region) detaches views; a new view has the values.
    k.residentRegion(64 * 2 ** 20);
    expect(A.length).toBe(0);
    expect(Array.from(k.view(at, 6))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(k.pin(PINNED_MAX_BYTES / 8)).toBeNull(); // over the cap (and the room below the region)
  });
});
