/**
 * The graph engine's tensors: strided views over storage, as in PyTorch, so that `slice`,
 * `select`, `permute`, `expand` cost nothing and an in-place write into a view (`copy_` into a
 * slice of a `zeros` spectrum, how every FNO builds its output spectrum) lands where PyTorch's does.
 *
 * Everything computes in float64 (complex128 as separate real and imaginary arrays), whatever
 * dtype the file recorded; `kind` keeps what PyTorch would call the dtype's category, which a few
 * ops need (integer division, `real`, `view_as_real`).
 *
 * A tensor is either a root (it owns its storage) or a view of a root. Roots carry the tangent
 * (see tangent.ts); a view's tangent is derived from its root's by replaying the view's steps, so
 * an in-place write through any view updates every other view's tangent too.
 */
import { ShapeError } from '../errors';
import { wasmKernels } from '../kernels/wasm-module';
import type { Tan } from './tangent';
import { E } from './lower/expr';
import { activeRecorder, recorder } from './lower/record';

export type Kind = 'float' | 'complex' | 'int' | 'bool';

/** How a view's tangent follows from its parent's tangent (the same view, one axis further). */
export type ViewStep = (parentTan: Tan) => Tan;

export class GTensor {
  /** Storage (roots) or the root's storage (views); read through `re`/`im`, which materialise. */
  private _re: Float64Array;
  private _im: Float64Array | null;
  /** A root whose values are computed on first read (see `lazy`). */
  private pending: (() => void) | null = null;

  /** The root this is a view of, and how to derive this view's tangent from the parent's. */
  readonly parent: GTensor | null;
  readonly step: ViewStep | null;
  /** Roots only: the tangent of the whole root. */
  tan: Tan = null;
  /**
   * Roots only: every element at index ≥ nz[d] along some axis d is known to be zero (`zeros`
   * followed by writes into leading blocks). The inverse FFTs read only the leading block.
   */
  nz: number[] | null = null;
  /** Roots only, set on lazily transformed spectra: how to compute a leading block cheaply. */
  lead: ((dim: number, count: number) => GTensor) | null = null;
  /** Roots only: derived from another tensor's leading block, so it may not be written in place. */
  readonlyReason: string | null = null;

  constructor(
    readonly shape: number[],
    readonly strides: number[],
    readonly offset: number,
    re: Float64Array,
    im: Float64Array | null,
    readonly kind: Kind,
    parent: GTensor | null = null,
    step: ViewStep | null = null,
  ) {
    this._re = re;
    this._im = im;
    this.parent = parent ? (parent.parent ?? parent) : null;
    // A view of a view: its step composes with the parent's.
    if (parent && parent.parent) {
      const inner = parent.step!;
      this.step = step ? (t) => step(inner(t)) : inner;
    } else this.step = step;
  }

  get re(): Float64Array {
    const root = this.parent ?? this;
    if (root.pending) root.materialize();
    return this.parent ? this.parent._re : this._re;
  }

  get im(): Float64Array | null {
    const root = this.parent ?? this;
    if (root.pending) root.materialize();
    return this.parent ? this.parent._im : this._im;
  }

  get isComplex(): boolean {
    return this.kind === 'complex';
  }

  get numel(): number {
    return sizeOf(this.shape);
  }

  get rank(): number {
    return this.shape.length;
  }

  get root(): GTensor {
    return this.parent ?? this;
  }

  private materialize(): void {
    const p = this.pending!;
    this.pending = null;
    p();
  }

  /** Make this root lazy: its storage comes from `compute` on first read. */
  defer(compute: () => { re: Float64Array; im: Float64Array | null }): void {
    this.pending = () => {
      const { re, im } = compute();
      this._re = re;
      this._im = im;
    };
  }

  /** Whether the values have not been computed yet (a lazy root). */
  get deferred(): boolean {
    return (this.parent ?? this).pending !== null;
  }

  /** A view of this tensor sharing storage; `step` maps this tensor's tangent to the view's. */
  view(shape: number[], strides: number[], offset: number, step: ViewStep): GTensor {
    const root = this.parent ?? this;
    return new GTensor(shape, strides, offset, root._re, root._im, this.kind, this, step);
  }

  toString(): string {
    return `tensor${shapeString(this.shape)}`;
  }
}

