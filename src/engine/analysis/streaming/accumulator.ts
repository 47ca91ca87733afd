/**
 * The derivative-based measures of sensitivity.ts — ν, the normalised index ν·Var(p)/Var(y) and the
 * elasticity |J·p/y| — over datasets larger than memory: samples arrive in chunks, are summed and
 * dropped. Memory is O(T·O·P) whatever the number of samples. Shards of a dataset (contiguous row
 * ranges) accumulate apart and merge into what one pass over all rows gives, to rounding.
 *
 * Sums: ν's Σ J² per (t,o,k) and the elasticity's Σ |J·p/y| per (o,k) with Neumaier compensation;
 * the variances of p and y by Chan, Golub & LeVeque's pairwise update (count, mean, M2) — each chunk
 * two-pass, chunks and shards combined exactly as the formula says.
 *
 * The elasticity skips (b,t,o) where |y| ≤ relFloor·max|y[·,·,o]| over the WHOLE dataset, which no
 * single pass knows in advance: give that maximum as `yAbsMax` (from a forward pre-pass with
 * `absMaxOfOutputs`, or the shards' maxima combined with it) and the elasticity is exactly
 * sensitivity.ts's; without it the elasticity is null.
 */
import { ShapeError } from '../../errors';
import type { GlobalSensitivity } from '../sensitivity';

export interface StreamingDims {
  T: number;
  O: number;
  P: number;
}

export interface StreamingOptions {
  /** As globalSensitivity's relFloor (default 1e-2). */
  relFloor?: number;
  /** max |y[·,·,o]| over the whole dataset [O]: needed for the elasticity. */
  yAbsMax?: ArrayLike<number>;
  /** Identifies the model and data (e.g. file hashes): checked on merge. */
  model?: string;
  /** The dataset rows [start, end) this accumulator covers (a shard): checked on merge. */
  rows?: readonly [number, number];
}

export interface StreamingResult extends Omit<GlobalSensitivity, 'elasticity'> {
  /** As globalSensitivity's; null without yAbsMax. */
  elasticity: Float64Array | null;
  /** Samples seen. */
  B: number;
}

/** max |y| per output over y [rows, O], combined with `prev` (a pre-pass, chunk by chunk or shard by shard). */
export function absMaxOfOutputs(y: ArrayLike<number>, O: number, prev?: ArrayLike<number>): Float64Array {
  if (y.length % O !== 0) throw new ShapeError(`y has ${y.length} values, not a multiple of O = ${O}`);
  const out = prev ? Float64Array.from(prev) : new Float64Array(O);
  if (out.length !== O) throw new ShapeError(`the earlier maxima have ${out.length} outputs, not ${O}`);
  for (let i = 0; i < y.length; i++) {
    const v = Math.abs(y[i]);
    if (!Number.isFinite(v)) throw new ShapeError(`y has a non-finite value (${y[i]}) at output ${i % O}`);
    if (v > out[i % O]) out[i % O] = v;
  }
  return out;
}

export const STREAMING_PARTIAL_FORMAT = 'jacscope-sensitivity-partial';
/** The state's arrays, by name (see StreamingSensitivity.sums). */
export const STATE_ARRAYS = ['nuS', 'nuC', 'pMean', 'pM2', 'yMean', 'yM2', 'eS', 'eC', 'eCount'] as const;
export type StateArray = (typeof STATE_ARRAYS)[number];

/** x added to s[j] with its compensation c[j] (Neumaier). */
export function add2(s: Float64Array, c: Float64Array, j: number, x: number): void {
  const a = s[j];
  const t = a + x;
  c[j] += Math.abs(a) >= Math.abs(x) ? a - t + x : x - t + a;
  s[j] = t;
}

/** Chan et al.: (n, mean, M2) of a and b combined into a's arrays. */
export function chan(
  mean: Float64Array,
  m2: Float64Array,
  na: number,
  mb: Float64Array,
  m2b: Float64Array,
  nb: number,
) {
  const n = na + nb;
  if (nb === 0) return;
  for (let i = 0; i < mean.length; i++) {
    const d = mb[i] - mean[i];
    mean[i] += (d * nb) / n;
    m2[i] += m2b[i] + ((d * d * na) / n) * nb;
  }
}

