// Which WebGPU adapter Dawn finds on this machine, in one line (bench/device-bench.sh runs it
// before the bench, once per candidate Vulkan driver, to say why there is no adapter if so).
//   node bench/device-probe.mjs .dev/node_modules/webgpu/index.js
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const mod = await import(pathToFileURL(resolve(process.argv[2])).href);
const gpu = mod.create([]);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.log('probe: no adapter');
  process.exit(2);
}
const i = adapter.info ?? {};
console.log(
  `probe: ${i.vendor} ${i.architecture} ${i.device} ${i.description}; maxBufferSize ${adapter.limits.maxBufferSize}, maxStorageBufferBindingSize ${adapter.limits.maxStorageBufferBindingSize}`,
);
process.exit(0);
