/**
 * HDF5 (.h5, .hdf5; and MATLAB v7.3 .mat underneath) through h5wasm: the HDF Group's C library
 * compiled to WebAssembly, so every layout (contiguous, compact, chunked with any chunk index),
 * filter (gzip, shuffle, fletcher32, ...), datatype and byte order reads exactly as h5py reads it.
 * See docs/data-formats.md for why h5wasm and not jsfive (measurements).
 *
 * - Loading: the library is 4 MB of WebAssembly, instantiated asynchronously. `loadHdf5()` loads it
 *   once (a dynamic import, so bundles fetch it only when an HDF5 file is opened); after that every
 *   call here is synchronous. `readDataFileAsync` (dataset.ts) does both.
 * - Bytes: the file is not copied. It appears to the library as a file in Emscripten's in-memory
 *   file system whose reads are served from a `ByteSource` (a Uint8Array view, or a caller's
 *   random-access reader), so reading rows reads only the chunks those rows live in.
 * - Hostile files: every library call runs inside `hdf5Call`, which turns the library's errors
 *   (its error stack, thrown by h5wasm's throwing error handler) into one `LoadError` naming the
 *   file and the deepest reason, and caps how far the library's heap may grow during the call: a
 *   compressed chunk that inflates past its declared size (a compression bomb) fails on the cap
 *   within a fraction of a second instead of growing the heap to 2 GB. A trap inside WebAssembly
 *   (`WebAssembly.RuntimeError`) is reported the same way; the library's state cannot be trusted
 *   after one, so later HDF5 opens in this process are refused with a message saying why.
 * - Budget: every decoded value is charged to the file's `OpenBudget` before it is read.
 */
import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';
import { OpenBudget } from './budget';
import {
  type ByteSource,
  BytesNotReady,
  type DataSource,
  type VariableInfo,
  bytesSource,
  checkRows,
  findVariable,
  isByteSource,
} from './data-source';
import {
  type ElementType,
  type H5Metadata,
  type Hdf5Dataset,
  decode,
  describeDataset,
  emptyTensor,
} from './hdf5-types';
import { hdf5Reason } from './hdf5-errors';
import { hdf5SignatureOffset, isHdf5 } from './hdf5-signature';

export { hdf5Reason, hdf5SignatureOffset, isHdf5 };
export type { Hdf5Dataset };

// ---------------------------------------------------------------------------------------------------
// The library

/** The parts of h5wasm's module used here (its own typings describe more). */
interface H5FsNode {
  usedBytes: number;
  stream_ops: Record<string, unknown>;
}
interface H5Fs {
  /** Emscripten's file-system error: thrown from a device's read, the C code sees -1 and errno. */
  ErrnoError: new (errno: number) => Error;
  writeFile(path: string, data: Uint8Array): void;
  readFile(path: string): Uint8Array;
  unlink(path: string): void;
  lookupPath(path: string): { node: H5FsNode };
}
export interface H5Module {
  HEAPU8: Uint8Array;
  FS: H5Fs;
  _malloc(n: number): number;
  _free(ptr: number): void;
  get_names(fid: bigint, path: string, recursive: boolean): string[];
  get_type(fid: bigint, path: string): number;
  get_dataset_metadata(fid: bigint, path: string): H5Metadata;
  get_dataset_data(
    fid: bigint,
    path: string,
    count: bigint[] | null,
    offset: bigint[] | null,
    strides: bigint[] | null,
    ptr: bigint,
  ): number;
  get_attribute_names(fid: bigint, path: string): string[];
  activate_throwing_error_handler(): number;
  H5G_GROUP: number;
  H5G_DATASET: number;
}
type H5Lib = typeof import('h5wasm');

interface Loaded {
  lib: H5Lib;
  M: H5Module;
}
let loaded: Loaded | null = null;
let loading: Promise<void> | null = null;
/** Set after a trap inside the library: which file, and what happened. */
let stopped: { file: string; what: string } | null = null;

/**
 * Loads the HDF5 library (once; later calls return at once). Needed before any HDF5 or MATLAB v7.3
 * file is read: the readers themselves are synchronous.
 */
