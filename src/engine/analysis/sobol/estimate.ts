/**
 * First-order and total Sobol' indices from a complete partial result, with bootstrap confidence
 * intervals and the derivative-based (DGSM) upper bound of each total index.
 *
 * Estimators (outputs centred by their mean m over all A and B rows, as SALib does, which keeps the
 * first-order estimator's variance from growing with the output's mean):
 *   Var y = mean over A ∪ B of (y − m)²
 *   V_i   = (1/N) Σ_j (y(B_j) − m) (y(A_B^(i)_j) − y(A_j))      Saltelli et al. 2010
 *   VT_i  = (1/2N) Σ_j (y(A_j) − y(A_B^(i)_j))²                  Jansen 1999
 *   S1_i = V_i / Var y,   ST_i = VT_i / Var y   (NaN where Var y = 0)
 *
 * Confidence: raw rows are not kept, so the bootstrap resamples blocks of consecutive base rows
 * (their partial sums): each replicate draws `blocks` blocks with replacement (Philox from the seed),
 * adds their sums and recomputes every estimate; the reported 95% half-width is 1.96 × the standard
 * deviation of the replicates (the normal bootstrap interval, as SALib reports). Blocks of a
 * scrambled Sobol' sequence are not independent draws, and the interval is conservative for them:
 * it is the width plain Monte Carlo would have.
 *
 * DGSM: with ν_k = E[(∂y/∂p_k)²] over the A rows (exact J), ST_k ≤ ν_k·C_k / Var y where C_k is
 * the Poincaré constant of p_k's distribution ((b−a)²/π² for uniform(a,b), σ² for normal(μ,σ));
 * an estimate "exceeds" it where ST − ST_conf > bound + bound_conf.
 */
import { ShapeError } from '../../errors';
import type { Distribution } from './distributions';
import { poincareConstant } from './distributions';
import { type SobolPartial, elementsOf, missingRows, statCount } from './partial';
import { STREAM, philox, seedKey } from './philox';
import type { Sampling } from './sampler';
import { blockSize } from './settings';
import { cpuGemm } from '../../kernels';

export interface SobolResult {
  /** One sample's output shape; every array below is [...outShape, P] unless said. */
  outShape: number[];
  P: number;
  S1: Float64Array;
  ST: Float64Array;
  /** 95% half-widths. */
  S1_conf: Float64Array;
  ST_conf: Float64Array;
  /** Mean and variance of each output element over the A and B rows: [...outShape]. */
  mean: Float64Array;
  variance: Float64Array;
  /** Base rows, design evaluations N·(P+2) (plus one at the centre per shard, not counted). */
  n: number;
  evaluations: number;
  seed: number;
  sampling: Sampling;
  distributions: Distribution[];
  blocks: number;
  resamples: number;
  fingerprint: string;
  /** The DGSM bound on ST, when the run had Jacobians. */
  dgsm: {
    /** ν = E[(∂y/∂p_k)²] over the A rows. */
    nu: Float64Array;
    bound: Float64Array;
    bound_conf: Float64Array;
    /** 1 where ST − ST_conf > bound + bound_conf. */
    exceeds: Uint8Array;
  } | null;
}

const Z95 = 1.959963984540054;

/** S1, ST (and the bound) from totals T [E, S] over n rows into the outputs. */
function estimates(
  T: Float64Array,
  n: number,
  E: number,
  P: number,
  dgsm: Float64Array | null,
  S1: Float64Array,
  ST: Float64Array,
  bound: Float64Array | null,
  mean?: Float64Array,
  variance?: Float64Array,
): void {
  const S = statCount(P, dgsm !== null);
  for (let e = 0; e < E; e++) {
    const o = e * S;
    const mg = (T[o] + T[o + 1]) / (2 * n);
    const v = (T[o + 2] + T[o + 3]) / (2 * n) - mg * mg;
    const varY = v > 0 ? v : NaN;
    if (mean) mean[e] = mg;
    if (variance) variance[e] = Math.max(v, 0);
    for (let i = 0; i < P; i++) {
      const q = o + 4 + 3 * i;
      S1[e * P + i] = (T[q] - mg * T[q + 1]) / n / varY;
      ST[e * P + i] = T[q + 2] / (2 * n) / varY;
    }
    if (dgsm && bound)
      for (let k = 0; k < P; k++) bound[e * P + k] = ((T[o + 4 + 3 * P + k] / n) * dgsm[k]) / varY;
  }
}

/** Values of a bootstrap tile (replicates × output elements × sums): 2 M, 16 MB. */
const TILE_VALUES = 2 ** 21;

