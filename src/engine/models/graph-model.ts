/**
 * Any model the graph engine runs — a TorchScript archive or a state-dict builder's program — with
 * inputs named by its `forward` signature: y = forward(...) and the per-sample Jacobian of y with
 * respect to one argument p [B,P], J = y's shape followed by P ([B,T,O,P] or [B,O,P]).
 *
 * J is computed one sample at a time by forward mode with all P directions at once: the sample's
 * p gets the identity as its tangent, and every op's JVP rule carries it to the output. A plain
 * forward pass runs chunks of samples together.
 */
import { CancelledError, ShapeError } from '../errors';
import { tangentOf } from '../graph/dispatch';
import type { GraphProgram, ProgramHost } from '../graph/program';
import type { Ctx, RuleTable } from '../graph/rule';
import { RULES } from '../graph/table';
import { dense, tan } from '../graph/tangent';
import { forBlocks, physicalOrder } from '../graph/strided';
import {
  Arena,
  GTensor,
  contiguous,
  contiguousStrides,
  fromArrays,
  shapeString,
  sizeOf,
  withArena,
} from '../graph/tensor';
import { isTuple } from '../torchscript/values';

/** One named input: a [B, ...] array in row-major order. */
export interface InputArray {
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Samples [b0, b0+n) of every input (views of the same storage, no copies). */
export function samplesOf(
  inputs: ReadonlyMap<string, InputArray>,
  b0: number,
  n: number,
): Map<string, InputArray> {
  return new Map(
    [...inputs].map(([name, a]) => {
      const per = sizeOf(a.shape.slice(1));
      return [name, { shape: [n, ...a.shape.slice(1)], data: a.data.subarray(b0 * per, (b0 + n) * per) }];
    }),
  );
}

export interface GraphRunOptions {
  /** Which argument is p (default: the last tensor argument). */
  wrt?: string;
  /** Which element of a tuple output is y (default: the first tensor). */
  output?: number;
  onProgress?(done: number, total: number): void;
  signal?: AbortSignal;
  /** Samples later calls of the same piece of work will bring (see RunOptions.samplesAfter). */
  samplesAfter?: number;
}

export interface GraphResult {
  /** [B, ...] */
  y: Float64Array;
  yShape: number[];
  /** [B, ..., P] when asked for. */
  J: Float64Array | null;
  jShape: number[] | null;
}

/** Where a run writes y [B, ...] and J [B, ..., P]. */
export interface SampleOutput {
  y?: Float64Array;
  J?: Float64Array | Float32Array;
}

/** One Jacobian run in progress (see GraphModel.prepare). */
export interface JacobianRun {
  readonly B: number;
  readonly P: number;
  readonly wrt: string;
  readonly host: ProgramHost;
  readonly inputs: ReadonlyMap<string, InputArray>;
  readonly outputIndex?: number;
  /** Whether samples are independent, decided by the caller (a parallel runner's calling thread) rather than probed. */
  readonly independent?: boolean;
  y: Float64Array | null;
  J: Float64Array | Float32Array | null;
  yShape: number[] | null;
  result(): GraphResult;
}

/** A host factory: the TorchScript host or any other that runs the program's ops on the rules. */
export type HostFactory<H extends ProgramHost> = (table: RuleTable, ctx: Ctx, tangents: boolean) => H;

/**
 * Samples per run of a plain forward pass. Runs of several samples amortise the interpreter and
 * feed the GEMMs taller operands (about 30% less time per seed sample than one at a time). Runs
 * start at multiples of this from the first sample of the call, and callers that split a batch
 * (threads, chunks with progress) split it at multiples of it too, so a sample's y is the same to
 * the bit however the batch was split (kernels choose their blocking by size, and rounding follows).
 * A Jacobian run still takes one sample, so its y may differ from the forward's in the last bit.
 */
export const FORWARD_CHUNK = 8;

/**
 * Samples per run of a Jacobian pass, for models whose samples do not interact (checked once per
 * model and input shapes by a probe, see `independent`): all samples' p get the identity as their
 * tangent at once. About 30% less time per seed sample than one at a time; the tangents of a run
 * hold n·P rows, so the run stays small. Runs are aligned like the forward pass's.
 */
export const JACOBIAN_RUN = 4;

export class GraphModel<H extends ProgramHost = ProgramHost> {
  /** Storage reused from one sample's run to the next (see graph/tensor.ts Arena). */
  private readonly arena = new Arena();
  /** Whether samples are independent, by input shapes (see `independent`). */
  private readonly independence = new Map<string, boolean>();

