import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';
import { OpenBudget } from './budget';
import { readSafetensors } from './safetensors';
import { readTorchCheckpoint } from './torch-checkpoint';

/** What a model file yielded: named tensors, and the metadata it may carry (safetensors). */
export interface ModelFile {
  file: string;
  format: 'safetensors' | 'torch';
  tensors: Map<string, HostTensor>;
  /**
   * safetensors `__metadata__` (string → string), where it holds more than `format`; the models
   * layer reads hyperparameters from it (models/config.ts parseMetadataConfig).
   */
  metadata?: Record<string, string>;
  notes: string[];
}

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

/**
 * Read a model file of any supported format into named tensors (plus the metadata it may carry).
 * Everything the readers inflate, build and decode is charged to `budget`: one per opened file.
 */
export function readModelFile(bytes: Uint8Array, file: string, budget = new OpenBudget(file)): ModelFile {
  if (bytes.length === 0) throw new LoadError(file, 'the file is empty');
  const format = sniffModelFormat(bytes, file);
  if (format === 'safetensors') {
    const st = readSafetensors(bytes, file, budget);
    const notes: string[] = [];
    const metadata = Object.keys(st.metadata).some((k) => k !== 'format') ? st.metadata : undefined;
    return { file, format, tensors: st.tensors, metadata, notes };
  }
  if (format === 'torch') {
    const ckpt = readTorchCheckpoint(bytes, file, budget);
    return { file, format, tensors: ckpt.tensors, notes: ckpt.notes };
  }
  throw new LoadError(
    file,
    'is not a model file jacscope can read: expected a torch.save checkpoint (.pt, .pth, .ckpt) or a .safetensors file',
  );
}
