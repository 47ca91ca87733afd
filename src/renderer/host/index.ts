import type { JacscopeApi } from '../../preload/contract';
import { createElectronHost } from './electron-host';
import type { Host } from './host';
import { createWebHost, lazyBytesFromAddress } from './web-host';

declare global {
  interface Window {
    jacscope?: JacscopeApi;
  }
}

/** The desktop host when the preload's API is present, the browser host otherwise. */
export function detectHost(): Host {
  const api = typeof window !== 'undefined' ? window.jacscope : undefined;
  return api && api.version === 1
    ? createElectronHost(api)
    : createWebHost(lazyBytesFromAddress(globalThis.location?.search));
}

export type { Host, HostFile, HostOpenResult, SaveStream } from './host';