export function loadHdf5(): Promise<void> {
  if (loaded) return Promise.resolve();
  loading ??= (async () => {
    const lib = await import('h5wasm');
    const M = (await lib.ready) as unknown as H5Module;
    // Errors come back as exceptions carrying HDF5's error stack, instead of being printed.
    M.activate_throwing_error_handler();
    installHeapCap(M);
    loaded = { lib, M };
  })().catch((e: unknown) => {
    loading = null;
    throw e;
  });
  return loading;
}

/** True once `loadHdf5()` has finished. */
export function hdf5Loaded(): boolean {
  return loaded !== null;
}

function library(file: string): Loaded {
  if (stopped)
    throw new LoadError(
      file,
      `cannot be read: the HDF5 library stopped after it crashed on ${stopped.file} (${stopped.what}); restart jacscope to read HDF5 files again`,
    );
  if (!loaded)
    throw new LoadError(
      file,
      'needs the HDF5 reader, which is not loaded yet (the caller must await loadHdf5() or use readDataFileAsync)',
    );
  return loaded;
}

// ---------------------------------------------------------------------------------------------------
// Guarded calls

/** Bytes the library's heap may reach during the current call; null outside calls. */
let heapCap: number | null = null;
/** Headroom every call gets on top of what it declares it needs. */
const HEAP_MARGIN = 48 * 2 ** 20;

/**
 * Wraps WebAssembly.Memory.prototype.grow so that, during a guarded call, the HDF5 module's memory
 * cannot grow past `heapCap`: the allocation fails inside the library (Emscripten's growth returns
 * failure on an exception), which reports it as an error. Other memories are not affected.
 */
function installHeapCap(M: H5Module): void {
  const proto = WebAssembly.Memory.prototype;
  const grow = proto.grow;
  proto.grow = function (this: WebAssembly.Memory, delta: number): number {
    if (
      heapCap !== null &&
      this.buffer === M.HEAPU8.buffer &&
      this.buffer.byteLength + delta * 65536 > heapCap
    )
      throw new RangeError('jacscope: HDF5 heap cap reached');
    return grow.call(this, delta);
  };
}

/**
 * Runs `fn` against the library with the heap capped at its current size + `need` + a margin;
 * any failure becomes one LoadError naming `file`.
 */
export function hdf5Call<T>(file: string, need: number, fn: (M: H5Module, lib: H5Lib) => T, what = ''): T {
  const { M, lib } = library(file);
  const outer = heapCap;
  heapCap = M.HEAPU8.length + need + HEAP_MARGIN;
  try {
    return fn(M, lib);
  } catch (e) {
    if (e instanceof LoadError) throw e;
    if (e instanceof WebAssembly.RuntimeError) {
      stopped = { file, what: `WebAssembly trap: ${e.message}` };
      throw new LoadError(
        file,
        `crashed the HDF5 library${what ? ` while ${what}` : ''} (WebAssembly trap: ${e.message}); the file is corrupt. HDF5 files cannot be read again until jacscope restarts`,
      );
    }
    throw new LoadError(file, `${what ? `${what}: ` : ''}${hdf5Reason(e)}`);
  } finally {
    heapCap = outer;
  }
}

// ---------------------------------------------------------------------------------------------------
// An open file

let fileCounter = 0;
const MAX_OBJECTS = 100_000;
/** Bytes of library output per read call; bigger reads are split along the first axis. */
const BLOCK_BYTES = 32 * 2 ** 20;

/** A file opened in the library. Used by the HDF5 and MATLAB v7.3 data sources. */
export class Hdf5File {
  private readonly fsPath: string;
  private fid: bigint | null = null;
  private h5file: { close(): number; file_id: bigint } | null = null;
  private datasets: Map<string, Hdf5Dataset> | null = null;

  constructor(
    input: Uint8Array | ByteSource,
    readonly file: string,
    readonly budget: OpenBudget,
  ) {
    const src = isByteSource(input) ? input : bytesSource(input);
    this.fsPath = `/jacscope-data-${++fileCounter}.h5`;
    hdf5Call(
      file,
      0,
      (M, lib) => {
        mountSource(M.FS, this.fsPath, src);
        try {
          const f = new lib.File(this.fsPath, 'r') as unknown as { close(): number; file_id: bigint };
          this.h5file = f;
          this.fid = f.file_id;
        } catch (e) {
          M.FS.unlink(this.fsPath);
          throw e;
        }
      },
      'opening it',
    );
  }

