import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChosenPaths } from '../../src/main/chosen';
import { ByteBudget, NOT_CHOSEN } from '../../src/main/files';
import { createHandlers } from '../../src/main/ipc';
import type { MainDeps } from '../../src/main/ipc';
import { opensByRanges } from '../../src/main/ranged';
import { RecentFiles } from '../../src/main/recent';
import { CHANNELS, LIMITS } from '../../src/preload/contract';
import type { OpenResult } from '../../src/preload/contract';

let dir: string;
let deps: MainDeps;
let h: ReturnType<typeof createHandlers>;
const content = Uint8Array.from({ length: 5000 }, (_, i) => (i * 37 + 11) & 0xff);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jacscope-ranged-'));
  await writeFile(join(dir, 'big.npy'), content);
  await writeFile(join(dir, 'other.npy'), content);
  await writeFile(join(dir, 'small.npy'), new Uint8Array([1, 2, 3]));
  deps = {
    showOpenDialog: vi.fn(async () => [join(dir, 'big.npy'), join(dir, 'small.npy')]),
    showSaveDialog: vi.fn(async () => null),
    recent: new RecentFiles(join(dir, 'recent.json')),
    chosen: new ChosenPaths(),
    // Small files count as large here: anything over 1 kB opens by ranges.
    rangedOpenBytes: 1000,
  };
  h = createHandlers(deps);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const read = (...args: unknown[]) => h[CHANNELS.readRange](...args) as Promise<Uint8Array>;

describe('files opened by ranges', () => {
  it('lists a large .npy/.npz without reading it; a small one is read whole', async () => {
    const r = (await h[CHANNELS.openDialog]()) as OpenResult;
    expect(r.ranged).toEqual([{ name: 'big.npy', path: join(dir, 'big.npy'), size: content.length }]);
    expect(r.files.map((f) => f.name)).toEqual(['small.npy']);
    expect(deps.recent.list()).toContain(join(dir, 'big.npy'));
    expect(opensByRanges('/a/x.npz', 2000, 1000)).toBe(true);
    expect(opensByRanges('/a/x.h5', 2000, 1000)).toBe(true);
    expect(opensByRanges('/a/x.mat', 2000, 1000)).toBe(true);
    expect(opensByRanges('/a/x.csv', 2000, 1000)).toBe(false);
    expect(opensByRanges('/a/x.npy', 1000, 1000)).toBe(false);
  });

  it('readRange returns exactly the bytes of the range, of a chosen file', async () => {
    await h[CHANNELS.openDialog]();
    const p = join(dir, 'big.npy');
    expect(Array.from(await read(p, 0, 10))).toEqual(Array.from(content.subarray(0, 10)));
    expect(Array.from(await read(p, 4321, 679))).toEqual(Array.from(content.subarray(4321, 5000)));
    expect((await read(p, 5000, 0)).length).toBe(0);
  });

  it('readRange refuses a path the user did not choose, and reads nothing of it', async () => {
    await h[CHANNELS.openDialog]();
    await expect(read(join(dir, 'other.npy'), 0, 10)).rejects.toThrow(NOT_CHOSEN);
    await expect(read('relative/big.npy', 0, 10)).rejects.toThrow(/absolute/);
  });

  it('readRange refuses bad offsets and lengths, over-cap lengths and wrong argument counts', async () => {
    await h[CHANNELS.openDialog]();
    const p = join(dir, 'big.npy');
    for (const [o, n] of [
      [-1, 10],
      [0, -5],
      [1.5, 10],
      [0, 2.5],
      ['0', 10],
      [0, Number.MAX_SAFE_INTEGER + 1],
      [NaN, 1],
    ])
      await expect(read(p, o, n)).rejects.toThrow(/non-negative whole number/);
    await expect(read(p, 0, LIMITS.maxRangeBytes + 1)).rejects.toThrow(/at most/);
    await expect(read(p, 0)).rejects.toThrow(/three arguments/);
    await expect(read(p, 0, 1, 2)).rejects.toThrow(/three arguments/);
  });

  it('readRange refuses a range past the end (a file that shrank) with one message naming it', async () => {
    await h[CHANNELS.openDialog]();
    const p = join(dir, 'big.npy');
    await expect(read(p, 4990, 11)).rejects.toThrow(
      /big\.npy: bytes 4990…5001 are past its end \(5000 bytes\)/,
    );
    await truncate(p, 100);
    await expect(read(p, 0, 200)).rejects.toThrow(/big\.npy: .*past its end/);
  });

  it('readRange counts its bytes in the bytes-in-flight budget and gives them back', async () => {
    const budget = new ByteBudget(100);
    deps.budget = budget;
    h = createHandlers(deps);
    await h[CHANNELS.openDialog]();
    const p = join(dir, 'big.npy');
    const hold = await budget.take(60);
    let done = false;
    const pending = read(p, 0, 50).then((b) => ((done = true), b));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false); // 60 + 50 > 100: it waits
    hold();
    expect((await pending).length).toBe(50);
    expect(budget.inFlight).toBe(0);
    await expect(read(p, 4990, 11)).rejects.toThrow(/past its end/);
    expect(budget.inFlight).toBe(0);
  });
});
