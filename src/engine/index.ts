/**
 * The engine's public surface, for the CLI, the app's worker and the tests. Pure TypeScript:
 * nothing here touches the DOM, Node or Electron.
 */
export { LoadError, ShapeError, CancelledError } from './errors';
export type { HostTensor, DType } from './tensor';
export { sizeOf, shapeString } from './tensor';

export type { FnoConfig, ConfigKey } from './models/config';
export { CONFIG_KEYS, parseConfigJson, modesProblem } from './models/config';
export { Fno1dScalar, type JacobianOptions } from './models/fno1d-scalar';
export { GraphModel, type InputArray, type GraphResult, type GraphRunOptions } from './models/graph-model';
export { lowerGraphModel, type LoweredModel, type Lowering, type LowerRequest } from './models/lowered';
export { openModel, type OpenedModel, type Fno1dModel, type TorchScriptModel } from './models/open-model';
export { recognizeFno, type RecognizedModel, type ConfigSource } from './models/recognize';
export { demoModel, demoData, DEMO_CONFIG } from './models/demo';
export { expectedTensors } from './models/fno1d-layout';

export { readModelFile, sniffModelFormat, type ModelFile } from './io/model-file';
export { OpenBudget, BudgetExceeded, OPEN_LIMITS, type OpenLimits } from './io/budget';
export { readNpy, writeNpy } from './io/npy';
export { readSafetensors, writeSafetensors } from './io/safetensors';
export { readTorchCheckpoint } from './io/torch-checkpoint';
export { readNpz } from './io/npz';
export { readCsv, parseCsv, csvToTensor, formatCsv } from './io/csv';
export { readDataFile, checkDataset, type Dataset, type DataExpect, type DatasetCheck } from './io/dataset';
export { readZip, type ZipEntry } from './io/zip';
export { globalSensitivity, type GlobalSensitivity } from './analysis/sensitivity';
export { checkDerivatives, type DerivativeCheck } from './analysis/check-derivatives';
export { sweep, sweepInputs, linspace, type SweepResult } from './analysis/sweep';
export type { ComputeBackend, BackendChoice, BackendKind, RunOptions } from './backends/backend';
export { BACKEND_CHOICES } from './backends/backend';
export { selectBackend, type SelectOptions, type Selected } from './backends/select';
export { WebGpuContext } from './backends/webgpu/context';
export {
  WebGpuGraphRunner,
  type GraphRunnerOptions,
  type GraphRunRequest,
  type GraphRunResult,
} from './backends/webgpu/graph-runner';
export { CpuBackend } from './backends/cpu/cpu-backend';
export { ParallelCpuBackend, type ParallelCpuOptions } from './backends/cpu/parallel-backend';
export { ParallelGraphModel } from './backends/cpu/parallel-graph';
export type { PoolWorker, PoolRequest, PoolReply } from './backends/cpu/pool-protocol';
export { poolWorker } from './backends/cpu/pool-worker';
export { cpuGemmName } from './kernels';
