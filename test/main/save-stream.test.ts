// Saves written in parts (the whole J in the desktop app): saveBegin / saveAppend / saveCommit / saveAbort,
// through the same registration and sender check as every other handler, on a real temporary folder.
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChosenPaths } from '../../src/main/chosen';
import { ByteBudget, nodeFs } from '../../src/main/files';
import type { FsLike } from '../../src/main/files';
import { UntrustedSenderError, createHandlers, registerHandlers } from '../../src/main/ipc';
import type { MainDeps } from '../../src/main/ipc';
import { RecentFiles } from '../../src/main/recent';
import { StreamedSaves, UNKNOWN_SAVE, validateSaveBeginRequest } from '../../src/main/save-stream';
import type { SenderEvent } from '../../src/main/security';
import { CHANNELS, LIMITS } from '../../src/preload/contract';
import type { SaveBeginResult, SaveResult } from '../../src/preload/contract';

let dir: string;
let deps: MainDeps;
let saves: StreamedSaves;
type Listener = (event: SenderEvent, ...args: unknown[]) => Promise<unknown>;
let registered: Map<string, Listener>;

/** Senders 1 and 2 are trusted windows (say, a window closed and opened again); 3 is not ours. */
const event = (id: number): SenderEvent => ({ sender: { id }, senderFrame: null });

function setUp(extra: Partial<MainDeps> = {}, opts: ConstructorParameters<typeof StreamedSaves>[0] = {}) {
  saves = new StreamedSaves({ fs: extra.fs, budget: extra.budget, ...opts });
  deps = {
    showOpenDialog: vi.fn(async () => null),
    showSaveDialog: vi.fn(async () => join(dir, 'J')),
    recent: new RecentFiles(join(dir, 'recent.json')),
    chosen: new ChosenPaths(),
    saves,
    ...extra,
  };
  registered = new Map();
  registerHandlers(
    { handle: (ch, l) => void registered.set(ch, l) },
    createHandlers(deps),
    (e) => e.sender.id === 1 || e.sender.id === 2,
  );
}

const call = (channel: string, sender: number, ...args: unknown[]) =>
  registered.get(channel)!(event(sender), ...args);
const begin = (sender = 1, req: unknown = { suggestedName: 'J.npy', kind: 'npy' }) =>
  call(CHANNELS.saveBegin, sender, req) as Promise<SaveBeginResult>;
const append = (sender: number, token: unknown, bytes: unknown) =>
  call(CHANNELS.saveAppend, sender, token, bytes);
const commit = (sender: number, token: unknown) =>
  call(CHANNELS.saveCommit, sender, token) as Promise<SaveResult>;
const abort = (sender: number, token: unknown) => call(CHANNELS.saveAbort, sender, token);

async function started(sender = 1): Promise<{ token: string; path: string }> {
  const r = await begin(sender);
  if (!r.started) throw new Error(`not started: ${JSON.stringify(r)}`);
  return r;
}

const listing = async () => (await readdir(dir)).filter((f) => f !== 'recent.json').sort();
const parts = [
  new Uint8Array([1, 2, 3]),
  new Uint8Array(0),
  Uint8Array.from({ length: 5000 }, (_, i) => i & 0xff),
];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jacscope-save-stream-'));
  setUp();
});

afterEach(async () => {
  await saves.abortAll();
  await rm(dir, { recursive: true, force: true });
});

