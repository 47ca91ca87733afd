/**
 * Joins computed when first read, so that the products that follow can see their structure.
 *
 * `repeat` along size-1 axes is an `expand` whose copy PyTorch makes, and `cat` of such a tensor with
 * others (a scalar embedding repeated over time and concatenated to the lifted signal, as the seed
 * FNO does) copies the constant part T times. A linear map over the joined axis (a 1×1 convolution,
 * `linear`) is the sum of the maps of the parts, and one along another axis (the DFT over time) is
 * the join of the maps of the parts: on the parts, the constant one keeps its stride-0 axis, and the
 * products' structure rules compute it once (a DFT of a constant is its row sums, a convolution of
 * one is one column). kernels/contract.ts and kernels/conv1d.ts split a pending join that way; any
 * other reader gets the copy, made as the eager rule would have made it.
 *
 * PyTorch copies at the call: a later in-place write into an input must not reach the join. Every
 * in-place op first materialises the pending joins that read the root it writes (`flushReaders`,
 * called by the dispatcher).
 */
import { addInto } from './kernels/layout';
import { GTensor, allocData, contiguousStrides, rootAxes, sizeOf, type Kind } from './tensor';

interface CatInfo {
  /** The root axis joined. */
  readonly ax: number;
  /** The inputs in the root's geometry (sizes differ along ax only), broadcast views resolved. */
  readonly parts: readonly GTensor[];
}

const cats = new WeakMap<GTensor, CatInfo>();
/** A pending repeat root → its value as a stride-0 view over the source, in the root's geometry. */
const expands = new WeakMap<GTensor, GTensor>();
/** Views over another tensor's storage made here → that tensor's root (whose writes they see). */
const sources = new WeakMap<GTensor, GTensor>();
/** Source root → the pending joins that read it. */
const readers = new WeakMap<GTensor, Set<GTensor>>();

function addReader(source: GTensor, lazy: GTensor): void {
  const root = sources.get(source) ?? source.root;
  let set = readers.get(root);
  if (!set) readers.set(root, (set = new Set()));
  set.add(lazy);
}

/** Materialise every pending join that reads `root` (before `root` is written in place). */
export function flushReaders(root: GTensor): void {
  const set = readers.get(root);
  if (!set) return;
  readers.delete(root);
  for (const lazy of set) if (lazy.deferred) void lazy.re;
}

/** A root of `shape` (contiguous) whose values `fill` writes, computed on first read. */
function pendingRoot(shape: number[], kind: Kind, fill: (into: GTensor) => void): GTensor {
  const strides = contiguousStrides(shape);
  const t = new GTensor(shape, strides, 0, new Float64Array(0), null, kind);
  t.defer(() => {
    cats.delete(t);
    expands.delete(t);
    const n = sizeOf(shape);
    const re = allocData(n, false);
    const im = kind === 'complex' ? allocData(n, false) : null;
    fill(new GTensor(shape, strides, 0, re, im, kind));
    return { re, im };
  });
  return t;
}

/** x repeated along its size-1 axes only: `view` is x expanded to the result's shape (stride 0 there). */
export function deferredExpand(x: GTensor, view: GTensor): GTensor {
  const out = pendingRoot([...view.shape], x.kind, (into) => addInto(into, view, 1, false));
  expands.set(out, view);
  sources.set(view, x.root);
  addReader(x, out);
  return out;
}

/** cat(parts, ax), each part already in the result's geometry but along ax. */
export function deferredCat(parts: GTensor[], ax: number, shape: number[], kind: Kind): GTensor {
  const out = pendingRoot(shape, kind, (into) => {
    let at = 0;
    for (const p of parts) {
      const n = p.shape[ax];
      if (p.numel > 0) {
        const strides = into.strides;
        const dst = new GTensor([...p.shape], strides, at * strides[ax], into.re, into.im, into.kind);
        addInto(dst, p, 1, false);
      }
      at += n;
    }
  });
  cats.set(out, { ax, parts });
  for (const p of parts) addReader(p, out);
  return out;
}

/** `src` (in the root's geometry) seen through t's axes. */
function through(t: GTensor, from: readonly number[], src: GTensor, shape = t.shape): GTensor {
  const v = new GTensor(
    [...shape],
    from.map((j) => (j < 0 ? 0 : src.strides[j])),
    src.offset,
    src.re,
    src.im,
    src.kind,
  );
  sources.set(v, sources.get(src) ?? src.root);
  return v;
}

/** A pending repeat (or a reordering view of one) as the stride-0 view it equals; null otherwise. */
export function asBroadcast(t: GTensor): GTensor | null {
  const root = t.root;
  const view = expands.get(root);
  if (!view || !root.deferred) return null;
  const from = rootAxes(t);
  return from ? through(t, from, view) : null;
}

/**
 * A pending cat (or a reordering view of one): the axis of t it joins along and the parts as views
 * with t's geometry (their own extent along that axis). Null otherwise.
 */
export function catParts(t: GTensor): { axis: number; parts: GTensor[] } | null {
  const root = t.root;
  const info = cats.get(root);
  if (!info || !root.deferred) return null;
  const from = rootAxes(t);
  const axis = from ? from.indexOf(info.ax) : -1;
  if (!from || axis < 0) return null;
  const parts = info.parts.map((p) => {
    const shape = [...t.shape];
    shape[axis] = p.shape[info.ax];
    return through(t, from, p, shape);
  });
  return { axis, parts };
}

/** Whether a part has an axis other than `ax` along which it is broadcast (stride 0, size > 1). */
export function broadcastBesides(p: GTensor, ax: number): boolean {
  return p.shape.some((d, i) => i !== ax && d > 1 && p.strides[i] === 0);
}
