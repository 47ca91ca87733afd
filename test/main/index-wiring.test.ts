import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { NOT_CHOSEN } from '../../src/main/files';
import type { SenderEvent } from '../../src/main/security';
import { CHANNELS } from '../../src/preload/contract';
import type { OpenResult } from '../../src/preload/contract';

// src/main/index.ts itself, with Electron replaced by a recording fake: does the edge really wire
// the hardening, the permission handlers, the sender check and the chosen-files rule?

type Listener = (...a: unknown[]) => unknown;

const h = vi.hoisted(() => {
  const appOn = new Map<string, Listener>();
  let ready!: () => void;
  const whenReady = new Promise<void>((r) => (ready = r));
  const ipc = new Map<string, Listener>();
  const rec = {
    enableSandbox: 0,
    schemes: [] as { scheme: string }[],
    protocolHandled: [] as string[],
    permissionRequest: undefined as Listener | undefined,
    permissionCheck: undefined as Listener | undefined,
    userData: '',
  };
  class FakeContents {
    id = 11;
    mainFrame = { routingId: 1, processId: 7 };
    onceListeners = new Map<string, Listener>();
    sent: [string, unknown][] = [];
    on() {
      return this;
    }
    once(ev: string, l: Listener) {
      this.onceListeners.set(ev, l);
    }
    send(channel: string, payload: unknown) {
      this.sent.push([channel, payload]);
    }
  }
  class BrowserWindow {
    static all: BrowserWindow[] = [];
    static getAllWindows = () => BrowserWindow.all;
    webContents = new FakeContents();
    loaded: string[] = [];
    constructor(readonly options: { webPreferences: Record<string, unknown> }) {
      BrowserWindow.all.push(this);
    }
    once() {}
    on() {}
    show() {}
    focus() {}
    restore() {}
    isMinimized() {
      return false;
    }
    isDestroyed() {
      return false;
    }
    async loadURL(url: string) {
      this.loaded.push(url);
    }
  }
  return { appOn, ready: () => ready(), whenReady, ipc, rec, BrowserWindow };
});

vi.mock('electron', () => ({
  app: {
    isPackaged: false,
    enableSandbox: () => void h.rec.enableSandbox++,
    requestSingleInstanceLock: () => true,
    on: (ev: string, l: Listener) => void h.appOn.set(ev, l),
    whenReady: () => h.whenReady,
    getPath: () => h.rec.userData,
    quit: () => {},
  },
  BrowserWindow: h.BrowserWindow,
  Menu: { setApplicationMenu: () => {}, buildFromTemplate: (t: unknown) => t },
  dialog: {},
  ipcMain: { handle: (ch: string, l: Listener) => void h.ipc.set(ch, l) },
  protocol: {
    registerSchemesAsPrivileged: (s: { scheme: string }[]) => void h.rec.schemes.push(...s),
    handle: (scheme: string) => void h.rec.protocolHandled.push(scheme),
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: (f: Listener) => void (h.rec.permissionRequest = f),
      setPermissionCheckHandler: (f: Listener) => void (h.rec.permissionCheck = f),
    },
  },
}));

const dir = mkdtempSync(join(tmpdir(), 'jacscope-main-'));
const onCommandLine = join(dir, 'model.pt');
const notChosen = join(dir, 'x.npy');
const argv = process.argv;
const tick = () => new Promise((r) => setTimeout(r, 20));

beforeAll(async () => {
  writeFileSync(onCommandLine, new Uint8Array([1, 2, 3]));
  writeFileSync(notChosen, new Uint8Array([4]));
  h.rec.userData = dir;
  // As a packaged app is started: `jacscope <file>` (Chromium switches are ignored).
  process.argv = [process.execPath, '--no-sandbox', onCommandLine];
  await import('../../src/main/index');
});
afterAll(() => {
  process.argv = argv;
  rmSync(dir, { recursive: true, force: true });
});

describe('src/main/index.ts wires', () => {
  it('the sandbox and the app:// scheme before the app is ready', () => {
    expect(h.rec.enableSandbox).toBe(1);
    expect(h.rec.schemes.map((s) => s.scheme)).toEqual(['app']);
  });

  it('hardenContents on every web contents created', () => {
    const created = h.appOn.get('web-contents-created');
    expect(created).toBeTypeOf('function');
    const on = new Map<string, Listener>();
    let openHandler: Listener | undefined;
    created!(
      {},
      {
        on: (ev: string, l: Listener) => on.set(ev, l),
        setWindowOpenHandler: (f: Listener) => (openHandler = f),
      },
    );
    expect([...on.keys()].sort()).toEqual(['will-attach-webview', 'will-navigate', 'will-redirect']);
    const e = { preventDefault: vi.fn() };
    on.get('will-navigate')!(e, 'https://example.com/');
    expect(e.preventDefault).toHaveBeenCalled();
    expect(openHandler!({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
  });

  it('the permission handlers, the protocol and the window once ready', async () => {
    h.ready();
    await tick();
    const cb = vi.fn();
    h.rec.permissionRequest!({}, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
    expect(h.rec.permissionCheck!({}, 'clipboard-read')).toBe(false);
    expect(h.rec.protocolHandled).toEqual(['app']);
    const [win] = h.BrowserWindow.all;
    expect(win.options.webPreferences).toMatchObject({
      sandbox: true,
      contextIsolation: true,
      devTools: false,
    });
    expect(win.loaded).toEqual(['app://jacscope/index.html']);
  });

  it('every IPC channel behind the sender check', async () => {
    const invokeChannels = Object.entries(CHANNELS)
      .filter(([k]) => !['filesOpened', 'menuCommand'].includes(k))
      .map(([, v]) => v);
    expect([...h.ipc.keys()].sort()).toEqual(invokeChannels.sort());
    const foreign: SenderEvent = {
      sender: { id: 99 },
      senderFrame: { url: 'app://jacscope/index.html', routingId: 1, processId: 7 },
    };
    await expect(h.ipc.get(CHANNELS.openPaths)!(foreign, [onCommandLine])).rejects.toThrow(/refused/);
  });

  it('files named on the command line: chosen, opened once the page has loaded', async () => {
    const [win] = h.BrowserWindow.all;
    win.webContents.onceListeners.get('did-finish-load')!();
    await vi.waitFor(() => expect(win.webContents.sent).toHaveLength(1), { timeout: 10_000 });
    const [channel, result] = win.webContents.sent.at(-1)!;
    expect(channel).toBe(CHANNELS.filesOpened);
    expect((result as OpenResult).files.map((f) => [f.path, Array.from(f.bytes)])).toEqual([
      [onCommandLine, [1, 2, 3]],
    ]);
  });

  it('and main reads for the page only what the user chose', async () => {
    const own: SenderEvent = {
      sender: { id: 11 },
      senderFrame: { url: 'app://jacscope/index.html', routingId: 1, processId: 7 },
    };
    const r = (await h.ipc.get(CHANNELS.openPaths)!(own, [onCommandLine, notChosen])) as OpenResult;
    expect(r.files.map((f) => f.path)).toEqual([onCommandLine]);
    expect(r.failures).toEqual([{ name: 'x.npy', path: notChosen, reason: NOT_CHOSEN }]);
    await h.ipc.get(CHANNELS.dropped)!(own, [notChosen]);
    const again = (await h.ipc.get(CHANNELS.openPaths)!(own, [notChosen])) as OpenResult;
    expect(again.files.map((f) => f.path)).toEqual([notChosen]);
  });
});