  private id(): bigint {
    if (this.fid === null) throw new LoadError(this.file, 'was closed');
    return this.fid;
  }

  /** Every dataset, by absolute path, in the library's (alphabetical, depth-first) order. */
  list(): Map<string, Hdf5Dataset> {
    if (this.datasets) return this.datasets;
    const fid = this.id();
    const out = new Map<string, Hdf5Dataset>();
    hdf5Call(
      this.file,
      0,
      (M) => {
        const names = M.get_names(fid, '/', true);
        if (names.length > MAX_OBJECTS)
          throw new LoadError(
            this.file,
            `holds ${names.length} objects; more than ${MAX_OBJECTS} is not a data file jacscope reads`,
          );
        for (const name of names) {
          const path = '/' + name;
          let type: number;
          try {
            type = M.get_type(fid, path);
          } catch {
            continue; // a dangling soft or external link: nothing to read
          }
          if (type !== M.H5G_DATASET) continue;
          const md = M.get_dataset_metadata(fid, path);
          out.set(path, describeDataset(path, md));
        }
      },
      'listing its contents',
    );
    this.datasets = out;
    return out;
  }

  dataset(path: string): Hdf5Dataset {
    const norm = path.startsWith('/') ? path : '/' + path;
    const d = this.list().get(norm);
    if (!d) throw new LoadError(this.file, `has no dataset '${path}'`);
    return d;
  }

  /** The names of an object's attributes. */
  attributeNames(path: string): string[] {
    const fid = this.id();
    return hdf5Call(
      this.file,
      0,
      (M) => M.get_attribute_names(fid, path),
      `reading the attributes of '${path}'`,
    );
  }

  /** A string (or number, as text) attribute, or undefined when absent. */
  attribute(path: string, name: string): string | number | undefined {
    const fid = this.id();
    if (!this.attributeNames(path).includes(name)) return undefined;
    return hdf5Call(
      this.file,
      1 << 20,
      (_M, lib) => {
        const a = new lib.Attribute(fid, path, name);
        if (a.metadata.total_size > 4096) return undefined;
        const v = a.value;
        if (typeof v === 'string' || typeof v === 'number') return v;
        if (typeof v === 'bigint') return Number(v);
        if (ArrayBuffer.isView(v) && (v as unknown as ArrayLike<number>).length === 1)
          return Number((v as unknown as ArrayLike<number | bigint>)[0]);
        if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0];
        return undefined;
      },
      `reading attribute '${name}' of '${path}'`,
    );
  }

  /**
   * Reads a hyperslab: along `axis`, indices [start, start+count); every other axis whole. Returns
   * the values in the dataset's own (row-major) order, shape = the dataset's with `axis` = count.
   */
  readSlab(path: string, axis: number, start: number, count: number): HostTensor {
    const d = this.dataset(path);
    if (!d.type) throw new LoadError(this.file, `'${path}' is not a numeric array (${d.note})`);
    const type = d.type;
    const shape = [...d.shape];
    if (shape.length === 0) return this.readBlock(d, type, null, null, 1, []);
    const outShape = [...shape];
    outShape[axis] = count;
    let numel = 1;
    for (const n of outShape) numel *= n;
    const complex = !!type.complex;
    this.budget.bytes(numel * 8 * (complex ? 2 : 1));
    if (numel === 0) return emptyTensor(type.dtype, outShape);

    // Split the read into blocks along the first axis that keeps each block under BLOCK_BYTES.
    const data = new Float64Array(numel);
    const imag = complex ? new Float64Array(numel) : undefined;
    // Blocks along axis 0: each is a contiguous run of the row-major output.
    const blockAxis = 0;
    const rowElems = numel / outShape[blockAxis];
    const rowsPerBlock = Math.max(1, Math.floor(BLOCK_BYTES / Math.max(1, rowElems * type.size)));
    const first = blockAxis === axis ? start : 0;
    const total = outShape[blockAxis];
    for (let r = 0; r < total; r += rowsPerBlock) {
      const n = Math.min(rowsPerBlock, total - r);
      const offset = shape.map(() => 0);
      const cnt = [...outShape];
      offset[blockAxis] = first + r;
      cnt[blockAxis] = n;
      if (axis !== blockAxis) offset[axis] = start;
      const part = this.readBlock(d, type, offset, cnt, n * rowElems, cnt);
      data.set(part.data, r * rowElems);
      if (imag) imag.set(part.imag!, r * rowElems);
    }
    const t: HostTensor = { dtype: type.dtype, shape: outShape, data };
    if (imag) t.imag = imag;
    return t;
  }

  private readBlock(
    d: Hdf5Dataset,
    type: ElementType,
    offset: number[] | null,
    count: number[] | null,
    numel: number,
    shape: number[],
  ): HostTensor {
    const fid = this.id();
    const nbytes = numel * type.size;
    // Chunked data passes through the chunk cache and the filters: room for a few chunks.
    const chunkBytes = d.chunks ? d.chunks.reduce((a, b) => a * b, 1) * type.size : 0;
    const raw = hdf5Call(
      this.file,
      nbytes + 4 * chunkBytes,
      (M) => {
        const ptr = M._malloc(Math.max(1, nbytes));
        if (!ptr) throw new LoadError(this.file, `'${d.path}': no memory for ${nbytes} bytes`);
        try {
          M.get_dataset_data(
            fid,
            d.path,
            count ? count.map(BigInt) : null,
            offset ? offset.map(BigInt) : null,
            count ? count.map(() => 1n) : null,
            BigInt(ptr),
          );
          return M.HEAPU8.slice(ptr, ptr + nbytes);
        } finally {
          M._free(ptr);
        }
      },
      `reading '${d.path}'`,
    );
    return decode(raw, type, numel, shape);
  }

  close(): void {
    if (this.fid === null) return;
    this.fid = null;
    const f = this.h5file;
    this.h5file = null;
    if (!loaded || stopped) return;
    try {
      f?.close();
    } catch {
      // closing a file the library already gave up on
    }
    try {
      loaded.M.FS.unlink(this.fsPath);
    } catch {
      // already gone
    }
  }
}

