/**
 * The engine worker's state and logic, without the worker plumbing (testable in Node with a fake engine):
 * which model and data are loaded, what was dropped, whether the combination fits, and the computation.
 *
 * Rules: a drop is applied only as a whole combination that fits (model + x + p; a graph model whose forward
 * takes p alone needs no x); files that parse but do not fit yet are kept aside ("staged") and named in a
 * message, so a model and its data can arrive in separate drops in any order. Whatever was loaded and displayed
 * before stays until a new combination computes.
 */
import { BackendSlot } from './backend-slot';
import { readDrop } from './drop';
import type { RangeReader } from './byte-reader';
import type { BatchBackend, EngineAdapter, EngineModel, ParsedModel } from './engine-contract';
import { combine, complete, dataHint, fitProblem, missingText, rolesOf, usedParts } from './fit';
import type { Combination, FnoLoaded, GraphLoaded, LoadedModel, Staged } from './fit';
import { evaluateGraph, nonFiniteNotes } from './graph-run';
import type { Evaluation } from './graph-run';
import { buildResult } from './result-info';
import { planMemory, xRowsOf } from './memory-plan';
import type { XRows } from './x-rows';
import type { MemoryPlan } from './memory-plan';
import { DEFAULT_J_BUDGET, formatBytes, isOutOfMemory, outOfMemoryText } from '../lib/memory-budget';
import type { ComputedResult } from './result-info';
import type { BackendWant, FileMessage } from './protocol';
import type { PickRequest, VarChoice } from './pick-protocol';

export type { ComputedResult } from './result-info';
export { fileKind } from './drop';
export type { FileKind } from './drop';

/** What the explore tools (what-if, sweeps, checks) need of the computed combination. */
export interface ActiveInputs {
  /** The CPU float64 model, one call per batch of samples of this combination's shapes. */
  net: EngineModel;
  /** x [B, …] by sample (held, or read from disk as needed; no values when the model takes p alone) and p [B,P]. */
  xRows: XRows;
  p: Float64Array;
  B: number;
  T: number;
  /** Values of x per sample. */
  xPer: number;
  P: number;
  O: number;
  /** Whether the model's derivative jumps somewhere (ReLU, abs, …): the check then takes one small step. */
  kinked: boolean;
  /** The result these inputs produced. */
  seq: number;
}

export type LoadOutcome =
  | { kind: 'computed'; result: ComputedResult; messages: FileMessage[] }
  | { kind: 'cancelled'; messages: FileMessage[] }
  | { kind: 'unchanged'; messages: FileMessage[]; staged: string[]; backendError?: string }
  /** A data file of the drop holds several candidates: x and p are to be chosen; nothing was applied. */
  | { kind: 'pick'; pick: Omit<PickRequest, 'pickId'>; messages: FileMessage[]; staged: string[] };

export interface ComputeHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Called once the files are read and a computation starts. */
  onComputing?: (messages: FileMessage[]) => void;
}

/** The batch backend could not be set up (WebGPU forced where there is none): the error, for the message. */
class SetupFailed {
  constructor(readonly error: unknown) {}
}

export class Session {
  private active: Combination | null = null;
  /** The explore tools' model of the active combination. */
  private activeNet: EngineModel | null = null;
  private staged: Staged = {};
  private seq = 0;
  private want: BackendWant = 'auto';
  /** The last result (the worker exports from it). */
  result: ComputedResult | null = null;
  /** Bytes J for every sample may take; above it J is kept per sample (sample mode). */
  private budget: number;

  constructor(
    private readonly engine: EngineAdapter,
    opts: { jBudgetBytes?: number } = {},
  ) {
    this.budget = opts.jBudgetBytes ?? DEFAULT_J_BUDGET;
  }

  /** The memory budget for the whole J (from the next computation on). */
  get jBudgetBytes(): number {
    return this.budget;
  }

  setJBudget(bytes: number): void {
    if (Number.isFinite(bytes) && bytes > 0) this.budget = bytes;
  }

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

