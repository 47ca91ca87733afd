/**
 * What the session holds (a model, x, p) and whether they fit together: fno1d-scalar by its hyperparameters
 * (x [B,T,Xf], p [B,P]), a graph model by its forward signature (p [B,P] for the differentiated argument, x of
 * any rank with the batch first for the other tensor argument, or no x when forward takes p alone).
 */
import { modesProblem } from '../../engine/models/config';
import type { BackendSlot } from './backend-slot';
import type {
  BatchBackend,
  EngineModel,
  GraphBackend,
  GraphNet,
  GraphRoles,
  ParsedModel,
  Recognized,
  Tensor,
} from './engine-contract';

export interface FnoLoaded {
  kind: 'fno';
  parsed: ParsedModel;
  rec: Recognized;
  net: EngineModel;
  configFile?: string;
  explicit?: Record<string, unknown>;
  /** The batch backend for the current choice (set up on first use, kept while loaded). */
  backend: BackendSlot<BatchBackend>;
}

export interface GraphLoaded {
  kind: 'graph';
  parsed: ParsedModel;
  graph: GraphNet;
  /** The differentiated argument (p). */
  wrt: string;
  /** Where the batch computes for the current choice; shared with the copies for another p. */
  backend: BackendSlot<GraphBackend>;
}

export type LoadedModel = FnoLoaded | GraphLoaded;

export interface Part {
  file: string;
  tensor: Tensor;
  /** The array as the file holds it, when the reader reshaped it (graph models take this). */
  asFiled?: Tensor;
  names?: string[];
  /** What reading the file noted (shown in the data panel). */
  notes?: string[];
}

export interface Combination {
  model: LoadedModel;
  /** Absent only for a graph model whose forward takes p alone. */
  x?: Part;
  p: Part;
}

export interface Staged {
  model?: LoadedModel;
  x?: Part;
  p?: Part;
}

function num(v: number | string | undefined): number {
  return typeof v === 'number' ? v : Number(v);
}

/** The graph model's x argument: the first tensor argument other than p (none when forward takes p alone). */
export function xArgOf(m: GraphLoaded): string | undefined {
  return m.graph.tensorArgs.find((a) => a !== m.wrt);
}

/** Whether the model takes x at all. */
export function needsX(m: LoadedModel): boolean {
  return m.kind === 'fno' || m.graph.tensorArgs.length > 1;
}

export function rolesOf(m: GraphLoaded, x: Tensor | undefined): GraphRoles {
  const xArg = xArgOf(m);
  return { wrt: m.wrt, xArg, xSample: xArg && x ? x.shape.slice(1) : [] };
}

/** Xf and P of an fno1d-scalar model (a graph model says nothing about them before it runs). */
export function dataHint(m: LoadedModel | undefined): { Xf?: number; P?: number } {
  if (!m || m.kind !== 'fno') return {};
  return { Xf: num(m.rec.config.inp_dim_func), P: num(m.rec.config.inp_dim_scalar) };
}

const shape = (t: Tensor) => `[${t.shape.join(',')}]`;

function fnoProblem(m: FnoLoaded, x: Part, p: Part): { file: string; text: string } | null {
  const cfg = m.rec.config;
  const mfile = m.parsed.file;
  const Xf = num(cfg.inp_dim_func);
  const P = num(cfg.inp_dim_scalar);
  const modes = num(cfg.modes);
  const xs = x.tensor.shape;
  const ps = p.tensor.shape;
  if (xs.length !== 3)
    return { file: x.file, text: `x must have shape [B,T,Xf]; ${x.file} has ${shape(x.tensor)}` };
  if (ps.length !== 2)
    return { file: p.file, text: `p must have shape [B,P]; ${p.file} has ${shape(p.tensor)}` };
  if (xs[2] !== Xf)
    return {
      file: x.file,
      text: `${x.file}: x has ${xs[2]} features per timestep (shape ${shape(x.tensor)}) but ${mfile} expects ${Xf} (inp_dim_func)`,
    };
  if (ps[1] !== P)
    return {
      file: p.file,
      text: `${p.file}: p has ${ps[1]} parameters (shape ${shape(p.tensor)}) but ${mfile} expects ${P} (inp_dim_scalar)`,
    };
  if (xs[0] !== ps[0])
    return {
      file: p.file,
      text: `${x.file} has ${xs[0]} sample(s) but ${p.file} has ${ps[0]}: the batch sizes must agree`,
    };
  if (xs[0] < 1 || xs[1] < 1)
    return { file: x.file, text: `${x.file}: x is empty (shape ${shape(x.tensor)})` };
  const problem = modesProblem(modes, xs[1], mfile);
  return problem ? { file: x.file, text: `${x.file}: ${problem}` } : null;
}

