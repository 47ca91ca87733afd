/**
 * A graph model lowered to a tape (graph/lower/tape.ts) for backends that run tapes instead of the
 * rules (WebGPU): the CPU engine runs the program with the recorder installed at a few batch sizes,
 * and the recordings become one tape whose sizes are affine in the batch n.
 *
 * What makes a recording usable, each checked here and refused with a reason naming the op:
 *  - every kernel of the run has a lowering, and no tensor value that depends on the inputs is
 *    read on the host (the recorder's `problem`);
 *  - the same records at n = 3, 4, 5, with every size affine in n (a program that branches on the
 *    batch size, or whose work grows faster than n, is not batch-polymorphic), and the same
 *    constants (one that is not was computed from the inputs outside the recorded kernels);
 *  - for Jacobians, independent samples (every sample's p is seeded at once, as the CPU does);
 *  - and finally the tape itself, run in float64 at one sample on other inputs (a batch and values
 *    no recording had), gives the graph engine's y and J.
 */
import { CancelledError } from '../errors';
import { tangentOf } from '../graph/dispatch';
import { Recorder, withRecorder } from '../graph/lower/record';
import { fuseElementwise } from '../graph/lower/fuse';
import { runTape } from '../graph/lower/run-tape';
import { intsOf, mapInts, type Tape } from '../graph/lower/tape';
import { dense } from '../graph/tangent';
import { GTensor, contiguousStrides, sizeOf } from '../graph/tensor';
import type { GraphModel, InputArray } from './graph-model';

export type LowerMode = 'forward' | 'jacobian';

export interface LowerRequest {
  /** Every tensor argument's per-sample shape (without the batch axis). */
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  /** The differentiated argument (p, [B,P]). */
  readonly wrt: string;
  /** Which element of a tuple output is y. */
  readonly output?: number;
  readonly mode: LowerMode;
}

export interface LoweredModel {
  readonly mode: LowerMode;
  /** Tangent directions (0 for forward tapes). */
  readonly P: number;
  /** y's per-sample shape. */
  readonly yShape: readonly number[];
  /**
   * The tape for a batch of n samples (inputs [n, ...]; y [n, ...yShape]; J [n, ...yShape, P]),
   * elementwise chains fused unless `fuse` is false (graph/lower/fuse.ts).
   */
  at(n: number, fuse?: boolean): Tape;
}

export type Lowering = { ok: true; model: LoweredModel } | { ok: false; reason: string };

/** The smallest batch recorded. */
const N0 = 3;

/** Largest relative difference the float64 tape may show against the graph engine. */
const VERIFY_TOL = 1e-9;

export function lowerGraphModel(model: GraphModel, req: LowerRequest): Lowering {
  const steps = lower(model, req);
  try {
    for (;;) {
      const r = steps.next();
      if (r.done) return r.value;
    }
  } catch (e) {
    return { ok: false, reason: e instanceof Error ? e.message : String(e) };
  }
}

/**
 * As lowerGraphModel, letting the event loop run between its steps (the probe, each recording,
 * the check: each a run of the CPU engine, seconds on a large model) so that a cancel gets
 * through; an aborted `signal` ends it with a CancelledError.
 */
