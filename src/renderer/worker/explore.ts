/**
 * The explore tools on the worker side: what-if samples, parameter sweeps, global sensitivity over the batch,
 * finite-difference checks and sample differences. Each works on the session's computed combination and
 * names the result it was asked about (`seq`), so an answer about data that has since been replaced is
 * refused rather than shown. Large arrays (a sweep's J) stay here; the UI asks for the pictures it draws.
 */
import type { JArray } from '../lib/j-array';
import { dataSource, diffBlocks, overlaySource } from '../lib/display';
import type { JSource } from '../lib/display';
import { computeSummary } from '../lib/summary';
import type { Summary } from '../lib/summary';
import type { CheckResult, CompareSpec, SweepSlice, ToWorker, WhatIfSpec } from './protocol';
import type { ActiveInputs, Session } from './session';
import { resultSource } from './sample-source';
import { streamSensitivity } from './stream-sensitivity';
import { float64Backend } from './batch-chunks';
import type { StreamHooks } from './stream-sensitivity';

type Dims4 = { B: number; T: number; O: number; P: number };
type Forward = (x: Float64Array, p: Float64Array, B: number, T: number) => Float64Array;

/** The engine's analysis functions (src/engine/analysis), handed in by the worker so this file stays testable. */
export interface AnalysisFns {
  globalSensitivity(
    J: JArray,
    p: Float64Array,
    y: Float64Array,
    d: Dims4,
  ): {
    nu: Float64Array;
    nuT: Float64Array;
    index: Float64Array | null;
    elasticity: Float64Array;
    yFloor: number;
  };
  checkDerivatives(
    forward: Forward,
    J: JArray,
    x: Float64Array,
    p: Float64Array,
    T: number,
    O: number,
    kinked: boolean,
  ): { maxRelError: number; errorMap: Float64Array; h: number };
  sweepInputs(
    x: Float64Array,
    p: Float64Array,
    k: number,
    values: Float64Array,
  ): { xs: Float64Array; ps: Float64Array };
  linspace(lo: number, hi: number, n: number): Float64Array;
}

/** The question was about a result that has been replaced. */
export class StaleError extends Error {
  constructor() {
    super('the data changed while this was computed; ask again');
  }
}

/** A sweep's J is N·T·O·P doubles; keep it within this many bytes (the worker holds it for the views). */
export const SWEEP_MAX_BYTES = 256 * 2 ** 20;
export const SWEEP_MAX_N = 1000;

interface SweepCache {
  id: number;
  seq: number;
  k: number;
  values: Float64Array;
  /** [N,T,O] and [N,T,O,P] */
  y: Float64Array;
  J: Float64Array;
  T: number;
  O: number;
  P: number;
}

type SweepMsg = Extract<ToWorker, { type: 'sweep' }>;

export class Explorer {
  private compareCache: { seq: number; b1: number; b2: number; y: Float64Array; J: Float64Array } | null =
    null;
  private gsaCache: { seq: number; value: ReturnType<AnalysisFns['globalSensitivity']> } | null = null;
  sweepCache: SweepCache | null = null;
  /** The what-if's output buffers, reused from move to move while the shape stays. */
  private whatIfOut: { y: Float64Array; J: Float64Array } | null = null;

  constructor(
    private readonly session: Session,
    private readonly fns: AnalysisFns,
  ) {}

  private inputs(seq: number): ActiveInputs {
    const a = this.session.activeInputs();
    if (!a || a.seq !== seq) throw new StaleError();
    return a;
  }

  private sample(a: ActiveInputs, b: number): { x: Float64Array; p: Float64Array } {
    if (!Number.isInteger(b) || b < 0 || b >= a.B) throw new Error(`sample ${b} is not in 0…${a.B - 1}`);
    return {
      x: a.xPer > 0 ? a.xRows.get(b, b + 1) : new Float64Array(0),
      p: a.p.subarray(b * a.P, (b + 1) * a.P),
    };
  }

  private values(a: ActiveInputs, p: number[], what: string): Float64Array {
    if (p.length !== a.P) throw new Error(`${what} has ${p.length} values; the model takes ${a.P}`);
    if (!p.every(Number.isFinite)) throw new Error(`${what}: every value must be a finite number`);
    return Float64Array.from(p);
  }

  /**
   * y [T,O] and J [T,O,P] of sample b with p replaced, from one pass of the CPU float64 model. y and J are the
   * explorer's reused buffers: valid until the next what-if (copy them to keep or transfer them).
   */
  whatIf(
    seq: number,
    b: number,
    p: number[],
  ): { y: Float64Array; J: Float64Array; summary: Summary; ms: number } {
    const a = this.inputs(seq);
    const { x } = this.sample(a, b);
    const pv = this.values(a, p, 'p');
    const TO = a.T * a.O;
    let out = this.whatIfOut;
    if (!out || out.y.length !== TO || out.J.length !== TO * a.P)
      out = this.whatIfOut = { y: new Float64Array(TO), J: new Float64Array(TO * a.P) };
    const t0 = performance.now();
    const { y, J } = a.net.evaluate(x, pv, 1, a.T, out);
    const ms = performance.now() - t0;
    return { y, J, summary: computeSummary(J, { B: 1, T: a.T, O: a.O, P: a.P }), ms };
  }

