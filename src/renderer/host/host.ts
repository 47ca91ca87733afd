/**
 * Where files come from and go to. Two implementations: Electron (the preload's `window.jacscope`: main reads
 * and writes, with dialogs and atomic saves) and Web (File API in, downloads out). The UI sees only this.
 */
import type { MenuCommand, SaveKind, SaveResult, StreamSaveKind } from '../../preload/contract';

export interface HostFile {
  name: string;
  /** The file's bytes (empty for a file opened by ranges: `blob` or `remote`). */
  bytes: Uint8Array;
  /** Web build: a large .npy/.npz the worker reads by ranges. */
  blob?: Blob;
  /** Desktop app: a large .npy/.npz main reads by ranges (`readRange`). */
  remote?: { path: string; size: number };
}

export interface HostOpenResult {
  files: HostFile[];
  failures: { name: string; reason: string }[];
  cancelled?: boolean;
}

/** A save written in parts (desktop app): main keeps a temporary file until `commit` renames it into place. */
export interface SaveStream {
  /** Where the file goes. */
  readonly path: string;
  /** The next bytes; waits until main has written them, rejects with main's reason (the save is then gone). */
  append(bytes: Uint8Array): Promise<void>;
  commit(): Promise<SaveResult>;
  /** Drops the save: no file is left (harmless when main already dropped it). */
  abort(): Promise<void>;
}

export interface Host {
  readonly kind: 'web' | 'electron';
  /** Files dropped on the window. */
  readDropped(files: File[]): Promise<HostOpenResult>;
  /** File › Open. */
  openDialog(): Promise<HostOpenResult>;
  /** The recent-files list (desktop only). */
  readonly recent: { list(): Promise<string[]>; open(path: string): Promise<HostOpenResult> } | null;
  /** Bytes of a file opened by ranges (desktop app: main reads them); absent where files come as Blobs. */
  readRange?(path: string, offset: number, length: number): Promise<Uint8Array>;
  /** Save bytes under a suggested name: a save dialog on the desktop, a download in the browser. */
  save(suggestedName: string, kind: SaveKind, bytes: Uint8Array): Promise<SaveResult>;
  /**
   * Desktop app: the save dialog, then a file written in parts (the whole J, too large to build in memory);
   * absent in the browser, where an export is one download.
   */
  beginSave?(
    suggestedName: string,
    kind: StreamSaveKind,
  ): Promise<SaveStream | { saved: false; cancelled: boolean; reason?: string }>;
  /** Files opened from the application menu (desktop). */
  onFilesOpened(listener: (result: HostOpenResult) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}
