/**
 * Open any model file as a graph program. A TorchScript archive always runs from its own code (never
 * from a guess based on its weights' names); bare weights (a state_dict checkpoint or safetensors)
 * are recognised as fno1d-scalar and built into the same kind of program.
 */
import { OpenBudget } from '../io/budget';
import { readModelFile } from '../io/model-file';
import { readZip } from '../io/zip';
import type { GraphProgram } from '../graph/program';
import type { GTensor } from '../graph/tensor';
import { readTorchScript, isTorchScriptEntries, type TorchScriptArchive } from '../torchscript/archive';
import { describe, type TorchScriptDescription } from '../torchscript/describe';
import type { TensorHost } from '../torchscript/host';
import { torchScriptProgram } from '../torchscript/program';
import type { FnoConfig } from './config';
import { fno1dProgram } from './fno1d-program';
import { recognizeFno, type RecognizedModel } from './recognize';

export type ModelProgram = GraphProgram<TensorHost<GTensor>>;

export interface Fno1dModel {
  kind: 'fno1d-scalar';
  file: string;
  format: 'safetensors' | 'torch';
  recognized: RecognizedModel;
  program: ModelProgram;
}

export interface TorchScriptModel {
  kind: 'torchscript';
  file: string;
  archive: TorchScriptArchive;
  description: TorchScriptDescription;
  program: ModelProgram;
}

export type OpenedModel = Fno1dModel | TorchScriptModel;

/** Whether the bytes are a zip holding TorchScript code (a `torch.jit.save` archive). */
export function isTorchScriptFile(bytes: Uint8Array, file: string): boolean {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) return false;
  return isTorchScriptEntries(readZip(bytes, file).map((e) => e.name));
}

/**
 * Read and recognise a model file. `explicit` hyperparameters (from --config or a config.json
 * beside the weights) apply to bare fno1d-scalar weights only.
 */
export function openModel(bytes: Uint8Array, file: string, explicit: Partial<FnoConfig> = {}): OpenedModel {
  const budget = new OpenBudget(file);
  if (isTorchScriptFile(bytes, file)) {
    const archive = readTorchScript(bytes, file, { budget });
    return {
      kind: 'torchscript',
      file,
      archive,
      description: describe(archive),
      program: torchScriptProgram(archive),
    };
  }
  const mf = readModelFile(bytes, file, budget);
  const recognized = recognizeFno(mf, explicit);
  return {
    kind: 'fno1d-scalar',
    file,
    format: mf.format,
    recognized,
    program: fno1dProgram(recognized.config, recognized.tensors, file),
  };
}
