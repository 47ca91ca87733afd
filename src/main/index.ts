/**
 * Electron main process: the edge where Electron's objects are wired to the testable logic in this folder.
 * One window, sandboxed and context-isolated; the renderer is served from app:// with a strict CSP.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, Menu, app, dialog, ipcMain, protocol, session } from 'electron';
import type { MenuCommand, OpenResult, SaveKind } from '../preload/contract';
import { CHANNELS, OPEN_EXTENSIONS } from '../preload/contract';
import {
  APP_INDEX_URL,
  APP_ORIGIN,
  APP_SCHEME,
  APP_SCHEME_PRIVILEGES,
  appHeaders,
  resolveAppFile,
} from './app-protocol';
import { ChosenPaths, pathsFromArgv, type ChoiceSource } from './chosen';
import { cspString } from './csp';
import { readUserFiles } from './files';
import { createHandlers, registerHandlers } from './ipc';
import { menuTemplate } from './menu';
import { RecentFiles } from './recent';
import { StreamedSaves } from './save-stream';
import { createSenderCheck, denyAllPermissions, hardenContents } from './security';
import { windowOptions } from './window-options';

const here = fileURLToPath(new URL('.', import.meta.url));
const preloadPath = join(here, '../preload/index.cjs');
const rendererRoot = join(here, '../renderer');
const devUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const appOrigin = devUrl ? new URL(devUrl).origin : APP_ORIGIN;

protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
app.enableSandbox();

let mainWindow: BrowserWindow | null = null;
let recent: RecentFiles;
/** The files the user chose this session: main reads no others (see chosen.ts). */
const chosen = new ChosenPaths();
/** Files named on the command line, opened once the first window has loaded. */
const commandLine = pathsFromArgv(process.argv, { defaultApp: !!process.defaultApp, cwd: process.cwd() });
chosen.grant(commandLine, 'command line');
/** Saves written in parts (the whole J): a closed window or quitting drops its temporary files. */
const saves = new StreamedSaves();

const SAVE_FILTERS: Record<SaveKind, Electron.FileFilter[]> = {
  csv: [{ name: 'CSV', extensions: ['csv'] }],
  npy: [{ name: 'NumPy array', extensions: ['npy'] }],
  png: [{ name: 'PNG image', extensions: ['png'] }],
  json: [{ name: 'JSON', extensions: ['json'] }],
  h5: [{ name: 'HDF5', extensions: ['h5', 'hdf5'] }],
  mat: [{ name: 'MATLAB .mat', extensions: ['mat'] }],
};

async function showOpenDialog(): Promise<string[] | null> {
  const opts: Electron.OpenDialogOptions = {
    title: 'Open model and data files',
    properties: ['openFile', 'multiSelections'],
    filters: [
      { name: 'Models and data', extensions: [...OPEN_EXTENSIONS] },
      { name: 'All files', extensions: ['*'] },
    ],
  };
  const r = mainWindow ? await dialog.showOpenDialog(mainWindow, opts) : await dialog.showOpenDialog(opts);
  return r.canceled ? null : r.filePaths;
}

async function showSaveDialog(defaultName: string, kind: SaveKind): Promise<string | null> {
  const opts: Electron.SaveDialogOptions = {
    title: 'Export',
    defaultPath: join(app.getPath('documents'), defaultName),
    filters: SAVE_FILTERS[kind],
    properties: ['createDirectory', 'showOverwriteConfirmation'],
  };
  const r = mainWindow ? await dialog.showSaveDialog(mainWindow, opts) : await dialog.showSaveDialog(opts);
  return r.canceled || !r.filePath ? null : r.filePath;
}

function send(channel: string, payload: OpenResult | MenuCommand): void {
  if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send(channel, payload);
}

/** Files main itself was given (dialog, recent list, command line): chosen, read, sent to the page. */
async function openChosen(paths: string[] | null, source: ChoiceSource): Promise<void> {
  if (!paths || paths.length === 0) return;
  chosen.grant(paths, source);
  const result = await readUserFiles(paths, { allowed: (p) => chosen.has(p) });
  if (result.files.length) await recent.add(result.files.map((f) => f.path));
  refreshMenu();
  send(CHANNELS.filesOpened, result);
}

function refreshMenu(): void {
  const template = menuTemplate(
    {
      open: () => void showOpenDialog().then((paths) => openChosen(paths, 'dialog')),
      openRecent: (path) => void (recent.has(path) && openChosen([path], 'recent')),
      clearRecent: () => void recent.clear().then(refreshMenu),
      command: (c) => send(CHANNELS.menuCommand, c),
    },
    recent.list(),
    { mac: process.platform === 'darwin', dev: !!devUrl },
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

function registerAppProtocol(): void {
  const csp = cspString('header');
  protocol.handle(APP_SCHEME, async (request) => {
    const path = resolveAppFile(request.url, rendererRoot);
    if (!path) return new Response('not found', { status: 404 });
    try {
      return new Response(await readFile(path), { status: 200, headers: appHeaders(path, csp) });
    } catch {
      return new Response('not found', { status: 404 });
    }
  });
}

function createWindow(): void {
  mainWindow = new BrowserWindow(windowOptions(preloadPath, { dev: !!devUrl }));
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  const pending = commandLine.splice(0);
  if (pending.length > 0)
    mainWindow.webContents.once('did-finish-load', () => void openChosen(pending, 'command line'));
  const contentsId = mainWindow.webContents.id;
  mainWindow.on('closed', () => {
    mainWindow = null;
    void saves.abortAll(contentsId);
  });
  void mainWindow.loadURL(devUrl ?? APP_INDEX_URL);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_event, argv, workingDirectory) => {
    if (mainWindow?.isMinimized()) mainWindow.restore();
    mainWindow?.focus();
    // `jacscope-app more.npy` while the app runs: the running one opens the files.
    void openChosen(
      pathsFromArgv(argv, { defaultApp: !!process.defaultApp, cwd: workingDirectory }),
      'command line',
    );
  });

  // Every web contents (the window, and anything that might be created later) is locked down.
  app.on('web-contents-created', (_event, contents) => hardenContents(contents, appOrigin));

  app.whenReady().then(async () => {
    session.defaultSession.setPermissionRequestHandler(denyAllPermissions);
    session.defaultSession.setPermissionCheckHandler(() => false);
    registerAppProtocol();
    recent = new RecentFiles(join(app.getPath('userData'), 'recent-files.json'));
    await recent.load();
    registerHandlers(
      ipcMain,
      createHandlers({ showOpenDialog, showSaveDialog, recent, chosen, saves, onRecentChanged: refreshMenu }),
      createSenderCheck(() => mainWindow, appOrigin),
    );
    refreshMenu();
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('will-quit', () => void saves.abortAll());

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