/**
 * For a view that only reorders its root's axes (a permute, size-1 axes added or dropped) at the
 * root's offset: for each of its axes, the root axis it is (−1 for a size-1 axis). Null for any other
 * view. Lazy roots (deferred products, pending joins) hand their parts through such views.
 */
export function rootAxes(t: GTensor): number[] | null {
  const root = t.root;
  if (t.offset !== root.offset) return null;
  // each axis of t (size > 1) is one axis of the root, same size and stride; all are covered
  const used = new Array<boolean>(root.rank).fill(false);
  const from: number[] = [];
  for (let k = 0; k < t.rank; k++) {
    if (t.shape[k] === 1) {
      from.push(-1);
      continue;
    }
    let j = 0;
    while (j < root.rank && (used[j] || root.shape[j] !== t.shape[k] || root.strides[j] !== t.strides[k]))
      j++;
    if (j === root.rank) return null;
    used[j] = true;
    from.push(j);
  }
  return root.shape.every((d, j) => d <= 1 || used[j]) ? from : null;
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i];
  }
  return s;
}

/** Elements a slot takes in the resident region: 64-byte aligned, as the kernels' own scratch. */
const span = (n: number): number => Math.ceil(n / 8) * 8;

/**
 * Address space a first run may take in the resident region before its sizes are known (a run
 * of four seed samples takes 38 MB); past it, its slots come from the JS heap as before.
 */
const PROVISIONAL_BYTES = 256 * 2 ** 20;

/** Largest tensor the engine allocates (elements), so a frozen or hostile size fails clearly. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * Where a run's tensors get their storage. A fresh multi-megabyte Float64Array costs more than the
 * arithmetic that fills it (new pages are faulted in and zeroed, then collected), and a model runs
 * the same ops in the same order for every sample, so a run may install an arena whose i-th
 * request reuses the i-th buffer of the previous run. Everything allocated in a run must be dead
 * when the next one starts (GraphModel copies y and J out first).
 */
export class Arena {
  private readonly slots: Float64Array[] = [];
  /** The size each slot must have (a slot of a moved region reads as length 0: detached). */
  private readonly sizes: number[] = [];
  private next = 0;
  /** The module's layout generation the slots were placed under; −1: in the JS heap. */
  private placed = -1;
  /** A slot was (re)allocated since the slots were placed. */
  private grown = false;
  /** The resident region's rest, for slots a run adds (see `place`); null where there is none. */
  private bump: { f64: Float64Array; at: number; end: number } | null = null;

  reset(): void {
    this.next = 0;
    if (!this.slots.length || this.grown || this.moved()) this.place();
  }

  alloc(n: number, zeroed: boolean): Float64Array {
    let s = this.slots[this.next];
    if (!s || s.length < n) {
      s = this.fresh(n, zeroed);
      this.slots[this.next] = s;
      this.sizes[this.next] = n;
      this.grown = true;
    } else if (zeroed) s.fill(0, 0, n);
    this.next++;
    return s.length === n ? s : s.subarray(0, n);
  }

  /** Bytes held. */
  bytes(): number {
    return this.sizes.reduce((a, n) => a + 8 * n, 0);
  }

  private moved(): boolean {
    if (this.placed < 0) return false;
    const w = wasmKernels();
    return !w || w.generation !== this.placed || this.slots.some((s, i) => s.length !== this.sizes[i]);
  }

  /** A new slot of n values: from the resident region's rest while it lasts, else the JS heap. */
  private fresh(n: number, zeroed: boolean): Float64Array {
    const b = this.bump;
    if (b && b.at + n <= b.end && b.f64.length > 0) {
      const s = b.f64.subarray(b.at, b.at + n);
      b.at += span(n);
      // The region may hold another arena's old tensors (every arena of the thread shares it).
      if (zeroed) s.fill(0);
      return s;
    }
    return new Float64Array(n);
  }