/** EIO in Emscripten's errno numbering. */
const EMSCRIPTEN_EIO = 29;

/** Makes `path` a read-only file in Emscripten's MEMFS whose reads come from `src`. */
function mountSource(FS: H5Fs, path: string, src: ByteSource): void {
  FS.writeFile(path, new Uint8Array(0));
  const node = FS.lookupPath(path).node;
  node.usedBytes = src.size;
  node.stream_ops = {
    ...node.stream_ops,
    read(_stream: unknown, buffer: Uint8Array, offset: number, length: number, position: number): number {
      if (position >= src.size) return 0;
      let bytes: Uint8Array;
      try {
        bytes = src.read(position, Math.min(length, src.size - position));
      } catch (e) {
        // Any other exception would unwind through the library's C frames and leave its state broken;
        // an I/O error (Emscripten's EIO) makes it fail the call and clean up.
        if (e instanceof BytesNotReady) throw new FS.ErrnoError(EMSCRIPTEN_EIO);
        throw e;
      }
      buffer.set(bytes, offset);
      return bytes.length;
    },
    write(): number {
      throw new Error('jacscope: HDF5 input is read-only');
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The HDF5 DataSource

/**
 * Opens an HDF5 file as a DataSource: every dataset under its absolute path (`/x`, `/group/x`).
 * `loadHdf5()` must have finished. Close it when done (it holds a handle in the library).
 */
export function openHdf5(
  input: Uint8Array | ByteSource,
  file: string,
  budget = new OpenBudget(file),
): DataSource {
  const h = new Hdf5File(input, file, budget);
  const source: DataSource = {
    file,
    format: 'hdf5',
    variables: () =>
      [...h.list().values()].map((d): VariableInfo => ({
        name: d.path,
        shape: [...d.shape],
        dtype: d.type?.dtype ?? null,
        ...(d.note ? { note: d.note } : {}),
      })),
    read(name) {
      const v = findVariable(source, name);
      const d = h.dataset(v.name);
      return h.readSlab(d.path, 0, 0, d.shape.length ? d.shape[0] : 1);
    },
    readRows(name, start, count) {
      const v = findVariable(source, name);
      checkRows(file, v.name, v.shape, start, count);
      return h.readSlab(v.name, 0, start, count);
    },
    close: () => h.close(),
  };
  return source;
}
