/**
 * Messages between a parallel CPU runner and its helper threads (Web Workers in the app,
 * worker_threads in Node). Each helper holds its own float64 GraphModel — built from the same
 * fno1d-scalar weights, or from the same TorchScript archive — and computes whole samples.
 */
import type { FnoConfig } from '../../models/config';
import type { InputArray } from '../../models/graph-model';
import type { HostTensor } from '../../tensor';

export type PoolMode = 'forward' | 'jacobian' | 'evaluate';

/** What a helper builds its model from. */
export type PoolModel =
  | { kind: 'fno1d-scalar'; config: FnoConfig; tensors: [string, HostTensor][] }
  /** A TorchScript archive's bytes, opened again in the helper (its code and weights). */
  | { kind: 'torchscript'; bytes: Uint8Array; file: string };

export type PoolRequest =
  | { type: 'init'; model: PoolModel }
  /** The model's inputs for a run of samples (each cut along its first axis); y and/or J come back for exactly those. */
  | {
      type: 'run';
      id: number;
      mode: PoolMode;
      inputs: [string, InputArray][];
      wrt?: string;
      output?: number;
      /** Whether samples are independent, as the calling thread decided it (see GraphModel.independent). */
      independent?: boolean;
    };

export type PoolReply =
  | { type: 'ready' }
  /** y of the run's samples ([k, ...]: `yShape`), and J ([...yShape, P]) unless the mode is forward. */
  | { type: 'done'; id: number; y: Float64Array; yShape: number[]; J?: Float64Array }
  /** id −1: the model could not be built (init). `shape`: the inputs did not fit (a ShapeError). */
  | { type: 'failed'; id: number; message: string; shape?: boolean };

/** A helper thread as the runner sees it; the platform wraps its own worker type in this. */
export interface PoolWorker {
  post(msg: PoolRequest, transfer?: ArrayBuffer[]): void;
  onMessage(cb: (msg: PoolReply) => void): void;
  /** The thread itself failed (not a computation in it). */
  onError(cb: (message: string) => void): void;
  terminate(): void;
}
