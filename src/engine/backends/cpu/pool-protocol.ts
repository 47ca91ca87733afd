/**
 * Messages between the parallel CPU backend and its helper threads (Web Workers in the app,
 * worker_threads in Node). Each helper holds its own float64 model and computes whole samples.
 */
import type { FnoConfig } from '../../models/config';
import type { HostTensor } from '../../tensor';

export type PoolMode = 'forward' | 'jacobian' | 'evaluate';

export type PoolRequest =
  | { type: 'init'; config: FnoConfig; tensors: [string, HostTensor][] }
  /** x [B,T,Xf] and p [B,P] of a run of samples; y and/or J come back for exactly those. */
  | {
      type: 'run';
      id: number;
      mode: PoolMode;
      x: Float64Array;
      p: Float64Array;
      B: number;
      T: number;
    };

export type PoolReply =
  | { type: 'ready' }
  | { type: 'done'; id: number; y?: Float64Array; J?: Float64Array }
  /** id −1: the model could not be built (init). */
  | { type: 'failed'; id: number; message: string };

/** A helper thread as the backend sees it; the platform wraps its own worker type in this. */
export interface PoolWorker {
  post(msg: PoolRequest, transfer?: ArrayBuffer[]): void;
  onMessage(cb: (msg: PoolReply) => void): void;
  /** The thread itself failed (not a computation in it). */
  onError(cb: (message: string) => void): void;
  terminate(): void;
}
