/**
 * `jacscope sobol`: first-order and total Sobol' indices of every output element with respect to
 * every p-feature, p drawn from the distributions of D.json (Saltelli's design on scrambled
 * Sobol' points), every other input fixed at one sample of the data (`--sample b`, default 0). The
 * model runs as batched forward passes; the exact Jacobians at the A rows give the DGSM upper bound
 * of each total index. `--shard i/n` computes a contiguous range of base rows and writes a partial
 * result for `jacscope merge`.
 */
import {
  type Distribution,
  type SobolResult,
  centreOf,
  defaultDistributions,
  parseDistributions,
  sobolPartial,
  sobolPartialToJSON,
  finalizeSobol,
} from '../../engine/analysis/sobol';
import { LoadError, ShapeError } from '../../engine/errors';
import { sobolDocument } from '../../engine/analysis/sobol/result-json';
import { readDataFile } from '../../engine/io/dataset';
import { modesProblem } from '../../engine/models/config';
import type { InputArray } from '../../engine/models/graph-model';
import { allowOnly, required, UsageError, type ParsedArgs } from '../args';
import { cliBackend, graphCpu, parseThreads } from '../backend';
import { readBytes, writeAtomic } from '../files';
import { loadAnyModel, type AnyModel } from '../load';
import { type ArrayStream, StreamFiles, loadHdf5For } from '../stream-npy';
import {
  axesOf,
  hashBytes,
  hashFloats,
  intOption,
  outKind,
  progressLine,
  shardOption,
  writeJson,
  writeLongCsv,
} from '../analysis-common';
import { fnoStreams } from '../fno-streams';
import { graphStreams } from './sensitivity';

const OPTIONS = [
  'model',
  'config',
  'x',
  'p',
  'data',
  'input',
  'wrt',
  'output',
  'sample',
  'dist',
  'n',
  'seed',
  'sampling',
  'threads',
  'shard',
  'out',
  'dgsm',
  'chunk',
];

export { SOBOL_FORMAT } from '../../engine/analysis/sobol/result-json';
/** Base rows N by default: N·(P+2) model evaluations. */
export const DEFAULT_N = 1024;

type Out = Float64Array | Float32Array;

/** The model with every input but p fixed at one sample, as the Sobol' run calls it. */
interface Fixed {
  P: number;
  /** p of the data file, for the default distributions (null without one). */
  p: { data: Float64Array; B: number; label: string } | null;
  /** Values per evaluation besides p: the fixed inputs (and the output, when known): sizes the chunks. */
  fixedValues: number;
  id: string;
  on: string;
  evaluate(p: Float64Array, n: number): Promise<Out>;
  jacobian(p: Float64Array, n: number): Promise<Out>;
  /** One sample's output shape, from one evaluation at p when the model does not say. */
  outShape(p: Float64Array): Promise<number[]>;
  dispose(): void;
}

