/**
 * J kept per sample ("sample mode"): when J for every sample would not fit the memory budget, the worker keeps
 * x and p and computes one sample's y and J when a view asks for it (the CPU float64 model, one pass). The last
 * few samples are cached, so the heatmap, the lines and an export of what is shown do not recompute.
 */
import { dataSource } from '../lib/display';
import type { JSource } from '../lib/display';
import type { Dims } from '../lib/axes';
import { formatBytes, isOutOfMemory, outOfMemoryText } from '../lib/memory-budget';
import type { EngineModel } from './engine-contract';
import type { ComputedResult } from './result-info';
import type { XRows } from './x-rows';

const CACHED = 4;

export class SampleSource {
  private cache: { b: number; y: Float64Array; J: Float64Array }[] = [];

  constructor(
    readonly net: EngineModel,
    /** x [B, …] by sample (held, or read from disk as needed; no values when the model takes p alone) and p [B,P]. */
    readonly x: XRows,
    readonly p: Float64Array,
    readonly dims: Dims,
  ) {}

  get xPer(): number {
    return this.x.per;
  }

  /** Reads x of samples [b0, b1) from disk when it is read lazily (before `inputs` or `block` need it). */
  ensure(b0: number, b1: number): Promise<void> {
    return this.x.ensure(b0, b1);
  }

  private check(b: number): void {
    if (!Number.isInteger(b) || b < 0 || b >= this.dims.B)
      throw new Error(`sample ${b} is not in 0…${this.dims.B - 1}`);
  }

  /** x and p of samples [b0, b1). */
  inputs(b0: number, b1: number): { x: Float64Array; p: Float64Array } {
    const { P } = this.dims;
    const x = this.x.per > 0 ? this.x.get(b0, b1) : new Float64Array(0);
    return { x, p: this.p.subarray(b0 * P, b1 * P) };
  }

  /** y [T,O] and J [T,O,P] of sample b (cached; do not modify them). */
  block(b: number): { y: Float64Array; J: Float64Array } {
    this.check(b);
    const hit = this.cache.find((c) => c.b === b);
    if (hit) return hit;
    const { x, p } = this.inputs(b, b + 1);
    const { T, O, P } = this.dims;
    let r;
    try {
      r = this.net.evaluate(x, p, 1, T);
    } catch (e) {
      if (isOutOfMemory(e)) throw new Error(outOfMemoryText(`J of sample ${b}`, T * O * P * 8));
      throw e;
    }
    const entry = { b, y: r.y, J: r.J };
    this.cache = [entry, ...this.cache].slice(0, CACHED);
    return entry;
  }

  /** The views' source: each sample's block computed when asked for. */
  jSource(): JSource {
    return {
      dims: this.dims,
      jBlock: (b) => ({ data: this.block(clampB(b, this.dims.B)).J, off: 0 }),
      yBlock: (b) => ({ data: this.block(clampB(b, this.dims.B)).y, off: 0 }),
    };
  }

  /**
   * y of every sample [B,T,O] (forward passes in chunks), refused up front when it would exceed `maxBytes`.
   */
  forwardAll(maxBytes: number): Float64Array {
    const { B, T, O } = this.dims;
    const bytes = B * T * O * 8;
    if (bytes > maxBytes)
      throw new Error(
        `y for all ${B.toLocaleString('en-US')} samples would need ${formatBytes(bytes)}, over the ${formatBytes(maxBytes)} memory budget; export y of one sample instead`,
      );
    let y: Float64Array;
    try {
      y = new Float64Array(B * T * O);
    } catch (e) {
      if (isOutOfMemory(e)) throw new Error(outOfMemoryText('y of every sample', bytes));
      throw e;
    }
    const chunk = Math.max(1, Math.floor((4 * 2 ** 20) / Math.max(1, T * O * 8)));
    for (let b0 = 0; b0 < B; b0 += chunk) {
      const b1 = Math.min(B, b0 + chunk);
      const { x, p } = this.inputs(b0, b1);
      y.set(this.net.forward(x, p, b1 - b0, T), b0 * T * O);
    }
    return y;
  }
}

function clampB(b: number, B: number): number {
  return Math.min(B - 1, Math.max(0, Math.round(b)));
}

/** What the views show of a result: J as computed, or per sample on demand in sample mode. */
export function resultSource(r: ComputedResult): JSource {
  if (r.sample) return r.sample.jSource();
  const { B, T, O, P } = r.meta;
  return dataSource(r.J, r.y, { B, T, O, P });
}

/** Why something that needs J of every sample is refused in sample mode: the size, the budget, and `then`. */
export function wholeJRefusal(
  r: ComputedResult,
  then = "the whole J cannot be exported here; export one sample's slices, or the global sensitivity's aggregates",
): string {
  const B = r.meta.B.toLocaleString('en-US');
  const m = r.data.memory;
  return `J for all ${B} samples would need ${formatBytes(m.jBytes)}, over the ${formatBytes(m.budgetBytes)} memory budget: it is kept per sample, so ${then}`;
}
