#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node
// The CLI runs from the bundle that scripts/build-cli.mjs made (`npm ci` builds it: the `prepare`
// script). Before loading it, this checks the size and modification time of every file that went
// into it (a few milliseconds); if any changed, or there is no bundle yet, it is rebuilt first
// (esbuild, a fraction of a second), so the CLI always runs the current sources.
import { createRequire } from 'node:module';
import { enableRelaxedSimd } from './node-flags.mjs';

// Built-ins through require(): importing node:fs as an ES module builds its namespace, which reads
// every export, and fs.ReadStream's getter loads the whole file-stream machinery (milliseconds).
const builtin = createRequire(import.meta.url);
const { readFileSync, renameSync, statSync, writeFileSync, writeSync } = builtin('node:fs');
const { dirname, join } = builtin('node:path');
const vm = builtin('node:vm');

enableRelaxedSimd();

// `jacscope info | head` closes the pipe early: that is not an error worth a stack trace.
const onStdoutError = (e) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
};
// process.stdout and process.stderr are made at their first use, which loads Node's stream
// machinery (milliseconds). The result lines go out with writeSync instead (`out` below), so a
// command that prints only those never makes them; these getters note which ones were made.
const made = new Set();
for (const name of ['stdout', 'stderr']) {
  const { get } = Object.getOwnPropertyDescriptor(process, name) ?? {};
  if (!get) {
    made.add(name);
    continue;
  }
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: true,
    get() {
      const stream = get.call(process);
      if (!made.has(name)) {
        made.add(name);
        if (name === 'stdout') stream.on('error', onStdoutError);
      }
      return stream;
    },
  });
}

/**
 * A line to stdout, written at once as console.log writes to files and pipes; through the stream
 * when one was made, or the pipe is full (a non-blocking one).
 */
function out(line) {
  const bytes = Buffer.from(`${line}\n`);
  let off = 0;
  if (!made.has('stdout')) {
    try {
      while (off < bytes.length) off += writeSync(1, bytes, off);
      return;
    } catch (e) {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      if (e.code !== 'EAGAIN') throw e;
    }
  }
  process.stdout.write(bytes.subarray(off));
}

// import.meta.dirname (Node 20.11+) spares parsing a URL at every start.
const here = import.meta.dirname ?? builtin('node:url').fileURLToPath(new URL('.', import.meta.url));
const root = dirname(here);
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
  // One stat per input, paths joined as strings (path.join costs more than the stat, cold).
  for (const file in manifest.inputs) {
    const st = statSync(`${root}/${file}`, { throwIfNoEntry: false });
    const [mtimeMs, size] = manifest.inputs[file];
    if (!st || st.mtimeMs !== mtimeMs || st.size !== size) return null;
  }
  return dir;
}

/** The commands that get a code cache of their own (anything else shares one). */
const COMMANDS = new Set(['info', 'forward', 'jacobian', 'sobol', 'sensitivity', 'merge', 'help']);

/**
 * Load the bundle as require() would, but through V8's code cache, kept beside it: compiling the
 * bundle (and the functions the first run used) is then skipped. `save` writes the cache after a
 * successful run when there was none or V8 refused it (another Node version). One cache per
 * command: each holds what its command ran (`info` needs a third of what `jacobian` compiles), so
 * none reads another's nor compiles its own at every start. A script compiled this way cannot run
 * import() itself in Node 20, so the bundle gets this module's (`__jacscopeImport`), which resolves
 * from the package as the bundle would. Plain require() under JACSCOPE_DEBUG (source maps).
 */
function load(dir) {
  const file = join(dir, 'main.cjs');
  const require = createRequire(file);
  if (process.env.JACSCOPE_DEBUG) return { main: require(file).main, save: () => {} };
  const command = COMMANDS.has(process.argv[2]) ? process.argv[2] : 'other';
  const cacheFile = `${file}.${command}.v8cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  // The bundle is plain ASCII (esbuild's charset: 'ascii'): latin1 decodes it without UTF-8 checks.
  const source = readFileSync(file, 'latin1');
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
const code = await main(process.argv.slice(2), { out, err: console.error });
// A run that stopped at an error compiled only part of its command: its cache would stay that way.
if (code === 0) save();
// Done: exit now rather than tear down a heap that may hold gigabytes (J), unless output is still
// waiting to be written (stdout and stderr are written synchronously to files and, on Linux, pipes).
const waiting = (name) => (made.has(name) ? process[name].writableLength : 0);
if (waiting('stdout') + waiting('stderr') === 0) process.exit(code);
process.exitCode = code;