  constructor(
    readonly program: GraphProgram<H>,
    private readonly makeHost: HostFactory<H>,
    private readonly table: RuleTable = RULES,
  ) {}

  /** Names of the arguments that take tensors, in order. */
  tensorArgs(): string[] {
    return this.program.signature.filter((a) => /Tensor/.test(a.type)).map((a) => a.name);
  }

  /** The differentiated argument: `wrt` if given (checked), else the last tensor argument. */
  wrtArg(wrt?: string): string {
    const names = this.tensorArgs();
    if (names.length === 0) throw new ShapeError('the model takes no tensor argument to differentiate');
    if (wrt === undefined) return names[names.length - 1];
    if (!names.includes(wrt))
      throw new ShapeError(`the model has no tensor argument '${wrt}' (its arguments: ${names.join(', ')})`);
    return wrt;
  }

  /** Check the inputs against the signature; returns B. */
  checkInputs(inputs: ReadonlyMap<string, InputArray>, wrt: string): number {
    let B: number | null = null;
    for (const name of this.tensorArgs()) {
      const a = inputs.get(name);
      if (!a) throw new ShapeError(`no data for the model's argument '${name}'`);
      if (a.shape.length < 1) throw new ShapeError(`'${name}' must have a leading batch axis, got a scalar`);
      if (a.data.length !== sizeOf(a.shape))
        throw new ShapeError(`'${name}' has ${a.data.length} values for shape ${shapeString([...a.shape])}`);
      if (B === null) B = a.shape[0];
      else if (a.shape[0] !== B)
        throw new ShapeError(`'${name}' has ${a.shape[0]} samples where the other inputs have ${B}`);
    }
    for (const name of inputs.keys())
      if (!this.tensorArgs().includes(name)) throw new ShapeError(`the model has no argument '${name}'`);
    const p = inputs.get(wrt)!;
    if (p.shape.length !== 2)
      throw new ShapeError(`'${wrt}' (p) must be [B,P], got ${shapeString([...p.shape])}`);
    return B ?? 0;
  }

  /** y for every sample (chunks of samples at once). */
  forward(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions = {}): GraphResult {
    const wrt = this.wrtArg(opts.wrt);
    const B = this.checkInputs(inputs, wrt);
    const host = this.makeHost(this.table, { P: 1 }, false);
    let y: Float64Array | null = null;
    let yShape: number[] = [];
    for (let b0 = 0; b0 < B; b0 += FORWARD_CHUNK) {
      if (opts.signal?.aborted) throw new CancelledError();
      const n = Math.min(FORWARD_CHUNK, B - b0);
      this.arena.reset();
      withArena(this.arena, () => {
        const out = this.outputOf(this.program.run(host, this.argsFor(inputs, b0, n)), opts.output);
        if (out.shape[0] !== n)
          throw new ShapeError(`the output's first axis has ${out.shape[0]} entries for a batch of ${n}`);
        if (!y) {
          yShape = [B, ...out.shape.slice(1)];
          y = new Float64Array(sizeOf(yShape));
        }
        y.set(contiguous(out).re.subarray(0, out.numel), b0 * (out.numel / n));
      });
      opts.onProgress?.(b0 + n, B);
    }
    return { y: y ?? new Float64Array(0), yShape, J: null, jShape: null };
  }

  /** y and J for every sample, in runs of JACOBIAN_RUN samples (one at a time if they interact). */
  evaluate(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions = {}): GraphResult {
    const run = this.prepare(inputs, opts);
    for (let b = 0; b < run.B; b += JACOBIAN_RUN) {
      if (opts.signal?.aborted) throw new CancelledError();
      const n = Math.min(JACOBIAN_RUN, run.B - b);
      this.samples(run, b, n);
      opts.onProgress?.(b + n, run.B);
    }
    return run.result();
  }

