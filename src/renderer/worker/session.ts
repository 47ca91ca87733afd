/**
 * The engine worker's state and logic, without the worker plumbing (testable in Node with a fake engine):
 * which model and data are loaded, what was dropped, whether the combination fits, and the computation.
 *
 * Rules: a drop is applied only as a whole combination that fits (model + x + p); files that parse but do not
 * fit yet are kept aside ("staged") and named in a message, so a model and its data can arrive in separate
 * drops in any order. Whatever was loaded and displayed before stays until a new combination computes.
 */
import { modesProblem } from '../../engine/models/config';
import { defaultNames } from '../lib/axes';
import type { JArray } from '../lib/j-array';
import { pRanges } from '../lib/p-range';
import type { PRange } from '../lib/p-range';
import { computeSummary } from '../lib/summary';
import type { Summary } from '../lib/summary';
import type { BackendWant, DataInfo, FileMessage, ModelInfo, ResultMeta } from './protocol';
import type {
  Tensor,
  ParsedModel,
  Recognized,
  EngineModel,
  BatchBackend,
  EngineAdapter,
} from './engine-contract';

export type FileKind = 'model' | 'config' | 'data' | 'unknown';

const MODEL_EXT = new Set(['pt', 'pth', 'bin', 'ckpt', 'safetensors']);
const DATA_EXT = new Set(['npy', 'npz', 'csv']);

export function fileKind(name: string): FileKind {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (MODEL_EXT.has(ext)) return 'model';
  if (ext === 'json') return 'config';
  if (DATA_EXT.has(ext)) return 'data';
  return 'unknown';
}

interface LoadedModel {
  parsed: ParsedModel;
  rec: Recognized;
  net: EngineModel;
  configFile?: string;
  explicit?: Record<string, unknown>;
  /** The batch backend set up for this model, and for which choice (set up on first use, kept while active). */
  backend?: { want: BackendWant; ready: Promise<BatchBackend> };
}

interface Part {
  file: string;
  tensor: Tensor;
  names?: string[];
  /** What reading the file noted (shown in the data panel). */
  notes?: string[];
}

interface Combination {
  model: LoadedModel;
  x: Part;
  p: Part;
}

interface Staged {
  model?: LoadedModel;
  x?: Part;
  p?: Part;
}

export interface ComputedResult {
  model: ModelInfo;
  data: DataInfo;
  meta: ResultMeta;
  J: JArray;
  y: Float64Array;
  /** p [B,P] as loaded, and the what-if sliders' ranges. */
  p: Float64Array;
  pRanges: PRange[];
  summary: Summary;
}

/** What the explore tools (what-if, sweeps, checks) need of the computed combination. */
export interface ActiveInputs {
  net: EngineModel;
  x: Float64Array;
  p: Float64Array;
  B: number;
  T: number;
  Xf: number;
  P: number;
  O: number;
  activation: string;
  /** The result these inputs produced. */
  seq: number;
}

export type LoadOutcome =
  | { kind: 'computed'; result: ComputedResult; messages: FileMessage[] }
  | { kind: 'cancelled'; messages: FileMessage[] }
  | { kind: 'unchanged'; messages: FileMessage[]; staged: string[]; backendError?: string };

export interface ComputeHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Called once the files are read and a computation starts. */
  onComputing?: (messages: FileMessage[]) => void;
}

function num(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}

/** Why x and p do not fit the model (null when they fit). */
export function fitProblem(c: Combination): { file: string; text: string } | null {
  const cfg = c.model.rec.config;
  const mfile = c.model.parsed.file;
  const Xf = num(cfg.inp_dim_func);
  const P = num(cfg.inp_dim_scalar);
  const modes = num(cfg.modes);
  const xs = c.x.tensor.shape;
  const ps = c.p.tensor.shape;
  if (xs.length !== 3)
    return { file: c.x.file, text: `x must have shape [B,T,Xf]; ${c.x.file} has [${xs.join(',')}]` };
  if (ps.length !== 2)
    return { file: c.p.file, text: `p must have shape [B,P]; ${c.p.file} has [${ps.join(',')}]` };
  if (xs[2] !== Xf)
    return {
      file: c.x.file,
      text: `${c.x.file}: x has ${xs[2]} features per timestep (shape [${xs.join(',')}]) but ${mfile} expects ${Xf} (inp_dim_func)`,
    };
  if (ps[1] !== P)
    return {
      file: c.p.file,
      text: `${c.p.file}: p has ${ps[1]} parameters (shape [${ps.join(',')}]) but ${mfile} expects ${P} (inp_dim_scalar)`,
    };
  if (xs[0] !== ps[0])
    return {
      file: c.p.file,
      text: `${c.x.file} has ${xs[0]} sample(s) but ${c.p.file} has ${ps[0]}: the batch sizes must agree`,
    };
  if (xs[0] < 1 || xs[1] < 1)
    return { file: c.x.file, text: `${c.x.file}: x is empty (shape [${xs.join(',')}])` };
  const T = xs[1];
  const problem = modesProblem(modes, T, mfile);
  return problem ? { file: c.x.file, text: `${c.x.file}: ${problem}` } : null;
}

