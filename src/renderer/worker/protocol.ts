/** Messages between the UI thread and the engine worker. Plain, structured-cloneable data. */
import type { Axis, AxisIndex } from '../lib/axes';

export type HyperKey =
  'inp_dim_func' | 'inp_dim_scalar' | 'out_dim_func' | 'modes' | 'width' | 'hidden' | 'layers' | 'activation';

export type HyperOrigin = 'given' | 'metadata' | 'inferred' | 'assumed';

export interface ModelInfo {
  /** File name ("built-in demo" for the demo). */
  file: string;
  format: string;
  architecture: string;
  config: Record<HyperKey, number | string>;
  /** How each hyperparameter was obtained. */
  origin: Partial<Record<HyperKey, HyperOrigin>>;
  notes: string[];
  params: { real: number; complex: number };
  tensorCount: number;
  configFile?: string;
}

export interface DataInfo {
  xFile: string;
  pFile: string;
  B: number;
  T: number;
  Xf: number;
  P: number;
  xDtype: string;
  pDtype: string;
  xNames: string[];
  pNames: string[];
  notes: string[];
}

export interface ResultMeta {
  B: number;
  T: number;
  O: number;
  P: number;
  backend: string;
  /** Wall time of forward + Jacobian in the worker. */
  ms: number;
  yNames: string[];
  pNames: string[];
  /** A counter that changes with every new result. */
  seq: number;
}

export interface SummaryPayload {
  l2: Float64Array;
  maxAbs: Float64Array;
  argT: Int32Array;
  globalMaxAbs: number;
}

export type MessageLevel = 'error' | 'warning' | 'info';

/** Something to tell the user about one file (or the drop as a whole when `file` is empty). */
export interface FileMessage {
  file: string;
  level: MessageLevel;
  text: string;
}

export type ExportWhat = 'slice-csv' | 'slice-npy' | 'full-npy' | 'full-csv';

export interface SliceSpec {
  xAxis: Axis;
  yAxis: Axis;
  fixed: AxisIndex;
}

export interface InputFile {
  name: string;
  bytes: ArrayBuffer;
}

export type ToWorker =
  | { type: 'demo'; id: number }
  | { type: 'load'; id: number; files: InputFile[] }
  | { type: 'cancel' }
  | { type: 'export'; id: number; what: ExportWhat; slice?: SliceSpec; dtype?: 'float32' | 'float64' };

export type FromWorker =
  | { type: 'ready'; backend: string }
  | {
      type: 'loaded';
      id: number;
      messages: FileMessage[];
      /** True when the load led to a new computation (a 'result' or 'cancelled' follows). */
      computing: boolean;
      /** Files waiting for a partner (e.g. a model whose data has not been dropped yet). */
      staged: string[];
    }
  | { type: 'progress'; id: number; done: number; total: number }
  | {
      type: 'result';
      id: number;
      model: ModelInfo;
      data: DataInfo;
      meta: ResultMeta;
      J: Float64Array;
      y: Float64Array;
      summary: SummaryPayload;
      messages: FileMessage[];
    }
  | { type: 'cancelled'; id: number; messages: FileMessage[] }
  | { type: 'failed'; id: number; messages: FileMessage[] }
  | { type: 'exported'; id: number; name: string; bytes: Uint8Array }
  | { type: 'export-failed'; id: number; message: string };