function graphProblem(m: GraphLoaded, x: Part | undefined, p: Part): { file: string; text: string } | null {
  const mfile = m.parsed.file;
  const args = m.graph.tensorArgs;
  if (args.length > 2)
    return {
      file: mfile,
      text: `${mfile}: forward takes ${args.length} tensor arguments (${args.join(', ')}); the app feeds two, x and p — run it with the command line (jacscope jacobian --input NAME=FILE)`,
    };
  const ps = p.tensor.shape;
  if (ps.length !== 2)
    return {
      file: p.file,
      text: `p (the model's argument '${m.wrt}') must have shape [B,P]; ${p.file} has ${shape(p.tensor)}`,
    };
  if (ps[0] < 1 || ps[1] < 1)
    return { file: p.file, text: `${p.file}: p is empty (shape ${shape(p.tensor)})` };
  const xArg = xArgOf(m);
  if (!xArg) return null;
  if (!x) return { file: mfile, text: `${mfile}: no data for the model's argument '${xArg}'` };
  const xs = x.tensor.shape;
  if (xs.length < 1)
    return {
      file: x.file,
      text: `x (the model's argument '${xArg}') must have a batch axis first; ${x.file} holds one number`,
    };
  if (xs[0] !== ps[0])
    return {
      file: p.file,
      text: `${x.file} has ${xs[0]} sample(s) but ${p.file} has ${ps[0]}: the batch sizes must agree`,
    };
  return null;
}

/** Why x and p do not fit the model (null when they fit). */
export function fitProblem(c: Combination): { file: string; text: string } | null {
  if (c.model.kind === 'graph') return graphProblem(c.model, c.x, c.p);
  if (!c.x) return { file: c.model.parsed.file, text: 'x [B,T,Xf] is missing' };
  return fnoProblem(c.model, c.x, c.p);
}

/** The first of each (model, x, p) among the layers. A model that takes p alone drops x. */
export function combine(...layers: Staged[]): Staged {
  const out: Staged = {};
  for (const l of layers) {
    if (!out.model && l.model) out.model = l.model;
    if (!out.x && l.x) out.x = l.x;
    if (!out.p && l.p) out.p = l.p;
  }
  return out;
}

export function complete(c: Staged): c is Combination {
  return !!(c.model && c.p && (c.x || !needsX(c.model)));
}

/** The combination as the model uses it: without x when forward takes p alone; x as filed for a graph model. */
export function usedParts(c: Combination): Combination {
  if (!needsX(c.model)) return { model: c.model, p: c.p };
  if (c.model.kind === 'graph' && c.x?.asFiled) return { ...c, x: { ...c.x, tensor: c.x.asFiled } };
  return c;
}

/** What is still missing, in words (null when nothing is). */
export function missingText(c: Staged): string | null {
  const miss: string[] = [];
  if (!c.model) miss.push('a model (.pt or .safetensors)');
  if (!c.x && (!c.model || needsX(c.model))) {
    const xArg = c.model?.kind === 'graph' ? xArgOf(c.model) : undefined;
    miss.push(xArg ? `x (the model's argument '${xArg}')` : 'x [B,T,Xf]');
  }
  if (!c.p)
    miss.push(c.model?.kind === 'graph' ? `p [B,P] (the model's argument '${c.model.wrt}')` : 'p [B,P]');
  return miss.length ? `waiting for ${miss.join(' and ')}` : null;
}