function combine(...layers: Staged[]): Partial<Combination> {
  const out: Partial<Combination> = {};
  for (const l of layers) {
    if (!out.model && l.model) out.model = l.model;
    if (!out.x && l.x) out.x = l.x;
    if (!out.p && l.p) out.p = l.p;
  }
  return out;
}

function complete(c: Partial<Combination>): c is Combination {
  return !!(c.model && c.x && c.p);
}

export class Session {
  private active: Combination | null = null;
  private staged: Staged = {};
  private seq = 0;
  private want: BackendWant = 'auto';
  /** The last result (the worker exports from it). */
  result: ComputedResult | null = null;

  get backendWant(): BackendWant {
    return this.want;
  }

  /** Uses `want` for the batch from now on and recomputes the current result with it (if there is one). */
  async setBackend(want: BackendWant, hooks: ComputeHooks = {}): Promise<LoadOutcome> {
    this.want = want;
    if (!this.active) return { kind: 'unchanged', messages: [], staged: this.stagedFiles() };
    hooks.onComputing?.([]);
    return this.compute(this.active, [], hooks);
  }

  /** The model's backend for the current choice: kept from before, or set up now (ms: the set-up time). */
  private async backendFor(m: LoadedModel): Promise<{ backend: BatchBackend; setupMs?: number }> {
    if (m.backend?.want === this.want) return { backend: await m.backend.ready };
    this.release(m);
    const t0 = performance.now();
    const ready = this.engine.selectBackend(m.rec, this.want);
    m.backend = { want: this.want, ready };
    try {
      const backend = await ready;
      return { backend, setupMs: performance.now() - t0 };
    } catch (e) {
      if (m.backend?.ready === ready) m.backend = undefined;
      throw e;
    }
  }

  /** Frees the model's backend (GPU buffers, device). */
  private release(m: LoadedModel | undefined): void {
    const b = m?.backend;
    if (!m || !b) return;
    m.backend = undefined;
    b.ready.then(
      (backend) => backend.dispose(),
      () => undefined,
    );
  }

  constructor(private readonly engine: EngineAdapter) {}

  /** Loads the built-in demo and computes it. */
  async demo(hooks: ComputeHooks = {}): Promise<LoadOutcome> {
    const d = this.engine.demo();
    const model: LoadedModel = { parsed: d.model, rec: d.rec, net: this.engine.build(d.model, d.rec) };
    const combo: Combination = {
      model,
      x: { file: 'built-in demo x', tensor: d.x, names: d.xNames },
      p: { file: 'built-in demo p', tensor: d.p, names: d.pNames },
    };
    hooks.onComputing?.([]);
    return this.compute(combo, [], hooks);
  }

