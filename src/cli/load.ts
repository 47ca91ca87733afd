import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LoadError, ShapeError } from '../engine/errors';
import { parseConfigJson, readModelFile } from '../engine/io/model-file';
import { readNpy } from '../engine/io/npy';
import type { FnoConfig } from '../engine/models/config';
import { recognizeFno, type RecognizedModel } from '../engine/models/recognize';
import { shapeString, type HostTensor } from '../engine/tensor';
import { readBytes } from './files';

export interface LoadedModel extends RecognizedModel {
  file: string;
  format: 'safetensors' | 'torch';
  /** Where explicit hyperparameters came from, if anywhere. */
  configFile?: string;
}

/**
 * Load and recognise a model. Hyperparameters come, strongest first, from --config, a config.json
 * beside the model, the file's own metadata, and finally the tensors' names and shapes.
 */
export function loadModel(modelPath: string, configPath?: string): LoadedModel {
  const file = readModelFile(readBytes(modelPath), modelPath);
  let explicit: Partial<FnoConfig> = {};
  let configFile: string | undefined;
  const beside = join(dirname(modelPath), 'config.json');
  if (configPath !== undefined) configFile = configPath;
  else if (existsSync(beside)) configFile = beside;
  if (configFile) explicit = parseConfigJson(new TextDecoder().decode(readBytes(configFile)), configFile);
  return { ...recognizeFno(file, explicit), file: modelPath, format: file.format, configFile };
}

export interface Inputs {
  x: HostTensor;
  p: HostTensor;
  B: number;
  T: number;
}

/** x [B,T,Xf] and p [B,P] from their files, checked against the model and each other. */
export function loadInputs(xPath: string, pPath: string, config: FnoConfig): Inputs {
  const x = readNpy(readBytes(xPath), xPath);
  let p = readNpy(readBytes(pPath), pPath);
  if (p.shape.length === 1) p = { ...p, shape: [1, p.shape[0]] };
  const Xf = config.inp_dim_func;
  const P = config.inp_dim_scalar;
  if (x.shape.length !== 3)
    throw new LoadError(xPath, `x must be [B,T,Xf] = [B,T,${Xf}], got ${shapeString(x.shape)}`);
  if (x.shape[2] !== Xf)
    throw new LoadError(
      xPath,
      `x has ${x.shape[2]} features (shape ${shapeString(x.shape)}), the model expects ${Xf}`,
    );
  if (p.shape.length !== 2)
    throw new LoadError(pPath, `p must be [B,P] = [B,${P}], got ${shapeString(p.shape)}`);
  if (p.shape[1] !== P)
    throw new LoadError(
      pPath,
      `p has ${p.shape[1]} parameters (shape ${shapeString(p.shape)}), the model expects ${P}`,
    );
  if (x.shape[0] !== p.shape[0]) {
    throw new ShapeError(
      `${xPath} and ${pPath} disagree on the batch: x is ${shapeString(x.shape)}, p is ${shapeString(p.shape)}`,
    );
  }
  const [B, T] = x.shape;
  const maxModes = Math.floor(T / 2) + 1;
  if (T < 2 || config.modes > maxModes) {
    throw new LoadError(
      xPath,
      `x has T = ${T} time steps; the model keeps ${config.modes} modes, which needs T ≥ ${Math.max(2, 2 * config.modes - 2)}`,
    );
  }
  return { x, p, B, T };
}

export function readTextFile(path: string): string {
  return readFileSync(path, 'utf8');
}
