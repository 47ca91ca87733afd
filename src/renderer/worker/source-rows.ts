/**
 * Rows of an array in a data file the engine's readers hold open (an HDF5 file mounted over a Blob that the
 * worker reads synchronously, a slice at a time, or over pages fetched from main): the rows a sample or a streamed chunk needs are read as a
 * hyperslab when asked for, and the last few ranges are kept.
 */
import type { DataSource } from '../../engine/io/data-source';
import { checkRows } from './x-rows';
import type { XRows } from './x-rows';

/** Ranges kept at once. */
const KEPT = 4;

export class SourceRows implements XRows {
  readonly lazy = true;
  private kept: { b0: number; b1: number; data: Float64Array }[] = [];

  constructor(
    private readonly source: DataSource,
    private readonly name: string,
    readonly B: number,
    readonly per: number,
    /** Runs a read until its bytes are there (a file fetched in pages); plain call where reads are synchronous. */
    private readonly retry: <T>(f: () => T) => Promise<T> = async (f) => f(),
  ) {}

  /** Reads the rows now (fetching the pages they live in first, where the file is read asynchronously). */
  async ensure(b0: number, b1: number): Promise<void> {
    await this.retry(() => this.get(b0, b1));
  }

  get(b0: number, b1: number): Float64Array {
    checkRows(this.B, b0, b1);
    for (const k of this.kept)
      if (k.b0 <= b0 && b1 <= k.b1) return k.data.subarray((b0 - k.b0) * this.per, (b1 - k.b0) * this.per);
    const t = this.source.readRows(this.name, b0, b1 - b0);
    const data = t.data;
    if (data.length !== (b1 - b0) * this.per)
      throw new Error(`${this.source.file}: ${this.name} rows ${b0}…${b1 - 1} gave ${data.length} values`);
    this.kept.push({ b0, b1, data });
    if (this.kept.length > KEPT) this.kept.shift();
    return data;
  }
}