export class StreamingSensitivity {
  readonly relFloor: number;
  readonly yAbsMax: Float64Array | null;
  readonly model: string;
  /** Rows covered, when known (sorted, disjoint). */
  ranges: [number, number][];
  B = 0;
  /**
   * The sums: Σ_b J² [T,O,P] (nuS, compensation nuC); mean and M2 of p [P] and of y [O] (over B·T
   * rows); Σ|J·p/y| [O,P] (eS, eC) and the (b,t) counted per output [O] (eCount).
   */
  readonly a: Record<StateArray, Float64Array>;

  constructor(
    readonly dims: StreamingDims,
    opts: StreamingOptions = {},
  ) {
    const { T, O, P } = dims;
    for (const [k, v] of Object.entries(dims))
      if (!Number.isInteger(v) || v < 1) throw new ShapeError(`${k} must be a positive integer, got ${v}`);
    this.relFloor = opts.relFloor ?? 1e-2;
    if (!(this.relFloor >= 0 && this.relFloor < 1))
      throw new ShapeError(`relFloor must be in [0, 1), got ${opts.relFloor}`);
    this.yAbsMax = opts.yAbsMax ? Float64Array.from(opts.yAbsMax) : null;
    if (
      this.yAbsMax &&
      (this.yAbsMax.length !== O || !this.yAbsMax.every((v) => v >= 0 && Number.isFinite(v)))
    )
      throw new ShapeError(`yAbsMax must be ${O} finite non-negative numbers (one per output)`);
    this.model = opts.model ?? '';
    const r = opts.rows;
    if (r && !(Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] >= 0 && r[1] >= r[0]))
      throw new ShapeError(`rows must be [start, end) with 0 ≤ start ≤ end, got [${r}]`);
    this.ranges = r && r[1] > r[0] ? [[r[0], r[1]]] : [];
    const size: Record<StateArray, number> = {
      nuS: T * O * P,
      nuC: T * O * P,
      pMean: P,
      pM2: P,
      yMean: O,
      yM2: O,
      eS: O * P,
      eC: O * P,
      eCount: O,
    };
    this.a = Object.fromEntries(STATE_ARRAYS.map((k) => [k, new Float64Array(size[k])])) as Record<
      StateArray,
      Float64Array
    >;
    this.expectedRows = r ? r[1] - r[0] : null;
  }

  private readonly expectedRows: number | null;
  /** Values of x per sample, once a chunk had x. */
  xPerSample: number | null = null;

  /**
   * A chunk of b samples: x [b, ...] (only its size is checked; null for models without x),
   * p [b,P], J [b,T,O,P], y [b,T,O].
   */
  add(x: ArrayLike<number> | null, p: ArrayLike<number>, J: ArrayLike<number>, y: ArrayLike<number>): void {
    const { T, O, P } = this.dims;
    const b = p.length / P;
    if (!Number.isInteger(b) || b < 1)
      throw new ShapeError(`p has ${p.length} values: not [b, ${P}] with b ≥ 1`);
    if (J.length !== b * T * O * P)
      throw new ShapeError(`J has ${J.length} values, not [${b}, ${T}, ${O}, ${P}]`);
    if (y.length !== b * T * O) throw new ShapeError(`y has ${y.length} values, not [${b}, ${T}, ${O}]`);
    if (x) {
      const per = x.length / b;
      if (!Number.isInteger(per) || (this.xPerSample !== null && per !== this.xPerSample))
        throw new ShapeError(
          `x has ${x.length} values for ${b} samples of ${this.xPerSample ?? 'equal'} values each`,
        );
      this.xPerSample = per;
    }
    for (const [name, arr] of [
      ['p', p],
      ['J', J],
      ['y', y],
    ] as const)
      for (let i = 0; i < arr.length; i++)
        if (!Number.isFinite(arr[i]))
          throw new ShapeError(`${name} has a non-finite value (${arr[i]}) in this chunk`);
    const max = this.yAbsMax;
    // max |y| usually comes from a forward pass, whose runs of several samples may round y in the
    // last bits differently from the Jacobian's one-sample runs: a few ulp over is the same y.
    if (max)
      for (let i = 0; i < y.length; i++)
        if (Math.abs(y[i]) > max[i % O] * (1 + 1e-12))
          throw new ShapeError(
            `|y| = ${Math.abs(y[i])} at output ${i % O} exceeds the yAbsMax given (${max[i % O]}): it must cover all the data`,
          );
    // Checked: from here on the chunk is taken whole.
    const { nuS, nuC, eS, eC, eCount } = this.a;
    const OP = O * P;
    for (let s = 0; s < b; s++)
      for (let i = 0; i < T * OP; i++) {
        const v = J[s * T * OP + i];
        add2(nuS, nuC, i, v * v);
      }
    // p over b samples, y over b·T rows: chunk statistics, then Chan's update.
    this.combine('pMean', 'pM2', this.B, p, b, P);
    this.combine('yMean', 'yM2', this.B * T, y, b * T, O);
    if (max) {
      for (let s = 0; s < b; s++)
        for (let t = 0; t < T; t++)
          for (let o = 0; o < O; o++) {
            const yv = y[(s * T + t) * O + o];
            if (!(Math.abs(yv) > this.relFloor * max[o])) continue;
            eCount[o]++;
            for (let k = 0; k < P; k++)
              add2(eS, eC, o * P + k, Math.abs((J[((s * T + t) * O + o) * P + k] * p[s * P + k]) / yv));
          }
    }
    this.B += b;
  }

  private combine(
    meanKey: StateArray,
    m2Key: StateArray,
    n0: number,
    v: ArrayLike<number>,
    rows: number,
    cols: number,
  ) {
    const mean = new Float64Array(cols);
    const m2 = new Float64Array(cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) mean[c] += v[r * cols + c];
    for (let c = 0; c < cols; c++) mean[c] /= rows;
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < cols; c++) {
        const d = v[r * cols + c] - mean[c];
        m2[c] += d * d;
      }
    chan(this.a[meanKey], this.a[m2Key], n0, mean, m2, rows);
  }

  /** The measures over every sample added (or merged). */
  result(): StreamingResult {
    const { T, O, P } = this.dims;
    const { B } = this;
    if (B === 0) throw new ShapeError('no samples were added');
    const { nuS, nuC, pM2, yM2, eS, eC, eCount } = this.a;
    const OP = O * P;
    const nuT = new Float64Array(T * OP);
    for (let i = 0; i < T * OP; i++) nuT[i] = (nuS[i] + nuC[i]) / B;
    const nu = new Float64Array(OP);
    for (let t = 0; t < T; t++) for (let i = 0; i < OP; i++) nu[i] += nuT[t * OP + i] / T;
    let index: Float64Array | null = null;
    const varP = pM2.map((m) => m / B);
    if (B > 1 && varP.some((v) => v > 0)) {
      index = new Float64Array(OP);
      for (let o = 0; o < O; o++) {
        const varY = yM2[o] / (B * T);
        for (let k = 0; k < P; k++) index[o * P + k] = varY > 0 ? (nu[o * P + k] * varP[k]) / varY : NaN;
      }
    }
    let elasticity: Float64Array | null = null;
    if (this.yAbsMax) {
      elasticity = new Float64Array(OP);
      for (let o = 0; o < O; o++)
        for (let k = 0; k < P; k++)
          elasticity[o * P + k] = eCount[o] > 0 ? (eS[o * P + k] + eC[o * P + k]) / eCount[o] : NaN;
    }
    return { nu, nuT, index, elasticity, yFloor: this.relFloor, B };
  }

  /** The state as JSON text (a shard's partial result); numbers round-trip exactly. */
  partialJSON(): string {
    if (this.expectedRows !== null && this.B !== this.expectedRows && this.ranges.length === 1)
      throw new ShapeError(
        `rows ${this.ranges[0][0]}–${this.ranges[0][1] - 1} are ${this.expectedRows} samples but ${this.B} were added`,
      );
    return JSON.stringify({
      format: STREAMING_PARTIAL_FORMAT,
      version: 1,
      dims: this.dims,
      relFloor: this.relFloor,
      yAbsMax: this.yAbsMax && Array.from(this.yAbsMax),
      model: this.model,
      ranges: this.ranges,
      B: this.B,
      xPerSample: this.xPerSample,
      ...Object.fromEntries(STATE_ARRAYS.map((k) => [k, Array.from(this.a[k])])),
    });
  }
}