/** `n` copies of one sample's row. */
function repeat(row: Float64Array, n: number): Float64Array {
  const out = new Float64Array(row.length * n);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

/** The whole of a (small) p array: streamed when .npy/.npz, else through the data readers. */
function readP(
  files: StreamFiles,
  s: ArrayStream | null,
): { data: Float64Array; B: number; label: string } | null {
  if (!s) return null;
  // p [P] is one sample.
  if (s.shape.length === 1) return { data: s.readRows(0, s.rows), B: 1, label: s.label };
  if (s.shape.length !== 2) throw new ShapeError(`${s.label}: p must be [B,P], got [${s.shape}]`);
  return { data: s.readRows(0, s.rows), B: s.rows, label: s.label };
}

function checkSample(s: ArrayStream, b: number): void {
  if (b >= s.rows)
    throw new UsageError(
      `--sample ${b}: ${s.label} has ${s.rows} sample${s.rows === 1 ? '' : 's'} (0…${s.rows - 1})`,
    );
}

async function fnoFixed(
  args: ParsedArgs,
  m: Extract<AnyModel, { kind: 'fno1d-scalar' }>,
  files: StreamFiles,
  b: number,
  threads: number,
  note: (line: string) => void,
): Promise<Fixed> {
  for (const k of ['input', 'wrt', 'output'])
    if (args.options.has(k) || args.lists.has(k))
      throw new UsageError(`--${k} applies to TorchScript models; ${m.file} is bare fno1d-scalar weights`);
  const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = m.config;
  const o = args.options;
  let xRow: Float64Array;
  let T: number;
  let label: string;
  let pAll: Fixed['p'] = null;
  const streamable = (f: string | undefined) =>
    f === undefined || /\.(npy|npz)(:[^/\\]+)?$/i.test(f) || /\.(h5|hdf5)(:.+)?$/i.test(f);
  if (o.has('data') || (streamable(o.get('x')) && streamable(o.get('p')))) {
    const { x, p } = fnoStreams(files, o, false, note);
    label = x.label;
    if (x.shape.length === 2 && x.shape[1] === Xf) {
      // x [T,Xf] is one sample.
      if (b > 0) throw new UsageError(`--sample ${b}: ${x.label} holds one sample [T,Xf] (sample 0)`);
      xRow = x.readRows(0, x.rows);
      T = x.shape[0];
    } else {
      if (x.shape.length !== 3 || x.shape[2] !== Xf)
        throw new ShapeError(`${x.label}: x must be [B,T,${Xf}] for this model, got [${x.shape}]`);
      checkSample(x, b);
      xRow = x.readRows(b, 1);
      T = x.shape[1];
    }
    pAll = readP(files, p);
  } else {
    // .csv and the other formats: read whole (x is one sample's worth in practice).
    const xf = required(args, 'x');
    const d = readDataFile(readBytes(xf), xf, { Xf, P }, 'x');
    if (!d.x) throw new LoadError(xf, 'holds no x array [B,T,Xf]');
    const [B, TT, XF] = d.x.shape;
    if (XF !== Xf) throw new ShapeError(`${xf}: x must be [B,T,${Xf}] for this model, got [${d.x.shape}]`);
    if (b >= B) throw new UsageError(`--sample ${b}: ${xf} has ${B} samples (0…${B - 1})`);
    T = TT;
    xRow = d.x.data.slice(b * T * Xf, (b + 1) * T * Xf);
    label = xf;
    const pf = o.get('p');
    if (pf !== undefined) {
      const dp = readDataFile(readBytes(pf), pf, { Xf, P }, 'p');
      if (!dp.p) throw new LoadError(pf, 'holds no p array [B,P]');
      pAll = { data: dp.p.data, B: dp.p.shape[0], label: pf };
    }
  }
  if (pAll && pAll.data.length !== pAll.B * P)
    throw new ShapeError(`${pAll.label}: p must be [B,${P}] for this model`);
  for (let i = 0; i < xRow.length; i++)
    if (!Number.isFinite(xRow[i]))
      throw new ShapeError(`${label}: sample ${b} holds ${xRow[i]}; choose another --sample`);
  if (T < 2) throw new ShapeError(`${label}: x must have at least 2 time steps, got T = ${T}`);
  const modes = modesProblem(m.config.modes, T);
  if (modes) throw new LoadError(label, modes);
  const { backend } = await cliBackend('cpu', m, threads);
  return {
    P,
    p: pAll,
    fixedValues: T * Xf + T * O,
    id: JSON.stringify({ model: hashBytes(readBytes(m.file)), x: hashFloats(xRow), T }),
    on: `cpu, ${threads} thread${threads > 1 ? 's' : ''}`,
    evaluate: (p, n) => backend.forward(repeat(xRow, n), p, n, T),
    jacobian: (p, n) => backend.jacobian(repeat(xRow, n), p, n, T),
    outShape: async () => [T, O],
    dispose: () => backend.dispose(),
  };
}

async function graphFixed(
  args: ParsedArgs,
  m: Extract<AnyModel, { kind: 'torchscript' }>,
  files: StreamFiles,
  b: number,
  threads: number,
): Promise<Fixed> {
  if (args.options.has('config')) throw new UsageError('--config applies to bare weights, not TorchScript');
  const g = await import('../graph-model');
  const model = g.graphModelOf(m);
  const names = model.tensorArgs();
  const wrt = model.wrtArg(args.options.get('wrt'));
  const output = g.parseOutputIndex(args.options.get('output'));
  const streams = graphStreams(files, args, names, wrt, [wrt]);
  const pStream = streams.get(wrt) ?? null;
  streams.delete(wrt);
  const rows = new Map<string, { shape: number[]; row: Float64Array }>();
  const ids: Record<string, string> = {};
  for (const [name, s] of streams) {
    checkSample(s, b);
    const row = s.readRows(b, 1);
    for (let i = 0; i < row.length; i++)
      if (!Number.isFinite(row[i]))
        throw new ShapeError(`${s.label}: sample ${b} holds ${row[i]}; choose another --sample`);
    rows.set(name, { shape: s.shape.slice(1), row });
    ids[name] = hashFloats(row);
  }
  const pAll = readP(files, pStream);
  const inputs = (p: Float64Array, n: number, P: number) => {
    const map = new Map<string, InputArray>();
    for (const name of names) {
      if (name === wrt) map.set(name, { shape: [n, P], data: p });
      else {
        const r = rows.get(name)!;
        map.set(name, { shape: [n, ...r.shape], data: repeat(r.row, n) });
      }
    }
    return map;
  };
  const labels = [...streams.values()].map((s) => s.label);
  const run = async <R>(f: () => Promise<R>): Promise<R> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ShapeError)
        throw new ShapeError(`${labels.length ? `${labels.join(', ')}: ` : ''}${e.message}`);
      throw e;
    }
  };
  const cpu = await graphCpu(model, m, threads);
  const fixed: Fixed = {
    P: pAll ? pAll.data.length / pAll.B : 0,
    p: pAll,
    fixedValues: [...rows.values()].reduce((a, r) => a + r.row.length, 0),
    id: JSON.stringify({ model: hashBytes(m.bytes), wrt, output: output ?? null, inputs: ids }),
    on: cpu.on,
    async evaluate(p, n) {
      return (await run(() => cpu.forward(inputs(p, n, fixed.P), { wrt, output }))).y;
    },
    async jacobian(p, n) {
      return (await run(() => cpu.evaluate(inputs(p, n, fixed.P), { wrt, output }))).J!;
    },
    async outShape(p) {
      return (await run(async () => model.forward(inputs(p, 1, fixed.P), { wrt, output }))).yShape.slice(1);
    },
    dispose: () => cpu.dispose(),
  };
  return fixed;
}

