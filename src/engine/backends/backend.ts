import { CancelledError, ShapeError } from '../errors';
import { modesProblem, type FnoConfig } from '../models/config';

/** Where the arithmetic runs. */
export type BackendKind = 'cpu' | 'webgpu';
/** What the user asked for: a backend, or `auto` (WebGPU when an adapter is there, else CPU). */
export type BackendChoice = 'auto' | BackendKind;
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'cpu', 'webgpu'];

/** What a backend can write its results into. */
export type OutputArray = Float64Array | Float32Array;

export interface RunOptions<A extends OutputArray = Float64Array> {
  /** Called after each finished chunk of samples (done ≤ total, both counted in samples). */
  onProgress?(done: number, total: number): void;
  /** Checked between chunks; an aborted signal ends the call with a CancelledError. */
  signal?: AbortSignal;
  /**
   * Samples that later calls of the same piece of work will bring (a caller that computes a large
   * batch in blocks): counted when deciding whether helper threads pay off.
   */
  samplesAfter?: number;
  /**
   * Write the result here (exactly B·T·O values for y, B·T·O·P for J) instead of a new float64
   * array. A float32 array halves the memory of a large J (1024 seed samples: 0.5 GB instead of
   * 1 GB) and lets WebGPU copy its read-back straight in; a reused array also skips the page
   * faults of fresh memory. On cancel or error its contents are unspecified.
   */
  out?: A;
}

/**
 * One model on one backend. Both backends take float64 host arrays in the engine's layouts
 * (x [B,T,Xf], p [B,P] → y [B,T,O], J [B,T,O,P]) and return float64 unless `opts.out` is given;
 * the CPU computes in float64, WebGPU in float32, and the backend tests hold them to the same
 * fixtures.
 */
export interface ComputeBackend {
  readonly kind: BackendKind;
  /** For people: 'CPU (…)' or the WebGPU adapter (vendor, architecture, driver). */
  readonly description: string;
  forward<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: RunOptions<A>,
  ): Promise<A>;
  jacobian<A extends OutputArray = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: RunOptions<A>,
  ): Promise<A>;
  /**
   * y [B,T,O] and J [B,T,O,P] of the same inputs together. On the CPU one pass gives both (the
   * Jacobian's run computes y anyway), a fifth faster than forward + jacobian on the seed model.
   * J comes in the backend's own precision: float64 on the CPU, float32 on WebGPU (half the
   * memory of a large batch; widening would add nothing). Progress counts samples.
   */
  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts?: Omit<RunOptions, 'out'>,
  ): Promise<{ y: Float64Array; J: OutputArray }>;
  /** Free what the backend holds (GPU buffers, the device it created). Further calls fail. */
  dispose(): void;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/**
 * The checks every backend makes before computing, with the CPU model's wording, so a user sees
 * the same message whichever backend runs.
 */
export function checkRunInputs(
  config: FnoConfig,
  x: Float64Array,
  p: Float64Array,
  B: number,
  T: number,
): void {
  const { inp_dim_func: Xf, inp_dim_scalar: P } = config;
  if (!Number.isInteger(B) || B < 0) throw new ShapeError(`the batch size must be a whole number, got ${B}`);
  if (!Number.isInteger(T) || T < 2) throw new ShapeError(`x must have at least 2 time steps, got T = ${T}`);
  if (x.length !== B * T * Xf) {
    throw new ShapeError(`x has ${x.length} values; the model expects [B,T,Xf] = [${B},${T},${Xf}]`);
  }
  if (p.length !== B * P)
    throw new ShapeError(`p has ${p.length} values; the model expects [B,P] = [${B},${P}]`);
  const modes = modesProblem(config.modes, T);
  if (modes) throw new ShapeError(modes);
}

/** `opts.out` checked against the result's length, or a new float64 array of that length. */
export function outputArray<A extends OutputArray>(opts: RunOptions<A>, length: number, what: string): A {
  const out = opts.out;
  if (out === undefined) return new Float64Array(length) as A;
  if (!(out instanceof Float64Array) && !(out instanceof Float32Array))
    throw new ShapeError(`the output for ${what} must be a Float64Array or a Float32Array`);
  if (out.length !== length)
    throw new ShapeError(`the output for ${what} has ${out.length} values; it needs ${length}`);
  return out;
}

/**
 * Runs the calls it is given one at a time, in order, whether or not earlier ones failed: for
 * backends whose calls share buffers (WebGPU workspaces) or threads (CPU helpers).
 */
export function serialQueue(): <R>(fn: () => Promise<R>) => Promise<R> {
  let queue: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const next = queue.then(fn, fn);
    queue = next.catch(() => undefined);
    return next;
  };
}

/** Let the event loop run (a worker's cancel message, a UI repaint) between chunks of work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
