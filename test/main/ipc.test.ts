import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ChosenPaths } from '../../src/main/chosen';
import { NOT_CHOSEN } from '../../src/main/files';
import { createHandlers, registerHandlers, UntrustedSenderError } from '../../src/main/ipc';
import type { MainDeps } from '../../src/main/ipc';
import { RecentFiles } from '../../src/main/recent';
import type { SenderEvent } from '../../src/main/security';
import { CHANNELS, LIMITS } from '../../src/preload/contract';
import type { OpenResult, SaveResult } from '../../src/preload/contract';

let dir: string;
let deps: MainDeps;
let h: ReturnType<typeof createHandlers>;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'jacscope-ipc-'));
  await writeFile(join(dir, 'x.npy'), new Uint8Array([1, 2, 3]));
  await writeFile(join(dir, 'model.pt'), new Uint8Array([4, 5]));
  await writeFile(join(dir, 'notes.txt'), 'hi');
  await mkdir(join(dir, 'folder.npy'));
  deps = {
    showOpenDialog: vi.fn(async () => [join(dir, 'x.npy'), join(dir, 'model.pt')]),
    showSaveDialog: vi.fn(async () => join(dir, 'out')),
    recent: new RecentFiles(join(dir, 'recent.json')),
    chosen: new ChosenPaths(),
    onRecentChanged: vi.fn(),
  };
  h = createHandlers(deps);
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('open handlers', () => {
  it('read dropped paths and report each unreadable one by name', async () => {
    const dropped = [
      join(dir, 'x.npy'),
      join(dir, 'missing.npy'),
      join(dir, 'notes.txt'),
      join(dir, 'folder.npy'),
    ];
    await h[CHANNELS.dropped](dropped);
    const r = (await h[CHANNELS.openPaths](dropped)) as OpenResult;
    expect(r.files.map((f) => [f.name, Array.from(f.bytes)])).toEqual([['x.npy', [1, 2, 3]]]);
    expect(r.failures.map((f) => [f.name, f.reason])).toEqual([
      ['missing.npy', 'no such file'],
      ['notes.txt', expect.stringMatching(/not a model or data file/)],
      ['folder.npy', 'is a folder, not a file'],
    ]);
    expect(deps.recent.list()).toEqual([join(dir, 'x.npy')]);
    expect(deps.onRecentChanged).toHaveBeenCalled();
  });

  it('read no path the user did not choose this session, and say so for each', async () => {
    await h[CHANNELS.dropped]([join(dir, 'x.npy')]);
    const r = (await h[CHANNELS.openPaths]([join(dir, 'x.npy'), join(dir, 'model.pt')])) as OpenResult;
    expect(r.files.map((f) => f.name)).toEqual(['x.npy']);
    expect(r.failures).toEqual([{ name: 'model.pt', path: join(dir, 'model.pt'), reason: NOT_CHOSEN }]);
    expect(deps.recent.list()).toEqual([join(dir, 'x.npy')]);
    // Chosen in the dialog: from then on it may be opened again (say, dropped).
    await h[CHANNELS.openDialog]();
    expect(((await h[CHANNELS.openPaths]([join(dir, 'model.pt')])) as OpenResult).files).toHaveLength(1);
    expect(deps.chosen.source(join(dir, 'model.pt'))).toBe('dialog');
    expect(deps.chosen.source(join(dir, 'x.npy'))).toBe('drop');
  });

  it('validate what the preload reports as dropped like any other path list', async () => {
    for (const bad of ['x.npy', [], ['x.npy'], ['file:///etc/passwd'], [42]])
      await expect(h[CHANNELS.dropped](bad)).rejects.toThrow();
    await expect(h[CHANNELS.dropped]([join(dir, 'x.npy')], 'extra')).rejects.toThrow(/one argument/);
    expect(deps.chosen.has(join(dir, 'x.npy'))).toBe(false);
  });

  it.each([
    ['a string instead of a list', 'x.npy'],
    ['an empty list', []],
    ['a relative path', ['x.npy']],
    ['a URL', ['file:///etc/passwd']],
    ['a NUL byte', ['/tmp/a\0b.npy']],
    ['a number', [42]],
    ['too many files', Array.from({ length: LIMITS.maxOpenFiles + 1 }, (_, i) => `/tmp/${i}.npy`)],
  ])('reject %s', async (_what, arg) => {
    await expect(h[CHANNELS.openPaths](arg)).rejects.toThrow();
  });

  it('reject extra arguments', async () => {
    await expect(h[CHANNELS.openPaths]([join(dir, 'x.npy')], 'extra')).rejects.toThrow(/one argument/);
    await expect(h[CHANNELS.listRecent]('x')).rejects.toThrow(/no arguments/);
    await expect(h[CHANNELS.openDialog](1)).rejects.toThrow(/no arguments/);
  });

  it('open the files chosen in the dialog, or nothing when it is cancelled', async () => {
    const r = (await h[CHANNELS.openDialog]()) as OpenResult;
    expect(r.files.map((f) => f.name)).toEqual(['x.npy', 'model.pt']);
    vi.mocked(deps.showOpenDialog).mockResolvedValueOnce(null);
    expect(await h[CHANNELS.openDialog]()).toEqual({ files: [], failures: [], cancelled: true });
  });

  it('reopen only paths on the recent list', async () => {
    await expect(h[CHANNELS.openRecent](join(dir, 'x.npy'))).rejects.toThrow(/not on the recent-files list/);
    await h[CHANNELS.dropped]([join(dir, 'x.npy')]);
    await h[CHANNELS.openPaths]([join(dir, 'x.npy')]);
    expect(await h[CHANNELS.listRecent]()).toEqual([join(dir, 'x.npy')]);
    const r = (await h[CHANNELS.openRecent](join(dir, 'x.npy'))) as OpenResult;
    expect(r.files).toHaveLength(1);
    await expect(h[CHANNELS.openRecent]('/etc/passwd')).rejects.toThrow();
  });
});

