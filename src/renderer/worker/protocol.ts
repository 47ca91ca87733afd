/** Messages between the UI thread and the engine worker. Plain, structured-cloneable data. */
import type { Axis, AxisIndex } from '../lib/axes';
import type { JArray } from '../lib/j-array';
import type { JMemory } from '../lib/memory-budget';
import type { PRange } from '../lib/p-range';
import type { StreamedJWhat } from './j-stream';
import type { PickRequest, VarChoice } from './pick-protocol';
import type { SobolFromWorker, SobolToWorker } from './sobol-protocol';

export type HyperKey =
  'inp_dim_func' | 'inp_dim_scalar' | 'out_dim_func' | 'modes' | 'width' | 'hidden' | 'layers' | 'activation';

export type HyperOrigin = 'given' | 'metadata' | 'inferred' | 'assumed';

/** Parameter or buffer elements of a TorchScript model (shared tensors counted once). */
export interface TensorCount {
  tensors: number;
  real: number;
  complex: number;
}

/** One argument of a TorchScript model's forward, with the shape of the data fed to it. */
export interface GraphArg {
  name: string;
  /** The annotated type ('Tensor', 'int', …) and the default, as the code has them. */
  type: string;
  default?: string;
  /** Which loaded data it takes: x, p (the differentiated argument), or none (a non-tensor argument). */
  role?: 'x' | 'p';
  /** The shape of the data fed to it, [B, …]. */
  shape?: number[];
}

/** What the model panel says about a model that runs from its own code (a TorchScript archive). */
export interface GraphInfo {
  kind: 'traced' | 'scripted' | 'unknown';
  /** What decided traced or scripted. */
  kindReason: string;
  /** The root module's class, e.g. `FNO`. */
  rootType: string;
  args: GraphArg[];
  returns: string;
  /** The tensor arguments, in order: the choices for p. */
  tensorArgs: string[];
  /** The differentiated argument. */
  wrt: string;
  /** y's shape as the model returns it, [B, …]. */
  yShape: number[];
  /** Ops named in the code reachable from forward, most used first. */
  ops: { op: string; count: number }[];
  parameters: TensorCount;
  buffers: TensorCount;
  modules: number;
}

export interface ModelInfo {
  /** File name ("built-in demo" for the demo). */
  file: string;
  format: string;
  architecture: string;
  /** fno1d-scalar's hyperparameters (empty for a graph model). */
  config: Partial<Record<HyperKey, number | string>>;
  /** How each hyperparameter was obtained. */
  origin: Partial<Record<HyperKey, HyperOrigin>>;
  notes: string[];
  params: { real: number; complex: number };
  tensorCount: number;
  configFile?: string;
  /** Set for a model that runs from its own code (TorchScript). */
  graph?: GraphInfo;
}

export interface DataInfo {
  /** '' when the model takes p only. */
  xFile: string;
  pFile: string;
  /** x's shape as fed to the model ([B,T,Xf] for fno1d-scalar; any [B, …] for a graph model); null: no x. */
  xShape: number[] | null;
  B: number;
  T: number;
  /** x's last axis (0 without x). */
  Xf: number;
  P: number;
  xDtype: string;
  pDtype: string;
  xNames: string[];
  pNames: string[];
  notes: string[];
  /** How J is held: whole, or per sample (over the memory budget). */
  memory: JMemory;
}

/** Where the batch forward/Jacobian runs: the user's choice (`auto`: WebGPU when a hardware adapter is there). */
export type BackendWant = 'auto' | 'cpu' | 'webgpu';
export const BACKEND_WANTS: readonly BackendWant[] = ['auto', 'cpu', 'webgpu'];

