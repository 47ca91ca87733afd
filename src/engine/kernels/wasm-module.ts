/**
 * The engine's WebAssembly module (the GEMM of ./gemm-wasm.ts and the tanh of ./tanh-wasm.ts, compiled
 * from ./wasm/ by scripts/build-wasm.mjs and shipped as base64 in ./gemm-wasm.generated.ts), instantiated
 * once per thread and shared by its JS sides.
 *
 * The module has no allocator: each call lays its buffers out from `base` and is done with them when it
 * returns. Calls are synchronous and never nest, so every kernel can use the same region.
 */
import { GEMM_WASM_BASE64, GEMM_WASM_FUSED_BASE64 } from './gemm-wasm.generated';

/**
 * The module's two builds: SIMD128 only, and with relaxed SIMD, whose GEMM steps are fused
 * multiply-adds (wasm/gemm.ts). The engine takes the fused one where it validates.
 */
export type KernelBuild = 'plain' | 'fused';

export interface KernelExports {
  memory: WebAssembly.Memory;
  gemm(
    a: number,
    lda: number,
    b: number,
    ldb: number,
    c: number,
    ldc: number,
    M: number,
    N: number,
    K: number,
    accumulate: number,
  ): void;
  tanhArray(src: number, dst: number, n: number): void;
  binaryBlock(
    op: number,
    n1: number,
    n0: number,
    o: number,
    o1: number,
    a: number,
    a1: number,
    a0: number,
    b: number,
    b1: number,
    b0: number,
    alpha: number,
  ): void;
  heapBase(): number;
}

export interface WasmKernels {
  readonly ex: KernelExports;
  /** Which build runs here. */
  readonly build: KernelBuild;
  /**
   * Where the calls' scratch starts, 64-byte aligned: after the module's static data and the pinned
   * storage. It moves up when something is pinned, so read it at every call.
   */
  readonly base: number;
  /**
   * Permanent storage for `n` float64 (a model parameter's packed copy): its first element's index,
   * or null. Only while a resident region is placed (so the memory does not grow under a call), below
   * the scratch, and at most PINNED_MAX_BYTES in all; never freed. Growing the memory detaches every
   * view, so take one with `view` at each use.
   */
  pin(n: number): number | null;
  /** A view of elements [at, at + n) of the memory as it is now. */
  view(at: number, n: number): Float64Array;
  /**
   * A float64 view of the whole memory, grown to at least `bytes` first; null if the engine refuses to
   * grow it. Growing detaches earlier views, so take a fresh one per call.
   */
  reserve(bytes: number): Float64Array | null;
  /** Whether `a` is a view of the module's memory (a resident arena's storage): kernels use it in place. */
  resident(a: Float64Array): boolean;
  /**
   * A region of `bytes` for tensor storage (graph/tensor.ts Arena) above the calls' scratch, as a view of
   * the whole memory and the region's first byte; null where it would pass RESIDENT_MAX_BYTES. Every
   * arena of the thread gets the same region: runs never interleave and a run's storage is dead when
   * the next starts. Growing the memory detaches every earlier view, so this is for between runs only.
   */
  residentRegion(bytes: number): { f64: Float64Array; start: number } | null;
  /**
   * Changes when the scratch outgrew the space below the region: arenas placed under an older value
   * move (their next reset places them again).
   */
  readonly generation: number;
}

/** Scratch kept below the resident region at least (GEMM operands copied in, tanh blocks). */
const MIN_SCRATCH_BYTES = 16 * 2 ** 20;
/** Pinned storage in all (packed model parameters): a model's are a few MB at most. */
export const PINNED_MAX_BYTES = 64 * 2 ** 20;
/** Tensor storage beyond this stays in the JS heap (wasm32 memory ends at 4 GiB). */
export const RESIDENT_MAX_BYTES = 2 ** 30;

const PAGE = 65536;

let shared: WasmKernels | null | undefined;

/**
 * The shared instance: the fused build where the engine has relaxed SIMD, else the plain one; null
 * where WebAssembly, its SIMD extension or compilation is unavailable.
 */
export function wasmKernels(): WasmKernels | null {
  if (shared === undefined) shared = createKernels('fused') ?? createKernels('plain');
  return shared;
}

/**
 * A new instance of one build, with memory of its own; null where the engine refuses it. The engine
 * uses the shared one (`wasmKernels`); tests compare the builds through this.
 */
export function createKernels(build: KernelBuild): WasmKernels | null {
  const ex = instantiate(build === 'fused' ? GEMM_WASM_FUSED_BASE64 : GEMM_WASM_BASE64);
  if (!ex) return null;
  const memory = ex.memory;
  const heapBase = align64(ex.heapBase());
  let base = heapBase;
  let f64 = new Float64Array(memory.buffer);
  // Where the resident region starts once placed (scratch must stay below it), and the most scratch
  // any call has asked for.
  let regionStart: number | null = null;
  let scratchWanted = 0;
  let generation = 0;
  const grow = (bytes: number): boolean => {
    const have = memory.buffer.byteLength;
    if (have < bytes) {
      try {
        memory.grow(Math.ceil((bytes - have) / PAGE));
      } catch {
        return false;
      }
    }
    // Growing detaches the old ArrayBuffer, so the view is rebuilt after any growth (ours or none).
    if (f64.buffer !== memory.buffer) f64 = new Float64Array(memory.buffer);
    return true;
  };
  const ceiling = () => align64(base + Math.max(MIN_SCRATCH_BYTES, 2 * scratchWanted));
  return {
    ex,
    build,
    get base() {
      return base;
    },
    pin(n) {
      const bytes = align64(8 * n);
      // Below the region only, leaving the scratch at least half its floor.
      if (regionStart === null || base + bytes - heapBase > PINNED_MAX_BYTES) return null;
      if (base + bytes + MIN_SCRATCH_BYTES / 2 > regionStart) return null;
      const at = base >> 3;
      base += bytes;
      return at;
    },
    view(at, n) {
      if (f64.buffer !== memory.buffer) f64 = new Float64Array(memory.buffer);
      return f64.subarray(at, at + n);
    },
    get generation() {
      return generation;
    },
    reserve(bytes) {
      scratchWanted = Math.max(scratchWanted, bytes - base);
      if (regionStart !== null && bytes > regionStart) {
        // Growing now would detach tensors of the run in progress: this call does without, and the
        // arenas move up at their next reset.
        if (ceiling() > regionStart) generation++;
        return null;
      }
      return grow(bytes) ? f64 : null;
    },
    resident(a) {
      return a.buffer === memory.buffer;
    },
    residentRegion(bytes) {
      if (bytes > RESIDENT_MAX_BYTES) return null;
      const start = ceiling();
      if (!grow(start + bytes)) return null;
      regionStart = start;
      return { f64, start };
    },
  };
}

/**
 * Instantiates the module synchronously, so the engine's constructors stay synchronous; at ~5 KB it is far
 * under the size browsers allow for synchronous compilation even on a page's main thread.
 */
function instantiate(base64: string): KernelExports | null {
  if (typeof WebAssembly !== 'object') return null;
  try {
    const bytes = decodeBase64(base64);
    // Engines without SIMD128 (or relaxed SIMD, for the fused build) reject the module as invalid
    // rather than failing at run time.
    if (!WebAssembly.validate(bytes)) return null;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
    return instance.exports as unknown as KernelExports;
  } catch {
    // Compilation can also be refused by policy (e.g. a CSP without 'wasm-unsafe-eval').
    return null;
  }
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function align64(n: number): number {
  return Math.ceil(n / 64) * 64;
}
