/**
 * WebGPU for the tests: Dawn through the `webgpu` package, on SwiftShader's Vulkan driver when the
 * machine has no GPU (VK_ICD_FILENAMES is set to it before Dawn loads, unless already set).
 */
import { existsSync } from 'node:fs';
import { loadNodeGpu, SWIFTSHADER_ICD } from '../../src/cli/webgpu-node';

export { SWIFTSHADER_ICD };

export async function nodeGpu(): Promise<GPU | null> {
  return (await loadNodeGpu({ swiftshader: true })).gpu;
}

/** The GPU object and whether it offers an adapter, or why not (for the "WebGPU tests did not run" line). */
export async function nodeGpuWithAdapter(): Promise<{ gpu: GPU; adapter: GPUAdapter } | { reason: string }> {
  const { gpu, reason } = await loadNodeGpu({ swiftshader: true });
  if (!gpu) return { reason: reason ?? 'no WebGPU module' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    const icd = process.env.VK_ICD_FILENAMES;
    const missing = existsSync(SWIFTSHADER_ICD)
      ? ''
      : `; SwiftShader's driver ${SWIFTSHADER_ICD} is not installed`;
    return { reason: `Dawn offers no adapter (VK_ICD_FILENAMES=${icd ?? 'unset'}${missing})` };
  }
  return { gpu, adapter };
}
