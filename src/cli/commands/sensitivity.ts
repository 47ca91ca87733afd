/**
 * `jacscope sensitivity`: the derivative-based measures (ν = mean J², the normalised index
 * ν·Var(p)/Var(y), the elasticity |J·p/y|) over a dataset streamed from disk in chunks — rows read
 * at their offsets, J computed per chunk, summed and dropped — so memory does not grow with the
 * number of samples. `--shard i/n` computes a contiguous range of rows and writes a partial result
 * that `jacscope merge` combines with the others into exactly the single run's result.
 *
 * The elasticity skips outputs near 0 relative to max|y| over the WHOLE dataset: a forward pass
 * over every row finds that maximum first (also in each shard, since a shard cannot know the others'
 * rows), unless `--ymax FILE` gives it (written by `--pass ymax` runs, sharded and merged like the rest).
 */
import { LoadError, ShapeError } from '../../engine/errors';
import {
  STREAMING_PARTIAL_FORMAT,
  StreamingSensitivity,
  type StreamingResult,
  absMaxOfOutputs,
} from '../../engine/analysis/streaming';
import { allowOnly, required, UsageError, type ParsedArgs } from '../args';
import { cliBackend, graphCpu, parseThreads } from '../backend';
import { readBytes } from '../files';
import { loadAnyModel, type AnyModel } from '../load';
import { checkedFnoStreams } from '../fno-streams';
import { type ArrayStream, StreamFiles, loadHdf5For } from '../stream-npy';
import {
  hashBytes,
  intOption,
  nest,
  outKind,
  progressLine,
  shardOption,
  shardRange,
  writeJson,
  writeLongCsv,
} from '../analysis-common';
import { writeAtomic } from '../files';

const OPTIONS = [
  'model',
  'config',
  'x',
  'p',
  'data',
  'input',
  'wrt',
  'output',
  'shard',
  'chunk',
  'threads',
  'out',
  'pass',
  'ymax',
];

export const SENSITIVITY_FORMAT = 'jacscope-sensitivity';
export const YMAX_PARTIAL_FORMAT = 'jacscope-ymax-partial';

/** One chunk of samples with its model outputs. */
interface Chunk {
  x: Float64Array | null;
  p: Float64Array;
  y: Float64Array;
  J: Float64Array;
}

/** A dataset on disk and the model that runs on it, a chunk of rows at a time. */
interface Source {
  /** Samples in the dataset. */
  N: number;
  P: number;
  /** One sample's output: [T, O] or [O]. */
  outShape: number[];
  /** Values of the inputs per sample (for the chunk size). */
  inputValues: number;
  /** Identifies the model file, what is differentiated and the data's shapes: checked on merge. */
  id: string;
  /** What computed: for the last line. */
  on: string;
  forward(start: number, count: number): Promise<Float64Array>;
  evaluate(start: number, count: number): Promise<Chunk>;
  dispose(): void;
}

/** The id of a run: JSON, so that `merge` can read N back to check that every row was covered. */
function runId(modelPath: string, N: number, extra: Record<string, unknown>): string {
  return JSON.stringify({ model: hashBytes(readBytes(modelPath)), N, ...extra });
}

/** N and one sample's output shape from a run id (null when the id is not one of ours). */
export function idInfo(id: string): { N: number; out: number[] } | null {
  try {
    const o = JSON.parse(id);
    return Number.isSafeInteger(o?.N) && Array.isArray(o?.out) ? { N: o.N, out: o.out } : null;
  } catch {
    return null;
  }
}

/** Rows [start, start+count) of each stream, all finite (a ShapeError naming the first bad value). */
function readChecked(s: ArrayStream, start: number, count: number): Float64Array {
  const v = s.readRows(start, count);
  for (let i = 0; i < v.length; i++)
    if (!Number.isFinite(v[i]))
      throw new ShapeError(
        `${s.label}: sample ${start + Math.floor(i / s.rowValues)} holds ${v[i]}; sensitivity needs finite data (drop or fix that sample)`,
      );
  return v;
}

