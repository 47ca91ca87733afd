/**
 * What the worker's Session needs from the engine, as an interface: the real engine implements it
 * in engine-adapter.ts, and the tests give the Session a fake one.
 */
import type { JArray } from '../lib/j-array';
import type { BackendWant, GraphArg, HyperKey, HyperOrigin, TensorCount } from './protocol';
import type { DataListing } from './data-files';
import type { PickVariable, VarChoice } from './pick-protocol';
import type { XRows } from './x-rows';

export interface Tensor {
  dtype: string;
  shape: number[];
  /** The values (row-major); empty when `rows` reads them from disk as needed. */
  data: Float64Array;
  /** x opened lazily: its rows by sample, read from disk when needed (worker/lazy-rows.ts). */
  rows?: XRows;
}

export interface ParsedModel {
  file: string;
  format: string;
  tensorCount: number;
  /** The engine's own object, opaque here. */
  raw: unknown;
  /** Set when the file is a model that runs from its own code (a TorchScript archive); never guessed from weights. */
  graph?: GraphNet;
}

/** Which data a graph model's arguments take: p the differentiated one, x (of per-sample shape xSample) another. */
export interface GraphRoles {
  wrt: string;
  xArg?: string;
  /** x's shape without the batch axis. */
  xSample: number[];
}

/** A TorchScript model as the session sees it (graph-adapter.ts builds it on the engine's GraphModel). */
export interface GraphNet {
  kind: 'traced' | 'scripted' | 'unknown';
  kindReason: string;
  rootType: string;
  /** forward's arguments after self. */
  args: Omit<GraphArg, 'role' | 'shape'>[];
  returns: string;
  /** The arguments that take tensors, in order (at least one). */
  tensorArgs: string[];
  ops: { op: string; count: number }[];
  parameters: TensorCount;
  buffers: TensorCount;
  modules: number;
  notes: string[];
  /** Whether an op's derivative jumps somewhere (ReLU, abs, clamp, …): the derivative check takes one small step. */
  kinked: boolean;
  /** y [B,…] and J [B,…,P] of the batch on the CPU in float64, one sample at a time. */
  evaluate(
    roles: GraphRoles,
    x: Float64Array | null,
    p: Tensor,
    hooks: RunHooks,
  ): Promise<{ y: Float64Array; yShape: number[]; J: Float64Array }>;
  /** The explore tools' model for these roles: samples of x [B, ...xSample] and p [B,P]; T is ignored. */
  engineModel(roles: GraphRoles): EngineModel;
  /**
   * Where the batch computes for this choice (graph-backend.ts): a fresh backend per call, which the session
   * keeps while the model is loaded. Rejects with a BackendError when `webgpu` cannot be had at all.
   */
  selectBackend(want: BackendWant): Promise<GraphBackend>;
}

/** What computed a batch, for the model panel, and why not WebGPU when it was wanted or tried. */
export interface BackendUsed {
  description: string;
  kind: 'cpu' | 'webgpu';
  note?: string;
}

/** A graph model's batch on WebGPU (float32 J) or the CPU (float64), and what computed it. */
export interface GraphBackend {
  evaluate(
    roles: GraphRoles,
    x: Float64Array | null,
    p: Tensor,
    hooks: RunHooks,
  ): Promise<{ y: Float64Array; yShape: number[]; J: JArray; backend: BackendUsed }>;
  /**
   * This backend as a BatchBackend for the analyses that run many evaluations, where it computes in
   * float64 on the CPU (with its helper threads); absent on WebGPU (those run on the session's CPU model).
   */
  batch?(roles: GraphRoles): BatchBackend;
  /** Frees the GPU device and buffers, and the CPU side's helper threads. */
  dispose(): void;
}

export interface Recognized {
  architecture: string;
  config: Record<HyperKey, number | string>;
  origin: Partial<Record<HyperKey, HyperOrigin>>;
  /** Notes from reading/recognising (e.g. a stripped 'module.' prefix). */
  notes: string[];
  raw: unknown;
}

/**
 * The CPU float64 model: the explore tools (what-if, sweeps, checks, sensitivity) run on it, whatever backend
 * computes the batch, since their answers are compared with float64 finite differences.
 */
