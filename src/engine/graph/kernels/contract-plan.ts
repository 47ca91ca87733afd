/**
 * How a contraction runs as GEMMs (contract.ts): which operand gives the rows, which labels merge
 * into M, N and K, which loop outside the GEMM calls, and what must be packed first — chosen by an
 * estimate of the time each candidate takes on the WebAssembly GEMM.
 */
import { type Side, byStrideDesc, merges, split } from './contract-operands';

/** gemm-wasm.ts copies a strided operand row by row (a subarray each) when its rows are this long. */
const ROW_COPY_MIN = 24;
const ROW_COPY_NS = 60;

export interface Plan {
  /** X provides rows, Y cols (orientation 1: X=a; 2: X=b). */
  swap: boolean;
  packX: boolean;
  packY: boolean;
  kOrder: number[];
  rowsOuter: number[];
  rowsInner: number[];
  colsOuter: number[];
  colsInner: number[];
  cost: number;
}

/**
 * The plan with X giving the rows and Y the columns, packing X and/or Y as asked, or null when an
 * operand used in place does not fit the GEMM (K must merge into one axis, unit-stride in X; Y's
 * columns must end at stride 1). `swap` is the caller's to set.
 */
export function planFor(
  X: Side,
  Y: Side,
  rows: number[],
  cols: number[],
  K: number[],
  batch: number[],
  size: Map<number, number>,
  packX: boolean,
  packY: boolean,
): Plan | null {
  let kOrder: number[];
  if (!packX) {
    kOrder = byStrideDesc(X, K);
    if (!merges(X, kOrder, size)) return null;
    if (kOrder.length && X.stride.get(kOrder[kOrder.length - 1]) !== 1) return null;
    if (!packY && !merges(Y, kOrder, size)) return null;
  } else {
    kOrder = packY ? K : byStrideDesc(Y, K);
    if (!packY && !merges(Y, kOrder, size)) return null;
  }
  const r = packX ? { outer: [], inner: byStrideDesc(X, rows) } : split(X, rows, size);
  const c = packY ? { outer: [], inner: byStrideDesc(Y, cols) } : split(Y, cols, size);
  if (!packY && c.inner.length && Y.stride.get(c.inner[c.inner.length - 1]) !== 1) return null;
  const prod = (ls: number[]) => ls.reduce((p, l) => p * size.get(l)!, 1);
  const loops = prod(batch) * prod(r.outer) * prod(c.outer);
  const M = prod(r.inner);
  const N = prod(c.inner);
  const Kn = prod(K);
  const px = X.im ? 2 : 1;
  const py = Y.im ? 2 : 1;
  const gemms = px * py;
  // Estimated ns (measured on the wasm GEMM): packing (free for a parameter, whose packed copy is
  // cached), and per call the kernel's copies of A, B, C, its flops (slower for narrow products,
  // which run its edge kernels) and a fixed overhead.
  // Fitted to the wasm GEMM on shapes from 1×64×14 to 64×601×128 (bench in the commit message
  // of this line); the narrow products' flops are cheaper per flop than they were once estimated.
  const flopNs = M < 4 || N < 4 ? 0.03 : 0.042;
  // Operands whose rows are far apart are copied in row by row (gemm-wasm.ts), ~60 ns a row: many
  // narrow products over such an operand cost that per call (the seed's 56 × [601,64]·[64,32] per
  // chunk, one packed [601,64]·[64,448] per sample instead).
  const last = (s: Side, ls: number[]) => (ls.length ? (s.stride.get(ls[ls.length - 1]) ?? 0) : 0);
  const rowNs = (ld: number, width: number, rows: number) =>
    rows > 1 && width >= ROW_COPY_MIN && ld > 2 * width ? ROW_COPY_NS * rows : 0;
  const copyRows = (packX ? 0 : rowNs(last(X, r.inner), Kn, M)) + (packY ? 0 : rowNs(last(Y, kOrder), N, Kn));
  const perCall = 0.22 * (M * Kn + Kn * N + M * N) + flopNs * 2 * M * N * Kn + 170 + copyRows;
  const packCost = (s: Side, parts: number) => (s.constant ? 0 : 0.6 * s.numel * parts);
  const cost = (packX ? packCost(X, px) : 0) + (packY ? packCost(Y, py) : 0) + loops * gemms * perCall;
  return {
    swap: false,
    packX,
    packY,
    kOrder,
    rowsOuter: r.outer,
    rowsInner: r.inner,
    colsOuter: c.outer,
    colsInner: c.inner,
    cost,
  };
}