export async function lowerGraphModelAsync(
  model: GraphModel,
  req: LowerRequest,
  signal?: AbortSignal,
): Promise<Lowering> {
  const steps = lower(model, req);
  for (;;) {
    if (signal?.aborted) throw new CancelledError();
    let r: IteratorResult<void, Lowering>;
    try {
      r = steps.next();
    } catch (e) {
      return { ok: false, reason: e instanceof Error ? e.message : String(e) };
    }
    if (r.done) return r.value;
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** The lowering, a step (a run of the engine) between yields. */
function* lower(model: GraphModel, req: LowerRequest): Generator<void, Lowering> {
  const P = req.mode === 'jacobian' ? (req.shapes.get(req.wrt)?.[0] ?? 0) : 0;
  if (req.mode === 'jacobian' && !model.samplesIndependent(inputsFor(req, 3, 7), req))
    return { ok: false, reason: "the model's samples interact (it mixes the batch)" };
  // n = 3, 4, 5: sizes of 1 and 2 take shortcuts (size-1 axes broadcast, two-way choices) that
  // larger batches do not.
  const runs: (Recorded | { problem: string })[] = [];
  for (let k = 0; k < 3; k++) {
    yield;
    runs.push(record(model, req, N0 + k, k + 1));
  }
  for (const r of runs) if ('problem' in r) return { ok: false, reason: r.problem };
  const [t2, t3, t4] = runs.map((r) => (r as Recorded).tape);
  const yShape = (runs[0] as Recorded).yShape;

  for (const t of [t3, t4]) {
    const op = firstDifference(t2, t);
    if (op !== null) return { ok: false, reason: `${op}: its operations change with the batch size` };
  }
  const i2 = intsOf(t2);
  const i3 = intsOf(t3);
  const i4 = intsOf(t4);
  const slope = i3.map((v, i) => v - i2[i]);
  if (i4.some((v, i) => v !== i3[i] + slope[i]))
    return { ok: false, reason: 'its sizes do not grow in proportion to the batch' };
  const problem = constantProblem(t2, t3);
  if (problem) return { ok: false, reason: problem };

  const at = (n: number, fuse = true): Tape => {
    if (!Number.isInteger(n) || n < 1) throw new Error(`internal: a tape for ${n} samples`);
    const t = mapInts(t2, (v, i) => v + slope[i] * (n - N0));
    return fuse ? fuseElementwise(t) : t;
  };
  const lowered: LoweredModel = { mode: req.mode, P, yShape, at };
  yield;
  // At one sample: a batch no recording had (the affine sizes extrapolated), and the cheapest.
  const diff = verify(model, req, lowered, 1);
  if (diff !== null) return { ok: false, reason: diff };
  return { ok: true, model: lowered };
}

interface Recorded {
  tape: Tape;
  yShape: number[];
}

/** Inputs of n samples with values from a fixed generator (`seed`), uniform in [−1, 1). */
function inputsFor(req: LowerRequest, n: number, seed: number): Map<string, InputArray> {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rand = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  };
  const out = new Map<string, InputArray>();
  for (const [name, shape] of req.shapes) {
    const full = [n, ...shape];
    out.set(name, { shape: full, data: Float64Array.from({ length: sizeOf(full) }, rand) });
  }
  return out;
}

function record(
  model: GraphModel,
  req: LowerRequest,
  n: number,
  seed: number,
): Recorded | { problem: string } {
  const inputs = inputsFor(req, n, seed);
  const P = req.mode === 'jacobian' ? req.shapes.get(req.wrt)![0] : 0;
  const names = model.program.signature.map((a) => a.name);
  const rec = new Recorder();
  const tape = withRecorder(rec, () => {
    const out = model.traceRun(inputs, { wrt: req.wrt, P, output: req.output }, (args) =>
      args.forEach((a, i) => {
        if (!(a instanceof GTensor)) return;
        rec.input(a.re, { k: 'input', name: names[i] });
        if (a.tan) rec.input(a.tan.data.re, { k: 'seed' });
      }),
    );
    if (out.shape[0] !== n)
      throw new Error(`the output's first axis has ${out.shape[0]} entries for ${n} samples`);
    rec.op = '(output)';
    const yShape = out.shape.slice(1);
    const y = rec.output(out.numel, 'y');
    rec.copyOut(
      out.shape,
      { arr: out.re, strides: out.strides, offset: out.offset },
      y,
      contiguousStrides(out.shape),
    );
    if (req.mode === 'forward') return { tape: rec.tape(y, null), yShape };
    const J = rec.output(out.numel * P, 'J');
    const t = tangentOf(out);
    if (t) {
      const d = dense(t);
      const data = d.re;
      // [P, n, ...S] → J [n, ...S, P]
      const strides = [1, ...contiguousStrides(out.shape).map((s) => s * P)];
      rec.copyOut(d.shape, { arr: data, strides: d.strides, offset: d.offset }, J, strides);
    }
    return { tape: rec.tape(y, J), yShape };
  });
  if (rec.problem) return { problem: rec.problem };
  return tape;
}

/**
 * Where two recordings differ in more than their integers and constant values (what must not
 * change between them): the op of the first record that differs, or null.
 */
function firstDifference(a: Tape, b: Tape): string | null {
  const key = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Float64Array ? 'data' : x));
  const [sa, sb] = [mapInts(a, () => 0), mapInts(b, () => 0)];
  const n = Math.max(sa.recs.length, sb.recs.length);
  for (let i = 0; i < n; i++) {
    const [ra, rb] = [sa.recs[i], sb.recs[i]];
    if (!ra || !rb || key(ra) !== key(rb)) return (ra ?? rb).op;
  }
  if (key(sa) !== key(sb)) return '(buffers)';
  return null;
}

/**
 * Constants must be the same arrays whatever the batch and the inputs: one that is not was computed
 * from the inputs by something the recorder did not see (or sized by the batch).
 */
function constantProblem(t2: Tape, t3: Tape): string | null {
  for (let i = 0; i < t2.bufs.length; i++) {
    const b = t2.bufs[i];
    if (b.init.k !== 'const') continue;
    const others = [t3.bufs[i].init];
    const same = others.every(
      (o) => o.k === 'const' && equalArrays(o.data, (b.init as { data: Float64Array }).data),
    );
    if (!same) return `${b.op}: computes values on the host that the lowered program cannot reproduce`;
  }
  return null;
}

function equalArrays(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  return true;
}

/** The tape at n samples on fresh inputs against the graph engine; null when they agree. */
function verify(model: GraphModel, req: LowerRequest, lowered: LoweredModel, n: number): string | null {
  const inputs = inputsFor(req, n, 5);
  const ref =
    req.mode === 'jacobian'
      ? model.evaluate(inputs, { wrt: req.wrt, output: req.output })
      : model.forward(inputs, { wrt: req.wrt, output: req.output });
  const got = runTape(lowered.at(n), {
    inputs: new Map([...inputs].map(([k, v]) => [k, v.data])),
    n,
    P: lowered.P,
  });
  const pairs: [string, Float64Array, Float64Array | null][] = [['y', ref.y, got.y]];
  if (req.mode === 'jacobian') pairs.push(['J', ref.J!, got.J]);
  for (const [what, r, g] of pairs) {
    const e = relErr(r, g);
    if (!(e <= VERIFY_TOL))
      return `its lowered program differs from the graph engine (${what} by ${e.toExponential(1)} relative)`;
  }
  return null;
}

function relErr(ref: Float64Array, got: Float64Array | null): number {
  if (!got || got.length !== ref.length) return Infinity;
  let num = 0;
  let den = 0;
  for (let i = 0; i < ref.length; i++) {
    if (Number.isNaN(ref[i]) && Number.isNaN(got[i])) continue;
    num = Math.max(num, Math.abs(ref[i] - got[i]));
    den = Math.max(den, Math.abs(ref[i]));
  }
  return Number.isNaN(num) ? Infinity : num / (den || 1);
}