  /** Reads dropped/opened files and, when they complete a fitting combination, computes it. */
  async load(files: { name: string; bytes: Uint8Array }[], hooks: ComputeHooks = {}): Promise<LoadOutcome> {
    const messages: FileMessage[] = [];
    const fresh: Staged = {};
    let modelFiles: { parsed: ParsedModel }[] = [];
    let explicit: { file: string; config: Record<string, unknown> } | undefined;
    let modelFailed = false;

    // Models and configs first, so that data files can be read knowing the model's Xf and P.
    const rank = { model: 0, config: 1, data: 2, unknown: 3 };
    const ordered = [...files].sort((a, b) => rank[fileKind(a.name)] - rank[fileKind(b.name)]);
    for (const f of ordered) {
      const kind = fileKind(f.name);
      try {
        if (kind === 'model') {
          modelFiles.push({ parsed: this.engine.readModel(f.bytes, f.name) });
        } else if (kind === 'config') {
          explicit = { file: f.name, config: this.engine.readConfig(f.bytes, f.name) };
        } else if (kind === 'data') {
          const parts = this.engine.readData(f.bytes, f.name, this.hint(modelFiles.length > 0));
          if (!parts.x && !parts.p) throw new Error(`${f.name}: holds neither x [B,T,Xf] nor p [B,P]`);
          if (parts.x) fresh.x = { file: f.name, tensor: parts.x, names: parts.xNames, notes: parts.notes };
          if (parts.p) fresh.p = { file: f.name, tensor: parts.p, names: parts.pNames, notes: parts.notes };
        } else {
          throw new Error(
            `${f.name}: not a file jacscope reads (models: .pt .safetensors; data: .npy .npz .csv; config: .json)`,
          );
        }
      } catch (e) {
        if (this.engine.isCancelled(e)) throw e;
        if (kind === 'model' || kind === 'config') modelFailed = true;
        messages.push({ file: f.name, level: 'error', text: this.engine.describeError(e) });
      }
    }

    if (modelFiles.length > 1) {
      const used = modelFiles[modelFiles.length - 1].parsed.file;
      messages.push({
        file: used,
        level: 'warning',
        text: `${modelFiles.length} model files dropped; using ${used}`,
      });
      modelFiles = modelFiles.slice(-1);
    }

    // The model to (re)build: a new model file, or the current one with a newly dropped config.json.
    const base =
      modelFiles[0]?.parsed ?? (explicit ? (this.staged.model ?? this.active?.model)?.parsed : undefined);
    if (base) {
      try {
        const ex = explicit?.config ?? (modelFiles.length ? undefined : this.currentExplicit());
        const rec = this.engine.recognize(base, ex);
        fresh.model = {
          parsed: base,
          rec,
          net: this.engine.build(base, rec),
          configFile: explicit?.file,
          explicit: ex,
        };
      } catch (e) {
        if (this.engine.isCancelled(e)) throw e;
        modelFailed = true;
        const file = explicit && !modelFiles.length ? explicit.file : base.file;
        messages.push({ file, level: 'error', text: this.engine.describeError(e) });
      }
    } else if (explicit) {
      messages.push({
        file: explicit.file,
        level: 'warning',
        text: `${explicit.file}: no model loaded to apply this configuration to; drop it together with the weights`,
      });
    }

    if (!fresh.model && !fresh.x && !fresh.p)
      return { kind: 'unchanged', messages, staged: this.stagedFiles() };

    // A drop whose model failed is not computed with the previous model: its data waits for a model.
    const candidates = modelFailed
      ? []
      : [combine(fresh, this.staged, this.active ?? {}), combine(fresh, this.active ?? {})];
    let firstProblem: { file: string; text: string } | null = null;
    for (const c of candidates) {
      if (!complete(c)) continue;
      const problem = fitProblem(c);
      if (!problem) {
        // The messages so far go out now; the outcome carries only what the computation adds.
        hooks.onComputing?.(messages);
        return this.compute(c, [], hooks);
      }
      firstProblem ??= problem;
    }

    // Nothing fits yet: keep the new files aside, say why, leave the display as it is.
    this.staged = combine(fresh, this.staged);
    const missing = this.missingText(combine(this.staged, this.active ?? {}));
    const names = [fresh.model?.parsed.file, fresh.x?.file, fresh.p?.file].filter((s): s is string => !!s);
    if (firstProblem) messages.push({ file: firstProblem.file, level: 'error', text: firstProblem.text });
    else if (modelFailed && names.length)
      messages.push({
        file: names.join(', '),
        level: 'info',
        text: `${names.join(', ')} kept aside: the model dropped with them did not load`,
      });
    else if (missing) messages.push({ file: names.join(', '), level: 'info', text: `loaded; ${missing}` });
    return { kind: 'unchanged', messages, staged: this.stagedFiles() };
  }

  /** Xf and P of the model data will be used with (unknown while a new model is still being recognised). */
  private hint(newModelInDrop: boolean): { Xf?: number; P?: number } {
    if (newModelInDrop) return {};
    const cfg = (this.staged.model ?? this.active?.model)?.rec.config;
    return cfg ? { Xf: num(cfg.inp_dim_func), P: num(cfg.inp_dim_scalar) } : {};
  }

  private currentExplicit(): Record<string, unknown> | undefined {
    return (this.staged.model ?? this.active?.model)?.explicit;
  }

  private missingText(c: Partial<Combination>): string | null {
    const miss: string[] = [];
    if (!c.model) miss.push('a model (.pt or .safetensors)');
    if (!c.x) miss.push('x [B,T,Xf]');
    if (!c.p) miss.push('p [B,P]');
    return miss.length ? `waiting for ${miss.join(' and ')}` : null;
  }

  stagedFiles(): string[] {
    const s = this.staged;
    return [s.model?.parsed.file, s.x?.file, s.p?.file].filter((f): f is string => !!f);
  }

