/**
 * Opening a data file that is not read whole (over the lazy threshold): a C-order `.npy`, or an `.npz` whose x
 * is a stored member, gives x as rows read from disk when a sample needs them (p [B,P], small, is read whole).
 * Any other file, or one whose arrays cannot be read by rows, is read whole when it can be, and refused with
 * the reason when it is too large for that.
 */
import type { ByteSource } from '../../engine/io/data-source';
import { loadHdf5 } from '../../engine/io/hdf5';
import { detectDataFormat, openDataSource } from '../../engine/io/variables';
import { formatBytes } from '../lib/memory-budget';
import { readWhole } from './byte-reader';
import type { RangeReader } from './byte-reader';
import type { DataParts, Tensor } from './engine-contract';
import { npyLayout, npzLayouts } from './lazy-layout';
import type { ArrayLayout, Layout } from './lazy-layout';
import { LazyRows } from './lazy-rows';
import { PagedSource } from './paged-source';
import { SourceRows } from './source-rows';
import type { VarChoice } from './pick-protocol';

/** The largest file read whole when it cannot be read by rows. */
export const WHOLE_MAX_BYTES = 2 * 1024 ** 3 - 1;

export type LazyOpened = { parts: DataParts } | { bytes: Uint8Array };

const extOf = (name: string) => name.toLowerCase().split('.').pop();

/** The data panel's note on a file whose rows are read as needed. */
export function lazyNote(r: RangeReader, what: string): string {
  return `${r.name}: ${formatBytes(r.size)}, opened lazily: ${what} read from disk as needed, never whole`;
}

async function whole(r: RangeReader, reason: string): Promise<LazyOpened> {
  if (r.size > WHOLE_MAX_BYTES)
    throw new Error(
      `${r.name}: ${formatBytes(r.size)} is too large to read whole (${reason}); save x as a C-order .npy, or in an uncompressed .npz (np.savez), to open it by rows`,
    );
  return { bytes: await readWhole(r) };
}

async function readAll(r: RangeReader, l: ArrayLayout): Promise<Tensor> {
  const rows = new LazyRows(r, l);
  await rows.ensure(0, rows.B);
  return { dtype: l.dtype, shape: l.shape.slice(), data: rows.get(0, rows.B) };
}

function lazyX(r: RangeReader, l: ArrayLayout): Pick<DataParts, 'x' | 'xAsFiled'> {
  const rows = new LazyRows(r, l);
  const filed: Tensor = { dtype: l.dtype, shape: l.shape.slice(), data: new Float64Array(0), rows };
  // A 2-D x [B,T] is one feature per time step, as the whole-file readers read it.
  if (l.shape.length === 2) return { x: { ...filed, shape: [...l.shape, 1] }, xAsFiled: filed };
  return { x: filed };
}

function pick(layouts: Map<string, Layout<ArrayLayout>>, chosen: string | undefined, names: string[]) {
  const name = chosen ?? names.find((n) => layouts.has(n));
  return name === undefined ? undefined : { name, layout: layouts.get(name) };
}

/** Opens `r` by rows where it can (see above); `choice`: the x and p the picker chose for this file. */
export async function openLazy(
  r: RangeReader,
  hint: { Xf?: number; P?: number },
  choice?: VarChoice,
): Promise<LazyOpened> {
  const ext = extOf(r.name);
  if (ext === 'npy') {
    const l = await npyLayout(r);
    if ('reason' in l) return whole(r, l.reason);
    const { shape } = l.ok;
    if (shape.length === 2 && hint.P !== undefined && shape[1] === hint.P)
      return { parts: { p: await readAll(r, l.ok), notes: [lazyNote(r, 'p is')] } };
    // A 2-D array is p [B,P] or an x [B,T]: the whole-file readers tell them apart (by name and shape) while
    // it can be read whole; beyond that it can only be x.
    if (shape.length === 2 && r.size <= WHOLE_MAX_BYTES) return { bytes: await readWhole(r) };
    if (shape.length < 2) return whole(r, `shape (${shape.join(', ')}) has no rows of samples`);
    return { parts: { ...lazyX(r, l.ok), notes: [lazyNote(r, 'rows of x are')] } };
  }
  if (ext === 'npz') {
    const all = await npzLayouts(r);
    if ('reason' in all) return whole(r, all.reason);
    const x = pick(all.ok, choice?.x, ['x', 'func_inp']);
    const p = pick(all.ok, choice?.p, ['p', 'scalar_inp']);
    const names = [...all.ok.keys()].join(', ');
    if (!x?.layout && !p?.layout)
      return whole(r, `its arrays (${names}) are not named x and p (or func_inp and scalar_inp)`);
    const parts: DataParts = { notes: [] };
    const used: string[] = [];
    if (x?.layout) {
      if ('reason' in x.layout) return whole(r, x.layout.reason);
      Object.assign(parts, lazyX(r, x.layout.ok));
      used.push(`x = '${x.name}'`);
    }
    if (p?.layout) {
      if ('reason' in p.layout) return whole(r, p.layout.reason);
      parts.p = await readAll(r, p.layout.ok);
      used.push(`p = '${p.name}'`);
    }
    parts.notes.push(
      `${r.name}: NumPy .npz; ${used.join(', ')}`,
      lazyNote(r, parts.x ? 'rows of x are' : 'p is'),
    );
    return { parts };
  }
  if (ext === 'h5' || ext === 'hdf5' || ext === 'mat') return openHdf5ByRows(r, choice);
  return whole(r, 'only .npy, .npz, HDF5 and MATLAB v7.3 files are read by rows');
}

