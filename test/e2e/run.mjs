// Runs the end-to-end tests: builds the web renderer (unless --no-build), then the Playwright tests of the
// web build and, where an Electron binary is installed, of the desktop window.
//   node test/e2e/run.mjs [--no-build]
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { repoRoot } from './helpers.mjs';

const args = process.argv.slice(2);
function run(cmd, cmdArgs) {
  const r = spawnSync(cmd, cmdArgs, { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!args.includes('--no-build')) {
  run(process.execPath, [
    resolve(repoRoot, 'node_modules/vite/bin/vite.js'),
    'build',
    '--config',
    'vite.web.config.ts',
    '--logLevel',
    'warn',
  ]);
}
run(process.execPath, [
  '--test',
  '--test-concurrency=1',
  '--test-reporter=spec',
  'test/e2e/web.e2e.mjs',
  'test/e2e/explore.e2e.mjs',
  'test/e2e/graph.e2e.mjs',
  'test/e2e/data-formats.e2e.mjs',
  'test/e2e/scale.e2e.mjs',
  'test/e2e/sobol.e2e.mjs',
  'test/e2e/webgpu.e2e.mjs',
  'test/e2e/electron.e2e.mjs',
]);
