/** Validation of everything the renderer sends to main. Anything unexpected is rejected, never coerced. */
import { isAbsolute } from 'node:path';
import { LIMITS } from '../preload/contract';
import type { SaveKind, SaveRequest } from '../preload/contract';

export class ValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidationError';
  }
}

const SAVE_KINDS: readonly SaveKind[] = ['csv', 'npy', 'png', 'json', 'h5', 'mat'];

/** A local absolute path as webUtils.getPathForFile or a dialog gives it. */
export function validatePath(value: unknown, what = 'path'): string {
  if (typeof value !== 'string') throw new ValidationError(`${what} must be a string`);
  if (value.length === 0) throw new ValidationError(`${what} is empty`);
  if (value.length > LIMITS.maxPathLength) throw new ValidationError(`${what} is too long`);
  if (value.includes('\0')) throw new ValidationError(`${what} contains a NUL character`);
  if (!isAbsolute(value)) throw new ValidationError(`${what} must be absolute`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    throw new ValidationError(`${what} must be a file path, not a URL`);
  return value;
}

export function validatePathList(value: unknown): string[] {
  if (!Array.isArray(value)) throw new ValidationError('paths must be an array');
  if (value.length === 0) throw new ValidationError('no paths given');
  if (value.length > LIMITS.maxOpenFiles)
    throw new ValidationError(`at most ${LIMITS.maxOpenFiles} files can be opened at once`);
  return value.map((v, i) => validatePath(v, `paths[${i}]`));
}

/** A bare file name for the save dialog's default: no directories, no control characters. */
export function validateFileName(value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError('file name must be a string');
  if (value.length === 0 || value.length > LIMITS.maxNameLength)
    throw new ValidationError('file name has a bad length');
  // eslint-disable-next-line no-control-regex
  if (/[\\/\u0000-\u001f]/.test(value))
    throw new ValidationError('file name must not contain / \\ or control characters');
  if (value === '.' || value === '..') throw new ValidationError('file name must not be . or ..');
  return value;
}

export function validateSaveRequest(value: unknown): SaveRequest {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ValidationError('save request must be an object');
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  if (keys !== 'bytes,kind,suggestedName')
    throw new ValidationError(`save request has unexpected fields (${keys})`);
  const suggestedName = validateFileName(v.suggestedName);
  if (typeof v.kind !== 'string' || !SAVE_KINDS.includes(v.kind as SaveKind))
    throw new ValidationError(`kind must be one of ${SAVE_KINDS.join(', ')}`);
  if (!(v.bytes instanceof Uint8Array)) throw new ValidationError('bytes must be a Uint8Array');
  if (v.bytes.byteLength > LIMITS.maxWriteBytes) throw new ValidationError('the file to save is too large');
  return { suggestedName, kind: v.kind as SaveKind, bytes: v.bytes };
}

export function validateNoArgs(args: unknown[]): void {
  if (args.length !== 0) throw new ValidationError('this call takes no arguments');
}