describe('save handler', () => {
  const bytes = new TextEncoder().encode('t (step),y0\n0,1.5\n');

  it('writes through the save dialog, adding the extension', async () => {
    const r = (await h[CHANNELS.save]({ suggestedName: 'J_k3.csv', kind: 'csv', bytes })) as SaveResult;
    expect(r).toEqual({ saved: true, path: join(dir, 'out.csv') });
    expect(deps.showSaveDialog).toHaveBeenCalledWith('J_k3.csv', 'csv');
    expect(await readFile(join(dir, 'out.csv'), 'utf8')).toBe('t (step),y0\n0,1.5\n');
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('does nothing when the dialog is cancelled', async () => {
    vi.mocked(deps.showSaveDialog).mockResolvedValueOnce(null);
    expect(await h[CHANNELS.save]({ suggestedName: 'a.npy', kind: 'npy', bytes })).toEqual({
      saved: false,
      cancelled: true,
    });
  });

  it('reports a failed write without throwing', async () => {
    vi.mocked(deps.showSaveDialog).mockResolvedValueOnce(join(dir, 'no-such-folder', 'a.csv'));
    const r = (await h[CHANNELS.save]({ suggestedName: 'a.csv', kind: 'csv', bytes })) as SaveResult;
    expect(r.saved).toBe(false);
    expect(r).toMatchObject({ cancelled: false, reason: expect.stringContaining('a.csv') });
  });

  it.each([
    ['not an object', 'J.csv'],
    ['a path as the name', { suggestedName: '../../etc/passwd', kind: 'csv', bytes }],
    ['a backslash in the name', { suggestedName: 'a\\b.csv', kind: 'csv', bytes }],
    ['an empty name', { suggestedName: '', kind: 'csv', bytes }],
    ['an unknown kind', { suggestedName: 'a.exe', kind: 'exe', bytes }],
    ['bytes as a string', { suggestedName: 'a.csv', kind: 'csv', bytes: 'abc' }],
    ['bytes as an array', { suggestedName: 'a.csv', kind: 'csv', bytes: [1, 2] }],
    ['an extra field', { suggestedName: 'a.csv', kind: 'csv', bytes, path: '/etc/passwd' }],
  ])('rejects %s before showing a dialog', async (_what, arg) => {
    await expect(h[CHANNELS.save](arg)).rejects.toThrow();
    expect(deps.showSaveDialog).not.toHaveBeenCalled();
  });
});

describe('registration', () => {
  it('puts every handler behind the sender check', async () => {
    const registered = new Map<string, (event: SenderEvent, ...args: unknown[]) => Promise<unknown>>();
    registerHandlers({ handle: (ch, l) => void registered.set(ch, l) }, h, (e) => e.sender.id === 1);
    expect([...registered.keys()].sort()).toEqual(
      [
        CHANNELS.openDialog,
        CHANNELS.dropped,
        CHANNELS.openPaths,
        CHANNELS.openRecent,
        CHANNELS.listRecent,
        CHANNELS.save,
        CHANNELS.readRange,
        CHANNELS.saveBegin,
        CHANNELS.saveAppend,
        CHANNELS.saveCommit,
        CHANNELS.saveAbort,
      ].sort(),
    );
    const trusted: SenderEvent = { sender: { id: 1 }, senderFrame: null };
    const untrusted: SenderEvent = { sender: { id: 2 }, senderFrame: null };
    expect(await registered.get(CHANNELS.listRecent)!(trusted)).toEqual([]);
    await expect(registered.get(CHANNELS.listRecent)!(untrusted)).rejects.toBeInstanceOf(
      UntrustedSenderError,
    );
    await expect(registered.get(CHANNELS.dropped)!(untrusted, [join(dir, 'x.npy')])).rejects.toThrow(
      /refused/,
    );
    await expect(registered.get(CHANNELS.openPaths)!(untrusted, [join(dir, 'x.npy')])).rejects.toThrow(
      /refused/,
    );
    expect(deps.chosen.has(join(dir, 'x.npy'))).toBe(false);
    expect(deps.recent.list()).toEqual([]);
  });
});