export interface EngineModel {
  parameterCount(): { real: number; complex: number };
  forward(x: Float64Array, p: Float64Array, B: number, T: number): Float64Array;
  /** Synchronous: for one what-if sample (about 10 ms), where yielding would only add latency. */
  jacobian(x: Float64Array, p: Float64Array, B: number, T: number): Float64Array;
  /** y and J from one pass, into `out` when given (the what-if sliders reuse their buffers). */
  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    out?: { y: Float64Array; J: Float64Array },
  ): { y: Float64Array; J: Float64Array };
  jacobianAsync(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<Float64Array>;
}

export interface DataParts {
  x?: Tensor;
  /** x as the file holds it when the reader reshaped it (a 2-D array read as one sample [1,T,Xf]): graph models take it as it is. */
  xAsFiled?: Tensor;
  p?: Tensor;
  xNames?: string[];
  pNames?: string[];
  notes: string[];
}

export interface RunHooks {
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** The batch forward/Jacobian on the chosen backend (the engine's ComputeBackend, with its selection notes). */
export interface BatchBackend {
  readonly kind: 'cpu' | 'webgpu';
  /** For people: 'CPU (WebAssembly SIMD, float64)', 'WebGPU: SwiftShader …'. */
  readonly description: string;
  /** Why WebGPU was wanted or tried but the CPU computes (also set when WebGPU fails later and auto moves on). */
  readonly fallbackReason?: string;
  /** Information that is not a failure (a software adapter that auto skipped). */
  readonly note?: string;
  forward(x: Float64Array, p: Float64Array, B: number, T: number, opts?: RunHooks): Promise<Float64Array>;
  jacobian(x: Float64Array, p: Float64Array, B: number, T: number, opts?: RunHooks): Promise<Float64Array>;
  /** y and J in one call (one pass on the CPU). */
  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: RunHooks,
  ): Promise<{ y: Float64Array; J: JArray }>;
  dispose(): void;
}

/** The chosen backend could not be set up (e.g. WebGPU forced where there is none). */
export class BackendError extends Error {}

/** What the session needs from the engine (see engine-adapter.ts for the real one). */
export interface EngineAdapter {
  readonly backend: string;
  /** Sets up the batch backend for a model; rejects with a BackendError when `want` cannot be had. */
  selectBackend(rec: Recognized, want: BackendWant): Promise<BatchBackend>;
  readModel(bytes: Uint8Array, file: string): ParsedModel;
  recognize(model: ParsedModel, explicit: Record<string, unknown> | undefined): Recognized;
  build(model: ParsedModel, rec: Recognized): EngineModel;
  /**
   * A data file; `hint` (the current model's Xf and P) settles whether a CSV holds x or p. `choice`: the
   * variables the user chose as x and p (the picker), checked against `dataListing` first.
   */
  readData(
    bytes: Uint8Array,
    file: string,
    hint: { Xf?: number; P?: number },
    choice?: { choice: VarChoice; variables: PickVariable[] },
  ): DataParts | Promise<DataParts>;
  /** A container file's candidate arrays for the picker (null: .npy, .csv, or not data). */
  dataListing(bytes: Uint8Array, file: string): Promise<DataListing | null>;
  /** For .pt/.pth files: whether the file holds a model or data (tensors), and what was recognised. */
  torchKind(bytes: Uint8Array, file: string): { kind: 'model' | 'data'; what: string } | null;
  /** Non-fatal findings about data that fits (e.g. samples holding NaN or Inf). */
  checkData(x: Tensor, p: Tensor, expect: { Xf: number; P: number }): string[];
  /** A config.json: validated hyperparameters. */
  readConfig(bytes: Uint8Array, file: string): Record<string, unknown>;
  demo(): { model: ParsedModel; rec: Recognized; x: Tensor; p: Tensor; xNames: string[]; pNames: string[] };
  /** A message for an error thrown while reading `file` (LoadError etc.): no stack traces. */
  describeError(e: unknown): string;
  isCancelled(e: unknown): boolean;
}