  /**
   * Moves the slots into the WebAssembly module's memory (between runs: nothing in them is alive), where
   * the GEMM and the elementwise kernels read and write them in place instead of copying them in and
   * out at every call. Where that is unavailable or too large they stay in the JS heap.
   *
   * Slots a run adds (a first run, a larger batch) are handed out in order from the region's rest,
   * up to PROVISIONAL_BYTES in all (growing the memory only reserves address space; pages are
   * touched as used), and the next reset lays everything out again over the same memory. In the
   * JS heap a first run cost 2–4× a warm one and the second ~2× (pages faulted twice, operands
   * copied in and out of the kernels).
   */
  private place(): void {
    this.grown = false;
    this.placed = -1;
    this.bump = null;
    const w = wasmKernels();
    if (!w) return;
    const total = this.sizes.reduce((a, n) => a + 8 * span(n), 0);
    const room = Math.max(total, PROVISIONAL_BYTES);
    const region = w.residentRegion(room);
    if (!region) {
      // detached slots (another arena moved the region) come back in the JS heap
      this.sizes.forEach((n, i) => {
        if (this.slots[i].length !== n) this.slots[i] = new Float64Array(n);
      });
      return;
    }
    let at = region.start >> 3;
    this.sizes.forEach((n, i) => {
      this.slots[i] = region.f64.subarray(at, at + n);
      at += span(n);
    });
    this.placed = w.generation;
    this.bump = { f64: region.f64, at, end: (region.start + room) >> 3 };
  }
}

let arena: Arena | null = null;

/** Run f with `a` providing the storage of every tensor allocated through allocData. */
export function withArena<R>(a: Arena, f: () => R): R {
  const prev = arena;
  arena = a;
  try {
    return f();
  } finally {
    arena = prev;
  }
}

/**
 * Storage for a tensor computed in this run: zero-filled unless the caller overwrites every
 * element (`zeroed` false). Caches that outlive a run (DFT bases, packed weights) use
 * `new Float64Array` instead.
 */
export function allocData(n: number, zeroed = true, what = 'tensor'): Float64Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_ELEMENTS)
    throw new ShapeError(`${what}: a tensor of ${n} elements is larger than the engine allows`);
  const arr = arena ? arena.alloc(n, zeroed) : new Float64Array(n);
  activeRecorder()?.allocated(arr);
  return arr;
}

function allocFor(n: number, what: string, zeroed = true): Float64Array {
  return allocData(n, zeroed, what);
}

/** A fresh contiguous root of zeros. */
export function zerosTensor(shape: number[], kind: Kind = 'float'): GTensor {
  return newTensor(shape, kind, true);
}

/**
 * A fresh contiguous root whose values are undefined (from the run's arena: whatever an earlier
 * run left there), for a caller that writes every element before anything reads it.
 */
export function emptyTensor(shape: number[], kind: Kind = 'float'): GTensor {
  return newTensor(shape, kind, false);
}

function newTensor(shape: number[], kind: Kind, zeroed: boolean): GTensor {
  const n = sizeOf(shape);
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`invalid tensor shape ${shapeString(shape)}`);
  const re = allocFor(n, 'tensor', zeroed);
  const im = kind === 'complex' ? allocFor(n, 'tensor', zeroed) : null;
  return new GTensor(shape, contiguousStrides(shape), 0, re, im, kind);
}

/** A contiguous root over the given arrays (taken, not copied). */
export function fromArrays(
  shape: number[],
  re: Float64Array,
  im: Float64Array | null = null,
  kind: Kind = im ? 'complex' : 'float',
): GTensor {
  if (re.length !== sizeOf(shape) || (im && im.length !== re.length))
    throw new Error(`internal: ${re.length} values for shape ${shapeString(shape)}`);
  return new GTensor(shape, contiguousStrides(shape), 0, re, im, kind);
}

/** A 0-d tensor. */
export function scalarTensor(v: number, kind: Kind = 'float'): GTensor {
  return fromArrays([], Float64Array.of(v), null, kind);
}

/**
 * A root whose values are computed on first read. `lead(dim, count)` computes only the leading
 * `count` entries along `dim` (a slice [0:count]) without computing the rest: how `rfft` followed
 * by a slice to the kept modes costs a truncated DFT.
 */
export function lazyTensor(
  shape: number[],
  kind: Kind,
  compute: () => { re: Float64Array; im: Float64Array | null },
  lead: (dim: number, count: number) => GTensor,
): GTensor {
  const t = new GTensor(shape, contiguousStrides(shape), 0, new Float64Array(0), null, kind);
  t.defer(() => compute());
  t.lead = lead;
  return t;
}

export function isContiguous(t: GTensor): boolean {
  let acc = 1;
  for (let i = t.rank - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.strides[i] !== acc) return false;
    acc *= t.shape[i];
  }
  return true;
}

