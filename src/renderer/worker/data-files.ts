/**
 * Data files of every format the engine reads (.npy, .npz, .csv, HDF5, MATLAB v5/v7/v7.3, torch.save tensors)
 * for the worker: the asynchronous readers (HDF5 and MATLAB v7.3 load the HDF5 library, WebAssembly, on first
 * use), the listing the variable picker shows, reading the x and p the user chose, and telling a torch.save
 * file of tensors (data) from one that holds a model.
 */
import { type Dataset, readDataFileAsync } from '../../engine/io/dataset';
import { type DataFormat, FORMAT_NAMES } from '../../engine/io/data-source';
import { classifyTorchFile, type TorchFileKind } from '../../engine/io/torch-data';
import { detectDataFormat, listVariablesAsync } from '../../engine/io/variables';
import { choiceNeed, xIsOneFeature } from './data-choice';
import type { DataParts, Tensor } from './engine-contract';
import type { PickRequest, PickVariable, VarChoice } from './pick-protocol';

/** What the picker needs of a container file, and whether it must be asked at all. */
export type DataListing = Omit<PickRequest, 'pickId' | 'file' | 'reason'> & { needsPick: boolean };

const CONTAINERS: readonly DataFormat[] = ['npz', 'hdf5', 'mat5', 'mat73', 'torch'];

const SEPARATOR: Record<DataFormat, PickRequest['separator']> = {
  npy: '',
  csv: '',
  npz: '',
  hdf5: '/',
  mat5: '.',
  mat73: '.',
  torch: '.',
};

/** A torch.save / torch.jit.save file: model or data, and what was recognised; null when it is neither readable. */
export function torchKind(bytes: Uint8Array, file: string): TorchFileKind | null {
  if (detectDataFormat(bytes, file) !== 'torch') return null;
  try {
    return classifyTorchFile(bytes, file);
  } catch {
    return null;
  }
}

/** The candidate arrays of a container file (null for .npy, .csv and files no data reader takes). */
export async function dataListing(bytes: Uint8Array, file: string): Promise<DataListing | null> {
  const format = detectDataFormat(bytes, file);
  if (format === null || !CONTAINERS.includes(format)) return null;
  if (format === 'torch' && torchKind(bytes, file)?.kind !== 'data') return null;
  const variables: PickVariable[] = (await listVariablesAsync(bytes, file)).map((v) => {
    const out: PickVariable = { name: v.name, shape: [...v.shape], dtype: v.dtype };
    if (v.note !== undefined) out.note = v.note;
    return out;
  });
  const { needsPick, suggested } = choiceNeed(variables);
  return { format: FORMAT_NAMES[format], separator: SEPARATOR[format], variables, suggested, needsPick };
}

/** What the format and the chosen variables were, for the data panel. */
function formatNote(bytes: Uint8Array, file: string, d: Dataset, how: string): string | null {
  if (!d.format || !CONTAINERS.includes(d.format)) return null;
  const chosen = (['x', 'p'] as const)
    .filter((r) => d.variables?.[r] !== undefined)
    .map((r) => `${r} = '${d.variables![r]}'`);
  let what = FORMAT_NAMES[d.format];
  if (d.format === 'torch') {
    const k = torchKind(bytes, file);
    what = `torch.save tensors${k ? ` (${k.what})` : ''}, read as data, not a model`;
  }
  return `${file}: ${what}${chosen.length ? `; ${chosen.join(', ')} (${how})` : ''}`;
}

/** A Dataset as the session's DataParts, the file's name on every note. */
function partsOf(bytes: Uint8Array, d: Dataset, file: string, how: string): DataParts {
  const notes = d.notes.map((n) => `${file}: ${n}`);
  const head = formatNote(bytes, file, d, how);
  return {
    x: d.x as Tensor | undefined,
    p: d.p as Tensor | undefined,
    xNames: d.xNames,
    pNames: d.pNames,
    notes: head ? [head, ...notes] : notes,
  };
}

/** Reads a data file the usual way (names, then shapes), loading the HDF5 library when the file needs it. */
export async function readDataAsync(
  bytes: Uint8Array,
  file: string,
  hint: { Xf?: number; P?: number },
  role?: 'x' | 'p',
): Promise<DataParts> {
  const d = await readDataFileAsync(bytes, file, hint, role);
  return partsOf(
    bytes,
    d,
    file,
    d.notes.some((n) => /chosen by shape/.test(n)) ? 'by name and shape' : 'by name',
  );
}

/**
 * Reads the x and p the user chose (either may be absent). A 2-D x [B,T] beside a p [B,P] of the same B is
 * read as [B,T,1] (Xf = 1), and the note says so; x as the file holds it is kept for graph models.
 */
export async function readChosen(
  bytes: Uint8Array,
  file: string,
  hint: { Xf?: number; P?: number },
  choice: VarChoice,
  variables: PickVariable[],
): Promise<DataParts> {
  const out: DataParts = { notes: [] };
  let format: DataFormat | undefined;
  if (choice.p !== undefined) {
    const d = await readDataFileAsync(bytes, file, hint, 'p', { variable: choice.p });
    out.p = d.p as Tensor;
    out.notes.push(...d.notes.map((n) => `${file}: ${n}`));
    format = d.format;
  }
  if (choice.x !== undefined) {
    const one = xIsOneFeature(variables, choice, hint.Xf);
    const expect = one ? { ...hint, Xf: 1 } : hint;
    const d = await readDataFileAsync(bytes, file, expect, 'x', { variable: choice.x });
    const x = d.x as Tensor;
    out.x = x;
    const filed = variables.find((v) => v.name === choice.x)?.shape;
    if (filed && filed.join(',') !== x.shape.join(','))
      out.xAsFiled = { dtype: x.dtype, shape: [...filed], data: x.data };
    out.notes.push(...d.notes.map((n) => `${file}: ${n}`));
    format = d.format;
  }
  const head = formatNote(
    bytes,
    file,
    { file, notes: [], format, variables: { ...choice } },
    'chosen in the picker',
  );
  if (head) out.notes.unshift(head);
  return out;
}
