/**
 * A file the worker can only read asynchronously (the desktop app's files opened through its dialog or recent
 * list: main reads ranges of them) served to the engine's synchronous readers (the HDF5 library) a page at a
 * time. A read of pages not fetched yet throws BytesNotReady, which the reader turns into a clean failure;
 * `retry` then fetches those pages and runs the call again, until it needs nothing new. Pages are kept up to a
 * bound, least recently used dropped first, so a file of any size is read in bounded memory.
 */
import { BytesNotReady, type ByteSource } from '../../engine/io/data-source';
import type { RangeReader } from './byte-reader';

/** Bytes per page: a chunk of x or a run of the library's metadata is usually within one or two. */
export const PAGE_BYTES = 1 << 20;
/** Pages kept (64 MiB): more than one sample's chunks and the file's metadata need. */
export const MAX_PAGES = 64;
/** Fetch rounds one call may take before it is refused (each round fetches what the previous one lacked). */
const MAX_ROUNDS = 200;

export class PagedSource implements ByteSource {
  readonly size: number;
  /** Pages by index, in the order last used (a Map keeps insertion order). */
  private readonly pages = new Map<number, Uint8Array>();
  private readonly missing = new Set<number>();
  /** The last call queued (see `retry`). */
  private queue: Promise<void> = Promise.resolve();
  /** Pages the call being retried has used: kept while it runs, whatever the bound. */
  private inCall: Set<number> | null = null;
  /** Bytes fetched from the file so far (for tests and the data panel). */
  fetched = 0;

  constructor(
    private readonly reader: RangeReader,
    private readonly pageBytes = PAGE_BYTES,
    private readonly maxPages = MAX_PAGES,
  ) {
    this.size = reader.size;
  }

  read(offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length);
    if (end <= offset) return new Uint8Array(0);
    const first = Math.floor(offset / this.pageBytes);
    const last = Math.floor((end - 1) / this.pageBytes);
    for (let i = first; i <= last; i++) {
      this.inCall?.add(i);
      if (!this.pages.has(i)) this.missing.add(i);
    }
    if (this.missing.size > 0) throw new BytesNotReady();
    const out = new Uint8Array(end - offset);
    for (let i = first; i <= last; i++) {
      const page = this.pages.get(i)!;
      // most recently used last
      this.pages.delete(i);
      this.pages.set(i, page);
      const start = i * this.pageBytes;
      const from = Math.max(offset, start);
      const to = Math.min(end, start + page.length);
      out.set(page.subarray(from - start, to - start), from - offset);
    }
    return out;
  }

  /** Runs `f` (which reads through this source) until it no longer needs pages it lacked; its result. */
  retry<T>(f: () => T): Promise<T> {
    // One call at a time (a sample view and a streamed pass may both ask for rows): each waits for the
    // previous to finish, so a call's pages stay protected while it runs.
    const run = this.queue.then(() => this.run(f));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async run<T>(f: () => T): Promise<T> {
    this.inCall = new Set();
    try {
      for (let round = 0; ; round++) {
        this.missing.clear();
        try {
          return f();
        } catch (e) {
          if (this.missing.size === 0) throw e;
          if (round >= MAX_ROUNDS)
            throw new Error(
              `${this.reader.name}: reading it needed more than ${MAX_ROUNDS} rounds of fetching`,
              {
                cause: e,
              },
            );
          if (this.inCall.size > 16 * this.maxPages)
            throw new Error(
              `${this.reader.name}: one read needs more than ${16 * this.maxPages * this.pageBytes} bytes at once`,
            );
          await this.fetchMissing();
        }
      }
    } finally {
      this.inCall = null;
      this.trim(0);
    }
  }

  /** Drops the least recently used pages, but not the running call's, until `room` more fit the bound. */
  private trim(room: number): void {
    for (const i of [...this.pages.keys()]) {
      if (this.pages.size + room <= this.maxPages) return;
      if (!this.inCall?.has(i)) this.pages.delete(i);
    }
  }

  private async fetchMissing(): Promise<void> {
    const want = [...this.missing].sort((a, b) => a - b);
    this.missing.clear();
    this.trim(want.length);
    // Runs of consecutive pages in one read each.
    for (let i = 0; i < want.length;) {
      let j = i;
      while (j + 1 < want.length && want[j + 1] === want[j] + 1) j++;
      const offset = want[i] * this.pageBytes;
      const length = Math.min(this.size, (want[j] + 1) * this.pageBytes) - offset;
      const bytes = await this.reader.read(offset, length);
      if (bytes.length !== length)
        throw new Error(`${this.reader.name}: read ${bytes.length} bytes at ${offset}, expected ${length}`);
      this.fetched += length;
      for (let k = i; k <= j; k++) {
        const at = (want[k] - want[i]) * this.pageBytes;
        this.pages.set(want[k], bytes.subarray(at, Math.min(bytes.length, at + this.pageBytes)));
      }
      i = j + 1;
    }
  }
}
