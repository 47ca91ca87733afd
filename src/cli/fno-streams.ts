/**
 * x and p of an fno1d-scalar model read by rows (the streamed readers of stream-npy.ts): from --x
 * and --p, or both from --data D.npz (by name, else by rank). Used by the commands whose data need
 * not fit in memory (sensitivity, sobol, and forward/jacobian on large inputs).
 */
import { LoadError, ShapeError } from '../engine/errors';
import { modesProblem, type FnoConfig } from '../engine/models/config';
import { UsageError } from './args';
import type { ArrayStream, StreamFiles } from './stream-npy';

const X_NAMES = ['x', 'func_inp'];
const P_NAMES = ['p', 'scalar_inp'];

/** x and p: --x and --p, or both from --data D.npz (by name, else by rank); p may be left out (`needP`). */
export function fnoStreams(
  files: StreamFiles,
  o: Map<string, string>,
  needP: boolean,
  note: (line: string) => void,
): { x: ArrayStream; p: ArrayStream | null } {
  const data = o.get('data');
  if (data !== undefined) {
    if (o.has('x') || o.has('p')) throw new UsageError('give either --data or --x and --p, not both');
    if (!/\.npz$/i.test(data))
      throw new LoadError(data, '--data takes an .npz holding x and p (np.savez(file, x=x, p=p))');
    const members = files.npz(data);
    const byName = (names: string[]) => names.find((n) => members.has(n));
    let xn = byName(X_NAMES);
    let pn = byName(P_NAMES);
    if (xn === undefined || pn === undefined) {
      const ranks = new Map([...members].map(([n, open]) => [n, open().shape.length]));
      const of = (r: number) => [...ranks].filter(([, k]) => k === r).map(([n]) => n);
      if (xn === undefined && of(3).length === 1) {
        xn = of(3)[0];
        note(`note: ${data}: x = array '${xn}' (the only 3-D one)`);
      }
      if (pn === undefined && of(2).length === 1) {
        pn = of(2)[0];
        note(`note: ${data}: p = array '${pn}' (the only 2-D one)`);
      }
    }
    if (xn === undefined || (needP && pn === undefined))
      throw new LoadError(
        data,
        `holds ${[...members.keys()].join(', ')}: name the arrays x [N,T,Xf] and p [N,P] (np.savez(file, x=x, p=p))`,
      );
    return { x: members.get(xn)!(), p: pn === undefined ? null : members.get(pn)!() };
  }
  const xs = o.get('x');
  const ps = o.get('p');
  if (xs === undefined || (needP && ps === undefined))
    throw new UsageError(`--x${needP ? ' and --p are' : ' is'} required (or --data FILE.npz)`);
  return { x: files.spec(xs), p: ps === undefined ? null : files.spec(ps) };
}

/** x [N,T,Xf] and p [N,P] for this model, their shapes checked (one ShapeError naming the file otherwise). */
export function checkedFnoStreams(
  files: StreamFiles,
  o: Map<string, string>,
  config: FnoConfig,
  note: (line: string) => void,
): { x: ArrayStream; p: ArrayStream; T: number } {
  const { x, p } = fnoStreams(files, o, true, note);
  const { inp_dim_func: Xf, inp_dim_scalar: P } = config;
  if (x.shape.length !== 3 || x.shape[2] !== Xf)
    throw new ShapeError(`${x.label}: x must be [N,T,${Xf}] for this model, got [${x.shape}]`);
  if (p!.shape.length !== 2 || p!.shape[1] !== P)
    throw new ShapeError(`${p!.label}: p must be [N,${P}] for this model, got [${p!.shape}]`);
  if (p!.rows !== x.rows)
    throw new ShapeError(`${x.label} has ${x.rows} samples but ${p!.label} has ${p!.rows}`);
  const T = x.shape[1];
  if (T < 2) throw new ShapeError(`${x.label}: x must have at least 2 time steps, got T = ${T}`);
  const modes = modesProblem(config.modes, T);
  if (modes) throw new LoadError(x.label, modes);
  return { x, p: p!, T };
}
