/**
 * Data files → Dataset {x [B,T,Xf], p [B,P], names, notes} (DESIGN §6), and the check of a dataset
 * against a model. Every guess made here (a role from a shape, an array picked from a container
 * file, a CSV read as x or p) is written into `notes` so that the UI and the CLI can show it.
 *
 * Formats: .npy, .npz, .csv, HDF5 (.h5/.hdf5), MATLAB .mat (v5/v7, and v7.3 = HDF5), torch.save
 * data (.pt/.pth); see docs/data-formats.md. HDF5 and MATLAB v7.3 need the HDF5 library loaded
 * (`loadHdf5()`, or call readDataFileAsync, which loads it when the file needs it).
 */
import { LoadError, ShapeError } from '../errors';
import { type HostTensor, isComplex, shapeString } from '../tensor';
import { OpenBudget } from './budget';
import { type CsvRole, type CsvTable, batchColumn, csvToTensor, parseCsv } from './csv';
import { type DataFormat, type DataSource, type VariableInfo, findVariable } from './data-source';
import { loadHdf5 } from './hdf5';
import { openMat5 } from './mat';
import { readNpy } from './npy';
import { readNpz } from './npz';
import { classifyTorchFile } from './torch-data';
import { detectDataFormat, needsHdf5, openDataSource } from './variables';

export interface Dataset {
  file: string;
  /** [B,T,Xf] */
  x?: HostTensor;
  /** [B,P] */
  p?: HostTensor;
  xNames?: string[];
  pNames?: string[];
  notes: string[];
  /** The format read (absent for the formats that predate it only when it could not be told). */
  format?: DataFormat;
  /** Which variables of a container file became x and p (their FILE:NAME names). */
  variables?: { x?: string; p?: string };
}

export interface ReadDataOptions {
  /**
   * The variable to read (the NAME of `FILE:NAME`: an .npz member, an HDF5 path, a MATLAB variable
   * or struct field, a torch.save key); its role is `role`, or inferred from its shape.
   */
  variable?: string;
  /** The file's open budget (a fresh one with the default limits otherwise). */
  budget?: OpenBudget;
}

/** What the model expects: Xf = inp_dim_func, P = inp_dim_scalar. */
export interface DataExpect {
  Xf?: number;
  P?: number;
}

const X_NAMES = ['x', 'func_inp'];
const P_NAMES = ['p', 'scalar_inp'];

