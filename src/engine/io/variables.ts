/**
 * One entry point for data files of every format: recognise the format by content, open it as a
 * DataSource, list its candidate arrays, and parse `FILE:NAME` variable specs.
 *
 * HDF5 and MATLAB v7.3 files need the HDF5 library (loaded asynchronously, once): the `…Async`
 * functions load it when the file needs it; the synchronous ones throw a LoadError saying so when
 * it is not loaded yet.
 */
import { LoadError } from '../errors';
import { OpenBudget } from './budget';
import { csvToTensor, parseCsv } from './csv';
import {
  type ByteSource,
  type DataFormat,
  type DataSource,
  type VariableInfo,
  isByteSource,
  memorySource,
} from './data-source';
import { hdf5SignatureOffset, loadHdf5, openHdf5 } from './hdf5';
import { matVersion, openMat5 } from './mat';
import { openMat73 } from './mat73';
import { readNpy } from './npy';
import { readNpz } from './npz';
import { openTorchData } from './torch-data';

function extension(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

const startsWith = (bytes: Uint8Array, sig: number[]) => sig.every((b, i) => bytes[i] === b);

/** The first bytes that recognition needs, and where an HDF5 superblock sits (−1: none). */
function head(input: Uint8Array | ByteSource): { bytes: Uint8Array; hdf5At: number } {
  if (!isByteSource(input)) return { bytes: input, hdf5At: hdf5SignatureOffset(input) };
  const bytes = input.read(0, Math.min(input.size, 4096));
  let hdf5At = -1;
  for (let at = 0; at + 8 <= input.size && at <= 2 ** 30; at = at === 0 ? 512 : at * 2) {
    if (hdf5SignatureOffset(input.read(at, 8)) === 0) {
      hdf5At = at;
      break;
    }
  }
  return { bytes, hdf5At };
}

/**
 * The data format of a file, by its first bytes (then by its extension for CSV); null when it is
 * none jacscope reads as data. A torch.save file is 'torch' whether it holds data or a model.
 */
export function detectDataFormat(input: Uint8Array | ByteSource, file: string): DataFormat | null {
  const { bytes, hdf5At } = head(input);
  const ext = extension(file);
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59])) return 'npy';
  const mat = matVersion(bytes, file);
  if (mat === 'mat73' || (mat === null && hdf5At === 512 && ext === 'mat')) return 'mat73';
  if (mat === 'mat5') return 'mat5';
  if (hdf5At >= 0) return 'hdf5';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    // torch.save writes a zip whose entries live under one folder with a data.pkl; np.savez does not.
    const text = new TextDecoder('latin1').decode(bytes.subarray(0, 200));
    if (ext === 'npz' || /\.npy/.test(text)) return 'npz';
    if (/data\.pkl|\/version|\/byteorder|\/data\//.test(text) || ['pt', 'pth', 'ckpt', 'bin'].includes(ext))
      return 'torch';
    return 'npz';
  }
  if (ext === 'csv' || ext === 'txt' || ext === 'tsv') return 'csv';
  return null;
}

/** True when reading the file needs the HDF5 library (HDF5 and MATLAB v7.3). */
export function needsHdf5(input: Uint8Array | ByteSource, file: string): boolean {
  const f = detectDataFormat(input, file);
  return f === 'hdf5' || f === 'mat73';
}

function whole(input: Uint8Array | ByteSource, file: string, format: string): Uint8Array {
  if (!isByteSource(input)) return input;
  if (input.size > 2 ** 31)
    throw new LoadError(
      file,
      `is ${input.size} bytes; ${format} files are read whole, and this one is too large`,
    );
  return input.read(0, input.size);
}

/**
 * Opens a data file of any supported format as a DataSource (synchronously: HDF5 and MATLAB v7.3
 * need `loadHdf5()` first; see openDataSourceAsync). Close it when done.
 */
