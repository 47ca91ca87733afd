import {
  closeSync,
  existsSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { LoadError } from '../engine/errors';

/** Read a whole file, turning "no such file" and friends into a LoadError naming it. */
export function readBytes(path: string): Uint8Array {
  try {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'is a directory, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : (e as Error).message;
    throw new LoadError(path, why);
  }
}

/**
 * Write a file atomically: everything goes to a temporary file beside the target, which is
 * renamed into place only when complete, so a crash or an error never leaves half a file.
 * `produce` receives a write function and may call it many times (large CSVs stream through it).
 */
export function writeAtomic(
  path: string,
  produce: (write: (chunk: string | Uint8Array) => void) => void,
): void {
  const tmp = temporaryPathFor(path);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'w');
    const f = fd;
    produce((chunk) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      // writeSync may write less than asked (large buffers, some file systems): write the rest.
      for (let off = 0; off < bytes.length;)
        off += writeSync(f, bytes, off, Math.min(bytes.length - off, 1 << 30));
    });
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (existsSync(tmp)) rmSync(tmp, { force: true });
    throw writeErrorOf(path, e);
  }
}

/** Where a file being written to `path` lives until it is complete: beside it, hidden, unique. */
export function temporaryPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
}

/** A failed write of `path` as people should read it (the folder missing, no permission), else as it was. */
export function writeErrorOf(path: string, e: unknown): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return new LoadError(path, 'cannot write: the folder does not exist');
  if (code === 'EACCES') return new LoadError(path, 'cannot write: permission denied');
  if (code === 'ENOSPC') return new LoadError(path, 'cannot write: no space left on the disk');
  return e;
}