export interface ResultMeta {
  B: number;
  /** 1 when y has no time axis. */
  T: number;
  O: number;
  P: number;
  /** y's shape as the model returns it: [B,T,O], or [B,O] / [B] / [B,T,d1,…] for graph models. */
  yShape: number[];
  /** Whether y has a time axis (its shape is [B,T,…]); views over time say so when it has none. */
  timeAxis: boolean;
  /** The backend that computed this result, for people ('CPU (WebAssembly SIMD, float64)', 'WebGPU: …'). */
  backend: string;
  backendKind: 'cpu' | 'webgpu';
  /** What the user had chosen when this was computed. */
  backendWant: BackendWant;
  /** Why WebGPU was wanted or tried but not used, or a note on the choice (a software adapter skipped). */
  backendNote?: string;
  /** Wall time of forward + Jacobian in the worker (without setting the backend up). */
  ms: number;
  /** Time to set the backend up for this model (WebGPU: device, kernels, weights), when it was set up now. */
  setupMs?: number;
  yNames: string[];
  pNames: string[];
  /** A counter that changes with every new result. */
  seq: number;
}

export interface SummaryPayload {
  l2: Float64Array;
  maxAbs: Float64Array;
  argT: Int32Array;
  globalMaxAbs: number;
}

export type MessageLevel = 'error' | 'warning' | 'info';

/** Something to tell the user about one file (or the drop as a whole when `file` is empty). */
export interface FileMessage {
  file: string;
  level: MessageLevel;
  text: string;
}

export type ExportWhat =
  | 'slice-csv'
  | 'slice-npy'
  | 'full-npy'
  | 'full-csv'
  /** HDF5 (one dataset, axis names as attributes) and MATLAB v5 .mat. */
  | 'slice-h5'
  | 'slice-mat'
  | 'full-h5'
  | 'full-mat';

/**
 * Exports of the data and the forward output: y of one sample [T,O] or of the batch [B,T,O] (long CSV), x of
 * one sample [T,Xf], p of the batch [B,P].
 */
export type DataExportWhat =
  | 'y-sample-csv'
  | 'y-sample-npy'
  | 'y-all-npy'
  | 'y-all-csv'
  | 'x-sample-csv'
  | 'x-sample-npy'
  | 'p-csv'
  | 'p-npy'
  | 'y-all-h5'
  | 'y-all-mat';

/** A what-if: sample b with its p replaced by these values. */
export interface WhatIfSpec {
  b: number;
  p: number[];
}

/** J[b1] − J[b2]. */
export interface CompareSpec {
  b1: number;
  b2: number;
}

export interface SliceSpec {
  xAxis: Axis;
  yAxis: Axis;
  fixed: AxisIndex;
  /** Export the what-if sample in place of the loaded one (what the heatmap shows). */
  whatIf?: WhatIfSpec;
  /** Export the difference of two samples (what the heatmap shows when comparing). */
  compare?: CompareSpec;
}

/** Exports of the explore views: the last sweep and the global sensitivity, built in the worker. */
export type ExploreExportWhat =
  | 'sweep-y-csv'
  | 'sweep-y-npy'
  | 'sweep-J-csv'
  | 'sweep-J-npy'
  | 'sweep-all-y-npy'
  | 'sweep-all-J-npy'
  | 'gsa-csv'
  | 'gsa-npy'
  | 'gsa-rank-csv'
  | 'gsa-t-npy';

export type GsaMeasure = 'nu' | 'index' | 'elasticity';

/** One output's picture of a sweep: y[n,t,o] and J[n,t,o,j] for fixed o and j, each [N,T]. */
export interface SweepSlice {
  o: number;
  j: number;
  y: Float64Array;
  J: Float64Array;
}

/**
 * A file for the worker: its bytes, or (over the lazy threshold) a Blob it reads by ranges (web build, drops) or a
 * path main reads by ranges through the UI thread (desktop app, `read-range`).
 */
export interface InputFile {
  name: string;
  bytes?: ArrayBuffer;
  blob?: Blob;
  remote?: { path: string; size: number };
}

export type { PickRequest, PickVariable, VarChoice } from './pick-protocol';

