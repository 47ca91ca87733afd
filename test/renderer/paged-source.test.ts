// A file read asynchronously, served to synchronous readers a page at a time (worker/paged-source.ts): the
// bytes are the file's across page boundaries, a call is run again until it has its pages, the pages a call
// uses are kept while it runs, and the rest are bounded.
import { describe, expect, it } from 'vitest';
import { BytesNotReady } from '../../src/engine/io/data-source';
import type { RangeReader } from '../../src/renderer/worker/byte-reader';
import { PagedSource } from '../../src/renderer/worker/paged-source';

function fileOf(n: number) {
  const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);
  const reads: [number, number][] = [];
  const reader: RangeReader = {
    name: 'f.h5',
    size: n,
    read: async (o, len) => {
      reads.push([o, len]);
      return bytes.slice(o, o + len);
    },
  };
  return { bytes, reads, reader };
}

describe('PagedSource', () => {
  it('serves any range once its pages are fetched, in one read per run of pages', async () => {
    const { bytes, reads, reader } = fileOf(100);
    const src = new PagedSource(reader, 16, 4);
    expect(() => src.read(10, 30)).toThrow(BytesNotReady);
    const got = await src.retry(() => src.read(10, 30));
    expect(Array.from(got)).toEqual(Array.from(bytes.subarray(10, 40)));
    expect(reads).toEqual([[0, 48]]);
    // the last, short page
    expect(Array.from(await src.retry(() => src.read(90, 50)))).toEqual(Array.from(bytes.subarray(90, 100)));
    expect(src.read(100, 5).length).toBe(0);
  });

  it('keeps the pages a call uses while it runs, then at most the bound', async () => {
    const { bytes, reader } = fileOf(200);
    const src = new PagedSource(reader, 16, 4);
    // one call reading 10 pages, one range at a time (as the HDF5 library discovers what it needs)
    const call = () => {
      const parts = [];
      for (let o = 0; o < 160; o += 16) parts.push(...src.read(o, 16));
      return parts;
    };
    expect(await src.retry(call)).toEqual(Array.from(bytes.subarray(0, 160)));
    const before = src.fetched;
    await src.retry(() => src.read(144, 16)); // among the 4 kept (the last used)
    expect(src.fetched).toBe(before);
    await src.retry(() => src.read(0, 16)); // dropped: fetched again
    expect(src.fetched).toBe(before + 16);
  });

  it('runs concurrent calls one after the other, each with its pages', async () => {
    const { bytes, reader } = fileOf(1000);
    const src = new PagedSource(reader, 16, 2);
    const ranges = [
      [0, 100],
      [500, 300],
      [960, 40],
    ];
    const got = await Promise.all(ranges.map(([o, n]) => src.retry(() => src.read(o, n))));
    got.forEach((g, i) =>
      expect(Array.from(g)).toEqual(Array.from(bytes.subarray(ranges[i][0], ranges[i][0] + ranges[i][1]))),
    );
  });

  it('passes other errors through, and refuses a call that never settles', async () => {
    const { reader } = fileOf(10_000);
    const src = new PagedSource(reader, 16, 4);
    await expect(
      src.retry(() => {
        throw new Error('not a missing page');
      }),
    ).rejects.toThrow('not a missing page');
    let k = 0;
    await expect(src.retry(() => src.read(16 * k++, 1))).rejects.toThrow(/f\.h5: .*(rounds|at once)/);
  });
});
