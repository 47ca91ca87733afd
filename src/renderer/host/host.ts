/**
 * Where files come from and go to. Two implementations: Electron (the preload's `window.jacscope`: main reads
 * and writes, with dialogs and atomic saves) and Web (File API in, downloads out). The UI sees only this.
 */
import type { MenuCommand, SaveKind, SaveResult } from '../../preload/contract';

export interface HostFile {
  name: string;
  bytes: Uint8Array;
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
  /** Save bytes under a suggested name: a save dialog on the desktop, a download in the browser. */
  save(suggestedName: string, kind: SaveKind, bytes: Uint8Array): Promise<SaveResult>;
  /** Files opened from the application menu (desktop). */
  onFilesOpened(listener: (result: HostOpenResult) => void): () => void;
  onMenuCommand(listener: (command: MenuCommand) => void): () => void;
}
