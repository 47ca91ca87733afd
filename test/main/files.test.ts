import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as fsp from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readUserFile, withExtension, writeFileAtomic } from '../../src/main/files';
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

describe('readUserFile', () => {
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
    const r = await readUserFile('/data/huge.npy', fake);
    expect(r).toMatchObject({ name: 'huge.npy', reason: expect.stringMatching(/GiB/) });
    expect(read).toBe(false);
  });

  it('accepts the extensions jacscope reads, in any case', async () => {
    await writeFile(join(dir, 'MODEL.PT'), 'x');
    expect(await readUserFile(join(dir, 'MODEL.PT'))).toHaveProperty('bytes');
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