function extension(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/**
 * Reads a data file — .npy, .npz, .csv, HDF5, MATLAB .mat (v5/v7/v7.3), torch.save data — recognised
 * by its first bytes (then by its extension). `role` says what the caller wants from the file when
 * it knows; otherwise it is inferred and noted. `options.variable` picks one array of the file.
 * HDF5 and MATLAB v7.3 need `loadHdf5()` to have finished (readDataFileAsync sees to it).
 */
export function readDataFile(
  bytes: Uint8Array,
  file: string,
  expect: DataExpect = {},
  role?: CsvRole,
  options: ReadDataOptions = {},
): Dataset {
  return readAny(bytes, file, expect, role, options);
}

/** readDataFile, loading the HDF5 library first when the file is HDF5 or MATLAB v7.3. */
export async function readDataFileAsync(
  bytes: Uint8Array,
  file: string,
  expect: DataExpect = {},
  role?: CsvRole,
  options: ReadDataOptions = {},
): Promise<Dataset> {
  if (needsHdf5(bytes, file)) await loadHdf5();
  return readDataFile(bytes, file, expect, role, options);
}

const CONTAINER_KIND: Partial<Record<DataFormat, string>> = {
  npz: 'array',
  hdf5: 'dataset',
  mat5: 'variable',
  mat73: 'variable',
  torch: 'entry',
};

function readAny(
  bytes: Uint8Array,
  file: string,
  expect: DataExpect,
  role: CsvRole | undefined,
  options: ReadDataOptions,
): Dataset {
  const ext = extension(file);
  const budget = options.budget ?? new OpenBudget(file);
  if (bytes.length === 0) throw new LoadError(file, 'the file is empty');
  const format = detectDataFormat(bytes, file);
  if (ext === 'safetensors' || (format === null && looksLikeSafetensors(bytes)))
    throw new LoadError(file, 'is a model file; load it as the model, not as data');
  if (format === 'torch') {
    const kind = classifyTorchFile(bytes, file, budget);
    if (kind.kind === 'model')
      throw new LoadError(file, `is a model file (${kind.what}); load it as the model, not as data`);
  }
  if (format !== null && format !== 'csv' && format !== 'npy') {
    const source = openDataSource(bytes, file, budget);
    try {
      const kind = CONTAINER_KIND[format]!;
      if (options.variable !== undefined) return fromVariable(source, options.variable, expect, role, kind);
      return {
        ...fromContainer(source.variables(), (n) => source.read(n), file, expect, role, kind),
        format,
      };
    } finally {
      source.close();
    }
  }
  if (format === 'npy') {
    // A .npy holds one unnamed array: the only variable there is to choose.
    if (options.variable !== undefined && options.variable !== '')
      throw new LoadError(
        file,
        `holds one unnamed array; there is no variable '${options.variable}' in a .npy file`,
      );
    return { ...fromNpy(readNpy(bytes, file), file, expect, role), format };
  }
  // Named like a binary format but not one: let that reader say what is wrong.
  if (ext === 'npy') readNpy(bytes, file);
  if (ext === 'npz') readNpz(bytes, file);
  if (ext === 'h5' || ext === 'hdf5' || ext === 'he5')
    throw new LoadError(file, 'is not an HDF5 file (no HDF5 signature at its start or after a user block)');
  if (ext === 'mat') openMat5(bytes, file, budget); // says what it is: Level 4, or not MATLAB at all
  if (ext === 'pt' || ext === 'pth' || ext === 'ckpt')
    throw new LoadError(file, 'is not a torch.save file (torch.save writes a zip archive)');
  if (
    bytes.subarray(0, 4096).includes(0) &&
    !(bytes[0] === 0xff && bytes[1] === 0xfe) &&
    !(bytes[0] === 0xfe && bytes[1] === 0xff)
  )
    throw new LoadError(
      file,
      'is not a data file jacscope reads (.npy, .npz, .csv, .h5/.hdf5, .mat, or torch.save .pt data)',
    );
  if (options.variable !== undefined && options.variable !== '')
    throw new LoadError(file, `is a CSV table; it has no variable '${options.variable}'`);
  return { ...fromCsv(parseCsv(bytes, file), file, expect, role), format: 'csv' };
}

/** One chosen variable of a container: its role given, or inferred from its shape. */
function fromVariable(
  source: DataSource,
  name: string,
  expect: DataExpect,
  role: CsvRole | undefined,
  kind: string,
): Dataset {
  const v = findVariable(source, name);
  const notes: string[] = [];
  const a = assign(source.read(v.name), source.file, `${kind} '${v.name}' `, expect, role, notes);
  if (role === undefined)
    notes.push(`${kind} '${v.name}' read as ${a.role} ${shapeString(a.tensor.shape)} (from its shape)`);
  const out: Dataset = { file: source.file, notes, format: source.format, variables: { [a.role]: v.name } };
  if (a.role === 'x') out.x = a.tensor;
  else out.p = a.tensor;
  return out;
}

/** A safetensors file: an 8-byte little-endian header length, then a JSON header. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 10 || bytes[8] !== 0x7b) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return n + 8n <= BigInt(bytes.length);
}

// ---------------------------------------------------------------------------------------------------

/** Gives one array its role: 3-D → x, 2-D → p (or x of one sample), 1-D → p of one sample. */
function assign(
  t: HostTensor,
  file: string,
  label: string,
  expect: DataExpect,
  role: CsvRole | undefined,
  notes: string[],
): { role: CsvRole; tensor: HostTensor } {
  const fail = (reason: string): never => {
    throw new LoadError(file, `${label}${reason}`);
  };
  const s = t.shape;
  if (isComplex(t.dtype)) fail(`holds complex numbers (${t.dtype}); x and p must be real`);
  const real: HostTensor = { dtype: t.dtype, shape: s, data: t.data };
  if (s.length === 3) {
    if (role === 'p') fail(`is 3-D ${shapeString(s)}; p must be [B,P] (one row of scalars per sample)`);
    return { role: 'x', tensor: real };
  }
  if (s.length === 2) {
    const looksLikeX = expect.Xf !== undefined && s[1] === expect.Xf && s[1] !== expect.P;
    if (role === 'x' && expect.Xf === 1 && s[1] !== 1) {
      notes.push(
        `${label}${shapeString(s)} read as x [${s[0]},${s[1]},1]: ${s[0]} samples of ${s[1]} timesteps with one function input each (Xf = 1)`,
      );
      return { role: 'x', tensor: { ...real, shape: [s[0], s[1], 1] } };
    }
    if (role === 'x' || (role === undefined && looksLikeX)) {
      notes.push(
        `${label}${shapeString(s)} read as one sample x [1,${s[0]},${s[1]}] (T=${s[0]}, Xf=${s[1]})`,
      );
      return { role: 'x', tensor: { ...real, shape: [1, s[0], s[1]] } };
    }
    return { role: 'p', tensor: real };
  }
  if (s.length === 1) {
    if (role === 'x') fail(`is 1-D ${shapeString(s)}; x must be [B,T,Xf]`);
    notes.push(`${label}1-D array of ${s[0]} values read as one sample p [1,${s[0]}]`);
    return { role: 'p', tensor: { ...real, shape: [1, s[0]] } };
  }
  return fail(
    s.length === 0
      ? 'holds a single number; x must be [B,T,Xf] and p [B,P]'
      : `has ${s.length} dimensions ${shapeString(s)}; x must be [B,T,Xf] and p [B,P]`,
  );
}

function fromNpy(t: HostTensor, file: string, expect: DataExpect, role: CsvRole | undefined): Dataset {
  const notes: string[] = [];
  const a = assign(t, file, '', expect, role, notes);
  if (role === undefined) notes.push(`read as ${a.role} ${shapeString(a.tensor.shape)} (from its shape)`);
  return a.role === 'x' ? { file, x: a.tensor, notes } : { file, p: a.tensor, notes };
}

function describe(vars: Map<string, VariableInfo>, names: string[]): string {
  return names.map((n) => `'${n}' ${shapeString(vars.get(n)!.shape)}`).join(', ');
}

/** The last part of an HDF5 path or a dotted name: '/inputs/x' → 'x', 'data.x' → 'x'. */
function baseName(n: string): string {
  const parts = n.split(/[/.]/).filter((p) => p !== '');
  return parts.length ? parts[parts.length - 1] : n;
}
/** The group or struct that holds a variable: '/inputs/x' → '/inputs', 'x' → ''. */
function parentOf(n: string): string {
  const i = Math.max(n.lastIndexOf('/'), n.lastIndexOf('.'));
  return i > 0 ? n.slice(0, i) : '';
}

/**
 * Chooses x and p among the arrays of a container file (.npz members, HDF5 datasets, MATLAB
 * variables, torch.save entries): by name (x/p or func_inp/scalar_inp, also as the last part of a
 * path), else by shape against what the model expects; every guess is noted, and an ambiguous
 * choice is an error listing the candidates. Only the chosen arrays are read.
 */
function fromContainer(
  all: VariableInfo[],
  read: (name: string) => HostTensor,
  file: string,
  expect: DataExpect,
  role: CsvRole | undefined,
  kind: string,
): Dataset {
  const notes: string[] = [];
  const vars = new Map(all.map((v) => [v.name, v]));
  const names = all.map((v) => v.name);
  const numeric = names.filter((n) => vars.get(n)!.dtype !== null);
  const real = (n: string) => !isComplex(vars.get(n)!.dtype!);
  const shape = (n: string) => vars.get(n)!.shape;
  const spec = (n: string) => `${file}:${n}`;

  const named = (candidates: string[], which: CsvRole, near?: string): string | undefined => {
    const exact = candidates.flatMap((c) => numeric.filter((n) => n === c || n === `/${c}`));
    if (exact.length > 0) return exact[0];
    let hits = numeric.filter((n) => candidates.includes(baseName(n)));
    if (hits.length > 1 && near !== undefined) {
      const sib = hits.filter((n) => parentOf(n) === near);
      if (sib.length === 1) hits = sib;
    }
    if (hits.length > 1)
      throw new LoadError(
        file,
        `several ${kind}s are named ${which}: ${describe(vars, hits)}; choose one with FILE:NAME, e.g. ${spec(hits[0])}`,
      );
    return hits[0];
  };
  let xName = named(X_NAMES, 'x');
  let pName = named(P_NAMES, 'p', xName !== undefined ? parentOf(xName) : undefined);

  // Arrays not named x/p (or func_inp/scalar_inp) are chosen by shape against what the model expects.
  const pick = (which: CsvRole, candidates: string[]): string | undefined => {
    if (candidates.length === 1) {
      notes.push(
        `${which} = ${kind} '${candidates[0]}' ${shapeString(shape(candidates[0]))} (chosen by shape)`,
      );
      return candidates[0];
    }
    if (candidates.length > 1)
      throw new LoadError(
        file,
        `several ${kind}s could be ${which}: ${describe(vars, candidates)}; ` +
          (kind === 'array'
            ? 'name them x and p (np.savez(f, x=..., p=...))'
            : `name them x and p, or choose with FILE:NAME (e.g. ${spec(candidates[0])})`),
      );
    return undefined;
  };
  if (xName === undefined) {
    let c = numeric.filter((n) => n !== pName && real(n) && shape(n).length === 3);
    if (expect.Xf !== undefined && c.length > 1) c = c.filter((n) => shape(n)[2] === expect.Xf);
    xName = pick('x', c);
  }
  if (pName === undefined) {
    const B = xName !== undefined ? shape(xName)[0] : undefined;
    let c = numeric.filter((n) => n !== xName && real(n) && [1, 2].includes(shape(n).length));
    const last = (n: string) => shape(n)[shape(n).length - 1];
    if (expect.P !== undefined && c.length > 1) c = c.filter((n) => last(n) === expect.P);
    if (B !== undefined && c.length > 1) c = c.filter((n) => shape(n).length === 2 && shape(n)[0] === B);
    pName = pick('p', c);
  }
  const holds = () => describe(vars, names) || 'nothing';
  if (xName === undefined && pName === undefined)
    throw new LoadError(
      file,
      `has no ${kind} named x/p (or func_inp/scalar_inp) and none shaped like x [B,T,Xf] or p [B,P]; it holds ${holds()}`,
    );
  if (role === 'x' && xName === undefined)
    throw new LoadError(file, `holds no x ${kind}; it holds ${holds()}`);
  if (role === 'p' && pName === undefined)
    throw new LoadError(file, `holds no p ${kind}; it holds ${holds()}`);

  const out: Dataset = { file, notes, variables: {} };
  let pTensor: HostTensor | undefined;
  const pNotes: string[] = [];
  if (pName !== undefined) {
    const a = assign(read(pName), file, `${kind} '${pName}' `, expect, 'p', pNotes);
    pTensor = a.tensor;
  }
  if (xName !== undefined) {
    const t = read(xName);
    // x [B,T] beside p [B,P]: one function input per timestep.
    const xf1 =
      t.shape.length === 2 &&
      pTensor !== undefined &&
      pTensor.shape[0] === t.shape[0] &&
      pTensor.shape[0] > 1 &&
      (expect.Xf === undefined || expect.Xf === 1);
    const a = assign(t, file, `${kind} '${xName}' `, xf1 ? { ...expect, Xf: 1 } : expect, 'x', notes);
    out.x = a.tensor;
    out.variables!.x = xName;
  }
  notes.push(...pNotes);
  if (pTensor !== undefined) {
    out.p = pTensor;
    out.variables!.p = pName;
  }
  const ignored = names.filter((n) => n !== xName && n !== pName);
  if (ignored.length > 0) notes.push(`ignored ${describe(vars, ignored)}`);
  return out;
}

/** x or p for a CSV whose role the caller did not give. */
function guessCsvRole(table: CsvTable, expect: DataExpect): { role: CsvRole; why: string } {
  if (batchColumn(table) >= 0) return { role: 'x', why: "it has a 'batch' column" };
  const cols = table.rows[0].length;
  if (cols === expect.P && cols !== expect.Xf)
    return { role: 'p', why: `it has ${cols} columns, the model's number of scalar inputs` };
  if (cols === expect.Xf && cols !== expect.P)
    return { role: 'x', why: `it has ${cols} columns, the model's number of function inputs` };
  return table.rows.length > cols
    ? { role: 'x', why: `it has more rows (${table.rows.length}) than columns (${cols})` }
    : { role: 'p', why: `it has no more rows (${table.rows.length}) than columns (${cols})` };
}

function fromCsv(table: CsvTable, file: string, expect: DataExpect, role: CsvRole | undefined): Dataset {
  let r = role;
  const guessNotes: string[] = [];
  if (r === undefined) {
    const g = guessCsvRole(table, expect);
    r = g.role;
    guessNotes.push(`read as ${r} because ${g.why}`);
  }
  const d = csvToTensor(table, file, r);
  const notes = [...d.notes, ...guessNotes];
  return r === 'x'
    ? { file, x: d.tensor, xNames: d.names, notes }
    : { file, p: d.tensor, pNames: d.names, notes };
}

// ---------------------------------------------------------------------------------------------------

export interface DatasetCheck {
  /** Number of samples. */
  B: number;
  /** Timesteps (when x is given). */
  T?: number;
  /** Indices of samples whose x and p are all finite: the ones to compute. */
  finite: number[];
  notes: string[];
}

/**
 * Checks x [B,T,Xf] and p [B,P] against the model (Xf, P) and each other (B). Shape problems throw
 * ShapeError with both shapes; NaN/Inf values are reported in `notes` (first position per sample)
 * and those samples are left out of `finite`.
 */
/**
 * Where sample `b`'s values (one row of an array of `shape`, named `name`) first are not finite, as
 * `x[3,10,2] = NaN`; undefined when all are.
 */
export function firstNonFinite(
  values: ArrayLike<number>,
  shape: readonly number[],
  name: string,
  b: number,
): string | undefined {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) continue;
    const idx: number[] = [];
    let rem = i;
    for (let k = shape.length - 1; k >= 1; k--) {
      idx.unshift(rem % shape[k]);
      rem = Math.floor(rem / shape[k]);
    }
    return `${name}[${[b, ...idx].join(',')}] = ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf'}`;
  }
  return undefined;
}