  private async compute(c: Combination, messages: FileMessage[], hooks: ComputeHooks): Promise<LoadOutcome> {
    const [B, T, Xf] = c.x.tensor.shape;
    const P = c.p.tensor.shape[1];
    const O = num(c.model.rec.config.out_dim_func);
    let backend: BatchBackend;
    let setupMs: number | undefined;
    try {
      ({ backend, setupMs } = await this.backendFor(c.model));
    } catch (e) {
      if (c.model !== this.active?.model) this.release(c.model);
      const text = this.engine.describeError(e);
      const what = [c.model.parsed.file, c.x.file, c.p.file].filter((f) => !this.isActiveFile(f));
      return {
        kind: 'unchanged',
        messages: [
          ...messages,
          {
            file: what.join(', '),
            level: 'error',
            text: `${text}${this.result ? '; the previous result stays' : ''}`,
          },
        ],
        staged: this.stagedFiles(),
        backendError: text,
      };
    }
    const t0 = performance.now();
    let y: Float64Array;
    let J: JArray;
    try {
      ({ y, J } = await backend.evaluate(c.x.tensor.data, c.p.tensor.data, B, T, {
        signal: hooks.signal,
        onProgress: hooks.onProgress,
      }));
    } catch (e) {
      if (c.model !== this.active?.model) this.release(c.model);
      if (this.engine.isCancelled(e) || hooks.signal?.aborted) {
        const files = [c.model.parsed.file, c.x.file, c.p.file].filter((f) => !this.isActiveFile(f));
        return {
          kind: 'cancelled',
          messages: [
            ...messages,
            {
              file: files.join(', '),
              level: 'warning',
              text: files.length
                ? `computation cancelled; ${files.join(', ')} not applied, the previous result stays`
                : 'computation cancelled',
            },
          ],
        };
      }
      const what = [c.model.parsed.file, c.x.file, c.p.file].join(', ');
      return {
        kind: 'unchanged',
        messages: [
          ...messages,
          { file: what, level: 'error', text: `computing J failed: ${this.engine.describeError(e)}` },
        ],
        staged: this.stagedFiles(),
      };
    }
    const ms = performance.now() - t0;
    let checkNotes: string[] = [];
    try {
      checkNotes = this.engine.checkData(c.x.tensor, c.p.tensor, { Xf, P });
    } catch {
      // Shapes were checked before computing; this only adds notes.
    }
    const dims = { B, T, O, P };
    const summary = computeSummary(J, dims);
    const pNames = c.p.names && c.p.names.length === P ? c.p.names : defaultNames('p', P);
    const xNames = c.x.names && c.x.names.length === Xf ? c.x.names : defaultNames('x', Xf);
    const yNames = defaultNames('y', O);
    const rec = c.model.rec;
    const model: ModelInfo = {
      file: c.model.parsed.file,
      format: c.model.parsed.format,
      architecture: rec.architecture,
      config: rec.config,
      origin: rec.origin,
      notes: rec.notes,
      params: c.model.net.parameterCount(),
      tensorCount: c.model.parsed.tensorCount,
      configFile: c.model.configFile,
    };
    const data: DataInfo = {
      xFile: c.x.file,
      pFile: c.p.file,
      B,
      T,
      Xf,
      P,
      xDtype: c.x.tensor.dtype,
      pDtype: c.p.tensor.dtype,
      xNames,
      pNames,
      notes: [...new Set([...(c.x.notes ?? []), ...(c.p.notes ?? []), ...checkNotes])],
    };
    const meta: ResultMeta = {
      B,
      T,
      O,
      P,
      backend: backend.description,
      backendKind: backend.kind,
      backendWant: this.want,
      backendNote: backend.fallbackReason ?? backend.note,
      ms,
      setupMs,
      yNames,
      pNames,
      seq: ++this.seq,
    };
    if (this.active && this.active.model !== c.model) this.release(this.active.model);
    // A staged model that this result replaces holds no backend worth keeping either.
    if (this.staged.model && this.staged.model !== c.model) this.release(this.staged.model);
    this.active = c;
    this.staged = {};
    this.result = {
      model,
      data,
      meta,
      J,
      y,
      p: c.p.tensor.data,
      pRanges: pRanges(c.p.tensor.data, B, P),
      summary,
    };
    return { kind: 'computed', result: this.result, messages };
  }

  /** The inputs of the last result, or null before the first. */
  activeInputs(): ActiveInputs | null {
    const c = this.active;
    const r = this.result;
    if (!c || !r) return null;
    const { B, T, O, P } = r.meta;
    return {
      net: c.model.net,
      x: c.x.tensor.data,
      p: c.p.tensor.data,
      B,
      T,
      Xf: c.x.tensor.shape[2],
      P,
      O,
      activation: String(c.model.rec.config.activation),
      seq: r.meta.seq,
    };
  }

  private isActiveFile(f: string): boolean {
    const a = this.active;
    return !!a && (a.model.parsed.file === f || a.x.file === f || a.p.file === f);
  }
}
