/**
 * Iteration over several strided tensors of one (broadcast) shape at once — the loop under every
 * elementwise op. Axes are visited in the physical order of a layout operand (so the innermost loop
 * runs over stride-1 memory whatever the logical order), adjacent axes that every operand lays out
 * contiguously are merged, and the caller's body gets whole innermost runs, so the per-element work
 * is a tight typed-array loop, not a closure call.
 */
import { ShapeError } from '../errors';
import { GTensor, shapeString } from './tensor';

/** NumPy broadcasting of two shapes. */
export function broadcastShapes(a: readonly number[], b: readonly number[], what = 'broadcast'): number[] {
  const r = Math.max(a.length, b.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const da = a[a.length - r + i] ?? 1;
    const db = b[b.length - r + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new ShapeError(`${what}: shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast`);
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** `t`'s strides seen as a tensor of `shape` (0 where it is broadcast). */
export function broadcastStrides(t: GTensor, shape: readonly number[], what = 'broadcast'): number[] {
  const r = shape.length;
  const off = r - t.rank;
  if (off < 0)
    throw new ShapeError(`${what}: ${shapeString(t.shape)} cannot expand to ${shapeString(shape)}`);
  const s = new Array<number>(r).fill(0);
  for (let i = 0; i < t.rank; i++) {
    const d = t.shape[i];
    if (d === shape[i + off]) s[i + off] = d === 1 ? 0 : t.strides[i];
    else if (d === 1) s[i + off] = 0;
    else throw new ShapeError(`${what}: ${shapeString(t.shape)} cannot expand to ${shapeString(shape)}`);
  }
  return s;
}

/** Axes of `shape` ordered outermost-first by the layout operand's strides (stable for ties). */
export function physicalOrder(shape: readonly number[], strides: readonly number[]): number[] {
  const order = shape.map((_, i) => i);
  order.sort((i, j) => {
    // Size-1 and broadcast (stride-0) axes carry no layout: outermost, in logical order; then
    // larger strides outward. (A broadcast axis innermost would make every run one element long.)
    const si = shape[i] === 1 || strides[i] === 0 ? Infinity : Math.abs(strides[i]);
    const sj = shape[j] === 1 || strides[j] === 0 ? Infinity : Math.abs(strides[j]);
    if (si !== sj) return sj - si;
    return i - j;
  });
  return order;
}

/** Contiguous strides for `shape` laid out in the given physical order (outermost first). */
export function stridesInOrder(shape: readonly number[], order: readonly number[]): number[] {
  const s = new Array<number>(shape.length).fill(0);
  let acc = 1;
  for (let k = order.length - 1; k >= 0; k--) {
    const ax = order[k];
    s[ax] = acc;
    acc *= shape[ax];
  }
  return s;
}

/** Axes in `order` with every operand's strides, adjacent ones merged where all step contiguously. */
function mergeAxes(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  order: readonly number[],
): { dims: number[]; st: number[][] } {
  const m = strides.length;
  const dims: number[] = [];
  const st: number[][] = strides.map(() => []);
  for (const ax of order) {
    if (shape[ax] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && strides.every((s, i) => st[i][last] === s[ax] * shape[ax])) {
      dims[last] *= shape[ax];
      for (let i = 0; i < m; i++) st[i][last] = strides[i][ax];
    } else {
      dims.push(shape[ax]);
      for (let i = 0; i < m; i++) st[i].push(strides[i][ax]);
    }
  }
  return { dims, st };
}

/**
 * Call body(len, offsets, incs) for every innermost run of `shape`, operand i starting at
 * offsets[i] and stepping incs[i]. `order` is the axis order outermost-first.
 */
export function forRuns(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  order: readonly number[],
  body: (len: number, offs: number[], incs: number[]) => void,
): void {
  const m = strides.length;
  for (const d of shape) if (d === 0) return;
  const { dims, st } = mergeAxes(shape, strides, order);
  if (dims.length === 0) {
    body(
      1,
      [...offsets],
      strides.map(() => 0),
    );
    return;
  }
  const r = dims.length;
  const inner = dims[r - 1];
  const incs = st.map((s) => s[r - 1]);
  const idx = new Array<number>(r).fill(0);
  const pos = [...offsets];
  const offs = new Array<number>(m);
  for (;;) {
    for (let i = 0; i < m; i++) offs[i] = pos[i];
    body(inner, offs, incs);
    let d = r - 2;
    for (; d >= 0; d--) {
      idx[d]++;
      for (let i = 0; i < m; i++) pos[i] += st[i][d];
      if (idx[d] < dims[d]) break;
      for (let i = 0; i < m; i++) pos[i] -= st[i][d] * dims[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

/**
 * Call body(n1, n0, offsets, incs1, incs0) for every block of the two innermost (merged) axes:
 * n1 runs of n0 elements, operand i starting at offsets[i], stepping incs0[i] along a run and
 * incs1[i] from one run to the next. Kernels that loop over both axes themselves pay the call and
 * odometer once per block rather than once per run — what keeps a [T, P, C] tangent, whose runs
 * are only C long, as cheap as a [C, T] one.
 */
export function forBlocks(
  shape: readonly number[],
  strides: readonly (readonly number[])[],
  offsets: readonly number[],
  order: readonly number[],
  body: (n1: number, n0: number, offs: number[], incs1: number[], incs0: number[]) => void,
): void {
  const m = strides.length;
  for (const d of shape) if (d === 0) return;
  const { dims, st } = mergeAxes(shape, strides, order);
  const zeros = strides.map(() => 0);
  if (dims.length === 0) {
    body(1, 1, [...offsets], zeros, zeros);
    return;
  }
  if (dims.length === 1) {
    body(
      1,
      dims[0],
      [...offsets],
      zeros,
      st.map((s) => s[0]),
    );
    return;
  }
  const r = dims.length;
  const n0 = dims[r - 1];
  const n1 = dims[r - 2];
  const incs0 = st.map((s) => s[r - 1]);
  const incs1 = st.map((s) => s[r - 2]);
  const idx = new Array<number>(r).fill(0);
  const pos = [...offsets];
  const offs = new Array<number>(m);
  for (;;) {
    for (let i = 0; i < m; i++) offs[i] = pos[i];
    body(n1, n0, offs, incs1, incs0);
    let d = r - 3;
    for (; d >= 0; d--) {
      idx[d]++;
      for (let i = 0; i < m; i++) pos[i] += st[i][d];
      if (idx[d] < dims[d]) break;
      for (let i = 0; i < m; i++) pos[i] -= st[i][d] * dims[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}
