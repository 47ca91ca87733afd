/** Reading the files a user chose and writing exports atomically (temp file in the same folder, then rename). */
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { LIMITS, OPEN_EXTENSIONS } from '../preload/contract';
import type { FileFailure, OpenResult, OpenedFile, SaveKind } from '../preload/contract';

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
    sync(): Promise<void>;
    close(): Promise<void>;
  }>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
}

export const nodeFs: FsLike = fsp as unknown as FsLike;

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

/** Reads one file the user chose; never throws: a problem comes back as a FileFailure. */
export async function readUserFile(path: string, fs: FsLike = nodeFs): Promise<OpenedFile | FileFailure> {
  const name = basename(path);
  if (!hasOpenableExtension(path))
    return {
      name,
      path,
      reason: `not a model or data file jacscope reads (expected .${OPEN_EXTENSIONS.join(', .')})`,
    };
  try {
    const st = await fs.stat(path);
    if (st.isDirectory()) return { name, path, reason: 'is a folder, not a file' };
    if (!st.isFile()) return { name, path, reason: 'is not a regular file' };
    if (st.size > LIMITS.maxReadBytes)
      return {
        name,
        path,
        reason: `is ${gib(st.size)}; jacscope reads files up to ${gib(LIMITS.maxReadBytes)}`,
      };
    const data = await fs.readFile(path);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { name, path, bytes };
  } catch (e) {
    return { name, path, reason: describe(e) };
  }
}

export async function readUserFiles(paths: readonly string[], fs: FsLike = nodeFs): Promise<OpenResult> {
  const out: OpenResult = { files: [], failures: [] };
  for (const r of await Promise.all(paths.map((p) => readUserFile(p, fs)))) {
    if ('bytes' in r) out.files.push(r);
    else out.failures.push(r);
  }
  return out;
}

/** Adds the kind's extension when the user typed a name without it. */
export function withExtension(path: string, kind: SaveKind): string {
  return extname(path).toLowerCase() === `.${kind}` ? path : `${path}.${kind}`;
}

/**
 * Writes bytes to `target` atomically: a temporary file beside it (created exclusively), flushed to disk, then
 * renamed over the target. Readers see the old file or the new one, never half of one. On failure the
 * temporary file is removed and the target is untouched.
 */
export async function writeFileAtomic(target: string, bytes: Uint8Array, fs: FsLike = nodeFs): Promise<void> {
  const tmp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
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
