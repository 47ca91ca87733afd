import { describe, expect, it, vi } from 'vitest';
import { cspString, CSP_DIRECTIVES } from '../../src/main/csp';
import { createSenderCheck, denyAllPermissions, hardenContents, isAppUrl } from '../../src/main/security';
import type { HardenableContents, SenderEvent } from '../../src/main/security';
import { windowOptions } from '../../src/main/window-options';

describe('window options', () => {
  it('follow the Electron security checklist', () => {
    const o = windowOptions('/app/out/preload/index.cjs', { dev: false });
    const w = o.webPreferences!;
    expect(w.contextIsolation).toBe(true);
    expect(w.sandbox).toBe(true);
    expect(w.nodeIntegration).toBe(false);
    expect(w.nodeIntegrationInWorker).toBe(false);
    expect(w.nodeIntegrationInSubFrames).toBe(false);
    expect(w.webSecurity).toBe(true);
    expect(w.allowRunningInsecureContent).toBe(false);
    expect(w.experimentalFeatures).toBe(false);
    expect(w.webviewTag).toBe(false);
    expect(w.navigateOnDragDrop).toBe(false);
    expect(w.preload).toBe('/app/out/preload/index.cjs');
    expect(o.show).toBe(false); // shown on ready-to-show: no blank window
  });

  it('allow DevTools in development runs only', () => {
    expect(windowOptions('/p', { dev: false }).webPreferences!.devTools).toBe(false);
    expect(windowOptions('/p', { dev: true }).webPreferences!.devTools).toBe(true);
  });
});

describe('content security policy', () => {
  const csp = cspString('header');
  const directive = (name: string) => CSP_DIRECTIVES.find(([k]) => k === name)?.[1] ?? '';

  it("is default-src 'self' with no eval and no inline script", () => {
    expect(directive('default-src')).toBe("'self'");
    expect(directive('script-src')).toBe("'self' 'wasm-unsafe-eval'");
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(csp).not.toMatch(/'unsafe-inline'/);
    expect(directive('object-src')).toBe("'none'");
    expect(directive('worker-src')).toContain("'self'");
  });

  it('puts frame-ancestors only in the header form (a meta tag cannot carry it)', () => {
    expect(csp).toContain("frame-ancestors 'none'");
    expect(cspString('meta')).not.toContain('frame-ancestors');
  });
});

function fakeContents() {
  const listeners = new Map<string, (...a: unknown[]) => void>();
  let openHandler: ((d: { url: string }) => { action: 'deny' }) | null = null;
  const contents: HardenableContents = {
    on: ((event: string, listener: (...a: unknown[]) => void) => {
      listeners.set(event, listener);
      return contents;
    }) as HardenableContents['on'],
    setWindowOpenHandler: (h) => {
      openHandler = h;
    },
  };
  const fire = (event: string, url?: string) => {
    const e = { preventDefault: vi.fn() };
    listeners.get(event)!(e, url);
    return e.preventDefault.mock.calls.length > 0;
  };
  return { contents, fire, open: (url: string) => openHandler!({ url }) };
}

describe('navigation and new windows', () => {
  const origin = 'app://jacscope';

  it('denies every navigation, even to the app itself (the app never navigates)', () => {
    const f = fakeContents();
    hardenContents(f.contents, origin);
    expect(f.fire('will-navigate', 'https://example.com/')).toBe(true);
    expect(f.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(f.fire('will-navigate', 'app://jacscope/index.html')).toBe(true);
  });

  it('denies redirects away from the app, webviews and new windows', () => {
    const f = fakeContents();
    const denied: string[] = [];
    hardenContents(f.contents, origin, (u) => denied.push(u));
    expect(f.fire('will-redirect', 'https://evil.example/')).toBe(true);
    expect(f.fire('will-redirect', 'app://jacscope/assets/x.js')).toBe(false);
    expect(f.fire('will-attach-webview')).toBe(true);
    expect(f.open('https://example.com/')).toEqual({ action: 'deny' });
    expect(denied).toContain('https://example.com/');
  });

  it('grants no permission', () => {
    const cb = vi.fn();
    denyAllPermissions({}, 'media', cb);
    expect(cb).toHaveBeenCalledWith(false);
  });

  it('recognises the app origin only', () => {
    expect(isAppUrl('app://jacscope/index.html', origin)).toBe(true);
    expect(isAppUrl('app://other/index.html', origin)).toBe(false);
    expect(isAppUrl('https://jacscope/', origin)).toBe(false);
    expect(isAppUrl('not a url', origin)).toBe(false);
  });
});

describe('IPC sender check', () => {
  const win = { webContents: { id: 7, mainFrame: { routingId: 1, processId: 42 } } };
  const check = createSenderCheck(() => win, 'app://jacscope');
  const event = (over: Partial<SenderEvent['senderFrame'] & object> | null, senderId = 7): SenderEvent => ({
    sender: { id: senderId },
    senderFrame:
      over === null ? null : { url: 'app://jacscope/index.html', routingId: 1, processId: 42, ...over },
  });

  it("trusts the main frame of the app's window showing the app", () => {
    expect(check(event({}))).toBe(true);
  });

  it('refuses other windows, sub-frames, destroyed frames and foreign pages', () => {
    expect(check(event({}, 8))).toBe(false);
    expect(check(event({ routingId: 2 }))).toBe(false);
    expect(check(event({ processId: 43 }))).toBe(false);
    expect(check(event({ parent: {} }))).toBe(false);
    expect(check(event(null))).toBe(false);
    expect(check(event({ url: 'https://evil.example/' }))).toBe(false);
    expect(check(event({ url: 'file:///tmp/x.html' }))).toBe(false);
  });

  it('refuses everything while there is no window', () => {
    expect(createSenderCheck(() => null, 'app://jacscope')(event({}))).toBe(false);
  });
});
