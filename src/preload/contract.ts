/**
 * The typed IPC contract between the Electron main process, the preload script and the renderer.
 * The only file the three share (types and channel names; no code that needs Electron or the DOM).
 */

export const CHANNELS = {
  /** renderer → main (invoke): show the open dialog, read the chosen files. */
  openDialog: 'jacscope:open-dialog',
  /**
   * renderer → main (invoke): the paths of a drop, sent by the preload from the trusted drop
   * event itself (webUtils.getPathForFile), before the page asks to open them: main reads only
   * files the user chose this session.
   */
  dropped: 'jacscope:dropped',
  /** renderer → main (invoke): read dropped files (paths main was told of as a drop). */
  openPaths: 'jacscope:open-paths',
  /** renderer → main (invoke): reopen a file from the recent list (must be on the list). */
  openRecent: 'jacscope:open-recent',
  /** renderer → main (invoke): the recent-files list. */
  listRecent: 'jacscope:list-recent',
  /** renderer → main (invoke): show a save dialog and write the bytes atomically. */
  save: 'jacscope:save',
  /** renderer → main (invoke): bytes [offset, offset+length) of a file the user chose (one opened by ranges). */
  readRange: 'jacscope:read-range',
  /**
   * renderer → main (invoke): a save written in parts (the whole J of a dataset over the memory budget): show the
   * save dialog, open a temporary file beside the chosen path; answers with a token for the other three.
   */
  saveBegin: 'jacscope:save-begin',
  /** renderer → main (invoke): the next bytes of a streamed save (one call at a time per save). */
  saveAppend: 'jacscope:save-append',
  /** renderer → main (invoke): flush a streamed save to disk and rename it into place. */
  saveCommit: 'jacscope:save-commit',
  /** renderer → main (invoke): drop a streamed save: its temporary file is removed, the target untouched. */
  saveAbort: 'jacscope:save-abort',
  /** main → renderer (send): files opened from the menu (File › Open, Open Recent). */
  filesOpened: 'jacscope:files-opened',
  /** main → renderer (send): a menu command the renderer carries out (exports). */
  menuCommand: 'jacscope:menu-command',
} as const;

export type InvokeChannel = (typeof CHANNELS)[
  | 'openDialog'
  | 'dropped'
  | 'openPaths'
  | 'openRecent'
  | 'listRecent'
  | 'save'
  | 'readRange'
  | 'saveBegin'
  | 'saveAppend'
  | 'saveCommit'
  | 'saveAbort'];

/** A file main read for the renderer. */
export interface OpenedFile {
  name: string;
  path: string;
  bytes: Uint8Array;
}

/** A file main could not read, and why (in words a user understands). */
export interface FileFailure {
  name: string;
  path: string;
  reason: string;
}

/**
 * A data file too large to read whole (a .npy or .npz over LIMITS.rangedOpenBytes): main read none of it; the
 * renderer reads its header and then the rows it needs with readRange.
 */
export interface RangedFile {
  name: string;
  path: string;
  size: number;
}

export interface OpenResult {
  files: OpenedFile[];
  /** Files opened by ranges (absent: none). */
  ranged?: RangedFile[];
  failures: FileFailure[];
  /** The user closed the dialog without choosing. */
  cancelled?: boolean;
}

export type SaveKind = 'csv' | 'npy' | 'png' | 'json' | 'h5' | 'mat';

export interface SaveRequest {
  /** A bare file name (no directory), used as the dialog's default. */
  suggestedName: string;
  kind: SaveKind;
  bytes: Uint8Array;
}

export type SaveResult =
  { saved: true; path: string } | { saved: false; cancelled: boolean; reason?: string };

/** What can be saved in parts: files whose bytes are written in order as they are made. */
export type StreamSaveKind = 'npy' | 'csv' | 'h5' | 'mat';
export const STREAM_SAVE_KINDS: readonly StreamSaveKind[] = ['npy', 'csv', 'h5', 'mat'];

