#!/usr/bin/env node
// `npm run bench`: bundle bench/engine-bench.ts with esbuild (as the CLI is bundled) and run it, so
// that the engine is timed as people run it, not through a TypeScript loader.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/bench/engine-bench.mjs`;
await build({
  entryPoints: [`${root}bench/engine-bench.ts`],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outfile: out,
  external: ['webgpu', 'tsx', 'esbuild'],
  // The CPU backend's helper threads are bundled from their source at first use; from this bundle's
  // folder the source's relative path would not resolve (the every-core row then ran on one thread).
  define: { __JACSCOPE_POOL_THREAD_SOURCE__: JSON.stringify(`${root}src/cli/cpu-pool-thread.ts`) },
  banner: {
    js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
  },
  logLevel: 'error',
});
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
