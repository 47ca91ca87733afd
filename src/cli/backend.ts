import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BACKEND_CHOICES, type BackendChoice } from '../engine/backends/backend';
import { ParallelCpuBackend } from '../engine/backends/cpu/parallel-backend';
import { selectBackend, type Selected } from '../engine/backends/select';
import { LoadError } from '../engine/errors';
import type { RecognizedModel } from '../engine/models/recognize';
import { defaultThreads, nodePoolWorker } from './cpu-pool';
import { loadNodeGpu } from './webgpu-node';

export function parseBackend(v: string | undefined): BackendChoice {
  if (v === undefined) return 'auto';
  if ((BACKEND_CHOICES as readonly string[]).includes(v)) return v as BackendChoice;
  throw new LoadError('--backend', `unknown backend '${v}': use auto, cpu or webgpu`);
}

/**
 * The backend for a CLI run. `cpu` never loads Dawn; `auto` and `webgpu` do (the Vulkan loader
 * complains on stderr without an XDG_RUNTIME_DIR, so give it a private one).
 */
export async function cliBackend(want: BackendChoice, m: RecognizedModel, threads = 1): Promise<Selected> {
  const makeCpu =
    threads > 1 ? () => new ParallelCpuBackend(m.config, m.tensors, nodePoolWorker, threads) : undefined;
  if (want === 'cpu') return selectBackend({ want, config: m.config, tensors: m.tensors, makeCpu });
  if (!process.env.XDG_RUNTIME_DIR)
    process.env.XDG_RUNTIME_DIR = mkdtempSync(join(tmpdir(), 'jacscope-xdg-'));
  const { gpu, reason } = await loadNodeGpu();
  if (!gpu && want === 'webgpu')
    throw new LoadError('--backend webgpu', `WebGPU is not available: ${reason}`);
  return selectBackend({ want, gpu, config: m.config, tensors: m.tensors, makeCpu });
}

/** `--threads N`: CPU threads (default every core; 1 computes on the main thread alone). */
export function parseThreads(v: string | undefined): number {
  if (v === undefined) return defaultThreads();
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1024)
    throw new LoadError('--threads', `'${v}' is not a number of threads (1, 2, …)`);
  return n;
}

export function describeSelected(s: Selected): string {
  let line = `backend: ${s.backend.kind} — ${s.backend.description}`;
  if (s.fallbackReason) line += ` (WebGPU not used: ${s.fallbackReason})`;
  else if (s.note) line += ` (${s.note})`;
  return line;
}
