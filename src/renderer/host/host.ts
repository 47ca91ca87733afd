/**
 * Where files come from and go to. Two implementations: Electron (the preload's `window.jacscope`: main reads
 * and writes, with dialogs and atomic saves) and Web (File API in, downloads out). The UI sees only this.
 */
import type { MenuCommand, SaveKind, SaveResult } from '../../preload/contract';

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
  /** Files opened from the application menu (desktop). */
  onFilesOpened(listener: (result: HostOpenResult) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}
