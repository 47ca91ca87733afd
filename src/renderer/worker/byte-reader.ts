/**
 * Byte ranges of a file that is not read whole: a dropped/opened File (a Blob, in the web build and for drops in
 * the desktop app) or a file main reads for the renderer a range at a time (the desktop app's File › Open). Every
 * range is checked against the file's size before it is asked for; a short answer is an error, never padding.
 */

/** The most bytes one ranged read asks for (main refuses more). */
export const MAX_RANGE_BYTES = 64 * 2 ** 20;

export interface RangeReader {
  readonly name: string;
  readonly size: number;
  /** `length` bytes from `offset` (any length: larger ones are read in pieces). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** The same, synchronously, where the platform can (FileReaderSync in a worker). */
  readSync?(offset: number, length: number): Uint8Array;
}

/** Throws when [offset, offset+length) is not a range of a file of `size` bytes. */
export function checkRange(name: string, size: number, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0)
    throw new RangeError(`${name}: bad byte range (offset ${offset}, length ${length})`);
  if (offset + length > size)
    throw new RangeError(
      `${name}: bytes ${offset}…${offset + length} are past the end of the file (${size} bytes); was it changed or truncated?`,
    );
}

/** Reads [offset, offset+length) as pieces of at most MAX_RANGE_BYTES through `piece`. */
async function inPieces(
  name: string,
  offset: number,
  length: number,
  piece: (offset: number, length: number) => Promise<Uint8Array>,
): Promise<Uint8Array> {
  if (length <= MAX_RANGE_BYTES) return exact(name, await piece(offset, length), length);
  const out = new Uint8Array(length);
  for (let done = 0; done < length;) {
    const n = Math.min(MAX_RANGE_BYTES, length - done);
    out.set(exact(name, await piece(offset + done, n), n), done);
    done += n;
  }
  return out;
}

function exact(name: string, bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.byteLength !== length)
    throw new Error(
      `${name}: ${bytes.byteLength} bytes came back where ${length} were asked for; was the file changed?`,
    );
  return bytes;
}

interface FileReaderSyncLike {
  readAsArrayBuffer(blob: Blob): ArrayBuffer;
}

/** A Blob's ranges: `slice().arrayBuffer()`, and FileReaderSync where it exists (dedicated workers). */
export function blobReader(blob: Blob, name: string): RangeReader {
  const size = blob.size;
  const FRS = (globalThis as unknown as { FileReaderSync?: new () => FileReaderSyncLike }).FileReaderSync;
  const reader: RangeReader = {
    name,
    size,
    async read(offset, length) {
      checkRange(name, size, offset, length);
      return inPieces(name, offset, length, async (o, n) => {
        return new Uint8Array(await blob.slice(o, o + n).arrayBuffer());
      });
    },
  };
  if (FRS) {
    const frs = new FRS();
    reader.readSync = (offset, length) => {
      checkRange(name, size, offset, length);
      return exact(name, new Uint8Array(frs.readAsArrayBuffer(blob.slice(offset, offset + length))), length);
    };
  }
  return reader;
}

/** A file main reads a range at a time (the desktop app): `fetch` asks main through the UI thread. */
export function remoteReader(
  name: string,
  size: number,
  fetch: (offset: number, length: number) => Promise<Uint8Array>,
): RangeReader {
  return {
    name,
    size,
    async read(offset, length) {
      checkRange(name, size, offset, length);
      return inPieces(name, offset, length, fetch);
    },
  };
}

/** The whole file (for a file that cannot be read a row range at a time). */
export function readWhole(r: RangeReader): Promise<Uint8Array> {
  return r.read(0, r.size);
}
