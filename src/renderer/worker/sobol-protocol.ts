/**
 * The variance-based (Sobol') tab's messages between the UI thread and the engine worker: plain,
 * structured-cloneable data. protocol.ts adds them to ToWorker / FromWorker.
 */

/** One p-feature's input distribution: the CLI's D.json entries. */
export type SobolDist =
  { dist: 'uniform'; low: number; high: number } | { dist: 'normal'; mean: number; std: number };

export type SobolExportWhat = 'sobol-json' | 'sobol-csv';

export type SobolToWorker =
  /**
   * The distributions for result `seq`: the default (text absent: uniform over each feature's min…max in
   * the batch, or p ± 10% where it does not vary), or those of a D.json's text, checked.
   */
  | { type: 'sobol-dists'; id: number; seq: number; text?: string; file?: string }
  /** Sobol' indices of result `seq`'s model, every input but p fixed at sample b. */
  | {
      type: 'sobol';
      id: number;
      seq: number;
      b: number;
      N: number;
      seed: number;
      distributions: SobolDist[];
    }
  /** Stops the Sobol' run `id` (between batches of model evaluations). */
  | { type: 'sobol-cancel'; id: number }
  /** The last Sobol' result as S.json or a long CSV. */
  | { type: 'export-sobol'; id: number; what: SobolExportWhat };

/** What the tab shows of a Sobol' run: every array is [T,O,P] (T = 1 without a time axis). */
export interface SobolShown {
  seq: number;
  /** The sample whose other inputs were fixed. */
  b: number;
  T: number;
  O: number;
  P: number;
  timeAxis: boolean;
  S1: Float64Array;
  ST: Float64Array;
  S1_conf: Float64Array;
  ST_conf: Float64Array;
  /** The DGSM upper bound of ST and its half-width; 1 where ST − ST_conf > bound + bound_conf. */
  bound: Float64Array;
  bound_conf: Float64Array;
  exceeds: Uint8Array;
  /** [T,O] */
  variance: Float64Array;
  n: number;
  evaluations: number;
  jacobians: number;
  seed: number;
  distributions: SobolDist[];
  ms: number;
}

export type SobolFromWorker =
  | {
      type: 'sobol-dists-result';
      id: number;
      seq: number;
      distributions: SobolDist[] | null;
      /** How the defaults were made, or where the file's came from. */
      note: string;
      /** Why the text was refused (distributions null). */
      error?: string;
    }
  | ({ type: 'sobol-result'; id: number } & SobolShown)
  | { type: 'sobol-failed'; id: number; message: string; cancelled: boolean };