/**
 * How the HDF5 library reads `r`: through synchronous slices of a dropped File (FileReaderSync, a worker's), or,
 * for a file main reads for the worker (the desktop app's dialog and recent list), through pages fetched
 * asynchronously, each call run again until it has what it needs (paged-source.ts).
 */
function hdf5Bytes(r: RangeReader): { source: ByteSource; retry: <T>(f: () => T) => Promise<T> } {
  if (r.readSync) {
    const readSync = r.readSync;
    return { source: { size: r.size, read: (o, n) => readSync(o, n) }, retry: async (f) => f() };
  }
  const paged = new PagedSource(r);
  return { source: paged, retry: (f) => paged.retry(f) };
}

/**
 * An HDF5 file by rows: the library reads the file through `hdf5Bytes`, x's rows as hyperslabs when a sample
 * needs them; p is read whole. The file stays open while its rows are in use.
 */
async function openHdf5ByRows(r: RangeReader, choice?: VarChoice): Promise<LazyOpened> {
  const { source, retry } = hdf5Bytes(r);
  const format = await retry(() => detectDataFormat(source, r.name));
  if (format !== 'hdf5' && format !== 'mat73')
    return whole(
      r,
      format === 'mat5' || extOf(r.name) === 'mat'
        ? 'of the MATLAB formats only v7.3 (HDF5) is read by rows; save with -v7.3 to open it by rows'
        : 'it does not start like an HDF5 file',
    );
  await loadHdf5();
  const src = await retry(() => openDataSource(source, r.name));
  const vars = new Map((await retry(() => src.variables())).map((v) => [v.name, v]));
  // HDF5 names datasets by path ('/x'); MATLAB v7.3 by variable name ('x').
  const key = (name: string) =>
    format === 'mat73' ? name.replace(/^\//, '') : name.startsWith('/') ? name : `/${name}`;
  const find = (chosen: string | undefined, names: string[]) => {
    const name = chosen ?? names.find((n) => vars.has(key(n)));
    return name === undefined ? undefined : vars.get(key(name));
  };
  const x = find(choice?.x, ['x', 'func_inp']);
  const p = find(choice?.p, ['p', 'scalar_inp']);
  const numeric = (v: typeof x) => v && v.dtype !== null && v.shape.length >= 1;
  if (!numeric(x) && !numeric(p)) {
    const names = [...vars.keys()].join(', ');
    src.close();
    return whole(r, `its datasets (${names}) are not named x and p (or func_inp and scalar_inp)`);
  }
  const parts: DataParts = { notes: [] };
  const used: string[] = [];
  if (x && numeric(x)) {
    if (x.shape.length < 2) {
      src.close();
      return whole(r, `x (${x.name}) has shape (${x.shape.join(', ')}), no rows of samples`);
    }
    const [B, ...rest] = x.shape;
    const rows = new SourceRows(
      src,
      x.name,
      B,
      rest.reduce((a, d) => a * d, 1),
      retry,
    );
    const filed: Tensor = { dtype: x.dtype!, shape: x.shape.slice(), data: new Float64Array(0), rows };
    // A 2-D x [B,T] is one feature per time step, as the whole-file readers read it.
    if (x.shape.length === 2)
      Object.assign(parts, { x: { ...filed, shape: [...x.shape, 1] }, xAsFiled: filed });
    else parts.x = filed;
    used.push(`x = '${x.name}'`);
  }
  if (p && numeric(p)) {
    const t = await retry(() => src.read(p.name));
    parts.p = { dtype: p.dtype!, shape: t.shape.slice(), data: t.data };
    used.push(`p = '${p.name}'`);
  }
  parts.notes.push(
    `${r.name}: ${format === 'mat73' ? 'MATLAB v7.3' : 'HDF5'}; ${used.join(', ')}`,
    lazyNote(r, parts.x ? 'rows of x are' : 'p is'),
  );
  return { parts };
}
