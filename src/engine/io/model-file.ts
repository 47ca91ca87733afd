import { LoadError } from '../errors';
import { parseConfigValues, type FnoConfig } from '../models/config';
import type { ModelFile } from '../models/recognize';
import { readSafetensors } from './safetensors';
import { readTorchCheckpoint } from './torch-checkpoint';

/** Which reader a model file needs, by its first bytes (extensions lie; magic numbers rarely do). */
export function sniffModelFormat(bytes: Uint8Array, file: string): 'safetensors' | 'torch' | null {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)
    return 'torch';
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) return 'torch'; // legacy pickle
  if (bytes.length >= 9 && bytes[8] === 0x7b /* { */) return 'safetensors';
  const lower = file.toLowerCase();
  if (lower.endsWith('.safetensors')) return 'safetensors';
  if (/\.(pt|pth|ckpt|bin)$/.test(lower)) return 'torch';
  return null;
}

/** Read a model file of any supported format into named tensors (plus the config it may carry). */
export function readModelFile(bytes: Uint8Array, file: string): ModelFile {
  if (bytes.length === 0) throw new LoadError(file, 'the file is empty');
  const format = sniffModelFormat(bytes, file);
  if (format === 'safetensors') {
    const st = readSafetensors(bytes, file);
    let metadataConfig: Partial<FnoConfig> | undefined;
    const notes: string[] = [];
    if (Object.keys(st.metadata).some((k) => k !== 'format')) {
      try {
        metadataConfig = parseConfigValues(st.metadata, 'its __metadata__');
      } catch (e) {
        throw new LoadError(file, (e as Error).message);
      }
    }
    return { file, format, tensors: st.tensors, metadataConfig, notes };
  }
  if (format === 'torch') {
    const ckpt = readTorchCheckpoint(bytes, file);
    return { file, format, tensors: ckpt.tensors, notes: ckpt.notes };
  }
  throw new LoadError(
    file,
    'is not a model file jacscope can read: expected a torch.save checkpoint (.pt, .pth, .ckpt) or a .safetensors file',
  );
}

/** A config.json (or --config file): the fno1d-scalar keys, validated. */
export function parseConfigJson(text: string, file: string): Partial<FnoConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LoadError(file, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LoadError(file, 'must hold a JSON object of hyperparameters');
  }
  try {
    return parseConfigValues(raw as Record<string, unknown>, 'config');
  } catch (e) {
    throw new LoadError(file, (e as Error).message);
  }
}
