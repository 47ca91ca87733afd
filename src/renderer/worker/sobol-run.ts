/**
 * The variance-based tab on the worker side: Sobol' indices of the loaded model, every input but p fixed at
 * one sample, p drawn from the given distributions, by the engine's Saltelli run (first-order and total
 * indices with 95% intervals, the DGSM bound from exact Jacobians at the same points). Model evaluations
 * go through the session's chosen batch backend for fno1d-scalar (CPU helper threads or WebGPU), and through
 * its CPU float64 model in small steps for a graph model; either way the run reports progress, stays in
 * bounded memory (the engine keeps sums, never outputs) and stops soon after a cancel.
 */
import {
  type SobolResult,
  defaultDistributions,
  finalizeSobol,
  parseDistributions,
  sobolPartial,
} from '../../engine/analysis/sobol';
import { CancelledError, ShapeError } from '../../engine/errors';
import type { EngineModel } from './engine-contract';
import type { ActiveInputs, Session } from './session';
import { StaleError } from './explore';
import type { SobolDist, SobolFromWorker, SobolShown, SobolToWorker } from './sobol-protocol';

/** Base rows N allowed in the app (N·(P+2) evaluations). */
export const SOBOL_MIN_N = 2;
export const SOBOL_MAX_N = 2 ** 20;
/** A Jacobian costs about this many forward passes: the weight of its rows in the progress. */
const JACOBIAN_WEIGHT = 3;
/** One step of forward passes takes about this long, then messages (a cancel) get through. */
const STEP_MS = 40;
/** Values (inputs + outputs) per batched call to the engine: the run's working memory, about 64 MB. */
const CHUNK_VALUES = 2 ** 23;

export interface SobolProgress {
  (done: number, total: number): void;
}

/** What the last run needs for its exports. */
export interface SobolCache {
  result: SobolResult;
  shown: SobolShown;
  pNames: string[];
  yNames: string[];
  jacobians: number;
}

function repeat(row: Float64Array, n: number): Float64Array {
  const out = new Float64Array(row.length * n);
  for (let i = 0; i < n; i++) out.set(row, i * row.length);
  return out;
}

const nextTask = () => new Promise<void>((r) => setTimeout(r, 0));

/**
 * y of n rows of p (every other input the fixed sample), in steps of about STEP_MS, each followed by a
 * turn of the event loop so that a cancel message is seen.
 */
async function forwardInSteps(
  net: EngineModel,
  xRow: Float64Array,
  T: number,
  p: Float64Array,
  n: number,
  P: number,
  signal: AbortSignal,
  onRows: (rows: number) => void,
): Promise<Float64Array> {
  let out: Float64Array | null = null;
  let E = 0;
  let rows = 4;
  for (let r0 = 0; r0 < n;) {
    if (signal.aborted) throw new CancelledError();
    const m = Math.min(rows, n - r0);
    const t0 = performance.now();
    const y = net.forward(repeat(xRow, m), p.subarray(r0 * P, (r0 + m) * P), m, T);
    const dt = performance.now() - t0;
    if (!out) {
      E = y.length / m;
      if (!Number.isInteger(E) || E < 1)
        throw new ShapeError(`the model returned ${y.length} values for ${m} samples`);
      out = new Float64Array(n * E);
    }
    if (y.length !== m * E) throw new ShapeError(`the model returned ${y.length} values for ${m} samples`);
    out.set(y, r0 * E);
    r0 += m;
    onRows(m);
    rows = Math.max(1, Math.min(1024, Math.round((m * STEP_MS) / Math.max(dt, 0.5))));
    await nextTask();
  }
  return out ?? new Float64Array(0);
}

/** The default distributions of the active result's p, and the sentence that says how they were made. */
export function defaultSobolDists(a: ActiveInputs): { distributions: SobolDist[]; note: string } {
  const distributions = defaultDistributions(a.p, a.B, a.P);
  let fixed = 0;
  for (let k = 0; k < a.P; k++) {
    let same = true;
    for (let b = 1; b < a.B && same; b++) same = a.p[b * a.P + k] === a.p[k];
    if (same) fixed++;
  }
  const note =
    a.B === 1
      ? 'Default: each feature uniform over p ± 10% of the one loaded sample.'
      : `Default: each feature uniform over its min…max over the ${a.B} loaded samples${
          fixed ? ` (${fixed} constant feature${fixed > 1 ? 's' : ''}: p ± 10%)` : ''
        }.`;
  return { distributions, note };
}

/**
 * Distributions from a D.json's text: an array with one entry per feature, or an object holding one under
 * "distributions" (a saved result, S.json). One message naming the first bad entry otherwise.
 */
export function parseSobolDists(text: string, P: number, file = 'distributions'): SobolDist[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ShapeError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  if (value && typeof value === 'object' && !Array.isArray(value) && 'distributions' in value)
    value = (value as { distributions: unknown }).distributions;
  try {
    return parseDistributions(value, P);
  } catch (e) {
    if (e instanceof ShapeError)
      throw new ShapeError(`${file}: ${e.message.replace(/^distributions: /, '')}`);
    throw e;
  }
}

/** Answers a request for the default distributions, or for those of a D.json. */
export function sobolDists(
  session: Session,
  msg: Extract<SobolToWorker, { type: 'sobol-dists' }>,
): Extract<SobolFromWorker, { type: 'sobol-dists-result' }> {
  const a = session.activeInputs();
  const base = { type: 'sobol-dists-result' as const, id: msg.id, seq: msg.seq };
  if (!a || a.seq !== msg.seq)
    return { ...base, distributions: null, note: '', error: new StaleError().message };
  if (msg.text === undefined) return { ...base, ...defaultSobolDists(a) };
  const file = msg.file ?? 'distributions';
  try {
    return { ...base, distributions: parseSobolDists(msg.text, a.P, file), note: `From ${file}.` };
  } catch (e) {
    return { ...base, distributions: null, note: '', error: (e as Error).message };
  }
}

