/**
 * The settings of a Sobol' run, checked and completed with defaults; which base rows a shard
 * (`--shard i/n`) computes; and the fingerprint that partial results carry so that only parts of
 * the same run are merged.
 */
import { ShapeError } from '../../errors';
import { type Distribution, parseDistributions } from './distributions';
import { statCount } from './partial';
import { SOBOL_MAX_DIMS } from './direction-numbers';
import { type Sampling, checkSeed } from './sampler';

export interface SobolSettings {
  /** Base rows N: the run makes N·(P+2) model evaluations. A power of 2 suits Sobol' points best. */
  N: number;
  /** One per feature (P of them); see distributions.ts. */
  distributions: readonly Distribution[];
  /** Seeds the scrambling (or the random points) and the bootstrap. Default 0. */
  seed?: number;
  /** Default 'sobol' (scrambled). */
  sampling?: Sampling;
  /**
   * Blocks of consecutive base rows the bootstrap resamples (at most N). Default 100, or fewer (not
   * under 10) where 100 blocks of sums would pass 128 MiB: each block holds E·(4+3P) sums.
   */
  blocks?: number;
  /** Bootstrap replicates (default 100). */
  resamples?: number;
  /** Identifies the model and what is measured (e.g. a hash of the file, wrt, output): checked on merge. */
  model?: string;
}

export interface ResolvedSobolSettings {
  readonly N: number;
  readonly P: number;
  readonly distributions: readonly Distribution[];
  readonly seed: number;
  readonly sampling: Sampling;
  readonly blocks: number;
  readonly resamples: number;
  readonly model: string;
  /** Whether the run also accumulates ν from exact Jacobians (the DGSM bound). */
  readonly dgsm: boolean;
}

export const DEFAULT_BLOCKS = 100;
export const DEFAULT_RESAMPLES = 100;
/** What the default number of blocks may hold. */
export const BLOCK_MEMORY = 128 * 2 ** 20;

/** The default number of blocks for E output elements and S sums per element. */
export function defaultBlocks(E: number, S: number): number {
  return Math.max(10, Math.min(DEFAULT_BLOCKS, Math.floor(BLOCK_MEMORY / (E * S * 8))));
}

function positiveInt(name: string, v: unknown, min: number, max = 2 ** 32): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new ShapeError(`${name} must be an integer from ${min} to ${max}, got ${String(v)}`);
  return v;
}

/**
 * Check `s` (ShapeError naming the first bad setting) and fill in the defaults; `E`, the elements of
 * one sample's output, sizes the default number of blocks.
 */
export function resolveSobolSettings(s: SobolSettings, dgsm: boolean, E = 1): ResolvedSobolSettings {
  if (typeof s !== 'object' || s === null) throw new ShapeError('Sobol settings: expected an object');
  const N = positiveInt('N (base rows)', s.N, 2);
  if (!Array.isArray(s.distributions) || s.distributions.length < 1)
    throw new ShapeError('distributions: one entry per feature is needed');
  const P = s.distributions.length;
  const distributions = parseDistributions(s.distributions, P);
  const sampling = s.sampling ?? 'sobol';
  if (sampling !== 'sobol' && sampling !== 'random')
    throw new ShapeError(`sampling must be 'sobol' or 'random', got '${String(sampling)}'`);
  if (sampling === 'sobol' && 2 * P > SOBOL_MAX_DIMS)
    throw new ShapeError(
      `Sobol' sampling supports up to ${SOBOL_MAX_DIMS / 2} features (2·P dimensions), the model has ${P}; use random sampling`,
    );
  const seed = checkSeed(s.seed ?? 0);
  const blocks = Math.min(positiveInt('blocks', s.blocks ?? defaultBlocks(E, statCount(P, dgsm)), 2), N);
  const resamples = positiveInt('resamples', s.resamples ?? DEFAULT_RESAMPLES, 2, 1_000_000);
  if (s.model !== undefined && typeof s.model !== 'string') throw new ShapeError('model must be a string');
  return { N, P, distributions, seed, sampling, blocks, resamples, model: s.model ?? '', dgsm };
}

/** Shard `index` (0-based) of `count`. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/** "i/n" with 1 ≤ i ≤ n (as in `--shard 2/4`) → { index: i − 1, count: n }. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1) || !(i >= 1 && i <= n))
    throw new ShapeError(`--shard must be i/n with 1 ≤ i ≤ n (e.g. 2/4), got '${text}'`);
  return { index: i - 1, count: n };
}

/** The base rows [start, end) of a shard: contiguous, the n shards together covering 0..N once. */
export function shardRows(N: number, shard: Shard): [number, number] {
  const { index, count } = shard;
  if (!Number.isInteger(count) || count < 1 || !Number.isInteger(index) || index < 0 || index >= count)
    throw new ShapeError(`shard ${index + 1}/${count} does not exist`);
  if (count > N) throw new ShapeError(`${N} base rows cannot be split into ${count} shards`);
  return [Math.floor((index * N) / count), Math.floor(((index + 1) * N) / count)];
}

/** Which bootstrap block base row j belongs to: blocks of consecutive rows, as even as N allows. */
export function blockOf(j: number, N: number, blocks: number): number {
  return Math.floor((j * blocks) / N);
}

/** Rows in block k: those j with floor(j·K/N) = k. */
export function blockSize(k: number, N: number, blocks: number): number {
  return Math.ceil(((k + 1) * N) / blocks) - Math.ceil((k * N) / blocks);
}

/** A short hash of the settings and output shape: equal for parts of one run. */
export function sobolFingerprint(s: ResolvedSobolSettings, outShape: readonly number[]): string {
  const text = JSON.stringify({
    N: s.N,
    P: s.P,
    distributions: s.distributions.map((d) =>
      d.dist === 'uniform' ? [d.dist, d.low, d.high] : [d.dist, d.mean, d.std],
    ),
    seed: s.seed,
    sampling: s.sampling,
    blocks: s.blocks,
    resamples: s.resamples,
    model: s.model,
    dgsm: s.dgsm,
    outShape,
  });
  let h1 = 0x811c9dc5;
  let h2 = 0x1b873593;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  return hex(h1) + hex(h2);
}
