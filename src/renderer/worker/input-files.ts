/**
 * The worker's side of files not sent whole: a Blob read by ranges in the worker, or a file main reads a range
 * at a time, asked for through the UI thread (`read-range` out, `range-data` back).
 */
import { blobReader, remoteReader } from './byte-reader';
import type { RangeReader } from './byte-reader';
import type { FromWorker, InputFile, ToWorker } from './protocol';

export class RangeRequests {
  private next = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }
  >();

  constructor(private readonly post: (m: FromWorker) => void) {}

  fetch(path: string, offset: number, length: number): Promise<Uint8Array> {
    const rid = this.next++;
    return new Promise((resolve, reject) => {
      this.waiting.set(rid, { resolve, reject });
      this.post({ type: 'read-range', rid, path, offset, length });
    });
  }

  /** Settles a ranged read; false for other messages. */
  handle(m: ToWorker): boolean {
    if (m.type !== 'range-data') return false;
    const w = this.waiting.get(m.rid);
    this.waiting.delete(m.rid);
    if (!w) return true;
    if (m.bytes) w.resolve(new Uint8Array(m.bytes));
    else w.reject(new Error(m.error ?? 'the file could not be read'));
    return true;
  }

  /** How the worker reads a file that did not come whole (undefined: it came whole). */
  readerOf(f: InputFile): RangeReader | undefined {
    if (f.blob) return blobReader(f.blob, f.name);
    if (f.remote) {
      const path = f.remote.path;
      return remoteReader(f.name, f.remote.size, (o, n) => this.fetch(path, o, n));
    }
    return undefined;
  }
}