export function openDataSource(
  input: Uint8Array | ByteSource,
  file: string,
  budget = new OpenBudget(file),
): DataSource {
  if ((isByteSource(input) ? input.size : input.length) === 0) throw new LoadError(file, 'the file is empty');
  const format = detectDataFormat(input, file);
  switch (format) {
    case 'hdf5':
      return openHdf5(input, file, budget);
    case 'mat73':
      return openMat73(input, file, budget);
    case 'mat5':
      return openMat5(whole(input, file, 'MATLAB v5'), file, budget);
    case 'npy': {
      const bytes = whole(input, file, '.npy');
      const t = readNpy(bytes, file);
      return memorySource(file, 'npy', new Map([['', t]]));
    }
    case 'npz':
      return memorySource(file, 'npz', readNpz(whole(input, file, '.npz'), file, budget));
    case 'torch':
      return openTorchData(whole(input, file, 'torch.save'), file, budget);
    case 'csv': {
      // The table as one array [rows, columns] (a 'batch' column and the header are not values).
      const t = csvToTensor(parseCsv(whole(input, file, 'CSV'), file), file, 'p').tensor;
      return memorySource(file, 'csv', new Map([['', t]]));
    }
    default: {
      const ext = extension(file);
      if (ext === 'mat' && matVersion(head(input).bytes, file) === 'mat4')
        return openMat5(whole(input, file, 'MATLAB'), file, budget); // throws the Level 4 message
      throw new LoadError(
        file,
        'is not a data file jacscope reads (.npy, .npz, .csv, .h5/.hdf5, .mat, or torch.save .pt data)',
      );
    }
  }
}

/** openDataSource, loading the HDF5 library first when the file needs it. */
export async function openDataSourceAsync(
  input: Uint8Array | ByteSource,
  file: string,
  budget = new OpenBudget(file),
): Promise<DataSource> {
  if (needsHdf5(input, file)) await loadHdf5();
  return openDataSource(input, file, budget);
}

/** The candidate arrays of a data file of any format (name or path, shape, dtype; notes for the rest). */
export function listVariables(input: Uint8Array | ByteSource, file: string): VariableInfo[] {
  const s = openDataSource(input, file);
  try {
    return s.variables();
  } finally {
    s.close();
  }
}

export async function listVariablesAsync(
  input: Uint8Array | ByteSource,
  file: string,
): Promise<VariableInfo[]> {
  if (needsHdf5(input, file)) await loadHdf5();
  return listVariables(input, file);
}

// ---------------------------------------------------------------------------------------------------
// FILE:NAME

export interface VarSpec {
  file: string;
  /** The variable; absent when the spec names only a file. */
  name?: string;
}

const DATA_EXT = /\.(h5|hdf5|he5|hdf|mat|npz|npy|pt|pth|ckpt|csv|txt|tsv)(?=:|$)/i;

/**
 * Splits `FILE:NAME` ('data.h5:/group/x', 'C:\\runs\\d.mat:x', 'data.npz:p'). The split is at the
 * first ':' after a known data-file extension, so drive letters and colons inside variable names
 * stay where they belong ('d.h5:/a:b' → name '/a:b'). Without a known extension: a drive letter
 * ('C:') is never a split, and the last ':' splits; `exists` (e.g. fs.existsSync), when given,
 * wins: a spec that names an existing file is that file.
 */
export function parseVarSpec(spec: string, exists?: (path: string) => boolean): VarSpec {
  if (exists?.(spec)) return { file: spec };
  const m = DATA_EXT.exec(spec);
  if (m) {
    const end = m.index + m[0].length;
    if (end === spec.length) return { file: spec };
    const name = spec.slice(end + 1);
    const file = spec.slice(0, end);
    return name === '' ? { file } : { file, name };
  }
  const drive = /^[A-Za-z]:[\\/]/.test(spec) ? 2 : 0;
  const colon = spec.lastIndexOf(':');
  if (colon < drive || colon <= 0) return { file: spec };
  const file = spec.slice(0, colon);
  if (exists && !exists(file)) return { file: spec };
  const name = spec.slice(colon + 1);
  return name === '' ? { file } : { file, name };
}
