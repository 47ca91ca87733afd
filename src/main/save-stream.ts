/**
 * Saves written in parts: the whole J of a dataset over the memory budget, which the renderer computes a chunk of
 * samples at a time and never holds whole. `begin` opens a temporary file beside the target (created
 * exclusively), `append` writes the next bytes, `commit` flushes the file to disk and renames it into place,
 * `abort` removes it. A save belongs to the web contents that began it (its token means nothing to any other);
 * every append is within LIMITS.maxSaveAppendBytes and counted in the bytes-in-flight budget while it is written.
 * No partial file is ever left under the target's name: a failed write, an abort or a closed window removes the
 * temporary file.
 */
import { randomBytes } from 'node:crypto';
import { LIMITS, STREAM_SAVE_KINDS } from '../preload/contract';
import type { SaveBeginRequest, StreamSaveKind } from '../preload/contract';
import { describeFsError, nodeFs, readBudget, tempPathBeside } from './files';
import type { ByteBudget, FsLike } from './files';
import { ValidationError, validateFileName } from './validate';

type Handle = Awaited<ReturnType<FsLike['open']>>;

interface OpenSave {
  sender: number;
  target: string;
  tmp: string;
  handle: Handle;
  written: number;
  /** An append is being written (one at a time per save). */
  busy: boolean;
}

export interface StreamedSaveOptions {
  fs?: FsLike;
  budget?: ByteBudget;
  maxOpen?: number;
  maxAppendBytes?: number;
  maxTotalBytes?: number;
}

export const UNKNOWN_SAVE =
  'unknown save token: not a save this window began, or one already finished or dropped';

/** A token as begin makes them: 32 lowercase hex digits. */
export function validateToken(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{32}$/.test(value))
    throw new ValidationError('a save token must be the string saveBegin returned');
  return value;
}

export function validateSaveBeginRequest(value: unknown): SaveBeginRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError('save request must be an object');
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'kind,suggestedName')
    throw new ValidationError(`save request has unexpected fields (${keys})`);
  const suggestedName = validateFileName(v.suggestedName);
  if (typeof v.kind !== 'string' || !STREAM_SAVE_KINDS.includes(v.kind as StreamSaveKind))
    throw new ValidationError(`a save in parts is one of ${STREAM_SAVE_KINDS.join(', ')}`);
  return { suggestedName, kind: v.kind as StreamSaveKind };
}

export class StreamedSaves {
  private readonly saves = new Map<string, OpenSave>();
  private readonly fs: FsLike;
  private readonly budget: ByteBudget;
  private readonly maxOpen: number;
  private readonly maxAppend: number;
  private readonly maxTotal: number;

  constructor(opts: StreamedSaveOptions = {}) {
    this.fs = opts.fs ?? nodeFs;
    this.budget = opts.budget ?? readBudget;
    this.maxOpen = opts.maxOpen ?? LIMITS.maxOpenSaves;
    this.maxAppend = opts.maxAppendBytes ?? LIMITS.maxSaveAppendBytes;
    this.maxTotal = opts.maxTotalBytes ?? LIMITS.maxStreamedSaveBytes;
  }

  /** Saves open now (all senders). */
  get openCount(): number {
    return this.saves.size;
  }

  /** Throws when `sender` may not begin another save now (checked before the dialog is shown). */
  checkRoom(sender: number): void {
    let n = 0;
    for (const s of this.saves.values()) if (s.sender === sender) n++;
    if (n >= this.maxOpen) throw new ValidationError(`at most ${this.maxOpen} saves in parts at once`);
  }

  /** Opens the temporary file for `target`; the fs error (no such folder, permission) is thrown as it is. */
  async begin(sender: number, target: string): Promise<string> {
    this.checkRoom(sender);
    const tmp = tempPathBeside(target);
    const handle = await this.fs.open(tmp, 'wx', 0o644);
    const token = randomBytes(16).toString('hex');
    this.saves.set(token, { sender, target, tmp, handle, written: 0, busy: false });
    return token;
  }

  private owned(sender: number, token: unknown): { token: string; save: OpenSave } {
    const t = validateToken(token);
    const save = this.saves.get(t);
    if (!save || save.sender !== sender) throw new ValidationError(UNKNOWN_SAVE);
    return { token: t, save };
  }

  /** Writes `bytes` after what was written; a failed write drops the save and throws naming the target. */
  async append(sender: number, token: unknown, bytes: unknown): Promise<void> {
    const { token: t, save: s } = this.owned(sender, token);
    if (!(bytes instanceof Uint8Array)) throw new ValidationError('bytes must be a Uint8Array');
    if (bytes.byteLength > this.maxAppend)
      throw new ValidationError(`at most ${this.maxAppend} bytes per append`);
    if (s.busy) throw new ValidationError('one append at a time per save');
    if (s.written + bytes.byteLength > this.maxTotal) {
      await this.drop(t, s);
      throw new ValidationError(`a save in parts writes at most ${this.maxTotal} bytes; nothing was saved`);
    }
    s.busy = true;
    const giveBack = await this.budget.take(bytes.byteLength);
    try {
      for (let off = 0; off < bytes.byteLength;) {
        const { bytesWritten } = await s.handle.write(bytes, off, bytes.byteLength - off, s.written + off);
        if (bytesWritten <= 0) throw new Error('the disk accepted no more bytes');
        off += bytesWritten;
      }
      s.written += bytes.byteLength;
    } catch (e) {
      if (this.saves.get(t) === s) await this.drop(t, s);
      throw new Error(`${s.target}: ${describeFsError(e)}; nothing was saved`);
    } finally {
      s.busy = false;
      giveBack();
    }
  }

  /** Flushes the file to disk and renames it over the target; returns the target. */
  async commit(sender: number, token: unknown): Promise<string> {
    const { token: t, save: s } = this.owned(sender, token);
    if (s.busy) throw new ValidationError('an append to this save is still being written');
    this.saves.delete(t);
    let renamed = false;
    try {
      try {
        await s.handle.sync();
      } finally {
        await s.handle.close();
      }
      await this.fs.rename(s.tmp, s.target);
      renamed = true;
    } catch (e) {
      throw new Error(`${s.target}: ${describeFsError(e)}; nothing was saved`);
    } finally {
      if (!renamed) await this.fs.unlink(s.tmp).catch(() => {});
    }
    return s.target;
  }

  /** Drops the save: its temporary file is removed. */
  async abort(sender: number, token: unknown): Promise<void> {
    const { token: t, save } = this.owned(sender, token);
    await this.drop(t, save);
  }

  /** Drops every save of `sender` (its window closed), or every save (the app quits). */
  async abortAll(sender?: number): Promise<void> {
    const mine = [...this.saves].filter(([, s]) => sender === undefined || s.sender === sender);
    await Promise.all(mine.map(([t, s]) => this.drop(t, s)));
  }

  private async drop(token: string, s: OpenSave): Promise<void> {
    this.saves.delete(token);
    await s.handle.close().catch(() => {});
    await this.fs.unlink(s.tmp).catch(() => {});
  }
}