  /**
   * The what-if sample for an export or a check: computed again (a few ms) rather than kept, since the answers
   * to the sliders go to the UI thread. A copy, so a later move cannot change it.
   */
  private whatIfBlock(seq: number, spec: WhatIfSpec): { y: Float64Array; J: Float64Array } {
    const r = this.whatIf(seq, spec.b, spec.p);
    return { y: r.y.slice(), J: r.J.slice() };
  }

  /** J[b1] − J[b2] and y[b1] − y[b2], with the summary of the difference. */
  compare(seq: number, b1: number, b2: number): { y: Float64Array; J: Float64Array; summary: Summary } {
    const a = this.inputs(seq);
    this.sample(a, b1);
    this.sample(a, b2);
    const r = this.session.result!;
    // In sample mode both samples are computed now (a few ms each).
    const d = diffBlocks(resultSource(r), b1, b2);
    this.compareCache = { seq, b1, b2, ...d };
    return { ...d, summary: computeSummary(d.J, { B: 1, T: a.T, O: a.O, P: a.P }) };
  }

  /** What the heatmap shows, for a slice export: the data, a what-if in place of one sample, or a difference. */
  shownSource(
    seq: number | undefined,
    spec: { whatIf?: WhatIfSpec; compare?: CompareSpec },
  ): { source: JSource; prefix: string } | undefined {
    const r = this.session.result;
    if (!r || (!spec.whatIf && !spec.compare)) return undefined;
    const s = seq ?? r.meta.seq;
    const dims = { B: r.meta.B, T: r.meta.T, O: r.meta.O, P: r.meta.P };
    if (spec.compare) {
      const { b1, b2 } = spec.compare;
      const c = this.compareCache;
      const d = c && c.seq === s && c.b1 === b1 && c.b2 === b2 ? c : this.compare(s, b1, b2);
      return { source: dataSource(d.J, d.y, { ...dims, B: 1 }), prefix: `J_b${b1}-minus-b${b2}` };
    }
    const w = this.whatIfBlock(s, spec.whatIf!);
    return {
      source: overlaySource(resultSource(r), spec.whatIf!.b, w.J, w.y),
      prefix: 'J_whatif',
    };
  }

