/**
 * The CLI for models the graph engine runs from their own code (TorchScript archives): inputs
 * named by the model's `forward` signature, y and J = y's shape followed by P.
 *
 *   --x FILE            the first tensor argument
 *   --p FILE            the differentiated argument (p [B,P])
 *   --input NAME=FILE   any argument by name (repeatable)
 *   --wrt NAME          which argument is p (default: the last tensor argument)
 *   --output I          which element of a tuple output is y (default: the first tensor)
 */
import { LoadError, ShapeError } from '../engine/errors';
import { readNpy } from '../engine/io/npy';
import { readNpz } from '../engine/io/npz';
import { GraphModel, type GraphResult, type InputArray } from '../engine/models/graph-model';
import type { TorchScriptModel } from '../engine/models/open-model';
import { RULES } from '../engine/graph/table';
import { formatDescription } from '../engine/torchscript/describe';
import { graphHost } from '../engine/torchscript/graph-host';
import type { HostTensor } from '../engine/tensor';
import { UsageError, type ParsedArgs } from './args';
import { readBytes } from './files';

export function graphModelOf(m: TorchScriptModel): GraphModel {
  return new GraphModel(m.program, graphHost, RULES);
}

/** The lines of `jacscope info` for a TorchScript model. */
export function graphInfoLines(m: TorchScriptModel, wrt: string | undefined): string[] {
  const model = graphModelOf(m);
  const p = model.wrtArg(wrt);
  const lines = [`${m.file}: TorchScript archive`, ...formatDescription(m.description)];
  lines.push(
    `differentiated argument (p): ${p}${wrt ? ' (--wrt)' : ' (the last tensor argument; --wrt NAME to choose)'}`,
  );
  lines.push(
    'backend: WebGPU (float32) when a hardware adapter is found and the model lowers to it (--backend webgpu to insist), else the CPU (float64)',
  );
  for (const n of m.archive.notes) lines.push(`note: ${n}`);
  return lines;
}

/** One input array from .npy, or .npz (a single array, or FILE.npz:NAME). */
function readArray(spec: string): HostTensor {
  const m = /^(.*\.npz):([^/\\]+)$/i.exec(spec);
  const path = m ? m[1] : spec;
  const bytes = readBytes(path);
  if (/\.npy$/i.test(path)) return readNpy(bytes, path);
  if (/\.npz$/i.test(path)) {
    const arrays = readNpz(bytes, path);
    if (m) {
      const a = arrays.get(m[2]);
      if (!a)
        throw new LoadError(path, `holds no array '${m[2]}' (it has: ${[...arrays.keys()].join(', ')})`);
      return a;
    }
    if (arrays.size !== 1)
      throw new LoadError(
        path,
        `holds ${arrays.size} arrays (${[...arrays].map(([k, v]) => `${k} [${v.shape}]`).join(', ')}); name one as ${path}:NAME`,
      );
    return [...arrays.values()][0];
  }
  throw new LoadError(path, 'graph models read inputs from .npy or .npz files');
}

/** The model's inputs from --x, --p and --input NAME=FILE. */
export function graphInputs(model: GraphModel, args: ParsedArgs, wrt: string): Map<string, InputArray> {
  const names = model.tensorArgs();
  const files = new Map<string, string>();
  const set = (name: string, file: string, how: string) => {
    if (!names.includes(name))
      throw new UsageError(
        `${how}: the model has no tensor argument '${name}' (its arguments: ${names.join(', ')})`,
      );
    if (files.has(name)) throw new UsageError(`${how}: '${name}' is given twice`);
    files.set(name, file);
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
  const missing = names.filter((n) => !files.has(n));
  if (missing.length)
    throw new UsageError(
      `no data for the model's argument${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (give --input NAME=FILE)`,
    );
  const inputs = new Map<string, InputArray>();
  for (const [name, file] of files) {
    const t = readArray(file);
    if (t.imag) throw new LoadError(file, 'complex inputs are not supported');
    inputs.set(name, { shape: t.shape, data: t.data });
  }
  try {
    model.checkInputs(inputs, wrt);
  } catch (e) {
    if (e instanceof ShapeError) throw new ShapeError(`${[...files.values()].join(', ')}: ${e.message}`);
    throw e;
  }
  return inputs;
}

/** --output I, a non-negative integer. */
export function parseOutputIndex(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--output must be a non-negative integer, got '${v}'`);
  return Number(v);
}

/** Axis names of y (or J with `k`): b, then t and o where the shape says so, else d1, d2 … */
export function axisNames(rank: number, withK: boolean): string[] {
  const inner = rank - 1;
  const names =
    inner === 2 ? ['t', 'o'] : inner === 1 ? ['o'] : Array.from({ length: inner }, (_, i) => `d${i + 1}`);
  return ['b', ...names, ...(withK ? ['k'] : [])];
}

export type GraphRun = (model: GraphModel, inputs: Map<string, InputArray>) => Promise<GraphResult>;