/** The distributions: D.json (checked, errors naming the file), else the default from p. */
function distributions(
  distPath: string | undefined,
  P: number | null,
  p: Fixed['p'],
  note: (line: string) => void,
): Distribution[] {
  if (distPath !== undefined) {
    const text = new TextDecoder().decode(readBytes(distPath));
    if (/(^|[^A-Za-z"'])(NaN|-?Infinity)([^A-Za-z"']|$)/.test(text))
      throw new LoadError(
        distPath,
        'holds NaN or Infinity: every bound, mean and std must be a finite number',
      );
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new LoadError(distPath, `not valid JSON (${(e as Error).message})`);
    }
    if (value && typeof value === 'object' && !Array.isArray(value) && 'distributions' in value)
      value = (value as { distributions: unknown }).distributions;
    try {
      return parseDistributions(value, P ?? (Array.isArray(value) ? value.length : 0));
    } catch (e) {
      if (e instanceof ShapeError) throw new LoadError(distPath, e.message);
      throw e;
    }
  }
  if (!p)
    throw new UsageError(
      '--dist D.json is needed (one {"dist":"uniform","low":a,"high":b} or {"dist":"normal","mean":m,"std":s} per feature), or --p P.npy for the default',
    );
  const d = defaultDistributions(p.data, p.B, p.data.length / p.B);
  if (p.B === 1) note(`note: no --dist: each feature uniform over p ± 10% of the one sample in ${p.label}`);
  else {
    const P = d.length;
    let fixed = 0;
    for (let k = 0; k < P; k++) {
      let same = true;
      for (let b = 1; b < p.B && same; b++) same = p.data[b * P + k] === p.data[k];
      if (same) fixed++;
    }
    note(
      `note: no --dist: each feature uniform over its min…max over the ${p.B} samples of ${p.label}${fixed ? ` (${fixed} constant feature${fixed > 1 ? 's' : ''}: p ± 10%)` : ''}`,
    );
  }
  return d;
}

/** The result as S.json (nested arrays shaped [...outShape, P]) or S.csv (long format). */
export function writeSobolResult(path: string, r: SobolResult): void {
  const shape = [...r.outShape, r.P];
  const axes = axesOf(r.outShape);
  if (outKind(path, false) === 'csv') {
    const d = r.dgsm;
    writeLongCsv(path, axes, shape, [
      ['S1', r.S1],
      ['S1_conf', r.S1_conf],
      ['ST', r.ST],
      ['ST_conf', r.ST_conf],
      ...(d
        ? ([
            ['nu', d.nu],
            ['dgsm_bound', d.bound],
            ['dgsm_bound_conf', d.bound_conf],
            ['exceeds_bound', d.exceeds],
          ] as [string, ArrayLike<number>][])
        : []),
    ]);
    return;
  }
  writeJson(path, sobolDocument(r));
}

/** `jacscope sobol`. */
export async function sobol(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  allowOnly(args, OPTIONS);
  const o = args.options;
  const outPath = required(args, 'out');
  const shard = shardOption(o.get('shard'));
  outKind(outPath, shard !== undefined);
  const N = intOption('n', o.get('n'), DEFAULT_N, 2);
  const seed = intOption('seed', o.get('seed'), 0, 0, Number.MAX_SAFE_INTEGER);
  const b = intOption('sample', o.get('sample'), 0, 0);
  const sampling = o.get('sampling') ?? 'sobol';
  if (sampling !== 'sobol' && sampling !== 'random')
    throw new UsageError(`--sampling must be sobol or random, got '${sampling}'`);
  const dgsmOpt = o.get('dgsm') ?? 'on';
  if (dgsmOpt !== 'on' && dgsmOpt !== 'off')
    throw new UsageError(`--dgsm must be on or off, got '${dgsmOpt}'`);
  const threads = parseThreads(o.get('threads'));
  if (shard && shard.count > N)
    throw new UsageError(
      `--shard ${shard.index + 1}/${shard.count}: ${N} base rows cannot be split into ${shard.count} shards`,
    );
  const loaded = await loadAnyModel(required(args, 'model'), o.get('config'));
  await loadHdf5For(args);
  const files = new StreamFiles();
  let fixed: Fixed | undefined;
  try {
    fixed =
      loaded.kind === 'torchscript'
        ? await graphFixed(args, loaded, files, b, threads)
        : await fnoFixed(args, loaded, files, b, threads, note);
    const known = loaded.kind === 'torchscript' ? (fixed.p ? fixed.P : null) : fixed.P;
    const dists = distributions(o.get('dist'), known, fixed.p, note);
    fixed.P = dists.length;
    const P = dists.length;
    // Base rows per batched call: (P+2)·rows evaluations whose inputs and outputs stay near 64 MB.
    const perEval = Math.max(fixed.fixedValues + P, 1);
    const chunkRows = intOption(
      'chunk',
      o.get('chunk'),
      Math.max(1, Math.min(64, Math.floor(2 ** 23 / ((P + 2) * perEval)))),
    );
    const f = fixed;
    const t0 = performance.now();
    let outShape: number[];
    try {
      outShape = await f.outShape(Float64Array.from(dists, centreOf));
    } catch (e) {
      // A TorchScript model's P is only known from D.json: say so when the count does not fit it.
      if (loaded.kind === 'torchscript' && !f.p && e instanceof Error && o.has('dist'))
        throw new LoadError(
          o.get('dist')!,
          `${P} distributions, but the model does not run on p [1,${P}] (${e.message.split('\n')[0]}): give one per feature`,
        );
      throw e;
    }
    if (outShape.length === 0)
      throw new ShapeError(
        "the model's output has no axis besides the batch: Sobol' indices need y [B,O] or [B,T,O]",
      );
    const partial = await sobolPartial(
      { N, distributions: dists, seed, sampling, model: f.id },
      {
        evaluate: (p, n) => f.evaluate(p, n),
        jacobian: dgsmOpt === 'on' ? (p, n) => f.jacobian(p, n) : undefined,
        outShape,
        shard,
        chunkRows,
        onProgress: progressLine("Sobol'", 'base rows'),
      },
    );
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    const what = `${partial.evaluations + partial.centreEvaluations} forward passes${partial.jacobians ? ` and ${partial.jacobians} Jacobians` : ''}`;
    if (shard) {
      const text = sobolPartialToJSON(partial);
      writeAtomic(outPath, (w) => w(text));
      const [a, z] = partial.ranges[0] ?? [0, 0];
      log(
        `partial Sobol' indices, base rows ${a}–${z - 1} of ${N} (shard ${shard.index + 1}/${shard.count}) → ${outPath} (${what} in ${secs} s on ${f.on}); combine the shards with jacscope merge`,
      );
      return;
    }
    const r = finalizeSobol(partial);
    writeSobolResult(outPath, r);
    log(
      `Sobol' indices [${[...r.outShape, P]}] from N = ${N} → ${outPath} (${what} in ${secs} s on ${f.on})`,
    );
  } finally {
    fixed?.dispose();
    files.close();
  }
}