  /**
   * Sample b with p = base except p_k along linspace(lo, hi, n): y and J of all n points (the engine's
   * sweepInputs builds the batch; the Jacobian runs asynchronously so the sweep can be cancelled and the
   * what-if sliders stay live while it runs).
   */
  async sweep(
    m: SweepMsg,
    hooks: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<{ values: Float64Array; ms: number; slice: SweepSlice }> {
    const a = this.inputs(m.seq);
    const { x } = this.sample(a, m.b);
    const base = this.values(a, m.base, 'the sweep base');
    if (!Number.isInteger(m.k) || m.k < 0 || m.k >= a.P)
      throw new Error(`parameter ${m.k} is not in 0…${a.P - 1}`);
    if (!Number.isFinite(m.lo) || !Number.isFinite(m.hi))
      throw new Error('the sweep range must be finite numbers');
    const perPoint = a.T * a.O * a.P * 8;
    const maxN = Math.max(2, Math.min(SWEEP_MAX_N, Math.floor(SWEEP_MAX_BYTES / perPoint)));
    if (!Number.isInteger(m.n) || m.n < 2 || m.n > maxN)
      throw new Error(`the number of points must be a whole number from 2 to ${maxN} for this model`);
    const t0 = performance.now();
    const values = this.fns.linspace(m.lo, m.hi, m.n);
    const { xs, ps } = this.fns.sweepInputs(x, base, m.k, values);
    const y = a.net.forward(xs, ps, m.n, a.T);
    const J = await a.net.jacobianAsync(xs, ps, m.n, a.T, hooks);
    if (this.session.activeInputs()?.seq !== m.seq) throw new StaleError();
    this.sweepCache = { id: m.id, seq: m.seq, k: m.k, values, y, J, T: a.T, O: a.O, P: a.P };
    return { values, ms: performance.now() - t0, slice: this.sweepSlice(m.id, m.o, m.j) };
  }

  /** y[:, :, o] and J[:, :, o, j] of the last sweep, each [N,T]. */
  sweepSlice(sweepId: number, o: number, j: number): SweepSlice {
    const c = this.sweepCache;
    if (!c || c.id !== sweepId) throw new StaleError();
    const { T, O, P } = c;
    const N = c.values.length;
    if (!(o >= 0 && o < O && j >= 0 && j < P)) throw new Error(`(o, k) = (${o}, ${j}) is out of range`);
    const y = new Float64Array(N * T);
    const J = new Float64Array(N * T);
    for (let n = 0; n < N; n++)
      for (let t = 0; t < T; t++) {
        y[n * T + t] = c.y[(n * T + t) * O + o];
        J[n * T + t] = c.J[((n * T + t) * O + o) * P + j];
      }
    return { o, j, y, J };
  }

  /** y [T,O] and J [T,O,P] of sample b and their summary ([1,O,P]): sample mode's views of one sample. */
  sampleView(seq: number, b: number): { y: Float64Array; J: Float64Array; summary: Summary; ms: number } {
    const a = this.inputs(seq);
    this.sample(a, b);
    const r = this.session.result!;
    const t0 = performance.now();
    const src = resultSource(r);
    const jb = src.jBlock(b);
    const yb = src.yBlock(b);
    const n = a.T * a.O;
    const J = Float64Array.from(jb.data.subarray(jb.off, jb.off + n * a.P));
    const y = Float64Array.from(yb.data.subarray(yb.off, yb.off + n));
    const ms = performance.now() - t0;
    return { y, J, summary: computeSummary(J, { B: 1, T: a.T, O: a.O, P: a.P }), ms };
  }

  /**
   * Derivative-based global sensitivity over every sample (cached per result): from the whole J, or in sample
   * mode from one streamed pass over the samples (progress, cancel).
   */
  async sensitivityOf(
    seq: number,
    hooks: StreamHooks = {},
  ): Promise<ReturnType<AnalysisFns['globalSensitivity']> & { streamed: boolean }> {
    this.inputs(seq);
    const r = this.session.result!;
    if (!r.sample) return { ...this.sensitivity(seq), streamed: false };
    if (this.gsaCache?.seq === seq) return { ...this.gsaCache.value, streamed: true };
    // fno1d-scalar: on the session's batch backend where it computes in float64 (CPU helper threads).
    const backend = await float64Backend(this.session);
    if (this.session.activeInputs()?.seq !== seq) throw new StaleError();
    const value = await streamSensitivity(r.sample, hooks, undefined, backend);
    if (this.session.activeInputs()?.seq !== seq) throw new StaleError();
    this.gsaCache = { seq, value };
    return { ...value, streamed: true };
  }

  /** Derivative-based global sensitivity over every sample of the result (cached per result). */
  sensitivity(seq: number): ReturnType<AnalysisFns['globalSensitivity']> {
    this.inputs(seq);
    if (this.gsaCache?.seq === seq) return this.gsaCache.value;
    const r = this.session.result!;
    if (r.sample) throw new Error('in sample mode the global sensitivity is streamed: ask sensitivityOf');
    const value = this.fns.globalSensitivity(r.J, r.p, r.y, r.meta);
    this.gsaCache = { seq, value };
    return value;
  }

  /** The cached sensitivity, for exports. */
  lastSensitivity(): ReturnType<AnalysisFns['globalSensitivity']> | null {
    const r = this.session.result;
    return r && this.gsaCache?.seq === r.meta.seq ? this.gsaCache.value : null;
  }

  /**
   * J of sample b (at the what-if values when given) against float64 central finite differences of the
   * model's own forward pass in all P directions.
   */
  check(seq: number, b: number, p?: number[]): CheckResult {
    const a = this.inputs(seq);
    const s = this.sample(a, b);
    const whatIf = !!p && p.some((v, i) => v !== s.p[i]);
    const pv = whatIf ? this.values(a, p!, 'p') : s.p.slice();
    const TOP = a.T * a.O * a.P;
    const res = this.session.result!;
    const J = whatIf
      ? this.whatIfBlock(seq, { b, p: p! }).J
      : res.sample
        ? res.sample.block(b).J
        : res.J.subarray(b * TOP, (b + 1) * TOP);
    // ReLU (and abs, clamp, … in graph models) has kinks: the engine's check then takes one small step
    // instead of extrapolating.
    const kinked = a.kinked;
    const t0 = performance.now();
    const r = this.fns.checkDerivatives(
      (xx, pp, B, T) => a.net.forward(xx, pp, B, T),
      J,
      s.x,
      pv,
      a.T,
      a.O,
      kinked,
    );
    return {
      p: Array.from(pv),
      whatIf,
      maxRelError: r.maxRelError,
      errorMap: r.errorMap,
      h: r.h,
      kinked,
      precision: J instanceof Float32Array ? 'float32' : 'float64',
      forwardRows: (kinked ? 2 : 4) * a.P,
      ms: performance.now() - t0,
    };
  }
}
