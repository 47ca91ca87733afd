#!/usr/bin/env node
// The CLI runs from the bundle that scripts/build-cli.mjs made (`npm ci` builds it: the `prepare`
// script). Before loading it, this checks the size and modification time of every file that went
// into it (a millisecond); if any changed, or there is no bundle yet, it is rebuilt first (esbuild,
// a fraction of a second), so the CLI always runs the current sources.
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

// `jacscope info | head` closes the pipe early: that is not an error worth a stack trace.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

const root = fileURLToPath(new URL('..', import.meta.url));
const cliDir = join(root, 'dist', 'cli');

/** The current build's folder, or null when there is none or a source changed since. */
function currentBuild() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(cliDir, 'build.json'), 'utf8'));
  } catch {
    return null;
  }
  const dir = join(cliDir, manifest.dir);
  if (!statSync(join(dir, 'main.cjs'), { throwIfNoEntry: false })) return null;
  // Without the sources (an install that ships only the bundle) there is nothing to compare.
  if (!statSync(join(root, 'src/cli/main.ts'), { throwIfNoEntry: false })) return dir;
  for (const [file, [mtimeMs, size]] of Object.entries(manifest.inputs)) {
    const st = statSync(join(root, file), { throwIfNoEntry: false });
    if (!st || st.mtimeMs !== mtimeMs || st.size !== size) return null;
  }
  return dir;
}

/**
 * Load the bundle as require() would, but through V8's code cache, kept beside it: compiling the
 * bundle (and the functions the first run used) is then skipped. `save` writes the cache after a
 * run when there was none or V8 refused it (another Node version). A script compiled this way
 * cannot run import() itself in Node 20, so the bundle gets this module's (`__jacscopeImport`),
 * which resolves from the package as the bundle would. Plain require() under JACSCOPE_DEBUG
 * (source maps).
 */
function load(dir) {
  const file = join(dir, 'main.cjs');
  const require = createRequire(file);
  if (process.env.JACSCOPE_DEBUG) return { main: require(file).main, save: () => {} };
  const cacheFile = `${file}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const source = readFileSync(file, 'utf8');
  const wrapper = '(function (exports, require, module, __filename, __dirname, __jacscopeImport) {';
  const script = new vm.Script(`${wrapper}${source}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  const importExternal = (specifier) => import(specifier);
  script
    .runInThisContext()
    .call(module.exports, module.exports, require, module, file, dirname(file), importExternal);
  const save = () => {
    if (cachedData && !script.cachedDataRejected) return;
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`;
      writeFileSync(tmp, script.createCachedData());
      renameSync(tmp, cacheFile);
    } catch {
      // A read-only install runs without the cache.
    }
  };
  return { main: module.exports.main, save };
}

let dir = currentBuild();
if (!dir) {
  const { buildCli, buildErrorLine } = await import('../scripts/build-cli.mjs');
  try {
    dir = await buildCli();
  } catch (e) {
    console.error(
      `jacscope: the command line needs rebuilding from src/, which failed: ${buildErrorLine(e)} (fix it, or run 'npm run prepare' to see the whole error)`,
    );
    process.exit(1);
  }
}
if (process.env.JACSCOPE_DEBUG) process.setSourceMapsEnabled(true);
const { main, save } = load(dir);
const code = await main(process.argv.slice(2));
save();
// Done: exit now rather than tear down a heap that may hold gigabytes (J), unless output is still
// waiting to be written (stdout and stderr are written synchronously to files and, on Linux, pipes).
if (process.stdout.writableLength + process.stderr.writableLength === 0) process.exit(code);
process.exitCode = code;
