import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../src/preload/contract';
import type { JacscopeApi, OpenResult } from '../../src/preload/contract';

const exposed = new Map<string, unknown>();
const invoke = vi.fn(async (..._args: unknown[]) => ({ files: [], failures: [] }));
const listeners = new Map<string, (...a: unknown[]) => void>();

vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
  ipcRenderer: {
    invoke: (...a: unknown[]) => invoke(...a),
    on: (ch: string, l: (...a: unknown[]) => void) => listeners.set(ch, l),
    removeListener: (ch: string) => listeners.delete(ch),
  },
  webUtils: { getPathForFile: (f: { fakePath: string }) => f.fakePath },
}));

const windowListeners: { type: string; listener: (e: unknown) => void; capture: unknown }[] = [];

let api: JacscopeApi;
let earlyResult: OpenResult;
beforeAll(async () => {
  vi.stubGlobal('window', {
    addEventListener: (type: string, listener: (e: unknown) => void, capture: unknown) =>
      windowListeners.push({ type, listener, capture }),
  });
  await import('../../src/preload/index');
  // main sends files named on the command line as soon as the page has loaded: before it listens.
  earlyResult = { files: [], failures: [{ name: 'a.npy', path: '/a.npy', reason: 'no such file' }] };
  listeners.get(CHANNELS.filesOpened)!({}, earlyResult);
  api = exposed.get('jacscope') as JacscopeApi;
});

describe('preload', () => {
  it('exposes one small typed API and nothing else', () => {
    expect([...exposed.keys()]).toEqual(['jacscope']);
    expect(Object.keys(api).sort()).toEqual(
      [
        'listRecent',
        'onFilesOpened',
        'onMenuCommand',
        'openDialog',
        'openDropped',
        'openRecent',
        'readRange',
        'save',
        'saveAbort',
        'saveAppend',
        'saveBegin',
        'saveCommit',
        'version',
      ].sort(),
    );
    expect(JSON.stringify(Object.keys(api))).not.toMatch(/invoke|send|ipc/i);
  });

  it('sends dropped files to main only as paths from webUtils.getPathForFile', async () => {
    const files = [
      { fakePath: '/data/model.pt' },
      { fakePath: '' },
      { fakePath: '/data/x.npy' },
    ] as unknown as File[];
    await api.openDropped(files);
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.openPaths, ['/data/model.pt', '/data/x.npy']);
  });

  it("tells main of a user's drop from the trusted event itself, before the page opens it", () => {
    const drop = windowListeners.find((l) => l.type === 'drop');
    expect(drop?.capture).toBe(true); // the window's capture phase: before any page handler
    const files = [{ fakePath: '/data/model.pt' }, { fakePath: '' }];
    drop!.listener({ isTrusted: true, dataTransfer: { files } });
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.dropped, ['/data/model.pt']);
    invoke.mockClear();
    drop!.listener({ isTrusted: false, dataTransfer: { files } }); // dispatched by a script
    drop!.listener({ isTrusted: true, dataTransfer: null });
    expect(invoke).not.toHaveBeenCalled();
  });

  it('keeps files main opened before the page listened, and hands them to its first listener', () => {
    const got: OpenResult[] = [];
    const off = api.onFilesOpened((r) => got.push(r));
    expect(got).toEqual([earlyResult]);
    const later: OpenResult = { files: [], failures: [] };
    listeners.get(CHANNELS.filesOpened)!({}, later);
    expect(got).toEqual([earlyResult, later]);
    off();
    listeners.get(CHANNELS.filesOpened)!({}, later);
    expect(got).toHaveLength(2);
  });

  it('passes only the known fields of a save request', async () => {
    const bytes = new Uint8Array([1]);
    await api.save({ suggestedName: 'a.csv', kind: 'csv', bytes, extra: 1 } as never);
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.save, { suggestedName: 'a.csv', kind: 'csv', bytes });
  });

  it('passes only the known fields of a streamed save, and the token and bytes as they are', async () => {
    await api.saveBegin({ suggestedName: 'J.npy', kind: 'npy', path: '/etc/passwd' } as never);
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.saveBegin, { suggestedName: 'J.npy', kind: 'npy' });
    const bytes = new Uint8Array([1, 2]);
    await api.saveAppend('t0', bytes);
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.saveAppend, 't0', bytes);
    await api.saveCommit('t0');
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.saveCommit, 't0');
    await api.saveAbort('t0');
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.saveAbort, 't0');
  });

  it('forwards only known menu commands, and unsubscribes', () => {
    const got: string[] = [];
    const off = api.onMenuCommand((c) => got.push(c));
    const l = listeners.get(CHANNELS.menuCommand)!;
    l({}, 'export-slice-csv');
    l({}, 'rm -rf');
    expect(got).toEqual(['export-slice-csv']);
    off();
    expect(listeners.has(CHANNELS.menuCommand)).toBe(false);
  });
});