/** Welford's running mean and M2 over replicates, per value (a range of values at a time). */
class Running {
  readonly mean: Float64Array;
  readonly m2: Float64Array;
  count = 0;
  constructor(size: number) {
    this.mean = new Float64Array(size);
    this.m2 = new Float64Array(size);
  }
  /** x[0..len) as replicate number `count` (1, 2, …) of values [at, at + len). */
  add(x: Float64Array, at: number, len: number, count: number): void {
    this.count = count;
    const { mean, m2 } = this;
    for (let i = 0; i < len; i++) {
      const j = at + i;
      const d = x[i] - mean[j];
      mean[j] += d / count;
      m2[j] += d * (x[i] - mean[j]);
    }
  }
  halfWidth(): Float64Array {
    return this.m2.map((m) => Z95 * Math.sqrt(m / (this.count - 1)));
  }
}

/** The indices of a partial that covers every base row (a whole run, or all its shards merged). */
export function finalizeSobol(p: SobolPartial): SobolResult {
  const missing = missingRows(p);
  const s = p.settings;
  if (missing.length > 0)
    throw new ShapeError(
      `the Sobol' result lacks base rows ${missing.join(', ')} of 0–${s.N - 1}: merge every shard of the run`,
    );
  const { N, P, blocks: K, resamples: R } = s;
  const E = elementsOf(p.outShape);
  const S = statCount(P, s.dgsm);
  if (p.blockLo !== 0 || p.blockSums.length !== K * E * S)
    throw new ShapeError('the partial result lacks bootstrap blocks');
  const C = s.dgsm ? Float64Array.from(s.distributions, poincareConstant) : null;
  const T = p.sums.map((x, j) => x + p.comp[j]);
  const S1 = new Float64Array(E * P);
  const ST = new Float64Array(E * P);
  const bound = C ? new Float64Array(E * P) : null;
  const mean = new Float64Array(E);
  const variance = new Float64Array(E);
  estimates(T, N, E, P, C, S1, ST, bound, mean, variance);
  for (let e = 0; e < E; e++) mean[e] += p.centre[e];

  // Bootstrap over blocks: replicate r's totals are Σ_k w[r,k]·(block k's sums), so all of them
  // are one product W [R,K] · blockSums [K, E·S], taken a tile of output elements at a time (one
  // GEMM per tile instead of R·K passes over every sum: 3.3 s → a fraction of a second on the seed
  // model's 9,015 outputs; each total is still summed over k in order, as the passes did).
  const [k0, k1] = seedKey(s.seed);
  const W = new Float64Array(R * K);
  const rows = new Float64Array(R);
  const words = new Uint32Array(4);
  const sizes = Array.from({ length: K }, (_, k) => blockSize(k, N, K));
  for (let r = 0; r < R; r++) {
    for (let d = 0; d < K; d++) {
      if (d % 4 === 0) philox(r, d / 4, 0, STREAM.bootstrap, k0, k1, words);
      W[r * K + Math.floor((words[d % 4] * K) / 2 ** 32)]++;
    }
    for (let k = 0; k < K; k++) rows[r] += W[r * K + k] * sizes[k];
  }
  const tile = Math.max(1, Math.min(E, Math.floor(TILE_VALUES / (R * S))));
  const Tr = new Float64Array(R * tile * S);
  const s1 = new Float64Array(tile * P);
  const st = new Float64Array(tile * P);
  const br = C ? new Float64Array(tile * P) : null;
  const runS1 = new Running(E * P);
  const runST = new Running(E * P);
  const runB = C ? new Running(E * P) : null;
  const gemm = cpuGemm();
  for (let e0 = 0; e0 < E; e0 += tile) {
    const ne = Math.min(tile, E - e0);
    const width = ne * S;
    gemm({ M: R, N: width, K, A: W, B: p.blockSums, bOff: e0 * S, ldb: E * S, C: Tr, ldc: width });
    for (let r = 0; r < R; r++) {
      estimates(Tr.subarray(r * width, (r + 1) * width), rows[r], ne, P, C, s1, st, br);
      runS1.add(s1, e0 * P, ne * P, r + 1);
      runST.add(st, e0 * P, ne * P, r + 1);
      if (runB && br) runB.add(br, e0 * P, ne * P, r + 1);
    }
  }
  const S1_conf = runS1.halfWidth();
  const ST_conf = runST.halfWidth();
  let dgsm: SobolResult['dgsm'] = null;
  if (C && bound && runB) {
    const nu = new Float64Array(E * P);
    for (let e = 0; e < E; e++) for (let k = 0; k < P; k++) nu[e * P + k] = T[e * S + 4 + 3 * P + k] / N;
    const bound_conf = runB.halfWidth();
    const exceeds = new Uint8Array(E * P);
    for (let i = 0; i < E * P; i++) exceeds[i] = ST[i] - ST_conf[i] > bound[i] + bound_conf[i] ? 1 : 0;
    dgsm = { nu, bound, bound_conf, exceeds };
  }
  return {
    outShape: [...p.outShape],
    P,
    S1,
    ST,
    S1_conf,
    ST_conf,
    mean,
    variance,
    n: N,
    evaluations: p.evaluations,
    seed: s.seed,
    sampling: s.sampling,
    distributions: [...s.distributions],
    blocks: K,
    resamples: R,
    fingerprint: p.fingerprint,
    dgsm,
  };
}
