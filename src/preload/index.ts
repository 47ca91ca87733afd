/**
 * Preload (sandboxed, context-isolated): exposes `window.jacscope`, a small typed API with one function per
 * capability. No ipcRenderer, no Node API and no generic `invoke(channel, ...)` reaches the page.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { CHANNELS, MENU_COMMANDS } from './contract';
import type {
  JacscopeApi,
  MenuCommand,
  OpenResult,
  SaveBeginRequest,
  SaveBeginResult,
  SaveRequest,
  SaveResult,
} from './contract';

const pathsOf = (files: ArrayLike<File>) =>
  Array.from(files, (f) => webUtils.getPathForFile(f)).filter((p) => p.length > 0);

// A drop the user made (a trusted event: a page cannot synthesise one) tells main which paths were
// chosen, before the page's own handler asks to open them: main reads only chosen files. This
// listener runs first, in the capture phase of the window, in the preload's isolated world.
if (typeof window !== 'undefined') {
  window.addEventListener(
    'drop',
    (e: DragEvent) => {
      if (!e.isTrusted || !e.dataTransfer) return;
      const paths = pathsOf(e.dataTransfer.files);
      if (paths.length > 0) void ipcRenderer.invoke(CHANNELS.dropped, paths);
    },
    true,
  );
}

// Files main opens before the page listens (named on the command line) wait here for it.
const openedEarly: OpenResult[] = [];
let openedListeners: ((result: OpenResult) => void)[] = [];
ipcRenderer.on(CHANNELS.filesOpened, (_event: unknown, result: OpenResult) => {
  if (openedListeners.length === 0) openedEarly.push(result);
  for (const l of openedListeners) l(result);
});

const api: JacscopeApi = {
  version: 1,
  openDialog: () => ipcRenderer.invoke(CHANNELS.openDialog) as Promise<OpenResult>,
  openDropped: (files) => ipcRenderer.invoke(CHANNELS.openPaths, pathsOf(files)) as Promise<OpenResult>,
  openRecent: (path) => ipcRenderer.invoke(CHANNELS.openRecent, String(path)) as Promise<OpenResult>,
  listRecent: () => ipcRenderer.invoke(CHANNELS.listRecent) as Promise<string[]>,
  save: (request: SaveRequest) =>
    ipcRenderer.invoke(CHANNELS.save, {
      suggestedName: request.suggestedName,
      kind: request.kind,
      bytes: request.bytes,
    }) as Promise<SaveResult>,
  saveBegin: (request: SaveBeginRequest) =>
    ipcRenderer.invoke(CHANNELS.saveBegin, {
      suggestedName: request.suggestedName,
      kind: request.kind,
    }) as Promise<SaveBeginResult>,
  saveAppend: (token, bytes) =>
    ipcRenderer.invoke(CHANNELS.saveAppend, String(token), bytes) as Promise<void>,
  saveCommit: (token) => ipcRenderer.invoke(CHANNELS.saveCommit, String(token)) as Promise<SaveResult>,
  saveAbort: (token) => ipcRenderer.invoke(CHANNELS.saveAbort, String(token)) as Promise<void>,
  readRange: (path, offset, length) =>
    ipcRenderer.invoke(
      CHANNELS.readRange,
      String(path),
      Number(offset),
      Number(length),
    ) as Promise<Uint8Array>,
  onFilesOpened: (listener) => {
    const l = (result: OpenResult) => listener(result);
    openedListeners.push(l);
    for (const r of openedEarly.splice(0)) l(r);
    return () => void (openedListeners = openedListeners.filter((x) => x !== l));
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
