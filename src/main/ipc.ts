/**
 * The IPC handlers: one per capability in the contract. Each checks the sender (main frame of our window,
 * our own page) and validates its arguments before doing anything. Electron is injected, so this is tested in
 * Node.
 */
import { CHANNELS } from '../preload/contract';
import type { InvokeChannel, OpenResult, SaveKind, SaveResult } from '../preload/contract';
import type { ChosenPaths } from './chosen';
import { readUserFiles, withExtension, writeFileAtomic } from './files';
import type { ByteBudget, FsLike } from './files';
import type { RecentFiles } from './recent';
import { readRange, validateRange } from './ranged';
import type { SenderEvent } from './security';
import {
  ValidationError,
  validateNoArgs,
  validatePath,
  validatePathList,
  validateSaveRequest,
} from './validate';

export interface MainDeps {
  /** The open dialog: chosen paths, or null when cancelled. */
  showOpenDialog(): Promise<string[] | null>;
  /** The save dialog: the chosen path, or null when cancelled. */
  showSaveDialog(defaultName: string, kind: SaveKind): Promise<string | null>;
  recent: RecentFiles;
  /** The files the user chose this session: the only ones read. */
  chosen: ChosenPaths;
  fs?: FsLike;
  /** Bytes read at once across requests (default: the process's shared budget). */
  budget?: ByteBudget;
  /** .npy/.npz files larger than this are opened by ranges (default LIMITS.rangedOpenBytes). */
  rangedOpenBytes?: number;
  /** Called after files were opened (main refreshes the Open Recent menu). */
  onRecentChanged?(): void;
}

export type Handler = (...args: unknown[]) => Promise<unknown>;

export function createHandlers(deps: MainDeps): Record<InvokeChannel, Handler> {
  const open = async (paths: string[]): Promise<OpenResult> => {
    const result = await readUserFiles(paths, {
      fs: deps.fs,
      budget: deps.budget,
      allowed: (p) => deps.chosen.has(p),
      rangedOpenBytes: deps.rangedOpenBytes,
    });
    const opened = [...result.files, ...(result.ranged ?? [])];
    if (opened.length) {
      await deps.recent.add(opened.map((f) => f.path));
      deps.onRecentChanged?.();
    }
    return result;
  };
  return {
    [CHANNELS.openDialog]: async (...args) => {
      validateNoArgs(args);
      const paths = await deps.showOpenDialog();
      if (!paths || paths.length === 0)
        return { files: [], failures: [], cancelled: true } satisfies OpenResult;
      const chosen = validatePathList(paths);
      deps.chosen.grant(chosen, 'dialog');
      return open(chosen);
    },
    [CHANNELS.dropped]: async (...args) => {
      if (args.length !== 1) throw new ValidationError('expected one argument: the list of dropped paths');
      deps.chosen.grant(validatePathList(args[0]), 'drop');
      return undefined;
    },
    [CHANNELS.openPaths]: async (...args) => {
      if (args.length !== 1) throw new ValidationError('expected one argument: the list of dropped paths');
      // Only paths the preload reported from a drop (or chosen otherwise): see chosen.ts.
      return open(validatePathList(args[0]));
    },
    [CHANNELS.openRecent]: async (...args) => {
      if (args.length !== 1) throw new ValidationError('expected one argument: a path from the recent list');
      const path = validatePath(args[0]);
      if (!deps.recent.has(path)) throw new ValidationError('that path is not on the recent-files list');
      deps.chosen.grant([path], 'recent');
      return open([path]);
    },
    [CHANNELS.listRecent]: async (...args) => {
      validateNoArgs(args);
      return deps.recent.list();
    },
    [CHANNELS.readRange]: async (...args) => {
      if (args.length !== 3) throw new ValidationError('expected three arguments: path, offset and length');
      const path = validatePath(args[0]);
      const { offset, length } = validateRange(args[1], args[2]);
      return readRange(path, offset, length, {
        fs: deps.fs,
        budget: deps.budget,
        allowed: (p) => deps.chosen.has(p),
      });
    },
    [CHANNELS.save]: async (...args): Promise<SaveResult> => {
      if (args.length !== 1) throw new ValidationError('expected one argument: the save request');
      const req = validateSaveRequest(args[0]);
      const chosen = await deps.showSaveDialog(req.suggestedName, req.kind);
      if (!chosen) return { saved: false, cancelled: true };
      const target = withExtension(validatePath(chosen), req.kind);
      try {
        await writeFileAtomic(target, req.bytes, deps.fs);
      } catch (e) {
        const code = (e as { code?: string }).code;
        const reason =
          code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : e instanceof Error
              ? e.message
              : String(e);
        return { saved: false, cancelled: false, reason: `${target}: ${reason}` };
      }
      return { saved: true, path: target };
    },
  };
}

/** The part of ipcMain used: handle(channel, listener). */
export interface IpcMainLike {
  handle(channel: string, listener: (event: SenderEvent, ...args: unknown[]) => Promise<unknown>): void;
}

export class UntrustedSenderError extends Error {
  constructor(channel: string) {
    super(`${channel}: refused, the message did not come from jacscope's own window`);
    this.name = 'UntrustedSenderError';
  }
}

/** Registers every handler behind the sender check. */
export function registerHandlers(
  ipcMain: IpcMainLike,
  handlers: Record<InvokeChannel, Handler>,
  isTrusted: (event: SenderEvent) => boolean,
): void {
  for (const [channel, handler] of Object.entries(handlers)) {
    ipcMain.handle(channel, async (event, ...args) => {
      if (!isTrusted(event)) throw new UntrustedSenderError(channel);
      return handler(...args);
    });
  }
}
