/**
 * Navigation, new windows, permissions and IPC sender checks. Electron objects come in as small structural
 * types, so the rules are testable in Node without Electron.
 */

/** The app's own pages: app://jacscope/… in production, the dev server's origin in development. */
export function isAppUrl(url: string, appOrigin: string): boolean {
  try {
    // protocol + host rather than URL.origin: outside Chromium, a custom scheme's origin is "null".
    const u = new URL(url);
    return `${u.protocol}//${u.host}` === appOrigin;
  } catch {
    return false;
  }
}

export interface PreventableEvent {
  preventDefault(): void;
}

/** The parts of webContents the hardening uses. */
export interface HardenableContents {
  on(event: 'will-navigate' | 'will-redirect', listener: (e: PreventableEvent, url: string) => void): unknown;
  on(event: 'will-attach-webview', listener: (e: PreventableEvent) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

/**
 * Denies every navigation away from the app's own page, every redirect, every new window and every
 * <webview>. (Dropping a file on the window does not navigate: navigateOnDragDrop is off and the renderer
 * handles drops; any navigation attempt that slips through lands here.)
 */
export function hardenContents(
  contents: HardenableContents,
  appOrigin: string,
  onDenied?: (url: string) => void,
): void {
  const deny = (e: PreventableEvent, url: string) => {
    e.preventDefault();
    onDenied?.(url);
  };
  contents.on('will-navigate', (e, url) => deny(e, url));
  contents.on('will-redirect', (e, url) => {
    if (!isAppUrl(url, appOrigin)) deny(e, url);
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    onDenied?.(url);
    return { action: 'deny' };
  });
}

/** Permission requests (camera, notifications, …): jacscope needs none. */
export function denyAllPermissions(
  _contents: unknown,
  _permission: string,
  callback: (granted: boolean) => void,
): void {
  callback(false);
}

/** The parts of an IPC event the sender check reads. */
export interface SenderEvent {
  sender: { id: number };
  senderFrame: { url: string; routingId: number; processId: number; parent?: unknown } | null;
}

export interface TrustedWindow {
  webContents: { id: number; mainFrame: { routingId: number; processId: number } };
}

/**
 * An IPC message is trusted when it comes from the main frame of jacscope's own window, showing the app's own
 * page (not a frame, not another window, not a page that navigated elsewhere).
 */
export function createSenderCheck(getWindow: () => TrustedWindow | null, appOrigin: string) {
  return (event: SenderEvent): boolean => {
    const win = getWindow();
    const frame = event.senderFrame;
    if (!win || !frame) return false;
    if (event.sender.id !== win.webContents.id) return false;
    const main = win.webContents.mainFrame;
    if (frame.routingId !== main.routingId || frame.processId !== main.processId) return false;
    if (frame.parent) return false;
    return isAppUrl(frame.url, appOrigin);
  };
}
