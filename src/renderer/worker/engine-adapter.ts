/**
 * The real engine behind the session's EngineAdapter interface. This file, the graph model's files
 * (graph-adapter.ts, graph-backend.ts, graph-gpu-backend.ts, graph-cpu.ts) and the worker are the only
 * renderer code that imports the engine.
 */
import {
  CONFIG_KEYS,
  CancelledError,
  Fno1dScalar,
  LoadError,
  ParallelCpuBackend,
  ShapeError,
  demoData,
  demoModel,
  checkDataset,
  checkDerivatives,
  globalSensitivity,
  linspace,
  parseConfigJson,
  readModelFile,
  recognizeFno,
  selectBackend,
  sweepInputs,
  writeNpy,
} from '../../engine';
import type { FnoConfig, HostTensor, ModelFile, RecognizedModel } from '../../engine';
import { BackendError } from './engine-contract';
import type { BatchBackend, EngineAdapter, ParsedModel, Recognized, Tensor } from './engine-contract';
import type { BackendWant, HyperKey } from './protocol';
import type { AnalysisFns } from './explore';
import { readGraphModel, readXArray } from './graph-adapter';
import type { ThreadOptions } from './graph-cpu';
import { dataListing, readChosen, readDataAsync, torchKind } from './data-files';

// The protocol's keys are the engine's config keys (a type the UI thread can import without the engine).
const KEYS: readonly HyperKey[] = CONFIG_KEYS;

function toRecognized(rec: RecognizedModel): Recognized {
  const config = {} as Record<HyperKey, number | string>;
  for (const k of KEYS) config[k] = rec.config[k];
  const origin: Recognized['origin'] = {};
  for (const k of KEYS) origin[k] = rec.sources[k];
  return { architecture: rec.config.architecture, config, origin, notes: rec.notes, raw: rec };
}

function parsedModel(file: ModelFile): ParsedModel {
  return { file: file.file, format: file.format, tensorCount: file.tensors.size, raw: file };
}

/** A CSV named like x or p (x.csv, func_inp.csv, p_train.csv, scalars.csv) is read in that role. */
export function csvRoleFromName(file: string): 'x' | 'p' | undefined {
  const base = (file.split(/[\\/]/).pop() ?? file).toLowerCase().replace(/\.[^.]*$/, '');
  const words = base.split(/[^a-z0-9]+/).filter(Boolean);
  const isX = words.some((w) => /^(x\d*|func|funcinp|inputs?|forcing)$/.test(w)) || base.includes('func_inp');
  const isP =
    words.some((w) => /^(p\d*|params?|parameters?|scalars?)$/.test(w)) || base.includes('scalar_inp');
  return isX === isP ? undefined : isX ? 'x' : 'p';
}

/** The engine speaks to the command line ('use --backend cpu'); the app has a choice in the model panel. */
function forApp(text: string): string {
  return text.replace(/use --backend cpu/g, 'choose auto or CPU in the model panel');
}

/**
 * The batch backend for a model: the engine's selectBackend over `navigator.gpu` (in a worker, the worker's
 * navigator), wrapped so that a later move from WebGPU to the CPU (auto only) shows in `fallbackReason`.
 */
async function selectBatchBackend(
  rec: Recognized,
  want: BackendWant,
  gpu: GPU | null,
  threads: ThreadOptions,
): Promise<BatchBackend> {
  const r = rec.raw as RecognizedModel;
  const { spawn, count, spawnAfterMs } = threads;
  // A helper thread that could not start or stopped: the results stay right, the note says why it is slower.
  let lostHelper: string | undefined;
  const makeCpu =
    spawn && count > 1
      ? () =>
          new ParallelCpuBackend(r.config, r.tensors, spawn, count, {
            model: cpuModel(r),
            spawnAfterMs,
            onHelperLost: (reason) => (lostHelper = reason),
          })
      : undefined;
  let laterReason: string | undefined;
  let sel;
  try {
    sel = await selectBackend({
      want,
      gpu,
      config: r.config,
      tensors: r.tensors,
      cpu: { model: cpuModel(r) },
      makeCpu,
      onFallback: (reason) => {
        laterReason = `WebGPU failed and the CPU took over: ${reason}`;
      },
    });
  } catch (e) {
    throw new BackendError(forApp(e instanceof Error ? e.message : String(e)));
  }
  const b = sel.backend;
  return {
    get kind() {
      return b.kind;
    },
    get description() {
      return b.description;
    },
    get fallbackReason() {
      return laterReason ?? (sel.fallbackReason ? forApp(sel.fallbackReason) : undefined);
    },
    get note() {
      return lostHelper ?? (sel.note ? forApp(sel.note) : undefined);
    },
    forward: (x, p, B, T, opts) => b.forward(x, p, B, T, opts),
    jacobian: (x, p, B, T, opts) => b.jacobian(x, p, B, T, opts),
    evaluate: (x, p, B, T, opts) => b.evaluate(x, p, B, T, opts),
    dispose: () => b.dispose(),
  };
}

