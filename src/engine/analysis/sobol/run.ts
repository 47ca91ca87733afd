/**
 * Runs a Sobol' analysis through a caller-supplied model: the base rows of the run (or of one shard)
 * in chunks, each chunk's (P+2)·rows design points evaluated in one batched call, the outputs summed
 * and dropped. Memory: one chunk's inputs and outputs plus the sums, whatever N.
 */
import { CancelledError, ShapeError } from '../../errors';
import { SobolAccumulator } from './accumulate';
import { centrePoint, saltelliRows } from './design';
import { type SobolResult, finalizeSobol } from './estimate';
import { type SobolPartial, mergeSobolPartials } from './partial';
import { type Shard, type SobolSettings, resolveSobolSettings, shardRows } from './settings';

/** Runs the model on n input rows p [n, P]: y [n, ...outShape] (or J [n, ...outShape, P]). */
export type Evaluator = (
  p: Float64Array,
  n: number,
  signal?: AbortSignal,
) => Promise<Float64Array | Float32Array>;

export interface SobolRunOptions {
  evaluate: Evaluator;
  /** Exact Jacobians at the A rows, for the DGSM bound (optional). */
  jacobian?: Evaluator;
  /** One sample's output shape ([T, O] or [O]); default [elements per sample]. */
  outShape?: readonly number[];
  /** Compute only this shard's base rows (default: all). */
  shard?: Shard;
  /** Base rows per batched call (default 64: 64·(P+2) evaluations). */
  chunkRows?: number;
  signal?: AbortSignal;
  /** Base rows of this run (or shard) done, of total. */
  onProgress?(done: number, total: number): void;
}

export const DEFAULT_CHUNK_ROWS = 64;

/** The sums over this run's (or shard's) base rows: merge the shards' with mergeSobolPartials. */
export async function sobolPartial(settings: SobolSettings, opts: SobolRunOptions): Promise<SobolPartial> {
  const dgsm = opts.jacobian !== undefined;
  // The default number of blocks depends on the output's size: settled at the first evaluation.
  let s = resolveSobolSettings(settings, dgsm);
  const { P } = s;
  const [start, end] = shardRows(s.N, opts.shard ?? { index: 0, count: 1 });
  const chunk = opts.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isInteger(chunk) || chunk < 1)
    throw new ShapeError(`chunkRows must be a positive integer, got ${chunk}`);
  const check = () => {
    if (opts.signal?.aborted) throw new CancelledError();
  };
  let acc: SobolAccumulator | null = null;
  let last = performance.now();
  /** One chunk's design and the evaluations it needs, started at once. */
  interface Chunk {
    row0: number;
    rows: number;
    design: Float64Array;
    input: Float64Array;
    m: number;
    y: Promise<Float64Array | Float32Array>;
    J?: Promise<Float64Array | Float32Array>;
  }
  const launch = (row0: number, first: boolean): Chunk => {
    const rows = Math.min(chunk, end - row0);
    const design = saltelliRows(s, row0, rows);
    const m = (P + 2) * rows;
    // The first chunk also evaluates the distributions' centre, the reference every shard subtracts.
    const input = first ? new Float64Array((m + 1) * P) : design;
    if (first) {
      input.set(design);
      input.set(centrePoint(s), m * P);
    }
    const y = opts.evaluate(input, first ? m + 1 : m, opts.signal);
    // The Jacobian call waits for the outputs: the backend runs one call at a time anyway.
    const J = opts.jacobian
      ? y.then(() => opts.jacobian!(design.subarray(0, rows * P), rows, opts.signal))
      : undefined;
    // Failures surface when the chunk is awaited below; these only keep them from being unhandled.
    y.catch(() => undefined);
    J?.catch(() => undefined);
    return { row0, rows, design, input, m, y, J };
  };
  // While one chunk's outputs are summed on this thread, the next chunk is already being evaluated
  // (CPU helper threads take its samples meanwhile; a GPU computes it), so the sums cost no time
  // beside the model's: on the seed model they are about 2 s of N = 1024.
  let cur: Chunk | null = start < end ? launch(start, true) : null;
  while (cur) {
    check();
    const { row0, rows, design, input, m } = cur;
    const n = acc ? m : m + 1;
    const y = await cur.y;
    check();
    const E = checkOutput(y, n, input, P, opts.outShape, acc?.E);
    if (!acc) {
      s = resolveSobolSettings(settings, dgsm, E);
      acc = new SobolAccumulator(s, opts.outShape ?? [E], start, end, Float64Array.from(y.subarray(m * E)));
      acc.centreEvaluations = 1;
    }
    let J: Float64Array | Float32Array | undefined;
    if (cur.J) {
      J = await cur.J;
      check();
      if (J.length !== rows * E * P)
        throw new ShapeError(
          `the Jacobian has ${J.length} values for ${rows} samples of ${E} outputs × ${P} features`,
        );
      for (let i = 0; i < J.length; i++)
        if (!Number.isFinite(J[i]))
          throw new ShapeError(
            `the model's Jacobian is ${J[i]} at p = [${rowOf(design, Math.floor(i / (E * P)), P)}]`,
          );
    }
    const next = row0 + rows < end ? launch(row0 + rows, false) : null;
    acc.add(row0, rows, y.subarray(0, m * E), J);
    opts.onProgress?.(row0 + rows - start, end - start);
    if (performance.now() - last > 30) {
      // Let a cancel (or other messages) through even when the evaluator never yields.
      await new Promise((r) => setTimeout(r, 0));
      last = performance.now();
    }
    cur = next;
  }
  check();
  return acc!.partial();
}

/** The Sobol' indices of a whole run. */
export async function sobol(settings: SobolSettings, opts: SobolRunOptions): Promise<SobolResult> {
  if (opts.shard && opts.shard.count !== 1)
    throw new ShapeError('a sharded run gives a partial result: use sobolPartial');
  return finalizeSobol(await sobolPartial(settings, opts));
}

/** The Sobol' indices from every shard's partial result: the single run's, to rounding. */
export function mergeSobol(parts: readonly SobolPartial[]): SobolResult {
  return finalizeSobol(mergeSobolPartials(parts));
}

function rowOf(p: Float64Array, r: number, P: number): string {
  return Array.from(p.subarray(r * P, (r + 1) * P), (v) => String(v)).join(', ');
}

/** Elements per sample of y [n, ...] (checked against the declared shape and earlier chunks), all finite. */
function checkOutput(
  y: Float64Array | Float32Array,
  n: number,
  p: Float64Array,
  P: number,
  outShape: readonly number[] | undefined,
  E0: number | undefined,
): number {
  if (!(y instanceof Float64Array || y instanceof Float32Array))
    throw new ShapeError('the model evaluator must return a Float64Array or Float32Array');
  const E = y.length / n;
  if (!Number.isInteger(E) || E < 1)
    throw new ShapeError(`the model returned ${y.length} values for ${n} samples`);
  if (outShape) {
    const want = outShape.reduce((a, b) => a * b, 1);
    if (!outShape.every((d) => Number.isInteger(d) && d >= 1) || want !== E)
      throw new ShapeError(
        `the model returned ${E} values per sample where the output shape [${outShape}] has ${want}`,
      );
  }
  if (E0 !== undefined && E !== E0)
    throw new ShapeError(`the model returned ${E} values per sample where earlier batches had ${E0}`);
  for (let i = 0; i < y.length; i++)
    if (!Number.isFinite(y[i]))
      throw new ShapeError(
        `the model's output is ${y[i]} at p = [${rowOf(p, Math.floor(i / E), P)}]: Sobol' indices need finite outputs`,
      );
  return E;
}
