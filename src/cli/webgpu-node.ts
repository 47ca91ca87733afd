/**
 * WebGPU in Node through the `webgpu` package (Dawn). Kept out of src/engine, which stays free of
 * Node APIs: the CLI, the tests and the benchmarks get a `GPU` object here and hand it to the
 * engine's backend selection.
 */
import { existsSync } from 'node:fs';

/** Debian's Chromium ships SwiftShader's Vulkan driver: a software adapter for machines without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export interface NodeGpuOptions {
  /**
   * Point the Vulkan loader at SwiftShader when VK_ICD_FILENAMES is not set and the driver is
   * installed (tests and CI on GPU-less machines). It must happen before Dawn starts, and it hides
   * real GPUs, so the CLI leaves it off unless asked.
   */
  swiftshader?: boolean;
}

export interface NodeGpu {
  gpu: GPU | null;
  /** Why there is no GPU object, when there is none. */
  reason?: string;
}

let loaded: Promise<NodeGpu> | undefined;

/** Load Dawn once per process and create its `GPU` object; `gpu` is null (with a reason) if it cannot load. */
export function loadNodeGpu(opts: NodeGpuOptions = {}): Promise<NodeGpu> {
  if (opts.swiftshader && !process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER_ICD)) {
    process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;
  }
  loaded ??= (async () => {
    try {
      const mod = (await import('webgpu')) as { create(flags: string[]): GPU; globals: object };
      // Dawn's classes (GPUBufferUsage, …) as globals, as a browser has them.
      for (const [k, v] of Object.entries(mod.globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      return { gpu: mod.create([]) };
    } catch (e) {
      return {
        gpu: null,
        reason: `the webgpu module did not load: ${e instanceof Error ? e.message : String(e)}`,
      };
    }
  })();
  return loaded;
}

/** The `GPU` object, or null where Dawn cannot load. */
export async function nodeGpu(opts: NodeGpuOptions = {}): Promise<GPU | null> {
  return (await loadNodeGpu(opts)).gpu;
}