/**
 * The note on the samples left out for NaN or Inf (`bad`: 'sample 3 (x[3,0,1] = NaN)', in order),
 * said before the run, or after it (`done`: data read by rows as it ran).
 */
export function skippedNote(bad: readonly string[], B: number, finiteCount: number, done = false): string {
  const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? `, and ${bad.length - 5} more` : '');
  return (
    `${bad.length} of ${B} sample${B === 1 ? '' : 's'} contain${done ? 'ed' : ''} NaN or Inf and ${done ? 'were' : 'will be'} skipped: ${shown}` +
    (finiteCount === 0 ? `; no sample ${done ? 'was' : 'is'} left to compute` : '')
  );
}

export function checkDataset(
  x: HostTensor | undefined,
  p: HostTensor | undefined,
  expect: DataExpect = {},
): DatasetCheck {
  const fail = (msg: string): never => {
    throw new ShapeError(msg);
  };
  if (!x && !p) fail('no data: neither x nor p is loaded');
  for (const [n, t] of [
    ['x', x],
    ['p', p],
  ] as const)
    if (t && isComplex(t.dtype)) fail(`${n} holds complex numbers (${t.dtype}); it must be real`);

  if (x) {
    if (x.shape.length !== 3)
      fail(`x has shape ${shapeString(x.shape)} but must be [B,T,Xf] (samples, timesteps, features)`);
    const [, T, Xf] = x.shape;
    if (T === 0) fail(`x has shape ${shapeString(x.shape)}: no timesteps`);
    if (expect.Xf !== undefined && Xf !== expect.Xf) {
      const swapped = p && p.shape.length === 2 && Xf === expect.P && p.shape[1] === expect.Xf;
      fail(
        `x has shape ${shapeString(x.shape)}: ${Xf} function features per timestep, but the model expects ${expect.Xf} (inp_dim_func)${swapped ? '; x and p look swapped' : ''}`,
      );
    }
  }
  if (p) {
    if (p.shape.length !== 2)
      fail(`p has shape ${shapeString(p.shape)} but must be [B,P] (samples, scalar inputs)`);
    if (expect.P !== undefined && p.shape[1] !== expect.P)
      fail(
        `p has shape ${shapeString(p.shape)}: ${p.shape[1]} scalar inputs per sample, but the model expects ${expect.P} (inp_dim_scalar)`,
      );
  }
  if (x && p && x.shape[0] !== p.shape[0])
    fail(
      `x has ${x.shape[0]} sample${x.shape[0] === 1 ? '' : 's'} ${shapeString(x.shape)} but p has ${p.shape[0]} ${shapeString(p.shape)}; each sample needs one row of p`,
    );
  const B = (x ?? p)!.shape[0];
  if (B === 0)
    fail(`the data has no samples (${x ? `x ${shapeString(x.shape)}` : `p ${shapeString(p!.shape)}`})`);

  // Finite check per sample; the first bad position of each sample is reported.
  const finite: number[] = [];
  const bad: string[] = [];
  const row = (t: HostTensor, b: number) => {
    const per = t.data.length / t.shape[0];
    return t.data.subarray(b * per, (b + 1) * per);
  };
  for (let b = 0; b < B; b++) {
    const where =
      (x && firstNonFinite(row(x, b), x.shape, 'x', b)) ?? (p && firstNonFinite(row(p, b), p.shape, 'p', b));
    if (where) bad.push(`sample ${b} (${where})`);
    else finite.push(b);
  }
  const notes = bad.length > 0 ? [skippedNote(bad, B, finite.length)] : [];
  return { B, T: x?.shape[1], finite, notes };
}
