/**
 * Preload (sandboxed, context-isolated): exposes `window.jacscope`, a small typed API with one function per
 * capability. No ipcRenderer, no Node API and no generic `invoke(channel, ...)` reaches the page.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { CHANNELS, MENU_COMMANDS } from './contract';
import type { JacscopeApi, MenuCommand, OpenResult, SaveRequest, SaveResult } from './contract';

const api: JacscopeApi = {
  version: 1,
  openDialog: () => ipcRenderer.invoke(CHANNELS.openDialog) as Promise<OpenResult>,
  openDropped: (files) => {
    const paths = Array.from(files, (f) => webUtils.getPathForFile(f)).filter((p) => p.length > 0);
    return ipcRenderer.invoke(CHANNELS.openPaths, paths) as Promise<OpenResult>;
  },
  openRecent: (path) => ipcRenderer.invoke(CHANNELS.openRecent, String(path)) as Promise<OpenResult>,
  listRecent: () => ipcRenderer.invoke(CHANNELS.listRecent) as Promise<string[]>,
  save: (request: SaveRequest) =>
    ipcRenderer.invoke(CHANNELS.save, {
      suggestedName: request.suggestedName,
      kind: request.kind,
      bytes: request.bytes,
    }) as Promise<SaveResult>,
  onFilesOpened: (listener) => {
    const handler = (_event: unknown, result: OpenResult) => listener(result);
    ipcRenderer.on(CHANNELS.filesOpened, handler);
    return () => void ipcRenderer.removeListener(CHANNELS.filesOpened, handler);
  },
  onMenuCommand: (listener) => {
    const handler = (_event: unknown, command: MenuCommand) => {
      if (MENU_COMMANDS.includes(command)) listener(command);
    };
    ipcRenderer.on(CHANNELS.menuCommand, handler);
    return () => void ipcRenderer.removeListener(CHANNELS.menuCommand, handler);
  },
};

contextBridge.exposeInMainWorld('jacscope', api);