/** fno1d-scalar: x [N,T,Xf] and p [N,P] streamed; the CPU backend, helper threads when --threads > 1. */
async function fnoSource(
  args: ParsedArgs,
  m: Extract<AnyModel, { kind: 'fno1d-scalar' }>,
  files: StreamFiles,
  threads: number,
  note: (line: string) => void,
): Promise<Source> {
  for (const k of ['input', 'wrt', 'output'])
    if (args.options.has(k) || args.lists.has(k))
      throw new UsageError(`--${k} applies to TorchScript models; ${m.file} is bare fno1d-scalar weights`);
  const { x, p, T } = checkedFnoStreams(files, args.options, m.config, note);
  const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = m.config;
  const selected = await cliBackend('cpu', m, threads);
  const backend = selected.backend;
  const read = (start: number, count: number) => ({
    xs: readChecked(x, start, count),
    ps: readChecked(p!, start, count),
  });
  return {
    N: x.rows,
    P,
    outShape: [T, O],
    inputValues: T * Xf + P,
    id: runId(m.file, x.rows, { out: [T, O], x: x.shape, p: p!.shape }),
    on: `cpu, ${threads} thread${threads > 1 ? 's' : ''}`,
    async forward(start, count) {
      const { xs, ps } = read(start, count);
      return backend.forward(xs, ps, count, T);
    },
    async evaluate(start, count) {
      const { xs, ps } = read(start, count);
      const { y, J } = await backend.evaluate(xs, ps, count, T);
      return { x: xs, p: ps, y, J: J as Float64Array };
    },
    dispose: () => backend.dispose(),
  };
}

/** A TorchScript model: each tensor argument streamed from its file; the graph engine on one thread. */
async function graphSource(
  args: ParsedArgs,
  m: Extract<AnyModel, { kind: 'torchscript' }>,
  files: StreamFiles,
  threads: number,
): Promise<Source> {
  if (args.options.has('config')) throw new UsageError('--config applies to bare weights, not TorchScript');
  const g = await import('../graph-model');
  const model = g.graphModelOf(m);
  const names = model.tensorArgs();
  const wrt = model.wrtArg(args.options.get('wrt'));
  const output = g.parseOutputIndex(args.options.get('output'));
  const streams = graphStreams(files, args, names, wrt);
  const p = streams.get(wrt)!;
  if (p.shape.length !== 2) throw new ShapeError(`${p.label}: p ('${wrt}') must be [N,P], got [${p.shape}]`);
  const N = p.rows;
  for (const s of streams.values())
    if (s.rows !== N) throw new ShapeError(`${s.label} has ${s.rows} samples but ${p.label} has ${N}`);
  const P = p.shape[1];
  const inputs = (start: number, count: number) =>
    new Map(
      [...streams].map(([name, s]) => [
        name,
        { shape: [count, ...s.shape.slice(1)], data: readChecked(s, start, count) },
      ]),
    );
  const run = async <R>(start: number, count: number, f: () => R | Promise<R>): Promise<R> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ShapeError)
        throw new ShapeError(`${[...streams.values()].map((s) => s.label).join(', ')}: ${e.message}`);
      throw e;
    }
  };
  const opts = { wrt, output };
  const first = N > 0 ? await run(0, 1, () => model.forward(inputs(0, 1), opts)) : null;
  const cpu = await graphCpu(model, m, threads);
  const outShape = first ? first.yShape.slice(1) : [];
  if (first && (outShape.length < 1 || outShape.length > 2))
    throw new ShapeError(
      `the model's output is [${first.yShape}] per batch: sensitivity needs [B,O] or [B,T,O] (choose a tuple element with --output)`,
    );
  return {
    N,
    P,
    outShape,
    inputValues: [...streams.values()].reduce((a, s) => a + s.rowValues, 0),
    id: runId(m.file, N, {
      out: outShape,
      wrt,
      output: output ?? null,
      inputs: Object.fromEntries([...streams].map(([k, s]) => [k, s.shape])),
    }),
    on: cpu.on,
    async forward(start, count) {
      return (await run(start, count, () => cpu.forward(inputs(start, count), opts))).y;
    },
    async evaluate(start, count) {
      const ins = inputs(start, count);
      const r = await run(start, count, () => cpu.evaluate(ins, opts));
      return { x: null, p: ins.get(wrt)!.data, y: r.y, J: r.J! };
    },
    dispose: () => cpu.dispose(),
  };
}