/**
 * Runs the Sobol' analysis of `msg` on the session's active model: S1, ST with 95% half-widths and the DGSM
 * bound of every output element and feature, [T,O,P] for the views.
 */
export async function runSobol(
  session: Session,
  msg: Extract<SobolToWorker, { type: 'sobol' }>,
  signal: AbortSignal,
  onProgress?: SobolProgress,
): Promise<SobolCache> {
  const a = session.activeInputs();
  const r = session.result;
  if (!a || !r || a.seq !== msg.seq) throw new StaleError();
  if (!Number.isInteger(msg.b) || msg.b < 0 || msg.b >= a.B)
    throw new ShapeError(`sample ${msg.b} is not in 0…${a.B - 1}`);
  if (!Number.isInteger(msg.N) || msg.N < SOBOL_MIN_N || msg.N > SOBOL_MAX_N)
    throw new ShapeError(`N must be a whole number from ${SOBOL_MIN_N} to ${SOBOL_MAX_N}, got ${msg.N}`);
  const distributions = parseDistributions(msg.distributions, a.P);
  const { T, O, P } = a;
  if (a.xPer > 0) await a.xRows.ensure(msg.b, msg.b + 1);
  const xRow = a.xPer > 0 ? a.xRows.get(msg.b, msg.b + 1) : new Float64Array(0);
  const inner = r.meta.yShape.slice(1);
  const outShape = inner.length > 0 ? inner : [1];
  const E = T * O;
  // Base rows per batched call: (P+2)·rows evaluations whose inputs and outputs stay near 64 MB, and the
  // Jacobians of the rows within the same.
  const perEval = a.xPer + E + P;
  const chunkRows = Math.max(
    1,
    Math.min(
      64,
      Math.floor(CHUNK_VALUES / ((P + 2) * perEval)),
      Math.floor(CHUNK_VALUES / (E * P + perEval)),
    ),
  );
  const N = msg.N;
  const total = N * (P + 2) + 1 + N * JACOBIAN_WEIGHT;
  let done = 0;
  const tick = (units: number) => {
    done += units;
    onProgress?.(Math.min(done, total), total);
  };
  // On the session's chosen batch backend: CPU helper threads (fno1d-scalar and graph models), or
  // WebGPU in float32 (fno1d-scalar); a graph model on WebGPU on the session's CPU model, one thread.
  const backend = await session.batchBackend();
  if (session.activeInputs()?.seq !== msg.seq) throw new StaleError();
  const onBackend = async (p: Float64Array, n: number) => {
    let seen = 0;
    const y = await backend!.forward(repeat(xRow, n), p, n, T, {
      signal,
      onProgress: (d) => {
        tick(d - seen);
        seen = d;
      },
    });
    tick(n - seen);
    return y;
  };
  const t0 = performance.now();
  const partial = await sobolPartial(
    { N, distributions, seed: msg.seed, sampling: 'sobol' },
    {
      evaluate: backend ? onBackend : (p, n) => forwardInSteps(a.net, xRow, T, p, n, P, signal, tick),
      jacobian: async (p, n) => {
        let seen = 0;
        const jacobian = backend ? backend.jacobian.bind(backend) : a.net.jacobianAsync.bind(a.net);
        const J = await jacobian(repeat(xRow, n), p, n, T, {
          signal,
          onProgress: (d) => {
            tick((d - seen) * JACOBIAN_WEIGHT);
            seen = d;
          },
        });
        tick((n - seen) * JACOBIAN_WEIGHT);
        return J;
      },
      outShape,
      chunkRows,
      signal,
    },
  );
  if (session.activeInputs()?.seq !== msg.seq) throw new StaleError();
  const result = finalizeSobol(partial);
  const d = result.dgsm!;
  const shown: SobolShown = {
    seq: msg.seq,
    b: msg.b,
    T,
    O,
    P,
    timeAxis: r.meta.timeAxis,
    S1: result.S1,
    ST: result.ST,
    S1_conf: result.S1_conf,
    ST_conf: result.ST_conf,
    bound: d.bound,
    bound_conf: d.bound_conf,
    exceeds: d.exceeds,
    variance: result.variance,
    n: result.n,
    evaluations: result.evaluations,
    jacobians: partial.jacobians,
    seed: result.seed,
    distributions: result.distributions.map((x) => ({ ...x })),
    ms: performance.now() - t0,
  };
  return { result, shown, pNames: r.meta.pNames, yNames: r.meta.yNames, jacobians: partial.jacobians };
}

/** Copies of the shown arrays (the cache keeps its own for exports) and the buffers to transfer. */
export function shownMessage(
  id: number,
  s: SobolShown,
): { message: SobolFromWorker; transfer: ArrayBuffer[] } {
  const copy: SobolShown = {
    ...s,
    S1: s.S1.slice(),
    ST: s.ST.slice(),
    S1_conf: s.S1_conf.slice(),
    ST_conf: s.ST_conf.slice(),
    bound: s.bound.slice(),
    bound_conf: s.bound_conf.slice(),
    exceeds: s.exceeds.slice(),
    variance: s.variance.slice(),
  };
  const transfer = [
    copy.S1,
    copy.ST,
    copy.S1_conf,
    copy.ST_conf,
    copy.bound,
    copy.bound_conf,
    copy.exceeds,
    copy.variance,
  ].map((a) => a.buffer as ArrayBuffer);
  return { message: { type: 'sobol-result', id, ...copy }, transfer };
}
