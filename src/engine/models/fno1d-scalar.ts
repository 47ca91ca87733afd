import type { Act, Primitive, Spec } from '../ad/primitive';
import { ZERO, type TimeTangent } from '../ad/tangent';
import { Workspace } from '../ad/workspace';
import { cpuGemm } from '../backends/cpu';
import type { Gemm } from '../backends/cpu/gemm';
import { chooseDft, type DftChoice } from '../dft/choose-dft';
import type { TruncatedDft } from '../dft/truncated-dft';
import { CancelledError, ShapeError } from '../errors';
import { activation } from '../ops/activation';
import { ACTIVATIONS } from '../ops/activations';
import { add } from '../ops/add';
import { broadcastTime } from '../ops/broadcast-time';
import { concatChannels } from '../ops/concat';
import { conv1x1, conv1x1Weights } from '../ops/conv1x1';
import { dense, fromTorchLinear, type DenseWeights } from '../ops/dense';
import { irfftTruncated } from '../ops/irfft';
import { rfftTruncated } from '../ops/rfft';
import { mixWeightsFromTorch, spectralMix, type MixWeights } from '../ops/spectral-mix';
import type { HostTensor } from '../tensor';
import type { FnoConfig } from './config';
import { checkTensors } from './fno1d-layout';

export interface ModelOptions {
  gemm?: Gemm;
  /** How the truncated DFTs are computed; 'auto' times both per layer. */
  dft?: DftChoice;
}

export interface JacobianOptions {
  onProgress?: (samplesDone: number, samplesTotal: number) => void;
}

/** Samples per chunk of a batched forward pass: enough rows for the GEMMs, bounded memory. */
const FORWARD_CHUNK = 16;

/**
 * The fno1d-scalar model on the CPU: forward y [B,T,O] and the per-sample Jacobian J [B,T,O,P]
 * by forward mode with all P tangents at once (see ad/tangent.ts for the structure that keeps the
 * spectral layers' share of the work near zero).
 */
export class Fno1dScalar {
  readonly config: FnoConfig;
  private readonly gemm: Gemm;
  private readonly dftChoice: DftChoice;
  private readonly linearP: DenseWeights;
  private readonly linearScalar: DenseWeights;
  private readonly mixes: MixWeights[] = [];
  private readonly lins: DenseWeights[] = [];
  private readonly linearQ: DenseWeights;
  private readonly outputLayer: DenseWeights;
  /** Truncated DFTs per layer and time length, chosen on first use of that T. */
  private readonly dfts = new Map<number, TruncatedDft[]>();
  private readonly counts: { real: number; complex: number };
  /** Buffers reused from one run of the graph to the next (see ad/workspace.ts). */
  private readonly ws = new Workspace();

  constructor(config: FnoConfig, tensors: Map<string, HostTensor>, options: ModelOptions = {}) {
    this.config = config;
    this.gemm = options.gemm ?? cpuGemm();
    this.dftChoice = options.dft ?? 'auto';
    this.counts = checkTensors(config, tensors);
    const get = (name: string) => tensors.get(name)!;
    const linear = (prefix: string): DenseWeights => {
      const w = get(`${prefix}.weight`);
      return fromTorchLinear(w.data, w.shape[0], w.shape[1], get(`${prefix}.bias`).data);
    };
    this.linearP = linear('linear_p');
    this.linearScalar = linear('linear_scalar');
    for (let i = 0; i < config.layers; i++) {
      const s = get(`spect${i + 1}.weights1`);
      this.mixes.push(mixWeightsFromTorch(s.data, s.imag!, s.shape[0], s.shape[1], s.shape[2]));
      const l = get(`lin${i}.weight`);
      this.lins.push(conv1x1Weights(l.data, l.shape[0], l.shape[1], get(`lin${i}.bias`).data));
    }
    this.linearQ = linear('linear_q');
    this.outputLayer = linear('output_layer');
  }

  parameterCount(): { real: number; complex: number } {
    return { ...this.counts };
  }

  /** Which DFT each layer uses at length T ('matrix' or 'fft'). */
  dftKinds(T: number): ('matrix' | 'fft')[] {
    return this.dftsFor(T).map((d) => d.kind);
  }

  /**
   * Use these DFTs (one kind per layer) at length T instead of timing both. The choice is timed,
   * so two models on one machine can choose differently and round differently in the last bit;
   * threads that share a batch take the calling thread's kinds and agree to the bit.
   */
  useDftKinds(T: number, kinds: readonly ('matrix' | 'fft')[]): void {
    const current = this.dfts.get(T);
    if (current && current.every((d, i) => d.kind === kinds[i])) return;
    this.dfts.set(
      T,
      this.mixes.map((m, i) => chooseDft(T, this.config.modes, m.Cin, this.gemm, kinds[i])),
    );
  }