export interface SaveBeginRequest {
  /** A bare file name (no directory), used as the dialog's default. */
  suggestedName: string;
  kind: StreamSaveKind;
}

/** A streamed save begun (its token, and where the file will be), or not (the dialog was cancelled, or why). */
export type SaveBeginResult =
  { started: true; token: string; path: string } | { started: false; cancelled: boolean; reason?: string };

export type MenuCommand =
  | 'export-slice-csv'
  | 'export-slice-npy'
  | 'export-full-npy'
  | 'export-full-csv'
  | 'export-slice-h5'
  | 'export-slice-mat'
  | 'export-full-h5'
  | 'export-full-mat'
  | 'export-heatmap-png'
  | 'export-plot-png';

export const MENU_COMMANDS: readonly MenuCommand[] = [
  'export-slice-csv',
  'export-slice-npy',
  'export-full-npy',
  'export-full-csv',
  'export-slice-h5',
  'export-slice-mat',
  'export-full-h5',
  'export-full-mat',
  'export-heatmap-png',
  'export-plot-png',
];

/** What the preload exposes on `window.jacscope`: one function per capability, nothing generic. */
export interface JacscopeApi {
  readonly version: 1;
  openDialog(): Promise<OpenResult>;
  /** Dropped files: the preload turns each File into its path (webUtils.getPathForFile); main reads them. */
  openDropped(files: readonly File[]): Promise<OpenResult>;
  openRecent(path: string): Promise<OpenResult>;
  listRecent(): Promise<string[]>;
  save(request: SaveRequest): Promise<SaveResult>;
  /** A save written in parts: the dialog, then a temporary file in main until saveCommit renames it into place. */
  saveBegin(request: SaveBeginRequest): Promise<SaveBeginResult>;
  /** The next bytes (at most LIMITS.maxSaveAppendBytes); rejects with the reason (the save is then dropped). */
  saveAppend(token: string, bytes: Uint8Array): Promise<void>;
  saveCommit(token: string): Promise<SaveResult>;
  /** Drops the save: no file is left. */
  saveAbort(token: string): Promise<void>;
  /** Bytes of a file opened by ranges (a path main gave in `ranged`); rejects with the reason. */
  readRange(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Returns a function that unsubscribes. */
  onFilesOpened(listener: (result: OpenResult) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}

/** Limits main enforces on what it reads and writes. */
export const LIMITS = {
  maxOpenFiles: 16,
  maxReadBytes: 2 * 1024 ** 3 - 1,
  /** Bytes main reads at once across all open requests; a request beyond it waits its turn. */
  maxBytesInFlight: 3 * 1024 ** 3,
  maxWriteBytes: 4 * 1024 ** 3,
  maxPathLength: 4096,
  maxNameLength: 255,
  maxRecent: 10,
  /** .npy/.npz files larger than this are opened by ranges (rows read as needed), never read whole. */
  rangedOpenBytes: 256 * 1024 ** 2,
  /** The most bytes one readRange returns. */
  maxRangeBytes: 64 * 1024 ** 2,
  /** The most bytes one saveAppend carries. */
  maxSaveAppendBytes: 64 * 1024 ** 2,
  /** Streamed saves one window may have open at once. */
  maxOpenSaves: 4,
  /** The most bytes one streamed save writes in all. */
  maxStreamedSaveBytes: 2 ** 40,
} as const;

/**
 * Extensions opened by ranges when large (the renderer reads their rows as needed). HDF5 (and MATLAB v7.3, which
 * is HDF5) is read by the library over synchronous slices of a dropped file, or over pages of ranges main reads
 * (worker/paged-source.ts); a MATLAB v5 .mat is read whole.
 */
export const RANGED_EXTENSIONS = ['npy', 'npz', 'h5', 'hdf5', 'mat'] as const;

/** Extensions jacscope opens (models, configs, data). */
export const OPEN_EXTENSIONS = [
  'pt',
  'pth',
  'bin',
  'ckpt',
  'safetensors',
  'json',
  'npy',
  'npz',
  'csv',
  'h5',
  'hdf5',
  'mat',
] as const;