/** The streams of a TorchScript model's tensor arguments: --x, --p, --input NAME=FILE, --data D.npz. */
export function graphStreams(
  files: StreamFiles,
  args: ParsedArgs,
  names: string[],
  wrt: string,
  optional: string[] = [],
): Map<string, ArrayStream> {
  const specs = new Map<string, string>();
  const set = (name: string, spec: string, how: string) => {
    if (!names.includes(name))
      throw new UsageError(
        `${how}: the model has no tensor argument '${name}' (its arguments: ${names.join(', ')})`,
      );
    if (specs.has(name)) throw new UsageError(`${how}: '${name}' is given twice`);
    specs.set(name, spec);
  };
  const x = args.options.get('x');
  if (x !== undefined) set(names[0], x, '--x');
  const p = args.options.get('p');
  if (p !== undefined) set(wrt, p, '--p');
  for (const spec of args.lists.get('input') ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) throw new UsageError(`--input takes NAME=FILE, got '${spec}'`);
    set(spec.slice(0, eq), spec.slice(eq + 1), '--input');
  }
  const out = new Map<string, ArrayStream>();
  for (const [name, spec] of specs) out.set(name, files.spec(spec));
  const data = args.options.get('data');
  if (data !== undefined) {
    if (!/\.npz$/i.test(data))
      throw new LoadError(data, '--data takes an .npz holding the arguments by name');
    const members = files.npz(data);
    for (const name of names) {
      if (out.has(name)) continue;
      const key = [name, name === names[0] ? 'x' : '', name === wrt ? 'p' : ''].find(
        (k) => k && members.has(k),
      );
      if (key !== undefined) out.set(name, members.get(key)!());
    }
  }
  const missing = names.filter((n) => !out.has(n) && !optional.includes(n));
  if (missing.length)
    throw new UsageError(
      `no data for the model's argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (give --input NAME=FILE)`,
    );
  return out;
}

/** max |y| per output over rows [start, end). */
async function maxPass(
  src: Source,
  start: number,
  end: number,
  chunk: number,
  O: number,
  what: string,
): Promise<Float64Array> {
  const progress = progressLine(what, 'samples');
  let max: Float64Array = new Float64Array(O);
  for (let b = start; b < end; b += chunk) {
    const n = Math.min(chunk, end - b);
    const y = await src.forward(b, n);
    try {
      max = absMaxOfOutputs(y, O, max);
    } catch (e) {
      if (e instanceof ShapeError) throw new ShapeError(`samples ${b}–${b + n - 1}: ${e.message}`);
      throw e;
    }
    progress?.(b + n - start, end - start);
  }
  return max;
}

interface YmaxPartial {
  model: string;
  N: number;
  O: number;
  ranges: [number, number][];
  yAbsMax: Float64Array;
}

