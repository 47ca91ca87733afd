import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CHANNELS } from '../../src/preload/contract';
import type { JacscopeApi } from '../../src/preload/contract';

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

let api: JacscopeApi;
beforeAll(async () => {
  await import('../../src/preload/index');
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
        'save',
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

  it('passes only the known fields of a save request', async () => {
    const bytes = new Uint8Array([1]);
    await api.save({ suggestedName: 'a.csv', kind: 'csv', bytes, extra: 1 } as never);
    expect(invoke).toHaveBeenLastCalledWith(CHANNELS.save, { suggestedName: 'a.csv', kind: 'csv', bytes });
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
