/**
 * Rows of an array in a file read a range at a time (layout from lazy-layout.ts): the rows a sample or a
 * streamed chunk needs are read and decoded to float64 when asked for, and the last few ranges are kept.
 */
import { ELEMENT_KINDS, decodeElements } from '../../engine/io/npy';
import type { RangeReader } from './byte-reader';
import type { ArrayLayout } from './lazy-layout';
import { checkRows } from './x-rows';
import type { XRows } from './x-rows';

/** Ranges kept at once, and the bytes (float64) they may take together beyond the newest one. */
const KEPT = 6;
const KEPT_BYTES = 128 * 2 ** 20;

export class LazyRows implements XRows {
  readonly B: number;
  readonly per: number;
  readonly lazy = true;
  private readonly rowBytes: number;
  private kept: { b0: number; b1: number; data: Float64Array }[] = [];

  constructor(
    readonly reader: RangeReader,
    readonly layout: ArrayLayout,
  ) {
    this.B = layout.shape[0];
    this.per = layout.shape.slice(1).reduce((a, d) => a * d, 1);
    this.rowBytes = this.per * ELEMENT_KINDS[layout.kind].size;
  }

  private find(b0: number, b1: number): Float64Array | null {
    for (const k of this.kept)
      if (k.b0 <= b0 && b1 <= k.b1) return k.data.subarray((b0 - k.b0) * this.per, (b1 - k.b0) * this.per);
    return null;
  }

  private keep(b0: number, b1: number, bytes: Uint8Array): Float64Array {
    const data = decodeElements(
      bytes,
      0,
      (b1 - b0) * this.per,
      this.layout.kind,
      this.layout.littleEndian,
    ).data;
    const entry = { b0, b1, data };
    const rest = this.kept.filter((k) => !(b0 <= k.b0 && k.b1 <= b1));
    let total = 0;
    this.kept = [entry];
    for (const k of rest) {
      total += k.data.byteLength;
      if (this.kept.length >= KEPT || total > KEPT_BYTES) break;
      this.kept.push(k);
    }
    return data;
  }

  private range(b0: number, b1: number): [number, number] {
    return [this.layout.dataOffset + b0 * this.rowBytes, (b1 - b0) * this.rowBytes];
  }

  async ensure(b0: number, b1: number): Promise<void> {
    checkRows(this.B, b0, b1);
    if (this.find(b0, b1)) return;
    const [offset, length] = this.range(b0, b1);
    this.keep(b0, b1, await this.reader.read(offset, length));
  }

  get(b0: number, b1: number): Float64Array {
    checkRows(this.B, b0, b1);
    const hit = this.find(b0, b1);
    if (hit) return hit;
    if (!this.reader.readSync)
      throw new Error(`${this.reader.name}: samples ${b0}…${b1 - 1} were not read from disk yet`);
    const [offset, length] = this.range(b0, b1);
    return this.keep(b0, b1, this.reader.readSync(offset, length));
  }
}