  /**
   * Differentiates the active graph model with respect to its tensor argument `wrt` (p takes the p data, x
   * the other argument) and recomputes; when that does not fit or fails, the previous choice and result stay.
   */
  async setWrt(wrt: string, hooks: ComputeHooks = {}): Promise<LoadOutcome> {
    const c = this.active;
    const unchanged = (text?: string): LoadOutcome => ({
      kind: 'unchanged',
      messages: text ? [{ file: c?.model.parsed.file ?? '', level: 'error', text }] : [],
      staged: this.stagedFiles(),
    });
    if (!c || c.model.kind !== 'graph') return unchanged('no graph model is loaded to choose p for');
    const m = c.model;
    if (!m.graph.tensorArgs.includes(wrt))
      return unchanged(
        `${m.parsed.file}: forward has no tensor argument '${wrt}' (its tensor arguments: ${m.graph.tensorArgs.join(', ')})`,
      );
    if (wrt === m.wrt) return unchanged();
    const model: GraphLoaded = { ...m, wrt };
    const combo = usedParts({ model, p: c.p, x: c.x });
    const problem = fitProblem(combo);
    if (problem) return unchanged(`p = '${wrt}': ${problem.text}; p stays '${m.wrt}'`);
    hooks.onComputing?.([]);
    return this.compute(combo, [], hooks);
  }

  /** The model's backend for the current choice: kept from before, or set up now (ms: the set-up time). */
  private backendFor(m: FnoLoaded) {
    return m.backend.get(this.want, () => this.engine.selectBackend(m.rec, this.want));
  }

  /** Frees the model's backend (GPU buffers, device) unless one of `keep` shares it (a copy for another p). */
  private release(m: LoadedModel | undefined, ...keep: (LoadedModel | undefined)[]): void {
    if (m && !keep.some((k) => k?.backend === m.backend)) m.backend.release();
  }

  /** Loads the built-in demo and computes it. */
  async demo(hooks: ComputeHooks = {}): Promise<LoadOutcome> {
    const d = this.engine.demo();
    const model: FnoLoaded = {
      kind: 'fno',
      parsed: d.model,
      rec: d.rec,
      net: this.engine.build(d.model, d.rec),
      backend: new BackendSlot(),
    };
    const combo: Combination = {
      model,
      x: { file: 'built-in demo x', tensor: d.x, names: d.xNames },
      p: { file: 'built-in demo p', tensor: d.p, names: d.pNames },
    };
    hooks.onComputing?.([]);
    return this.compute(combo, [], hooks);
  }

  /** A model file read (and, for weights, recognised with `explicit`): ready to combine. */
  private loadedModel(parsed: ParsedModel, explicit?: { file?: string; config?: Record<string, unknown> }) {
    if (parsed.graph) {
      const g = parsed.graph;
      const model: GraphLoaded = {
        kind: 'graph',
        parsed,
        graph: g,
        wrt: g.tensorArgs[g.tensorArgs.length - 1],
        backend: new BackendSlot(),
      };
      return model;
    }
    const rec = this.engine.recognize(parsed, explicit?.config);
    const model: FnoLoaded = {
      kind: 'fno',
      parsed,
      rec,
      net: this.engine.build(parsed, rec),
      configFile: explicit?.file,
      explicit: explicit?.config,
      backend: new BackendSlot(),
    };
    return model;
  }