describe('a save in parts', () => {
  it('writes exactly the appended bytes, in order, under the chosen name (extension added) on commit', async () => {
    const { token, path } = await started();
    expect(path).toBe(join(dir, 'J.npy'));
    expect(deps.showSaveDialog).toHaveBeenCalledWith('J.npy', 'npy');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    // Only a hidden temporary file until the commit.
    const during = await listing();
    expect(during).toHaveLength(1);
    expect(during[0]).toMatch(/^\.J\.npy\..*\.tmp$/);
    for (const p of parts) expect(await append(1, token, p)).toBeUndefined();
    expect(await listing()).toEqual(during);
    expect(await commit(1, token)).toEqual({ saved: true, path });
    const want = new Uint8Array([...parts[0], ...parts[2]]);
    expect(new Uint8Array(await readFile(path))).toEqual(want);
    expect(await listing()).toEqual(['J.npy']);
    // The token is spent.
    await expect(append(1, token, parts[0])).rejects.toThrow(UNKNOWN_SAVE);
    await expect(commit(1, token)).rejects.toThrow(UNKNOWN_SAVE);
  });

  it('abort leaves nothing, not even over an existing file of that name', async () => {
    const first = await started();
    await append(1, first.token, parts[0]);
    await commit(1, first.token);
    const { token } = await started();
    await append(1, token, parts[2]);
    expect(await abort(1, token)).toBeUndefined();
    expect(await listing()).toEqual(['J.npy']);
    expect(Array.from(await readFile(join(dir, 'J.npy')))).toEqual([1, 2, 3]);
    await expect(abort(1, token)).rejects.toThrow(UNKNOWN_SAVE);
    expect(saves.openCount).toBe(0);
  });

  it('a cancelled dialog begins nothing; a folder that cannot be written is reported, not thrown', async () => {
    vi.mocked(deps.showSaveDialog).mockResolvedValueOnce(null);
    expect(await begin()).toEqual({ started: false, cancelled: true });
    vi.mocked(deps.showSaveDialog).mockResolvedValueOnce(join(dir, 'no-such-folder', 'J.csv'));
    const r = await begin(1, { suggestedName: 'J_long.csv', kind: 'csv' });
    expect(r).toMatchObject({
      started: false,
      cancelled: false,
      reason: expect.stringContaining('no such file'),
    });
    expect(saves.openCount).toBe(0);
    expect(await listing()).toEqual([]);
  });

  it('refuses unknown tokens, malformed tokens and tokens of another window', async () => {
    const { token } = await started(1);
    const other = '0123456789abcdef0123456789abcdef';
    await expect(append(1, other, parts[0])).rejects.toThrow(UNKNOWN_SAVE);
    await expect(commit(1, other)).rejects.toThrow(UNKNOWN_SAVE);
    await expect(abort(1, other)).rejects.toThrow(UNKNOWN_SAVE);
    for (const bad of [42, null, 'abc', token.toUpperCase(), `${token}0`, { token }])
      await expect(append(1, bad, parts[0])).rejects.toThrow(/token/);
    // Window 2 is trusted, but the save is window 1's.
    await expect(append(2, token, parts[0])).rejects.toThrow(UNKNOWN_SAVE);
    await expect(commit(2, token)).rejects.toThrow(UNKNOWN_SAVE);
    await expect(abort(2, token)).rejects.toThrow(UNKNOWN_SAVE);
    // Still window 1's to finish.
    await append(1, token, parts[0]);
    expect((await commit(1, token)).saved).toBe(true);
  });

  it('refuses an untrusted sender like every other handler, before any dialog or write', async () => {
    const { token } = await started(1);
    vi.mocked(deps.showSaveDialog).mockClear();
    await expect(begin(3)).rejects.toBeInstanceOf(UntrustedSenderError);
    expect(deps.showSaveDialog).not.toHaveBeenCalled();
    await expect(append(3, token, parts[0])).rejects.toBeInstanceOf(UntrustedSenderError);
    await expect(commit(3, token)).rejects.toBeInstanceOf(UntrustedSenderError);
    await expect(abort(3, token)).rejects.toBeInstanceOf(UntrustedSenderError);
    expect(saves.openCount).toBe(1);
    // Called directly, without a sender, the handlers refuse too.
    const h = createHandlers(deps);
    await expect(h[CHANNELS.saveAppend](token, parts[0])).rejects.toThrow(/through IPC/);
  });

  it('validates the request: only .npy, .h5, .mat and CSV, a bare name, no extra fields, one argument', async () => {
    for (const bad of [
      'J.npy',
      { suggestedName: 'J.json', kind: 'json' },
      { suggestedName: 'J.png', kind: 'png' },
      { suggestedName: '../J.npy', kind: 'npy' },
      { suggestedName: 'J.npy', kind: 'npy', bytes: new Uint8Array(1) },
      { suggestedName: 'J.npy' },
    ])
      await expect(begin(1, bad)).rejects.toThrow();
    for (const kind of ['npy', 'h5', 'mat', 'csv'])
      expect(validateSaveBeginRequest({ suggestedName: `J.${kind}`, kind })).toEqual({
        suggestedName: `J.${kind}`,
        kind,
      });
    await expect(call(CHANNELS.saveBegin, 1)).rejects.toThrow(/one argument/);
    expect(deps.showSaveDialog).not.toHaveBeenCalled();
    const { token } = await started();
    await expect(call(CHANNELS.saveAppend, 1, token)).rejects.toThrow(/two arguments/);
    await expect(call(CHANNELS.saveCommit, 1, token, 'x')).rejects.toThrow(/one argument/);
  });

  it('caps the bytes per append, accepts only Uint8Array, one append at a time', async () => {
    const { token } = await started();
    await expect(append(1, token, new Uint8Array(LIMITS.maxSaveAppendBytes + 1))).rejects.toThrow(
      /at most 67108864 bytes per append/,
    );
    for (const bad of ['abc', [1, 2], new ArrayBuffer(4), new Float64Array(2), null])
      await expect(append(1, token, bad)).rejects.toThrow(/Uint8Array/);
    const a = append(1, token, parts[2]);
    await expect(append(1, token, parts[0])).rejects.toThrow(/one append at a time/);
    await a;
    // The refusals left the save as it was.
    expect((await commit(1, token)).saved).toBe(true);
    expect(new Uint8Array(await readFile(join(dir, 'J.npy')))).toEqual(parts[2]);
  });

  it('caps the saves open at once per window, before showing a dialog', async () => {
    for (let i = 0; i < LIMITS.maxOpenSaves; i++) await started(1);
    vi.mocked(deps.showSaveDialog).mockClear();
    await expect(begin(1)).rejects.toThrow(/at most 4 saves in parts/);
    expect(deps.showSaveDialog).not.toHaveBeenCalled();
    await started(2);
    // A window closing drops its saves and their temporary files.
    await saves.abortAll(1);
    expect(saves.openCount).toBe(1);
    expect(await listing()).toHaveLength(1);
    await saves.abortAll();
    expect(await listing()).toEqual([]);
  });

  it('caps the bytes of one save in all: over it the save is dropped', async () => {
    setUp({}, { maxTotalBytes: 4000 });
    const { token } = await started();
    await append(1, token, new Uint8Array(3000));
    await expect(append(1, token, new Uint8Array(1001))).rejects.toThrow(
      /at most 4000 bytes; nothing was saved/,
    );
    expect(await listing()).toEqual([]);
    await expect(commit(1, token)).rejects.toThrow(UNKNOWN_SAVE);
  });

  it('counts each append in the bytes-in-flight budget and gives the bytes back', async () => {
    const budget = new ByteBudget(100);
    setUp({ budget });
    const { token } = await started();
    const hold = await budget.take(60);
    let done = false;
    const pending = append(1, token, new Uint8Array(50)).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false); // 60 + 50 > 100: it waits
    hold();
    await pending;
    expect(budget.inFlight).toBe(0);
    expect((await commit(1, token)).saved).toBe(true);
    expect((await readFile(join(dir, 'J.npy'))).length).toBe(50);
  });

  it('a failed write drops the save (temporary file removed) and names the target', async () => {
    let writes = 0;
    const failing: FsLike = {
      ...nodeFs,
      open: async (path, flags, mode) => {
        const h = await nodeFs.open(path, flags, mode);
        return {
          ...h,
          write: async (...a: Parameters<typeof h.write>) => {
            if (++writes === 2)
              throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
            return h.write(...a);
          },
          sync: () => h.sync(),
          close: () => h.close(),
        };
      },
    };
    setUp({ fs: failing });
    const { token, path } = await started();
    await append(1, token, parts[0]);
    await expect(append(1, token, parts[2])).rejects.toThrow(
      `${path}: ENOSPC: no space left on device; nothing was saved`,
    );
    expect(await listing()).toEqual([]);
    await expect(commit(1, token)).rejects.toThrow(UNKNOWN_SAVE);
  });

  it('a failed rename leaves no file behind and reports the reason', async () => {
    const failing: FsLike = {
      ...nodeFs,
      rename: async () => {
        throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
      },
    };
    setUp({ fs: failing });
    const { token, path } = await started();
    await append(1, token, parts[0]);
    expect(await commit(1, token)).toEqual({
      saved: false,
      cancelled: false,
      reason: `${path}: EXDEV: cross-device link not permitted; nothing was saved`,
    });
    expect(await listing()).toEqual([]);
  });
});
