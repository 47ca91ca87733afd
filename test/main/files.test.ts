import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ByteBudget, NOT_CHOSEN, readUserFiles, withExtension, writeFileAtomic } from '../../src/main/files';
import type { FsLike } from '../../src/main/files';
import { RecentFiles } from '../../src/main/recent';
import { LIMITS } from '../../src/preload/contract';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jacscope-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const real = fsp as unknown as FsLike;

describe('writeFileAtomic', () => {
  it('writes a new file and replaces an old one, leaving no temporary file', async () => {
    const target = join(dir, 'J.npy');
    await writeFileAtomic(target, new Uint8Array([1, 2, 3]));
    expect(Array.from(await readFile(target))).toEqual([1, 2, 3]);
    await writeFileAtomic(target, new Uint8Array([9]));
    expect(Array.from(await readFile(target))).toEqual([9]);
    expect(await readdir(dir)).toEqual(['J.npy']);
  });

  it('leaves the old file untouched and removes the temporary file when the rename fails', async () => {
    const target = join(dir, 'J.csv');
    await writeFile(target, 'old');
    const failing: FsLike = {
      ...real,
      rename: async () => Promise.reject(Object.assign(new Error('EXDEV'), { code: 'EXDEV' })),
    };
    await expect(writeFileAtomic(target, new TextEncoder().encode('new'), failing)).rejects.toThrow('EXDEV');
    expect(await readFile(target, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['J.csv']);
  });

  it('removes the temporary file when writing fails half way', async () => {
    const target = join(dir, 'big.npy');
    const failing: FsLike = {
      ...real,
      open: async (p, flags, mode) => {
        const h = await real.open(p, flags, mode);
        return {
          ...h,
          write: async () => Promise.reject(new Error('ENOSPC')),
          sync: () => h.sync(),
          close: () => h.close(),
        };
      },
    };
    await expect(writeFileAtomic(target, new Uint8Array(10), failing)).rejects.toThrow('ENOSPC');
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes through the temporary file, which is created exclusively beside the target', async () => {
    const seen: { path: string; flags: string }[] = [];
    const spy: FsLike = {
      ...real,
      open: async (p, flags, mode) => {
        seen.push({ path: p, flags });
        return real.open(p, flags, mode);
      },
    };
    await writeFileAtomic(join(dir, 'a.png'), new Uint8Array([1]), spy);
    expect(seen).toHaveLength(1);
    expect(seen[0].flags).toBe('wx');
    expect(seen[0].path.startsWith(join(dir, '.a.png.'))).toBe(true);
    expect(seen[0].path.endsWith('.tmp')).toBe(true);
  });
});

describe('readUserFiles', () => {
  it('refuses files larger than the limit without reading them', async () => {
    let read = false;
    const fake: FsLike = {
      ...real,
      stat: async () => ({ isFile: () => true, isDirectory: () => false, size: LIMITS.maxReadBytes + 1 }),
      readFile: async () => {
        read = true;
        return new Uint8Array();
      },
    };
    const r = await readUserFiles(['/data/huge.pt', '/data/huge.npy'], { fs: fake });
    expect(r.failures).toEqual([
      { name: 'huge.pt', path: '/data/huge.pt', reason: expect.stringMatching(/GiB/) },
    ]);
    // A .npy that large is opened by ranges: listed, not read.
    expect(r.ranged).toEqual([{ name: 'huge.npy', path: '/data/huge.npy', size: LIMITS.maxReadBytes + 1 }]);
    expect(r.files).toEqual([]);
    expect(read).toBe(false);
  });

  it('accepts the extensions jacscope reads, in any case', async () => {
    await writeFile(join(dir, 'MODEL.PT'), 'x');
    expect((await readUserFiles([join(dir, 'MODEL.PT')])).files).toHaveLength(1);
  });

  it('reads only chosen paths, and touches no other', async () => {
    await writeFile(join(dir, 'a.npy'), 'a');
    await writeFile(join(dir, 'b.npy'), 'b');
    const touched: string[] = [];
    const spy: FsLike = {
      ...real,
      stat: async (p) => (touched.push(p), real.stat(p)),
      readFile: async (p) => (touched.push(p), real.readFile(p)),
    };
    const r = await readUserFiles([join(dir, 'a.npy'), join(dir, 'b.npy')], {
      fs: spy,
      allowed: (p) => p.endsWith('a.npy'),
    });
    expect(r.files.map((f) => f.name)).toEqual(['a.npy']);
    expect(r.failures).toEqual([{ name: 'b.npy', path: join(dir, 'b.npy'), reason: NOT_CHOSEN }]);
    expect(touched.every((p) => p.endsWith('a.npy'))).toBe(true);
  });
});

describe('bytes in flight', () => {
  /** A file system of files of given sizes whose reads finish when the test says. */
  function slowFs(sizes: Record<string, number>) {
    const pending = new Map<string, () => void>();
    const fs: FsLike = {
      ...real,
      stat: async (p) => ({ isFile: () => true, isDirectory: () => false, size: sizes[p] }),
      readFile: (p) =>
        new Promise((done) => pending.set(p, () => done(new Uint8Array(Math.min(sizes[p], 16))))),
    };
    const finish = (p: string) => {
      pending.get(p)!();
      pending.delete(p);
    };
    return { fs, pending, finish };
  }
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('a read that would exceed the cap waits until earlier reads finish, then runs', async () => {
    const budget = new ByteBudget(100);
    const { fs, pending, finish } = slowFs({ '/d/a.npy': 60, '/d/b.npy': 30, '/d/c.npy': 50 });
    const first = readUserFiles(['/d/a.npy', '/d/b.npy'], { fs, budget });
    await tick();
    expect([...pending.keys()].sort()).toEqual(['/d/a.npy', '/d/b.npy']);
    expect(budget.inFlight).toBe(90);
    const second = readUserFiles(['/d/c.npy'], { fs, budget });
    await tick();
    expect(pending.has('/d/c.npy')).toBe(false); // 90 + 50 > 100: waiting
    finish('/d/a.npy');
    await tick();
    expect(pending.has('/d/c.npy')).toBe(false); // the first request holds its bytes until it is done
    finish('/d/b.npy');
    expect((await first).files).toHaveLength(2);
    await tick();
    expect(pending.has('/d/c.npy')).toBe(true);
    expect(budget.inFlight).toBe(50);
    finish('/d/c.npy');
    expect((await second).files).toHaveLength(1);
    expect(budget.inFlight).toBe(0);
  });

  it('files opened together beyond the cap: the ones that do not fit are refused, each in one line', async () => {
    const budget = new ByteBudget(100);
    const { fs, finish } = slowFs({ '/d/a.npy': 70, '/d/b.npy': 40, '/d/c.npy': 30 });
    const r = readUserFiles(['/d/a.npy', '/d/b.npy', '/d/c.npy'], { fs, budget });
    await tick();
    finish('/d/a.npy');
    finish('/d/c.npy');
    const { files, failures } = await r;
    expect(files.map((f) => f.name)).toEqual(['a.npy', 'c.npy']);
    expect(failures).toEqual([
      {
        name: 'b.npy',
        path: '/d/b.npy',
        reason: expect.stringMatching(/^not read: .* more than .*GiB; open it on its own$/),
      },
    ]);
    expect(budget.inFlight).toBe(0);
  });

  it('the bytes come back when a read fails, and a file that grew while read is refused', async () => {
    const budget = new ByteBudget(100);
    const failing: FsLike = {
      ...real,
      stat: async () => ({ isFile: () => true, isDirectory: () => false, size: 10 }),
      readFile: async (p) =>
        p.includes('grew')
          ? new Uint8Array(11)
          : Promise.reject(Object.assign(new Error('EIO'), { code: 'EACCES' })),
    };
    const r = await readUserFiles(['/d/x.npy', '/d/grew.npy'], { fs: failing, budget });
    expect(r.failures.map((f) => f.reason)).toEqual([
      'permission denied',
      'changed while it was being read; try again',
    ]);
    expect(budget.inFlight).toBe(0);
  });

  it('the shared budget holds no more than LIMITS.maxBytesInFlight, at least one largest file', () => {
    expect(new ByteBudget().capacity).toBe(LIMITS.maxBytesInFlight);
    expect(LIMITS.maxBytesInFlight).toBeGreaterThanOrEqual(LIMITS.maxReadBytes);
    expect(LIMITS.maxBytesInFlight).toBeLessThan(LIMITS.maxOpenFiles * LIMITS.maxReadBytes);
  });
});

describe('withExtension', () => {
  it('adds the extension when missing', () => {
    expect(withExtension('/a/b', 'csv')).toBe('/a/b.csv');
    expect(withExtension('/a/b.CSV', 'csv')).toBe('/a/b.CSV');
    expect(withExtension('/a/b.csv', 'npy')).toBe('/a/b.csv.npy');
  });
});

describe('RecentFiles', () => {
  it('keeps the most recent first, without duplicates, bounded, across restarts', async () => {
    const store = join(dir, 'recent.json');
    const r = new RecentFiles(store, undefined, 3);
    await r.load();
    await r.add(['/a', '/b']);
    await r.add(['/c', '/a']);
    await r.add(['/d']);
    expect(r.list()).toEqual(['/d', '/c', '/a']);
    const again = new RecentFiles(store, undefined, 3);
    await again.load();
    expect(again.list()).toEqual(['/d', '/c', '/a']);
  });

  it('starts empty from a corrupt store', async () => {
    const store = join(dir, 'recent.json');
    await writeFile(store, '{not json');
    const r = new RecentFiles(store);
    await r.load();
    expect(r.list()).toEqual([]);
  });
});
