/** The main window's options: Electron's security checklist in one place (and under test). */
import type { BrowserWindowConstructorOptions } from 'electron';

/** `dev`: a development run (`npm run dev`, the renderer from Vite's server): DevTools only then. */
export function windowOptions(preloadPath: string, opts: { dev: boolean }): BrowserWindowConstructorOptions {
  return {
    width: 1400,
    height: 960,
    minWidth: 900,
    minHeight: 600,
    show: false,
    title: 'jacscope',
    backgroundColor: '#f4f5f8',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      experimentalFeatures: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      safeDialogs: true,
      spellcheck: false,
      devTools: opts.dev,
    },
  };
}
