/**
 * Variance-based (Sobol') sensitivity: first-order and total indices of every output element with
 * respect to every p-feature, by Saltelli's design on scrambled Sobol' points, in bounded memory,
 * sharded and merged exactly; with the DGSM upper bound from exact Jacobians.
 */
export {
  type Evaluator,
  type SobolRunOptions,
  DEFAULT_CHUNK_ROWS,
  mergeSobol,
  sobol,
  sobolPartial,
} from './run';
export { type SobolResult, finalizeSobol } from './estimate';
export { type SobolPartial, mergeSobolPartials, missingRows } from './partial';
export { SOBOL_PARTIAL_FORMAT, parseSobolPartial, sobolPartialToJSON } from './partial-json';
export {
  type ResolvedSobolSettings,
  type Shard,
  type SobolSettings,
  DEFAULT_BLOCKS,
  DEFAULT_RESAMPLES,
  parseShard,
  resolveSobolSettings,
  shardRows,
  sobolFingerprint,
} from './settings';
export {
  type Distribution,
  type NormalDistribution,
  type UniformDistribution,
  centreOf,
  defaultDistributions,
  fromUnit,
  parseDistributions,
  poincareConstant,
} from './distributions';
export { inverseNormalCdf } from './inverse-normal';
export { type Sampling, unitSamples } from './sampler';
export { saltelliRows } from './design';
export { sobolIntegers, sobolPoints } from './sequence';
export { SOBOL_MAX_DIMS, directionNumbers, directionTable } from './direction-numbers';
