import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as zlib from 'node:zlib';
import { LoadError, ShapeError } from '../engine/errors';
import { readModelFile } from '../engine/io/model-file';
import { readZip, useNativeCrc32 } from '../engine/io/zip';
import { checkDataset, readDataFileAsync, type Dataset } from '../engine/io/dataset';
import { parseVarSpec } from '../engine/io/variables';
import { modesProblem, parseConfigJson, type FnoConfig } from '../engine/models/config';
import { recognizeFno, type RecognizedModel } from '../engine/models/recognize';
import type { TorchScriptModel } from '../engine/models/open-model';
import type { HostTensor } from '../engine/tensor';
import { UsageError } from './args';
import { readBytes } from './files';

// Zip entries (checkpoints, .npz) are checked with zlib's native CRC-32 (Node 20.15+).
if (typeof zlib.crc32 === 'function') useNativeCrc32(zlib.crc32);

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
  return loadModelBytes(readBytes(modelPath), modelPath, configPath);
}

function loadModelBytes(bytes: Uint8Array, modelPath: string, configPath?: string): LoadedModel {
  const file = readModelFile(bytes, modelPath);
  let explicit: Partial<FnoConfig> = {};
  let configFile: string | undefined;
  const beside = join(dirname(modelPath), 'config.json');
  if (configPath !== undefined) configFile = configPath;
  else if (existsSync(beside)) configFile = beside;
  if (configFile) explicit = parseConfigJson(new TextDecoder().decode(readBytes(configFile)), configFile);
  return { ...recognizeFno(file, explicit), file: modelPath, format: file.format, configFile };
}

/** A TorchScript archive: a zip whose entries hold code/ and constants.pkl (read lazily: info stays fast). */
function isTorchScript(bytes: Uint8Array, file: string): boolean {
  if (bytes.length < 4 || bytes[0] !== 0x50 || bytes[1] !== 0x4b) return false;
  const names = readZip(bytes, file).map((e) => e.name);
  return names.some((n) => /(^|\/)constants\.pkl$/.test(n)) && names.some((n) => /(^|\/)code\//.test(n));
}

/** A TorchScript model with its file's bytes (helper threads open them again). */
export type LoadedTorchScript = TorchScriptModel & { bytes: Uint8Array };

export type AnyModel = ({ kind: 'fno1d-scalar' } & LoadedModel) | LoadedTorchScript;

/**
 * Load any model file: a TorchScript archive runs from its own code (the graph engine, loaded only
 * then); bare weights are recognised as fno1d-scalar as before.
 */
export async function loadAnyModel(modelPath: string, configPath?: string): Promise<AnyModel> {
  const bytes = readBytes(modelPath);
  if (isTorchScript(bytes, modelPath)) {
    if (configPath !== undefined)
      throw new UsageError(
        `--config applies to bare weights; ${modelPath} is a TorchScript archive that carries its own code`,
      );
    const { openModel } = await import('../engine/models/open-model');
    return { ...(openModel(bytes, modelPath) as TorchScriptModel), bytes };
  }
  return { kind: 'fno1d-scalar', ...loadModelBytes(bytes, modelPath, configPath) };
}

export interface Inputs {
  x: HostTensor;
  p: HostTensor;
  B: number;
  T: number;
  /** Samples whose x and p are all finite: the ones computed (others come out as NaN). */
  finite: number[];
  notes: string[];
}

export interface InputPaths {
  x?: string;
  p?: string;
  /** One .npz holding both. */
  data?: string;
}

/**
 * x [B,T,Xf] and p [B,P] from .npy, .csv or .npz files (or both from one .npz), checked against
 * the model and each other. NaN/Inf samples are reported in `notes` and left out of `finite`.
 */
/**
 * One data argument: FILE, or FILE:NAME for a variable of a container file (an .npz member, an
 * HDF5 path, a MATLAB variable, a torch.save key); a file that exists under the whole name wins.
 */
async function readData(
  spec: string,
  expect: { Xf: number; P: number },
  role?: 'x' | 'p',
): Promise<Dataset & { spec: string }> {
  const isFile = (f: string) => existsSync(f) && statSync(f).isFile();
  const { file, name } = parseVarSpec(spec, isFile);
  const ds = await readDataFileAsync(
    readBytes(file),
    file,
    expect,
    role,
    name === undefined ? {} : { variable: name },
  );
  return { ...ds, spec };
}

export async function loadInputs(paths: InputPaths, config: FnoConfig): Promise<Inputs> {
  const expect = { Xf: config.inp_dim_func, P: config.inp_dim_scalar };
  const notes: string[] = [];
  let x: HostTensor | undefined;
  let p: HostTensor | undefined;
  if (paths.data !== undefined) {
    if (paths.x !== undefined || paths.p !== undefined)
      throw new UsageError('give either --data or --x and --p, not both');
    const ds = await readData(paths.data, expect);
    notes.push(...ds.notes.map((n) => `${paths.data}: ${n}`));
    if (!ds.x || !ds.p)
      throw new LoadError(paths.data, `must hold both x and p; found only ${ds.x ? 'x' : 'p'}`);
    x = ds.x;
    p = ds.p;
  } else {
    if (paths.x === undefined || paths.p === undefined)
      throw new UsageError('--x and --p are required (or --data FILE.npz)');
    const dx = await readData(paths.x, expect, 'x');
    const dp = await readData(paths.p, expect, 'p');
    notes.push(...dx.notes.map((n) => `${paths.x}: ${n}`), ...dp.notes.map((n) => `${paths.p}: ${n}`));
    if (!dx.x) throw new LoadError(paths.x, 'holds no x array [B,T,Xf]');
    if (!dp.p) throw new LoadError(paths.p, 'holds no p array [B,P]');
    x = dx.x;
    p = dp.p;
  }
  if (!x || !p) throw new UsageError('both x and p are needed');
  let check;
  try {
    check = checkDataset(x, p, expect);
  } catch (e) {
    const files = paths.data ?? `${paths.x}, ${paths.p}`;
    throw e instanceof ShapeError ? new ShapeError(`${files}: ${e.message}`) : e;
  }
  notes.push(...check.notes);
  const [B, T] = x.shape;
  const modes = modesProblem(config.modes, T);
  if (modes) throw new LoadError(paths.x ?? paths.data!, modes);
  return { x, p, B, T, finite: check.finite, notes };
}