  /** As `evaluate`, yielding to the event loop about every 30 ms so that a cancel gets through. */
  async evaluateAsync(
    inputs: ReadonlyMap<string, InputArray>,
    opts: GraphRunOptions = {},
  ): Promise<GraphResult> {
    const run = this.prepare(inputs, opts);
    let last = performance.now();
    for (let b = 0; b < run.B; b += JACOBIAN_RUN) {
      if (opts.signal?.aborted) throw new CancelledError();
      const n = Math.min(JACOBIAN_RUN, run.B - b);
      this.samples(run, b, n);
      opts.onProgress?.(b + n, run.B);
      if (performance.now() - last > 30) {
        await new Promise((r) => setTimeout(r, 0));
        last = performance.now();
      }
    }
    if (opts.signal?.aborted) throw new CancelledError();
    return run.result();
  }

  /**
   * A Jacobian run over `inputs`: `sample(run, b)` computes sample b's y and J into the run's
   * arrays (`out` when given: J of exactly B·(per-sample y)·P values, float64 or float32), and
   * `samples(run, b0, n)` samples [b0, b0+n) (callers that split a batch split it at multiples of
   * JACOBIAN_RUN, so that results do not depend on the split).
   */
  prepare(
    inputs: ReadonlyMap<string, InputArray>,
    opts: GraphRunOptions & { out?: SampleOutput; independent?: boolean } = {},
  ): JacobianRun {
    const wrt = this.wrtArg(opts.wrt);
    const B = this.checkInputs(inputs, wrt);
    const P = inputs.get(wrt)!.shape[1];
    const host = this.makeHost(this.table, { P }, true);
    const run: JacobianRun = {
      B,
      P,
      wrt,
      host,
      inputs,
      outputIndex: opts.output,
      independent: opts.independent,
      y: opts.out?.y ?? null,
      J: opts.out?.J ?? null,
      yShape: null,
      result() {
        const yShape = run.yShape ?? [B];
        return {
          y: (run.y as Float64Array) ?? new Float64Array(0),
          yShape,
          J: (run.J as Float64Array) ?? new Float64Array(0),
          jShape: [...yShape, P],
        };
      },
    };
    return run;
  }

  /** Sample b of a Jacobian run: y into run.y, J into run.J (allocated at the first sample). */
  sample(run: JacobianRun, b: number): void {
    const { P } = run;
    this.arena.reset();
    withArena(this.arena, () => {
      const args = this.argsFor(run.inputs, b, 1, run.wrt, P);
      const out = this.outputOf(this.program.run(run.host as H, args), run.outputIndex);
      if (out.shape[0] !== 1)
        throw new ShapeError(`the output's first axis has ${out.shape[0]} entries for one sample`);
      const per = out.numel;
      if (!run.yShape) run.yShape = [run.B, ...out.shape.slice(1)];
      else if (sizeOf(run.yShape) !== run.B * per)
        throw new ShapeError(`sample ${b}'s output has shape ${shapeString(out.shape)}, unlike the others`);
      run.y ??= new Float64Array(run.B * per);
      run.J ??= new Float64Array(run.B * per * P);
      if (run.y.length !== run.B * per || run.J.length !== run.B * per * P)
        throw new ShapeError(`the output arrays do not fit y ${shapeString(run.yShape)} and its J`);
      run.y.set(contiguous(out).re.subarray(0, per), b * per);
      const Jb = run.J.subarray(b * per * P, (b + 1) * per * P);
      const t = tangentOf(out);
      if (!t) {
        Jb.fill(0);
        return;
      }
      scatterJ(dense(t), Jb);
    });
  }

