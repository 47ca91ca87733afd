/**
 * Files opened by ranges: a .npy/.npz too large to read whole is not read at open; the renderer reads its
 * header and then the rows it needs, a range at a time. Every range is of a file the user chose, checked
 * against the file's size, at most LIMITS.maxRangeBytes, and counted in the bytes-in-flight budget.
 */
import { basename, extname } from 'node:path';
import { LIMITS, RANGED_EXTENSIONS } from '../preload/contract';
import { NOT_CHOSEN, describeFsError, nodeFs, readBudget } from './files';
import type { ByteBudget, FsLike } from './files';
import { ValidationError } from './validate';

/** Whether a file of this path and size is opened by ranges rather than read whole. */
export function opensByRanges(
  path: string,
  size: number,
  threshold: number = LIMITS.rangedOpenBytes,
): boolean {
  const ext = extname(path).slice(1).toLowerCase();
  return size > threshold && (RANGED_EXTENSIONS as readonly string[]).includes(ext);
}

/** Checks a range request's offset and length (non-negative safe integers, length within the cap). */
export function validateRange(offset: unknown, length: unknown): { offset: number; length: number } {
  for (const [what, v] of [
    ['offset', offset],
    ['length', length],
  ] as const)
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new ValidationError(`${what} must be a non-negative whole number`);
  if ((length as number) > LIMITS.maxRangeBytes)
    throw new ValidationError(`length must be at most ${LIMITS.maxRangeBytes} bytes`);
  return { offset: offset as number, length: length as number };
}

export interface RangeOptions {
  fs?: FsLike;
  budget?: ByteBudget;
  /** Whether the user chose this path in this session; a path it refuses is not touched. */
  allowed: (path: string) => boolean;
}

/**
 * Reads bytes [offset, offset+length) of `path`. Throws one error naming the file when it was not chosen, the
 * range runs past its end (it shrank since it was opened), or the read fails.
 */
export async function readRange(
  path: string,
  offset: number,
  length: number,
  opts: RangeOptions,
): Promise<Uint8Array> {
  const name = basename(path);
  if (!opts.allowed(path)) throw new ValidationError(`${name}: ${NOT_CHOSEN}`);
  const fs = opts.fs ?? nodeFs;
  const giveBack = await (opts.budget ?? readBudget).take(length);
  try {
    let size: number;
    try {
      const st = await fs.stat(path);
      if (!st.isFile()) throw new Error('is not a regular file');
      size = st.size;
    } catch (e) {
      throw new Error(`${name}: ${describeFsError(e)}`);
    }
    if (offset + length > size)
      throw new Error(
        `${name}: bytes ${offset}…${offset + length} are past its end (${size} bytes); was it changed since it was opened?`,
      );
    const out = new Uint8Array(length);
    let handle;
    try {
      handle = await fs.open(path, 'r');
    } catch (e) {
      throw new Error(`${name}: ${describeFsError(e)}`);
    }
    try {
      if (!handle.read) throw new Error(`${name}: this file system cannot read ranges`);
      for (let done = 0; done < length;) {
        const { bytesRead } = await handle.read(out, done, length - done, offset + done);
        if (bytesRead <= 0) throw new Error(`${name}: ended early; was it changed since it was opened?`);
        done += bytesRead;
      }
    } finally {
      await handle.close();
    }
    return out;
  } finally {
    giveBack();
  }
}
