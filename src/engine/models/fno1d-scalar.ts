/**
 * The fno1d-scalar model on the CPU in the engine's fixed layouts (x [B,T,Xf], p [B,P] → y [B,T,O],
 * J [B,T,O,P]): the program its builder emits (fno1d-program.ts) run by the graph engine, behind
 * the interface the backends, the app's worker and the analyses use. Nothing here wires the model.
 */
import { CancelledError, ShapeError } from '../errors';
import type { HostTensor } from '../tensor';
import { graphHost } from '../torchscript/graph-host';
import type { TensorHost } from '../torchscript/host';
import type { GTensor } from '../graph/tensor';
import type { FnoConfig } from './config';
import { modesProblem } from './config';
import { checkTensors } from './fno1d-layout';
import { fno1dProgram } from './fno1d-program';
import { GraphModel, JACOBIAN_RUN, type InputArray } from './graph-model';

export interface JacobianOptions {
  onProgress?: (samplesDone: number, samplesTotal: number) => void;
}

export class Fno1dScalar {
  readonly config: FnoConfig;
  readonly graph: GraphModel<TensorHost<GTensor>>;
  private readonly counts: { real: number; complex: number };

  constructor(config: FnoConfig, tensors: Map<string, HostTensor>) {
    this.config = config;
    this.counts = checkTensors(config, tensors);
    this.graph = new GraphModel(fno1dProgram(config, tensors), graphHost);
  }

  parameterCount(): { real: number; complex: number } {
    return { ...this.counts };
  }

  /** y [B,T,O] for x [B,T,Xf] and p [B,P]. */
  forward(x: Float64Array, p: Float64Array, B: number, T: number): Float64Array {
    return this.graph.forward(this.inputs(x, p, B, T)).y;
  }

  /** J [B,T,O,P], J[b,t,o,k] = ∂y[b,t,o]/∂p[b,k]. */
  jacobian(x: Float64Array, p: Float64Array, B: number, T: number, opts: JacobianOptions = {}): Float64Array {
    return this.graph.evaluate(this.inputs(x, p, B, T), opts).J!;
  }

  /** As `jacobian`, yielding to the event loop between samples so that a worker can cancel it. */
  async jacobianAsync<A extends Float64Array | Float32Array = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: JacobianOptions & { signal?: AbortSignal; out?: A } = {},
  ): Promise<A> {
    const n = B * T * this.config.out_dim_func * this.config.inp_dim_scalar;
    if (opts.out && opts.out.length !== n)
      throw new ShapeError(`jacobian: the output has ${opts.out.length} values; it needs ${n}`);
    const run = this.graph.prepare(this.inputs(x, p, B, T), { out: { J: opts.out } });
    let last = performance.now();
    for (let b = 0; b < B; b += JACOBIAN_RUN) {
      if (opts.signal?.aborted) throw new CancelledError();
      const k = Math.min(JACOBIAN_RUN, B - b);
      this.graph.samples(run, b, k);
      opts.onProgress?.(b + k, B);
      if (performance.now() - last > 30) {
        await new Promise((r) => setTimeout(r, 0));
        last = performance.now();
      }
    }
    if (opts.signal?.aborted) throw new CancelledError();
    return (run.J ?? new Float64Array(0)) as A;
  }

  /** y [B,T,O] and J [B,T,O,P] from one pass, into `out` when given. */
  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    out?: { y: Float64Array; J: Float64Array },
  ): { y: Float64Array; J: Float64Array } {
    const { out_dim_func: O, inp_dim_scalar: P } = this.config;
    if (out && (out.y.length !== B * T * O || out.J.length !== B * T * O * P))
      throw new ShapeError('evaluate: output buffers of the wrong size');
    const run = this.graph.prepare(this.inputs(x, p, B, T), { out });
    this.graph.samples(run, 0, B);
    return { y: run.y ?? new Float64Array(0), J: (run.J as Float64Array) ?? new Float64Array(0) };
  }

  private inputs(x: Float64Array, p: Float64Array, B: number, T: number): Map<string, InputArray> {
    const { inp_dim_func: Xf, inp_dim_scalar: P } = this.config;
    if (!Number.isInteger(T) || T < 2)
      throw new ShapeError(`x must have at least 2 time steps, got T = ${T}`);
    if (x.length !== B * T * Xf)
      throw new ShapeError(`x has ${x.length} values; the model expects [B,T,Xf] = [${B},${T},${Xf}]`);
    if (p.length !== B * P)
      throw new ShapeError(`p has ${p.length} values; the model expects [B,P] = [${B},${P}]`);
    const modes = modesProblem(this.config.modes, T, 'the model');
    if (modes) throw new ShapeError(modes);
    return new Map([
      ['x', { shape: [B, T, Xf], data: x }],
      ['p', { shape: [B, P], data: p }],
    ]);
  }
}