  /** y [B,T,O] for x [B,T,Xf] and p [B,P]. */
  forward(x: Float64Array, p: Float64Array, B: number, T: number): Float64Array {
    this.checkInputs(x, p, B, T);
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = this.config;
    const y = new Float64Array(B * T * O);
    for (let b0 = 0; b0 < B; b0 += FORWARD_CHUNK) {
      const n = Math.min(FORWARD_CHUNK, B - b0);
      const xs = x.subarray(b0 * T * Xf, (b0 + n) * T * Xf);
      const ps = p.subarray(b0 * P, (b0 + n) * P);
      y.set(this.run(xs, ps, n, T, false).y, b0 * T * O);
    }
    return y;
  }

  /** J [B,T,O,P], J[b,t,o,k] = ∂y[b,t,o]/∂p[b,k]; one sample at a time to bound memory. */
  jacobian(x: Float64Array, p: Float64Array, B: number, T: number, opts: JacobianOptions = {}): Float64Array {
    this.checkInputs(x, p, B, T);
    const J = new Float64Array(B * T * this.config.out_dim_func * this.config.inp_dim_scalar);
    for (let b = 0; b < B; b++) {
      this.jacobianSample(x, p, b, T, J);
      opts.onProgress?.(b + 1, B);
    }
    return J;
  }

  /** As `jacobian`, yielding to the event loop between samples so a worker can cancel it. */
  async jacobianAsync<A extends Float64Array | Float32Array = Float64Array>(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    opts: JacobianOptions & { signal?: AbortSignal; out?: A } = {},
  ): Promise<A> {
    this.checkInputs(x, p, B, T);
    const n = B * T * this.config.out_dim_func * this.config.inp_dim_scalar;
    const J = opts.out ?? (new Float64Array(n) as A);
    if (J.length !== n) throw new ShapeError(`jacobian: the output has ${J.length} values; it needs ${n}`);
    let last = performance.now();
    for (let b = 0; b < B; b++) {
      if (opts.signal?.aborted) throw new CancelledError();
      this.jacobianSample(x, p, b, T, J);
      opts.onProgress?.(b + 1, B);
      if (performance.now() - last > 30) {
        await new Promise((r) => setTimeout(r, 0));
        last = performance.now();
      }
    }
    if (opts.signal?.aborted) throw new CancelledError();
    return J;
  }

  /**
   * y [B,T,O] and J [B,T,O,P] from one pass (the Jacobian's run computes y anyway). Writes into
   * `out` when given — an interactive caller re-evaluating one sample many times then allocates
   * nothing.
   */
  evaluate(
    x: Float64Array,
    p: Float64Array,
    B: number,
    T: number,
    out?: { y: Float64Array; J: Float64Array },
  ): { y: Float64Array; J: Float64Array } {
    this.checkInputs(x, p, B, T);
    const { out_dim_func: O, inp_dim_scalar: P } = this.config;
    const y = out?.y ?? new Float64Array(B * T * O);
    const J = out?.J ?? new Float64Array(B * T * O * P);
    if (y.length !== B * T * O || J.length !== B * T * O * P)
      throw new ShapeError('evaluate: output buffers of the wrong size');
    for (let b = 0; b < B; b++) this.jacobianSample(x, p, b, T, J, y);
    return { y, J };
  }

  private jacobianSample(
    x: Float64Array,
    p: Float64Array,
    b: number,
    T: number,
    J: Float64Array | Float32Array,
    y?: Float64Array,
  ): void {
    const { inp_dim_func: Xf, inp_dim_scalar: P, out_dim_func: O } = this.config;
    const xs = x.subarray(b * T * Xf, (b + 1) * T * Xf);
    const ps = p.subarray(b * P, (b + 1) * P);
    const r = this.run(xs, ps, 1, T, true);
    transposeLastTwo(r.dy!, J, b * T * O * P, T, P, O); // [1,T,P,O] → [T,O,P]
    if (y) y.set(r.y, b * T * O);
  }