/**
 * One CPU model per recognised model, shared by the exploration tools and the CPU batch backend, so
 * the weights are converted and held once.
 */
const cpuModels = new WeakMap<RecognizedModel, Fno1dScalar>();
function cpuModel(r: RecognizedModel): Fno1dScalar {
  let m = cpuModels.get(r);
  if (!m) {
    m = new Fno1dScalar(r.config, r.tensors);
    cpuModels.set(r, m);
  }
  return m;
}

/** `navigator.gpu` where this runs (a worker, a page); null in Node or where WebGPU is off. */
function hostGpu(): GPU | null {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  return nav?.gpu ?? null;
}

export type { ThreadOptions };

/**
 * `gpu`: what WebGPU to offer the backend choice, for fno1d-scalar and graph models alike (default:
 * navigator.gpu; tests pass null, or Dawn's GPU object).
 */
export function createEngineAdapter(opts: { gpu?: GPU | null; threads?: ThreadOptions } = {}): EngineAdapter {
  const threads = opts.threads ?? { count: 1 };
  const gpu = () => (opts.gpu !== undefined ? opts.gpu : hostGpu());
  return {
    backend: 'cpu · float64',
    selectBackend: (rec, want) => selectBatchBackend(rec, want, gpu(), threads),
    // A TorchScript archive runs from its own code; anything else is weights for fno1d-scalar recognition.
    readModel: (bytes, file) =>
      readGraphModel(bytes, file, gpu, threads) ?? parsedModel(readModelFile(bytes, file)),
    recognize: (model, explicit) =>
      toRecognized(recognizeFno(model.raw as ModelFile, (explicit ?? {}) as Partial<FnoConfig>)),
    build: (_model, rec) => cpuModel(rec.raw as RecognizedModel),
    readConfig: (bytes, file) =>
      parseConfigJson(new TextDecoder().decode(bytes), file) as Record<string, unknown>,
    // HDF5 and MATLAB v7.3 need the HDF5 library (WebAssembly, loaded asynchronously on first use).
    readData: async (bytes, file, hint, chosen) => {
      if (chosen) return readChosen(bytes, file, hint, chosen.choice, chosen.variables);
      const named = /\.npy$/i.test(file) && csvRoleFromName(file) === 'x' ? readXArray(bytes, file) : null;
      if (named) return named;
      const isCsv = file.toLowerCase().endsWith('.csv');
      return readDataAsync(bytes, file, hint, isCsv ? csvRoleFromName(file) : undefined);
    },
    dataListing,
    torchKind,
    // The app computes every sample (the CLI skips non-finite ones), so say what that means here.
    checkData: (x, p, expect) =>
      checkDataset(x as HostTensor, p as HostTensor, expect).notes.map((n) =>
        n.replace(' and will be skipped', '; their J is not finite'),
      ),
    demo: () => {
      const m = demoModel();
      const d = demoData();
      const file: ModelFile = { file: 'built-in demo', format: 'torch', tensors: m.tensors, notes: [] };
      const rec = recognizeFno(file, m.config);
      return {
        model: { ...parsedModel(file), format: 'generated in code' },
        rec: toRecognized(rec),
        x: d.x as Tensor,
        p: d.p as Tensor,
        xNames: d.xNames,
        pNames: d.pNames,
      };
    },
    describeError: (e) => {
      if (e instanceof LoadError || e instanceof ShapeError) return e.message;
      if (e instanceof Error) return e.message;
      return String(e);
    },
    isCancelled: (e) => e instanceof CancelledError,
  };
}

export { writeNpy };

/** The engine's analysis functions, as the lead wrote and tested them against the fixtures. */
export const analysisFns: AnalysisFns = { globalSensitivity, checkDerivatives, sweepInputs, linspace };
