/**
 * Data files → Dataset {x [B,T,Xf], p [B,P], names, notes} (DESIGN §6), and the check of a dataset
 * against a model. Every guess made here (a role from a shape, an array picked from an .npz, a CSV
 * read as x or p) is written into `notes` so that the UI and the CLI can show it.
 */
import { LoadError, ShapeError } from '../errors';
import { type HostTensor, isComplex, shapeString } from '../tensor';
import { type CsvRole, type CsvTable, batchColumn, csvToTensor, parseCsv } from './csv';
import { readNpy } from './npy';
import { readNpz } from './npz';

export interface Dataset {
  file: string;
  /** [B,T,Xf] */
  x?: HostTensor;
  /** [B,P] */
  p?: HostTensor;
  xNames?: string[];
  pNames?: string[];
  notes: string[];
}

/** What the model expects: Xf = inp_dim_func, P = inp_dim_scalar. */
export interface DataExpect {
  Xf?: number;
  P?: number;
}

const X_NAMES = ['x', 'func_inp'];
const P_NAMES = ['p', 'scalar_inp'];

function startsWith(bytes: Uint8Array, sig: number[]): boolean {
  return sig.every((b, i) => bytes[i] === b);
}

function extension(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(dot + 1).toLowerCase() : '';
}

/**
 * Reads a .npy, .npz or .csv data file, recognised by its first bytes (then by its extension).
 * `role` says what the caller wants from the file when it knows; otherwise it is inferred and noted.
 */
export function readDataFile(
  bytes: Uint8Array,
  file: string,
  expect: DataExpect = {},
  role?: CsvRole,
): Dataset {
  const ext = extension(file);
  if (startsWith(bytes, [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]))
    return fromNpy(readNpy(bytes, file), file, expect, role);
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06]))
    return fromNpz(readNpz(bytes, file), file, expect, role);
  // Named like a binary format but not one: let that reader say what is wrong.
  if (ext === 'npy') readNpy(bytes, file);
  if (ext === 'npz') readNpz(bytes, file);
  if (ext === 'pt' || ext === 'pth' || ext === 'safetensors' || ext === 'ckpt')
    throw new LoadError(file, 'is a model file; load it as the model, not as data');
  if (
    bytes.subarray(0, 4096).includes(0) &&
    !(bytes[0] === 0xff && bytes[1] === 0xfe) &&
    !(bytes[0] === 0xfe && bytes[1] === 0xff)
  )
    throw new LoadError(file, 'is not a data file jacscope reads (.npy, .npz or .csv)');
  return fromCsv(parseCsv(bytes, file), file, expect, role);
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

function describe(arrays: Map<string, HostTensor>, names: string[]): string {
  return names.map((n) => `'${n}' ${shapeString(arrays.get(n)!.shape)}`).join(', ');
}

function fromNpz(
  arrays: Map<string, HostTensor>,
  file: string,
  expect: DataExpect,
  role: CsvRole | undefined,
): Dataset {
  const notes: string[] = [];
  const all = [...arrays.keys()];
  const named = (candidates: string[]) => candidates.find((n) => arrays.has(n));
  let xName = named(X_NAMES);
  let pName = named(P_NAMES);
  const real = (n: string) => !isComplex(arrays.get(n)!.dtype);

  // Arrays not named x/p (or func_inp/scalar_inp) are chosen by shape against what the model expects.
  const pick = (which: CsvRole, candidates: string[]): string | undefined => {
    if (candidates.length === 1) {
      notes.push(
        `${which} = array '${candidates[0]}' ${shapeString(arrays.get(candidates[0])!.shape)} (chosen by shape)`,
      );
      return candidates[0];
    }
    if (candidates.length > 1)
      throw new LoadError(
        file,
        `several arrays could be ${which}: ${describe(arrays, candidates)}; name them x and p (np.savez(f, x=..., p=...))`,
      );
    return undefined;
  };
  if (xName === undefined) {
    let c = all.filter((n) => n !== pName && real(n) && arrays.get(n)!.shape.length === 3);
    if (expect.Xf !== undefined && c.length > 1) c = c.filter((n) => arrays.get(n)!.shape[2] === expect.Xf);
    xName = pick('x', c);
  }
  if (pName === undefined) {
    const B = xName !== undefined ? arrays.get(xName)!.shape[0] : undefined;
    let c = all.filter((n) => n !== xName && real(n) && [1, 2].includes(arrays.get(n)!.shape.length));
    const last = (n: string) => arrays.get(n)!.shape[arrays.get(n)!.shape.length - 1];
    if (expect.P !== undefined && c.length > 1) c = c.filter((n) => last(n) === expect.P);
    if (B !== undefined && c.length > 1)
      c = c.filter((n) => arrays.get(n)!.shape.length === 2 && arrays.get(n)!.shape[0] === B);
    pName = pick('p', c);
  }
  if (xName === undefined && pName === undefined)
    throw new LoadError(
      file,
      `has no array named x/p (or func_inp/scalar_inp) and none shaped like x [B,T,Xf] or p [B,P]; it holds ${describe(arrays, all)}`,
    );
  if (role === 'x' && xName === undefined)
    throw new LoadError(file, `holds no x array; it holds ${describe(arrays, all)}`);
  if (role === 'p' && pName === undefined)
    throw new LoadError(file, `holds no p array; it holds ${describe(arrays, all)}`);

  const out: Dataset = { file, notes };
  if (xName !== undefined) {
    const a = assign(arrays.get(xName)!, file, `array '${xName}' `, expect, 'x', notes);
    out.x = a.tensor;
  }
  if (pName !== undefined) {
    const a = assign(arrays.get(pName)!, file, `array '${pName}' `, expect, 'p', notes);
    out.p = a.tensor;
  }
  const ignored = all.filter((n) => n !== xName && n !== pName);
  if (ignored.length > 0) notes.push(`ignored ${describe(arrays, ignored)}`);
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
  const firstBad = (t: HostTensor, b: number, name: string): string | undefined => {
    const per = t.data.length / t.shape[0];
    for (let i = b * per; i < (b + 1) * per; i++) {
      const v = t.data[i];
      if (!Number.isFinite(v)) {
        const idx: number[] = [];
        let rem = i;
        for (let k = t.shape.length - 1; k >= 0; k--) {
          idx.unshift(rem % t.shape[k]);
          rem = Math.floor(rem / t.shape[k]);
        }
        return `${name}[${idx.join(',')}] = ${Number.isNaN(v) ? 'NaN' : v > 0 ? 'Inf' : '-Inf'}`;
      }
    }
    return undefined;
  };
  for (let b = 0; b < B; b++) {
    const where = (x && firstBad(x, b, 'x')) ?? (p && firstBad(p, b, 'p'));
    if (where) bad.push(`sample ${b} (${where})`);
    else finite.push(b);
  }
  const notes: string[] = [];
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).join(', ') + (bad.length > 5 ? `, and ${bad.length - 5} more` : '');
    notes.push(
      `${bad.length} of ${B} sample${B === 1 ? '' : 's'} contain NaN or Inf and will be skipped: ${shown}` +
        (finite.length === 0 ? '; no sample is left to compute' : ''),
    );
  }
  return { B, T: x?.shape[1], finite, notes };
}
