/**
 * The IPC handlers: one per capability in the contract. Each checks the sender (main frame of our window,
 * our own page) and validates its arguments before doing anything. Electron is injected, so this is tested in
 * Node.
 */
import { CHANNELS } from '../preload/contract';
import type { InvokeChannel, OpenResult, SaveBeginResult, SaveKind, SaveResult } from '../preload/contract';
import type { ChosenPaths } from './chosen';
import { describeFsError, readUserFiles, withExtension, writeFileAtomic } from './files';
import type { ByteBudget, FsLike } from './files';
import type { RecentFiles } from './recent';
import { readRange, validateRange } from './ranged';
import { StreamedSaves, validateSaveBeginRequest } from './save-stream';
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
  /** Saves written in parts (default: one set for these handlers, on `fs` and `budget`). */
  saves?: StreamedSaves;
}

/**
 * A handler takes the message's arguments. One whose answer depends on which web contents sent it (a streamed
 * save belongs to the window that began it) has `fromSender`, which registerHandlers calls instead with the
 * sender's id; called without a sender, such a handler refuses.
 */
export interface Handler {
  (...args: unknown[]): Promise<unknown>;
  fromSender?: (sender: number, ...args: unknown[]) => Promise<unknown>;
}

function withSender(f: (sender: number, ...args: unknown[]) => Promise<unknown>): Handler {
  const h: Handler = async () => {
    throw new ValidationError('this call must come through IPC, from a window');
  };
  h.fromSender = f;
  return h;
}

function oneToken(args: unknown[], what: string): unknown {
  if (args.length !== 1) throw new ValidationError(`expected one argument: ${what}`);
  return args[0];
}

export function createHandlers(deps: MainDeps): Record<InvokeChannel, Handler> {
  const saves = deps.saves ?? new StreamedSaves({ fs: deps.fs, budget: deps.budget });
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
    [CHANNELS.saveBegin]: withSender(async (sender, ...args): Promise<SaveBeginResult> => {
      const req = validateSaveBeginRequest(oneToken(args, 'the save request'));
      saves.checkRoom(sender);
      const chosen = await deps.showSaveDialog(req.suggestedName, req.kind);
      if (!chosen) return { started: false, cancelled: true };
      const target = withExtension(validatePath(chosen), req.kind);
      try {
        return { started: true, token: await saves.begin(sender, target), path: target };
      } catch (e) {
        if (e instanceof ValidationError) throw e;
        return { started: false, cancelled: false, reason: `${target}: ${describeFsError(e)}` };
      }
    }),
    [CHANNELS.saveAppend]: withSender(async (sender, ...args) => {
      if (args.length !== 2)
        throw new ValidationError('expected two arguments: the save token and the bytes');
      await saves.append(sender, args[0], args[1]);
      return undefined;
    }),
    [CHANNELS.saveCommit]: withSender(async (sender, ...args): Promise<SaveResult> => {
      const token = oneToken(args, 'the save token');
      try {
        return { saved: true, path: await saves.commit(sender, token) };
      } catch (e) {
        if (e instanceof ValidationError) throw e;
        return { saved: false, cancelled: false, reason: e instanceof Error ? e.message : String(e) };
      }
    }),
    [CHANNELS.saveAbort]: withSender(async (sender, ...args) => {
      await saves.abort(sender, oneToken(args, 'the save token'));
      return undefined;
    }),
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
      return handler.fromSender ? handler.fromSender(event.sender.id, ...args) : handler(...args);
    });
  }
}