export type ToWorker =
  | { type: 'demo'; id: number }
  /** `choices`: the x and p remembered per data file name (the picker's earlier answers). */
  | { type: 'load'; id: number; files: InputFile[]; choices?: Record<string, VarChoice> }
  /** The picker's answer for the load `pickId` asked about (null: leave that file out). */
  | { type: 'pick'; id: number; pickId: number; file: string; choice: VarChoice | null }
  | { type: 'cancel' }
  /** The UI thread's answer to `read-range`: the bytes, or why main could not read them. */
  | { type: 'range-data'; rid: number; bytes?: ArrayBuffer; error?: string }
  /** Use this backend for the batch from now on and recompute the current result with it. */
  | { type: 'set-backend'; id: number; want: BackendWant }
  /** Differentiate the graph model with respect to this tensor argument and recompute. */
  | { type: 'set-wrt'; id: number; wrt: string }
  | { type: 'export'; id: number; what: ExportWhat; slice?: SliceSpec; dtype?: 'float32' | 'float64' }
  /** Sample b's y / x (the whole batch for y-all and p); y at the what-if values for sample whatIf.b. */
  | {
      type: 'export-data';
      id: number;
      what: DataExportWhat;
      b: number;
      whatIf?: WhatIfSpec;
      dtype?: 'float32' | 'float64';
    }
  | {
      type: 'export-explore';
      id: number;
      what: ExploreExportWhat;
      /** Which output / parameter of the sweep, or which measure and output of the sensitivity. */
      o: number;
      j: number;
      measure?: GsaMeasure;
    }
  /** y and J of sample b of result `seq` with p replaced (the what-if sliders). */
  | { type: 'whatif'; id: number; seq: number; b: number; p: number[] }
  | { type: 'compare'; id: number; seq: number; b1: number; b2: number }
  /** Sample b with p = base except p_k swept over linspace(lo, hi, n); answers with the (o, j) picture. */
  | {
      type: 'sweep';
      id: number;
      seq: number;
      b: number;
      base: number[];
      k: number;
      lo: number;
      hi: number;
      n: number;
      o: number;
      j: number;
    }
  | { type: 'sweep-slice'; id: number; sweepId: number; o: number; j: number }
  /** Sample mode: y and J of sample b (computed now). */
  | { type: 'sample'; id: number; seq: number; b: number }
  /** The memory budget for the whole J, in bytes (from the next computation on). */
  | { type: 'memory-budget'; bytes: number }
  | { type: 'sensitivity'; id: number; seq: number }
  /** Finite differences on sample b, at the what-if values when given. */
  | { type: 'check'; id: number; seq: number; b: number; p?: number[] }
  | { type: 'cancel-analysis'; id: number }
  /**
   * The whole J of result `seq` written in parts to a save main holds open (desktop app, sample mode): .npy or
   * the long CSV, J computed a chunk of samples at a time (stream-export-handler.ts).
   */
  | {
      type: 'export-stream';
      id: number;
      seq: number;
      what: StreamedJWhat;
      dtype?: 'float32' | 'float64';
    }
  /** The last `export-part` is written (or why it could not be: the export then ends). */
  | { type: 'export-part-ack'; id: number; error?: string }
  | { type: 'export-stream-cancel'; id: number }
  | SobolToWorker;