  /**
   * Reads dropped/opened files and, when they complete a fitting combination, computes it. `choices`: x and p
   * chosen per data file name; a file with several candidates and no fitting choice asks for one instead.
   */
  async load(
    files: { name: string; bytes: Uint8Array; lazy?: RangeReader }[],
    hooks: ComputeHooks = {},
    choices: Record<string, VarChoice> = {},
  ): Promise<LoadOutcome> {
    const read = await readDrop(
      this.engine,
      files,
      dataHint(this.staged.model ?? this.active?.model),
      choices,
    );
    if (read.pick)
      return { kind: 'pick', pick: read.pick, messages: read.messages, staged: this.stagedFiles() };
    const { messages, fresh, models: modelFiles } = read;
    let { explicit, modelFailed } = read;

    // The model to (re)build: a new model file, or the current one with a newly dropped config.json.
    const base = modelFiles[0] ?? (explicit ? (this.staged.model ?? this.active?.model)?.parsed : undefined);
    if (base?.graph && explicit) {
      messages.push({
        file: explicit.file,
        level: 'warning',
        text: `${explicit.file}: ignored; ${base.file} is a TorchScript model, which runs from its own code (a config.json applies to bare fno1d-scalar weights)`,
      });
      explicit = undefined;
    }
    if (base && (modelFiles.length || explicit)) {
      try {
        fresh.model = this.loadedModel(base, explicit);
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
    for (const cand of candidates) {
      if (!complete(cand)) continue;
      const c = usedParts(cand);
      const problem = fitProblem(c);
      if (!problem) {
        if (fresh.x && !c.x && fresh.x.file !== c.p.file)
          messages.push({
            file: fresh.x.file,
            level: 'info',
            text: `${fresh.x.file}: not used; ${c.model.parsed.file}'s forward takes p alone`,
          });
        // The messages so far go out now; the outcome carries only what the computation adds.
        hooks.onComputing?.(messages);
        return this.compute(c, [], hooks);
      }
      firstProblem ??= problem;
    }

    // Nothing fits yet: keep the new files aside, say why, leave the display as it is.
    this.staged = combine(fresh, this.staged);
    const missing = missingText(combine(this.staged, this.active ?? {}));
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

  stagedFiles(): string[] {
    const s = this.staged;
    return [...new Set([s.model?.parsed.file, s.x?.file, s.p?.file].filter((f): f is string => !!f))];
  }

  private filesOf(c: Combination): string[] {
    return [c.model.parsed.file, c.x?.file, c.p.file].filter((f): f is string => !!f);
  }

  /** y and J of a graph combination on the model's backend for the current choice. */
  private async evaluateGraphModel(
    c: Combination & { model: GraphLoaded },
    hooks: ComputeHooks,
  ): Promise<Evaluation> {
    const m = c.model;
    let set;
    try {
      set = await m.backend.get(this.want, () => m.graph.selectBackend(this.want));
    } catch (e) {
      throw new SetupFailed(e);
    }
    return evaluateGraph(m, c.x, c.p, set.backend, hooks, set.setupMs);
  }

  /** y and J of an fno1d-scalar combination on the chosen batch backend. */
  private async evaluateFno(c: Combination & { model: FnoLoaded }, hooks: ComputeHooks): Promise<Evaluation> {
    const [B, T] = c.x!.tensor.shape;
    let set;
    try {
      set = await this.backendFor(c.model);
    } catch (e) {
      throw new SetupFailed(e);
    }
    const { backend, setupMs } = set;
    const t0 = performance.now();
    const { y, J } = await backend.evaluate(c.x!.tensor.data, c.p.tensor.data, B, T, {
      signal: hooks.signal,
      onProgress: hooks.onProgress,
    });
    const O = Number(c.model.rec.config.out_dim_func);
    return {
      y,
      J,
      T,
      O,
      yShape: [B, T, O],
      timeAxis: true,
      backend: {
        description: backend.description,
        kind: backend.kind,
        note: backend.fallbackReason ?? backend.note,
      },
      ms: performance.now() - t0,
      setupMs,
    };
  }

  private async compute(c: Combination, messages: FileMessage[], hooks: ComputeHooks): Promise<LoadOutcome> {
    let ev: Evaluation;
    let plan: MemoryPlan | undefined;
    try {
      plan = await planMemory(c, this.budget, this.want);
      ev =
        plan.sample?.ev ??
        (c.model.kind === 'graph'
          ? await this.evaluateGraphModel(c as Combination & { model: GraphLoaded }, hooks)
          : await this.evaluateFno(c as Combination & { model: FnoLoaded }, hooks));
    } catch (e) {
      this.release(c.model, this.active?.model);
      const err = isOutOfMemory(e) ? new Error(this.memoryText(c, plan)) : e;
      return this.failed(c, messages, hooks, err);
    }
    let checkNotes: string[] = [];
    try {
      const [B, P] = c.p.tensor.shape;
      checkNotes = c.x?.tensor.rows
        ? nonFiniteNotes(undefined, c.p, B)
        : c.model.kind === 'fno'
          ? this.engine.checkData(c.x!.tensor, c.p.tensor, { Xf: c.x!.tensor.shape[2], P })
          : nonFiniteNotes(c.x, c.p, B);
    } catch {
      // Shapes were checked before computing; this only adds notes.
    }
    const result = buildResult(c, ev, {
      want: this.want,
      seq: ++this.seq,
      checkNotes,
      memory: plan!.memory,
      sample: plan!.sample?.source,
    });
    this.release(this.active?.model, c.model);
    // A staged model that this result replaces holds no backend worth keeping either.
    this.release(this.staged.model, c.model);
    this.active = c;
    this.activeNet =
      c.model.kind === 'graph' ? c.model.graph.engineModel(rolesOf(c.model, c.x?.tensor)) : c.model.net;
    this.staged = {};
    this.result = result;
    return { kind: 'computed', result, messages };
  }

  /** What did not fit when the engine ran out of memory computing c. */
  private memoryText(c: Combination, plan: MemoryPlan | undefined): string {
    const [B] = c.p.tensor.shape;
    const n = B.toLocaleString('en-US');
    const bytes = plan?.memory.jBytes;
    const budget = plan ? ` (the memory budget for J is ${formatBytes(plan.memory.budgetBytes)})` : '';
    return `${outOfMemoryText(`J of ${n} samples`, bytes)}${budget}`;
  }

  /** The outcome of a computation that did not finish: set-up failed, cancelled, or the model failed. */
  private failed(c: Combination, messages: FileMessage[], hooks: ComputeHooks, e: unknown): LoadOutcome {
    const fresh = this.filesOf(c).filter((f) => !this.isActiveFile(f));
    if (e instanceof SetupFailed) {
      const text = this.engine.describeError(e.error);
      return {
        kind: 'unchanged',
        messages: [
          ...messages,
          {
            file: fresh.join(', '),
            level: 'error',
            text: `${text}${this.result ? '; the previous result stays' : ''}`,
          },
        ],
        staged: this.stagedFiles(),
        backendError: text,
      };
    }
    if (this.engine.isCancelled(e) || hooks.signal?.aborted)
      return {
        kind: 'cancelled',
        messages: [
          ...messages,
          {
            file: fresh.join(', '),
            level: 'warning',
            text: fresh.length
              ? `computation cancelled; ${fresh.join(', ')} not applied, the previous result stays`
              : 'computation cancelled',
          },
        ],
      };
    const what = this.filesOf(c).join(', ');
    return {
      kind: 'unchanged',
      messages: [
        ...messages,
        {
          file: what,
          level: 'error',
          text: `computing J failed: ${this.engine.describeError(e)}${this.result ? '; the loaded data and its result stay' : ''}`,
        },
      ],
      staged: this.stagedFiles(),
    };
  }

  /**
   * The chosen batch backend of the active model (CPU helper threads or WebGPU) for analyses that
   * run many evaluations, or null where there is none (a graph model on WebGPU: its analyses run on the session's CPU model).
   */
  async batchBackend(): Promise<BatchBackend | null> {
    const c = this.active;
    const m = c?.model;
    if (!c || !m) return null;
    if (m.kind === 'fno') return (await this.backendFor(m)).backend;
    // A graph model's where its batches compute on the CPU, helper threads included.
    const { backend } = await m.backend.get(this.want, () => m.graph.selectBackend(this.want));
    return backend.batch?.(rolesOf(m, c.x?.tensor)) ?? null;
  }

  /** The inputs of the last result, or null before the first. */
  activeInputs(): ActiveInputs | null {
    const c = this.active;
    const r = this.result;
    if (!c || !r || !this.activeNet) return null;
    const { B, T, O, P } = r.meta;
    const xRows = r.sample?.x ?? xRowsOf(c);
    return {
      net: this.activeNet,
      xRows,
      p: c.p.tensor.data,
      B,
      T,
      xPer: xRows.per,
      P,
      O,
      kinked: c.model.kind === 'graph' ? c.model.graph.kinked : c.model.rec.config.activation === 'relu',
      seq: r.meta.seq,
    };
  }

  private isActiveFile(f: string): boolean {
    const a = this.active;
    return !!a && (a.model.parsed.file === f || a.x?.file === f || a.p.file === f);
  }
}