  /**
   * Samples [b0, b0+n) of a Jacobian run, in runs of up to JACOBIAN_RUN samples where the model's
   * samples are independent (every sample's p seeded with the identity at once, so direction k of
   * sample b's output is Σ_b' ∂y_b/∂p_b',k, its own column when no other sample reaches it), else
   * one at a time.
   */
  samples(run: JacobianRun, b0: number, n: number): void {
    const size = n > 1 && this.independent(run, b0) ? JACOBIAN_RUN : 1;
    for (let b = b0; b < b0 + n; b += size) {
      const k = Math.min(size, b0 + n - b);
      if (k === 1) this.sample(run, b);
      else this.block(run, b, k);
    }
  }

  /** Samples [b0, b0+n) in one program run (independent samples only). */
  private block(run: JacobianRun, b0: number, n: number): void {
    const { P } = run;
    this.arena.reset();
    withArena(this.arena, () => {
      const out = this.outputOf(
        this.program.run(run.host as H, this.argsFor(run.inputs, b0, n, run.wrt, P)),
        run.outputIndex,
      );
      if (out.shape[0] !== n)
        throw new ShapeError(`the output's first axis has ${out.shape[0]} entries for ${n} samples`);
      const per = out.numel / n;
      if (!run.yShape) run.yShape = [run.B, ...out.shape.slice(1)];
      else if (sizeOf(run.yShape) !== run.B * per)
        throw new ShapeError(
          `samples ${b0}…${b0 + n - 1} give an output of shape ${shapeString(out.shape)}, unlike the others`,
        );
      run.y ??= new Float64Array(run.B * per);
      run.J ??= new Float64Array(run.B * per * P);
      if (run.y.length !== run.B * per || run.J.length !== run.B * per * P)
        throw new ShapeError(`the output arrays do not fit y ${shapeString(run.yShape)} and its J`);
      run.y.set(contiguous(out).re.subarray(0, n * per), b0 * per);
      const Jn = run.J.subarray(b0 * per * P, (b0 + n) * per * P);
      const t = tangentOf(out);
      if (!t) Jn.fill(0);
      else scatterJ(dense(t), Jn);
    });
  }

  /** Whether the samples of `inputs` (at least 2) are independent (see `independent`). */
  samplesIndependent(inputs: ReadonlyMap<string, InputArray>, opts: GraphRunOptions = {}): boolean {
    const run = this.prepare(inputs, opts);
    return run.B >= 2 && this.independent(run, 0);
  }

  /**
   * One run of the program over all of `inputs`' samples (the lowering records such runs): with
   * `P` > 0, p (`wrt`) gets the identity seed. `declare` sees the argument tensors before the
   * program runs. Returns the output tensor, whose storage (the arena's, so that the products run
   * in place in WebAssembly) stays valid until the model's next run.
   */
  traceRun(
    inputs: ReadonlyMap<string, InputArray>,
    opts: { wrt: string; P: number; output?: number },
    declare: (args: readonly unknown[]) => void,
  ): GTensor {
    const B = this.checkInputs(inputs, opts.wrt);
    const host = this.makeHost(this.table, { P: Math.max(opts.P, 1) }, opts.P > 0);
    const args = this.argsFor(inputs, 0, B, opts.P > 0 ? opts.wrt : undefined, opts.P);
    declare(args);
    this.arena.reset();
    return withArena(this.arena, () => this.outputOf(this.program.run(host, args), opts.output));
  }

  /**
   * Whether the model's samples are independent for these inputs' shapes: a probe run of two
   * samples, the first seeded in direction 0 and the second in direction 1 (direction 0 too when
   * P = 1, then only the first), must leave the other sample's tangent exactly zero. A model that
   * reduces, mixes or sorts over the batch axis fails it and runs one sample at a time. Decided
   * once per model, p and output choice and per-sample shapes.
   */
  private independent(run: JacobianRun, b0: number): boolean {
    if (run.independent !== undefined) return run.independent;
    const key = JSON.stringify([
      run.wrt,
      run.outputIndex ?? null,
      [...run.inputs].map(([name, a]) => [name, a.shape.slice(1)]),
    ]);
    let ok = this.independence.get(key);
    if (ok === undefined) {
      ok = run.B - b0 < 2 ? false : this.probe(run, b0);
      if (run.B - b0 >= 2) this.independence.set(key, ok);
    }
    return ok;
  }