export type FromWorker =
  | { type: 'ready'; backend: string }
  /** Bytes of a file main reads by ranges (desktop app): the UI thread asks main, answers with `range-data`. */
  | { type: 'read-range'; rid: number; path: string; offset: number; length: number }
  | {
      type: 'loaded';
      id: number;
      messages: FileMessage[];
      /** True when the load led to a new computation (a 'result' or 'cancelled' follows). */
      computing: boolean;
      /** Files waiting for a partner (e.g. a model whose data has not been dropped yet). */
      staged: string[];
      /** The chosen backend could not be used (e.g. WebGPU forced where there is none): why. */
      backendError?: string;
      /** A data file holds several candidates: x and p are to be chosen (nothing of the drop applied yet). */
      pick?: PickRequest;
    }
  | { type: 'progress'; id: number; done: number; total: number }
  | {
      type: 'result';
      id: number;
      model: ModelInfo;
      data: DataInfo;
      meta: ResultMeta;
      J: JArray;
      y: Float64Array;
      /** p [B,P] and the what-if sliders' ranges. */
      p: Float64Array;
      pRanges: PRange[];
      /** [B,O,P]; in sample mode [1,O,P] of sample `sampleB`. */
      summary: SummaryPayload;
      /** Sample mode (J over the memory budget): the sample J [T,O,P] and y [T,O] hold; null: J is whole. */
      sampleB: number | null;
      messages: FileMessage[];
    }
  | { type: 'cancelled'; id: number; messages: FileMessage[] }
  | { type: 'failed'; id: number; messages: FileMessage[] }
  | { type: 'exported'; id: number; name: string; bytes: Uint8Array }
  | { type: 'export-failed'; id: number; message: string }
  /** The next bytes of a streamed export; the next part waits for `export-part-ack`. */
  | { type: 'export-part'; id: number; bytes: Uint8Array }
  /** A streamed export ended: every part was acknowledged (ok), or it was cancelled or failed. */
  | {
      type: 'export-stream-end';
      id: number;
      ok: boolean;
      cancelled?: boolean;
      message?: string;
      name?: string;
      bytes?: number;
    }
  | {
      type: 'whatif-result';
      id: number;
      seq: number;
      b: number;
      /** y [T,O], J [T,O,P] of the sample, and its summary ([1,O,P]). */
      y: Float64Array;
      J: Float64Array;
      summary: SummaryPayload;
      ms: number;
    }
  | {
      type: 'sample-result';
      id: number;
      seq: number;
      b: number;
      /** y [T,O], J [T,O,P] of sample b, and its summary ([1,O,P]). */
      y: Float64Array;
      J: Float64Array;
      summary: SummaryPayload;
      ms: number;
    }
  | {
      type: 'compare-result';
      id: number;
      seq: number;
      b1: number;
      b2: number;
      y: Float64Array;
      J: Float64Array;
      summary: SummaryPayload;
    }
  | {
      type: 'sweep-result';
      id: number;
      seq: number;
      b: number;
      k: number;
      base: number[];
      values: Float64Array;
      ms: number;
      slice: SweepSlice;
    }
  | { type: 'sweep-slice-result'; id: number; sweepId: number; slice: SweepSlice }
  | {
      type: 'sensitivity-result';
      id: number;
      seq: number;
      /** [O,P], [T,O,P], [O,P] or null (B = 1 or p constant), [O,P] (NaN: y near 0 throughout) */
      nu: Float64Array;
      nuT: Float64Array;
      index: Float64Array | null;
      elasticity: Float64Array;
      yFloor: number;
      ms: number;
      /** From one streamed pass over the samples (sample mode), not from a whole J. */
      streamed: boolean;
      /** max |J| over every sample, found by the streamed pass (sample mode: the heatmap's "all of J" scale). */
      jAbsMax?: number;
    }
  | ({ type: 'check-result'; id: number; seq: number; b: number } & CheckResult)
  | { type: 'analysis-failed'; id: number; message: string; cancelled: boolean }
  | SobolFromWorker;

/** What "Check derivatives" found for one sample (worker → store → check view). */
export interface CheckResult {
  /** The p the check ran at. */
  p: number[];
  whatIf: boolean;
  maxRelError: number;
  /** [O,P] */
  errorMap: Float64Array;
  h: number;
  kinked: boolean;
  /** The precision of the J checked: float32 when WebGPU computed it. */
  precision: 'float64' | 'float32';
  forwardRows: number;
  ms: number;
}
