/**
 * Where primitives get their output buffers. Allocating a fresh multi-megabyte Float64Array costs
 * more than the arithmetic that fills it (the pages are new to the process and must be faulted in
 * and zeroed, then collected), so the model hands its primitives a workspace whose buffers are
 * reused from one sample to the next. Buffers come back zero-filled unless the caller says it will
 * overwrite every element (`zeroed = false`), which saves a pass over memory.
 */
export type Alloc = (n: number, zeroed?: boolean) => Float64Array;

export const freshAlloc: Alloc = (n) => new Float64Array(n);

/**
 * A run takes buffers in the same order every time (the graph is fixed), so the i-th request of a
 * run reuses the i-th buffer of the previous run when it is large enough.
 */
export class Workspace {
  private readonly slots: Float64Array[] = [];
  private next = 0;

  /** Start a new run: every buffer handed out before may now be reused. */
  reset(): void {
    this.next = 0;
  }

  readonly alloc: Alloc = (n, zeroed = true) => {
    let s = this.slots[this.next];
    if (!s || s.length < n) {
      s = new Float64Array(n);
      this.slots[this.next] = s;
    } else if (zeroed) {
      s.fill(0, 0, n);
    }
    this.next++;
    return s.length === n ? s : s.subarray(0, n);
  };

  /** Bytes held, for memory reports. */
  bytes(): number {
    return this.slots.reduce((a, s) => a + s.byteLength, 0);
  }
}