  private probe(run: JacobianRun, b0: number): boolean {
    const { P } = run;
    const d1 = P > 1 ? 1 : 0;
    this.arena.reset();
    return withArena(this.arena, () => {
      const seeds = new Float64Array(P * 2 * P);
      seeds[0] = 1; // direction 0, sample 0, p_0
      if (P > 1) seeds[(d1 * 2 + 1) * P + d1] = 1; // direction 1, sample 1, p_1
      const args = this.argsFor(run.inputs, b0, 2, run.wrt, P, seeds);
      const out = this.outputOf(this.program.run(run.host as H, args), run.outputIndex);
      const t = tangentOf(out);
      if (out.shape[0] !== 2) return false;
      if (!t) return true;
      const d = contiguous(dense(t));
      const per = out.numel / 2;
      const at = (k: number, b: number) => d.re.subarray((k * 2 + b) * per, (k * 2 + b + 1) * per);
      const zero = (v: Float64Array) => v.every((x) => x === 0);
      return zero(at(0, 1)) && (P === 1 || zero(at(d1, 0)));
    });
  }

  /** The program's arguments for samples [b0, b0+n): fresh tensors; p seeded with the identity. */
  private argsFor(
    inputs: ReadonlyMap<string, InputArray>,
    b0: number,
    n: number,
    wrt?: string,
    P = 0,
    seeds?: Float64Array,
  ): unknown[] {
    return this.program.signature.map((arg) => {
      const a = inputs.get(arg.name);
      if (!a) return null;
      const per = sizeOf(a.shape.slice(1));
      const t = fromArrays([n, ...a.shape.slice(1)], a.data.slice(b0 * per, (b0 + n) * per));
      if (arg.name === wrt) {
        // ∂p/∂p_k: direction k is the unit vector e_k in every sample, [P, n, P].
        let eye = seeds;
        if (!eye) {
          eye = new Float64Array(P * n * P);
          for (let k = 0; k < P; k++) for (let b = 0; b < n; b++) eye[(k * n + b) * P + k] = 1;
        }
        t.tan = tan(fromArrays([P, n, P], eye));
      }
      return t;
    });
  }

  private outputOf(v: unknown, index?: number): GTensor {
    if (v instanceof GTensor) {
      if (index !== undefined && index !== 0)
        throw new ShapeError(`the model returns one tensor; there is no output ${index}`);
      return v;
    }
    if (Array.isArray(v)) {
      if (index !== undefined) {
        const o = v[index];
        if (!(o instanceof GTensor))
          throw new ShapeError(
            `output ${index} of the model's ${isTuple(v) ? 'tuple' : 'list'} is not a tensor`,
          );
        return o;
      }
      const first = v.find((o) => o instanceof GTensor);
      if (first) return first as GTensor;
    }
    throw new ShapeError('the model returns no tensor');
  }
}

/**
 * Jb[i·P + k] = data[k, 0, ...] with i the row-major index over the sample's output: the tangent
 * [P, 1, ...S], in whatever layout the rules left it, written into J's [..., P] order in one
 * strided pass (loops in J's order, so the writes are sequential).
 */
function scatterJ(data: GTensor, Jb: Float64Array | Float32Array): void {
  const shape = data.shape;
  const P = shape[0];
  const dst = [1, ...contiguousStrides(shape.slice(1)).map((s) => s * P)];
  const src = data.re;
  forBlocks(
    shape,
    [dst, data.strides],
    [0, data.offset],
    physicalOrder(shape, dst),
    (n1, n0, offs, incs1, incs0) => {
      const o1 = incs1[0];
      const s1 = incs1[1];
      const o0 = incs0[0];
      const s0 = incs0[1];
      for (let u = 0, o = offs[0], s = offs[1]; u < n1; u++, o += o1, s += s1)
        for (let j = 0, x = o, y = s; j < n0; j++, x += o0, y += s0) Jb[x] = src[y];
    },
  );
}