/** Read a `--pass ymax` result (a LoadError naming the file otherwise). */
export function parseYmax(text: string, file: string): YmaxPartial {
  const fail = (why: string): never => {
    throw new LoadError(file, why);
  };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (o?.format !== YMAX_PARTIAL_FORMAT) fail(`not a max|y| result (no "format": "${YMAX_PARTIAL_FORMAT}")`);
  if (o.version !== 1) fail(`version ${String(o.version)} is not supported (1 is)`);
  const N = o.N as number;
  const O = o.O as number;
  if (!Number.isSafeInteger(N) || N < 1 || !Number.isSafeInteger(O) || O < 1)
    fail('N and O must be positive integers');
  const y = o.yAbsMax;
  if (
    !Array.isArray(y) ||
    y.length !== O ||
    !y.every((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)
  )
    fail(`yAbsMax must be ${O} finite non-negative numbers`);
  const r = o.ranges;
  if (
    !Array.isArray(r) ||
    !r.every(
      (x) =>
        Array.isArray(x) && x.length === 2 && Number.isInteger(x[0]) && x[0] >= 0 && x[1] > x[0] && x[1] <= N,
    )
  )
    fail(`ranges must be [start, end] pairs within 0…${N}`);
  if (typeof o.model !== 'string') fail('model must be a string');
  return {
    model: o.model as string,
    N,
    O,
    ranges: (r as number[][]).map((x) => [x[0], x[1]]),
    yAbsMax: Float64Array.from(y as number[]),
  };
}

export function ymaxJSON(p: YmaxPartial): Record<string, unknown> {
  return {
    format: YMAX_PARTIAL_FORMAT,
    version: 1,
    model: p.model,
    N: p.N,
    O: p.O,
    ranges: p.ranges,
    yAbsMax: Array.from(p.yAbsMax),
  };
}

/** Several `--pass ymax` results of one dataset combined: the maximum, the rows' union. */
export function mergeYmax(parts: YmaxPartial[], files: string[]): YmaxPartial {
  const first = parts[0];
  const ranges: { r: [number, number]; f: string }[] = [];
  const max = new Float64Array(first.O);
  parts.forEach((p, i) => {
    if (p.model !== first.model || p.N !== first.N || p.O !== first.O)
      throw new ShapeError(`cannot merge: ${files[i]} comes from another model or dataset than ${files[0]}`);
    for (let o = 0; o < p.O; o++) max[o] = Math.max(max[o], p.yAbsMax[o]);
    for (const r of p.ranges) ranges.push({ r, f: files[i] });
  });
  ranges.sort((a, b) => a.r[0] - b.r[0]);
  const merged: [number, number][] = [];
  for (let i = 0; i < ranges.length; i++) {
    if (i > 0 && ranges[i].r[0] < ranges[i - 1].r[1])
      throw new ShapeError(
        `cannot merge: ${ranges[i - 1].f} and ${ranges[i].f} both cover samples from ${ranges[i].r[0]} (the same shard twice?)`,
      );
    const last = merged[merged.length - 1];
    if (last && last[1] === ranges[i].r[0]) last[1] = ranges[i].r[1];
    else merged.push([...ranges[i].r]);
  }
  return { model: first.model, N: first.N, O: first.O, ranges: merged, yAbsMax: max };
}

/** The rows 0…N−1 that `ranges` (sorted, disjoint) miss, as "a–b" strings. */
export function missing(ranges: readonly (readonly [number, number])[], N: number): string[] {
  const out: string[] = [];
  let next = 0;
  for (const [a, b] of ranges) {
    if (a > next) out.push(`${next}–${a - 1}`);
    next = Math.max(next, b);
  }
  if (next < N) out.push(`${next}–${N - 1}`);
  return out;
}

function readYmax(path: string, id: string, N: number, O: number): Float64Array {
  const y = parseYmax(new TextDecoder().decode(readBytes(path)), path);
  if (y.model !== id || y.N !== N || y.O !== O)
    throw new LoadError(
      path,
      'comes from another model or dataset than this run (model file, data shapes or options differ)',
    );
  const gaps = missing(y.ranges, N);
  if (gaps.length)
    throw new LoadError(
      path,
      `covers only part of the data (samples ${gaps.join(', ')} are missing): merge every --pass ymax shard first`,
    );
  return y.yAbsMax;
}

/** Samples per chunk: the chunk's J (and inputs) within about 16 MB, at most 256. */
function defaultChunk(E: number, P: number, inputValues: number): number {
  return Math.max(1, Math.min(256, Math.floor(2 ** 21 / Math.max(E * P, inputValues, 1))));
}

/** The result as S.json (nested arrays) or S.csv (o,k,nu,index,elasticity). */
export function writeSensitivityResult(
  path: string,
  r: StreamingResult,
  dims: { T: number; O: number; P: number },
  yAbsMax: Float64Array | null,
  timeAxis: boolean,
): void {
  const { T, O, P } = dims;
  if (outKind(path, false) === 'csv') {
    writeLongCsv(
      path,
      ['o', 'k'],
      [O, P],
      [
        ['nu', r.nu],
        ['index', r.index],
        ['elasticity', r.elasticity],
      ],
    );
    return;
  }
  writeJson(path, {
    format: SENSITIVITY_FORMAT,
    version: 1,
    samples: r.B,
    outShape: timeAxis ? [T, O] : [O],
    P,
    nu: nest(r.nu, [O, P]),
    nuT: timeAxis ? nest(r.nuT, [T, O, P]) : undefined,
    index: r.index ? nest(r.index, [O, P]) : null,
    elasticity: r.elasticity ? nest(r.elasticity, [O, P]) : null,
    yFloor: r.yFloor,
    yAbsMax: yAbsMax ? Array.from(yAbsMax) : null,
  });
}

/** `jacscope sensitivity`. */
export async function sensitivity(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  allowOnly(args, OPTIONS);
  const outPath = required(args, 'out');
  const shard = shardOption(args.options.get('shard'));
  const pass = args.options.get('pass') ?? 'sensitivity';
  if (pass !== 'sensitivity' && pass !== 'ymax')
    throw new UsageError(`--pass must be sensitivity or ymax, got '${pass}'`);
  if (pass === 'ymax' && args.options.has('ymax')) throw new UsageError('--ymax is for the sensitivity pass');
  outKind(outPath, shard !== undefined || pass === 'ymax');
  const threads = parseThreads(args.options.get('threads'));
  const loaded = await loadAnyModel(required(args, 'model'), args.options.get('config'));
  await loadHdf5For(args);
  const files = new StreamFiles();
  let src: Source | undefined;
  try {
    src =
      loaded.kind === 'torchscript'
        ? await graphSource(args, loaded, files, threads)
        : await fnoSource(args, loaded, files, threads, note);
    const { N, P, outShape } = src;
    if (N === 0) throw new ShapeError('the data holds no samples');
    const [start, end] = shardRange(N, shard, 'samples');
    const timeAxis = outShape.length === 2;
    const T = timeAxis ? outShape[0] : 1;
    const O = outShape[outShape.length - 1];
    const chunk = intOption('chunk', args.options.get('chunk'), defaultChunk(T * O, P, src.inputValues));
    const t0 = performance.now();
    if (pass === 'ymax') {
      const yAbsMax = await maxPass(src, start, end, chunk, O, 'forward (max |y|)');
      writeJson(outPath, ymaxJSON({ model: src.id, N, O, ranges: [[start, end]], yAbsMax }));
      log(
        `max |y| of samples ${start}–${end - 1} of ${N} → ${outPath} (${((performance.now() - t0) / 1000).toFixed(1)} s on ${src.on})`,
      );
      return;
    }
    let yAbsMax: Float64Array;
    const ymaxPath = args.options.get('ymax');
    if (ymaxPath !== undefined) yAbsMax = readYmax(ymaxPath, src.id, N, O);
    else {
      if (shard)
        note(
          `note: the elasticity needs max |y| over all ${N} samples: this shard runs the forward pass over all of them first (--ymax FILE skips it; see --pass ymax)`,
        );
      yAbsMax = await maxPass(src, 0, N, chunk, O, 'forward (max |y|)');
    }
    const acc = new StreamingSensitivity(
      { T, O, P },
      { yAbsMax, model: src.id, rows: shard ? [start, end] : undefined },
    );
    const progress = progressLine('Jacobian', 'samples');
    for (let b = start; b < end; b += chunk) {
      const n = Math.min(chunk, end - b);
      const c = await src.evaluate(b, n);
      try {
        acc.add(c.x, c.p, c.J, c.y);
      } catch (e) {
        if (e instanceof ShapeError) throw new ShapeError(`samples ${b}–${b + n - 1}: ${e.message}`);
        throw e;
      }
      progress?.(b + n - start, end - start);
    }
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    if (shard) {
      const text = acc.partialJSON();
      writeAtomic(outPath, (w) => w(text));
      log(
        `partial sensitivity of samples ${start}–${end - 1} of ${N} (shard ${shard.index + 1}/${shard.count}) → ${outPath} (${secs} s on ${src.on}); combine the shards with jacscope merge`,
      );
      return;
    }
    writeSensitivityResult(outPath, acc.result(), { T, O, P }, yAbsMax, timeAxis);
    log(
      `sensitivity of ${N} samples, outputs [${outShape}] × P = ${P} → ${outPath} (${secs} s on ${src.on})`,
    );
  } finally {
    src?.dispose();
    files.close();
  }
}

/** Whether JSON text is a sensitivity partial (for merge). */
export const isSensitivityPartial = (o: { format?: unknown }) => o.format === STREAMING_PARTIAL_FORMAT;