/** Whether this view covers its root's storage exactly, in the root's own layout. */
export function isWholeRoot(t: GTensor): boolean {
  const r = t.root;
  return (
    t === r ||
    (t.offset === r.offset &&
      t.shape.length === r.shape.length &&
      t.shape.every((d, i) => d === r.shape[i] && (d === 1 || t.strides[i] === r.strides[i])))
  );
}

/**
 * Visit every element of `t` in row-major logical order, calling f(storageIndex, i) with i the
 * running logical index. Innermost axis in a tight loop.
 */
export function forEachIndex(t: GTensor, f: (s: number, i: number) => void): void {
  const { shape, strides } = t;
  const r = shape.length;
  const n = sizeOf(shape);
  if (n === 0) return;
  if (r === 0) {
    f(t.offset, 0);
    return;
  }
  const idx = new Array<number>(r).fill(0);
  const inner = shape[r - 1];
  const is = strides[r - 1];
  let base = t.offset;
  for (let i = 0; i < n; i += inner) {
    for (let j = 0, s = base; j < inner; j++, s += is) f(s, i + j);
    // advance the outer index
    for (let d = r - 2; d >= 0; d--) {
      idx[d]++;
      base += strides[d];
      if (idx[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
}

/** A contiguous copy (or `t` itself when it already is a contiguous root-compatible view). */
export function contiguous(t: GTensor): GTensor {
  if (isContiguous(t) && t.offset === 0 && t.re.length === t.numel) return t;
  return copyOf(t);
}

/** A fresh contiguous root with `t`'s values (an odometer over the outer axes, a tight inner loop). */
export function copyOf(t: GTensor): GTensor {
  const n = t.numel;
  const { shape, strides } = t;
  const r = shape.length;
  const re = allocData(n, false);
  const im = t.im ? allocData(n, false) : null;
  const sr = t.re;
  const si = t.im;
  const rec = recorder();
  if (rec) {
    const cs = contiguousStrides(shape);
    const ins = [{ arr: sr, strides, offset: t.offset }];
    const outs = [{ arr: re, strides: cs, offset: 0 }];
    if (im && si) {
      ins.push({ arr: si, strides, offset: t.offset });
      outs.push({ arr: im, strides: cs, offset: 0 });
    }
    rec.ewise(shape, ins, outs, outs.length === 2 ? [E.in(0), E.in(1)] : [E.in(0)]);
  }
  if (n > 0) {
    const inner = r ? shape[r - 1] : 1;
    const is = r ? strides[r - 1] : 0;
    const idx = new Array<number>(Math.max(r - 1, 0)).fill(0);
    let base = t.offset;
    for (let o = 0; o < n; o += inner) {
      for (let j = 0, s = base; j < inner; j++, s += is) re[o + j] = sr[s];
      if (im && si) for (let j = 0, s = base; j < inner; j++, s += is) im[o + j] = si[s];
      for (let d = r - 2; d >= 0; d--) {
        idx[d]++;
        base += strides[d];
        if (idx[d] < shape[d]) break;
        base -= strides[d] * shape[d];
        idx[d] = 0;
      }
    }
  }
  return fromArrays([...shape], re, im, t.kind);
}

/** Values of a real tensor in row-major order (copied). */
export function valuesOf(t: GTensor): Float64Array {
  return contiguousData(t).re;
}

/** re/im in row-major order, without copying when already contiguous from offset 0. */
export function contiguousData(t: GTensor): { re: Float64Array; im: Float64Array | null } {
  const c = contiguous(t);
  return { re: c.re, im: c.im };
}

/** Read one element (real part) by logical index. */
export function item(t: GTensor): number {
  if (t.numel !== 1) throw new ShapeError(`a tensor of shape ${shapeString(t.shape)} is not a single value`);
  const rec = recorder();
  if (rec?.derived(t.re)) rec.unlowered('a tensor value read on the host (control flow on data)');
  return t.re[t.offset];
}

/** Normalise a possibly negative axis for a tensor of rank r (PyTorch's wrap rule). */
export function axis(d: number, r: number, what = 'dim'): number {
  const rr = Math.max(r, 1);
  if (!Number.isInteger(d) || d < -rr || d >= rr)
    throw new ShapeError(`${what} ${d} is out of range for a tensor of rank ${r}`);
  return d < 0 ? d + rr : d;
}
