/** Reading the files a user chose and writing exports atomically (temp file in the same folder, then rename). */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { LIMITS, OPEN_EXTENSIONS } from '../preload/contract';
import type { FileFailure, OpenResult, OpenedFile, SaveKind } from '../preload/contract';
import { opensByRanges } from './ranged';

/** The fs functions used here (node:fs/promises by default; tests pass fakes to force failures). */
export interface FsLike {
  stat(path: string): Promise<{ isFile(): boolean; isDirectory(): boolean; size: number }>;
  readFile(path: string): Promise<Uint8Array>;
  open(
    path: string,
    flags: string,
    mode?: number,
  ): Promise<{
    write(
      data: Uint8Array,
      offset?: number,
      length?: number,
      position?: number,
    ): Promise<{ bytesWritten: number }>;
    /** Reading ranges (files opened by ranges, ranged.ts). */
    read?(
      buffer: Uint8Array,
      offset: number,
      length: number,
      position: number,
    ): Promise<{ bytesRead: number }>;
    sync(): Promise<void>;
    close(): Promise<void>;
  }>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeFs: FsLike = fsp as unknown as FsLike;

/** A file-system error in words a user understands. */
export function describeFsError(e: unknown): string {
  return describe(e);
}

function describe(e: unknown): string {
  const code = (e as { code?: string })?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a folder, not a file';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many open files; try again';
    default:
      return e instanceof Error ? e.message : String(e);
  }
}

function gib(n: number): string {
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

export function hasOpenableExtension(path: string): boolean {
  const ext = extname(path).slice(1).toLowerCase();
  return (OPEN_EXTENSIONS as readonly string[]).includes(ext);
}

/**
 * A byte semaphore: how many bytes main may be reading at once, across every open request. A
 * request takes all it needs at once, in arrival order, and waits while that would exceed the
 * capacity (one request at a time never does: readUserFiles keeps its own total within it).
 */
export class ByteBudget {
  private used = 0;
  private readonly waiting: { bytes: number; go: () => void }[] = [];

  constructor(readonly capacity: number = LIMITS.maxBytesInFlight) {}

  /** Bytes taken now. */
  get inFlight(): number {
    return this.used;
  }

  /** Resolves, once `bytes` fit, to the function that gives them back (calling it twice is harmless). */
  async take(bytes: number): Promise<() => void> {
    if (!(bytes >= 0 && bytes <= this.capacity))
      throw new RangeError(`${bytes} bytes can never fit a budget of ${this.capacity}`);
    if (this.waiting.length === 0 && this.used + bytes <= this.capacity) this.used += bytes;
    else await new Promise<void>((go) => this.waiting.push({ bytes, go }));
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.used -= bytes;
      while (this.waiting.length > 0 && this.used + this.waiting[0].bytes <= this.capacity) {
        const next = this.waiting.shift()!;
        this.used += next.bytes;
        next.go();
      }
    };
  }
}

/** The budget every read in this process shares. */
export const readBudget = new ByteBudget();

export interface ReadOptions {
  fs?: FsLike;
  budget?: ByteBudget;
  /** Whether the user chose this path in this session; a path it refuses is not touched at all. */
  allowed?: (path: string) => boolean;
  /** .npy/.npz files larger than this are opened by ranges (not read; listed in `ranged`). */
  rangedOpenBytes?: number;
}

export const NOT_CHOSEN =
  'not opened: jacscope reads only files you chose in this session (dropped on the window, File › Open, Open Recent or the command line)';

/**
 * Reads the files a user chose; never throws: a problem with a file comes back as a FileFailure
 * naming it. Every file is checked (chosen, extension, a regular file, its size) before any is
 * read; then all are read together within the byte budget, waiting for other requests' reads to
 * finish when they would not fit beside them.
 */
export async function readUserFiles(paths: readonly string[], opts: ReadOptions = {}): Promise<OpenResult> {
  const fs = opts.fs ?? nodeFs;
  const budget = opts.budget ?? readBudget;
  const out: OpenResult = { files: [], failures: [] };
  const fail = (path: string, reason: string) => out.failures.push({ name: basename(path), path, reason });
  const accepted: { path: string; size: number }[] = [];
  let total = 0;
  for (const path of paths) {
    if (opts.allowed && !opts.allowed(path)) {
      fail(path, NOT_CHOSEN);
      continue;
    }
    if (!hasOpenableExtension(path)) {
      fail(path, `not a model or data file jacscope reads (expected .${OPEN_EXTENSIONS.join(', .')})`);
      continue;
    }
    let size: number;
    try {
      const st = await fs.stat(path);
      if (st.isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
      if (!st.isFile()) {
        fail(path, 'is not a regular file');
        continue;
      }
      size = st.size;
    } catch (e) {
      fail(path, describe(e));
      continue;
    }
    if (opensByRanges(path, size, opts.rangedOpenBytes)) {
      (out.ranged ??= []).push({ name: basename(path), path, size });
      continue;
    }
    if (size > LIMITS.maxReadBytes) {
      fail(path, `is ${gib(size)}; jacscope reads files up to ${gib(LIMITS.maxReadBytes)}`);
      continue;
    }
    if (total + size > budget.capacity) {
      fail(
        path,
        `not read: with the other files opened at once it comes to more than ${gib(budget.capacity)}; open it on its own`,
      );
      continue;
    }
    total += size;
    accepted.push({ path, size });
  }
  if (accepted.length === 0) return out;
  const giveBack = await budget.take(total);
  try {
    const read = await Promise.all(
      accepted.map(async ({ path, size }): Promise<OpenedFile | FileFailure> => {
        const name = basename(path);
        try {
          const data = await fs.readFile(path);
          // It grew since it was measured: its bytes were not budgeted.
          if (data.byteLength > size)
            return { name, path, reason: 'changed while it was being read; try again' };
          return { name, path, bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
        } catch (e) {
          return { name, path, reason: describe(e) };
        }
      }),
    );
    for (const r of read) {
      if ('bytes' in r) out.files.push(r);
      else out.failures.push(r);
    }
  } finally {
    giveBack();
  }
  return out;
}

/** Adds the kind's extension when the user typed a name without it. */
export function withExtension(path: string, kind: SaveKind): string {
  const ext = extname(path).toLowerCase();
  // An HDF5 file may be named .h5 or .hdf5 (the save dialog offers both).
  return ext === `.${kind}` || (kind === 'h5' && ext === '.hdf5') ? path : `${path}.${kind}`;
}

/** A fresh hidden temporary file name in the target's folder (so the final rename stays on one file system). */
export function tempPathBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * Writes bytes to `target` atomically: a temporary file beside it (created exclusively), flushed to disk, then
 * renamed over the target. Readers see the old file or the new one, never half of one. On failure the
 * temporary file is removed and the target is untouched.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array, fs: FsLike = nodeFs): Promise<void> {
  const tmp = tempPathBeside(target);
  const handle = await fs.open(tmp, 'wx', 0o644);
  let renamed = false;
  try {
    try {
      let off = 0;
      while (off < bytes.length) {
        const { bytesWritten } = await handle.write(bytes, off, Math.min(bytes.length - off, 1 << 26), off);
        if (bytesWritten <= 0) throw new Error('the disk accepted no more bytes');
        off += bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
    renamed = true;
  } finally {
    if (!renamed) await fs.unlink(tmp).catch(() => {});
  }
}