  private checkInputs(x: Float64Array, p: Float64Array, B: number, T: number): void {
    const { inp_dim_func: Xf, inp_dim_scalar: P } = this.config;
    if (!Number.isInteger(T) || T < 2)
      throw new ShapeError(`x must have at least 2 time steps, got T = ${T}`);
    if (x.length !== B * T * Xf) {
      throw new ShapeError(`x has ${x.length} values; the model expects [B,T,Xf] = [${B},${T},${Xf}]`);
    }
    if (p.length !== B * P)
      throw new ShapeError(`p has ${p.length} values; the model expects [B,P] = [${B},${P}]`);
    if (this.config.modes > Math.floor(T / 2) + 1) {
      throw new ShapeError(
        `the model keeps ${this.config.modes} modes, more than T//2+1 = ${Math.floor(T / 2) + 1} for T = ${T}`,
      );
    }
  }

  private dftsFor(T: number): TruncatedDft[] {
    let d = this.dfts.get(T);
    if (!d) {
      d = this.mixes.map((m) => chooseDft(T, this.config.modes, m.Cin, this.gemm, this.dftChoice));
      this.dfts.set(T, d);
    }
    return d;
  }

  /**
   * The graph, once: forward values always, tangents [B,T,P,O] when asked. Each step applies a
   * primitive's forward rule and, in Jacobian mode, its JVP rule on the tangent.
   */
  private run(x: Float64Array, p: Float64Array, B: number, T: number, withTangents: boolean) {
    const c = this.config;
    const P = c.inp_dim_scalar;
    const gemm = this.gemm;
    this.ws.reset();
    const alloc = this.ws.alloc;
    const act = activation(ACTIVATIONS[c.activation], alloc);
    const dfts = this.dftsFor(T);

    function step<I, O, TI, TO>(prim: Primitive<I, O, TI, TO>, inp: I, tan: TI | null): [O, TO | null] {
      const out = prim.forward(inp);
      return [out, tan === null ? null : prim.jvp(inp, out, tan, P)];
    }

    const xIn: Act = { B, T, C: c.inp_dim_func, data: x };
    const pIn: Act = { B, T: 1, C: P, data: p };
    // Seed: ∂p/∂p_k is the k-th unit vector, laid out as a dense [B,1,P,P] tangent.
    let dp: TimeTangent | null = null;
    if (withTangents) {
      const eye = alloc(B * P * P);
      for (let b = 0; b < B; b++) for (let k = 0; k < P; k++) eye[(b * P + k) * P + k] = 1;
      dp = { kind: 'dense', data: eye };
    }
    const dx: TimeTangent | null = withTangents ? ZERO : null;

    const [a, da] = step(dense(this.linearP, gemm, 'linear_p', alloc), xIn, dx);
    const [s, ds] = step(dense(this.linearScalar, gemm, 'linear_scalar', alloc), pIn, dp);
    const [sb, dsb] = step(broadcastTime(T, alloc), s, ds);
    let [h, dh] = step(concatChannels(alloc), [a, sb], withTangents ? [da!, dsb!] : null);
    for (let i = 0; i < c.layers; i++) {
      const [X, dX] = step(rfftTruncated(dfts[i], alloc), h, dh);
      const [Y, dY] = step<Spec, Spec, typeof dX & {}, typeof dX & {}>(
        spectralMix(this.mixes[i], gemm, alloc),
        X,
        dX,
      );
      const [u, du] = step(irfftTruncated(dfts[i], alloc), Y, dY);
      const [v, dv] = step(conv1x1(this.lins[i], gemm, `lin${i}`, alloc), h, dh);
      const [pre, dpre] = step(add(alloc), [u, v], withTangents ? [du!, dv!] : null);
      [h, dh] = step(act, pre, dpre);
    }
    const [q, dq] = step(dense(this.linearQ, gemm, 'linear_q', alloc), h, dh);
    const [z, dz] = step(act, q, dq);
    const [y, dyT] = step(dense(this.outputLayer, gemm, 'output_layer', alloc), z, dz);
    let dy: Float64Array | null = null;
    if (dyT) {
      if (dyT.kind !== 'dense') throw new Error('internal: output tangent is not dense');
      dy = dyT.data;
    }
    return { y: y.data, dy };
  }
}

/** out[off + (t·O + o)·P + k] = src[(t·P + k)·O + o]: tangent-major [T,P,O] to J's [T,O,P]. */
function transposeLastTwo(
  src: Float64Array,
  out: Float64Array | Float32Array,
  off: number,
  T: number,
  P: number,
  O: number,
): void {
  for (let t = 0; t < T; t++) {
    const s0 = t * P * O;
    const o0 = off + s0;
    for (let k = 0; k < P; k++) {
      const sk = s0 + k * O;
      for (let o = 0; o < O; o++) out[o0 + o * P + k] = src[sk + o];
    }
  }
}
