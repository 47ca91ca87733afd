// Bundles the command line into dist/cli/ with esbuild: `npm ci` runs it (the `prepare` script), and
// bin/jacscope.mjs runs it again whenever a source file has changed since, so the CLI never runs
// stale code and never compiles TypeScript at start.
//
//   node scripts/build-cli.mjs
//
// Each build goes to its own folder dist/cli/b-<id>/ (main.cjs, cpu-pool-thread.cjs, h5wasm.cjs),
// and dist/cli/build.json names the current one with the size and modification time of every file
// that went into it. The manifest is replaced by a rename, so concurrent builds and runs never see
// half of one; a process still running an older build keeps its folder (old ones go after an hour).
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const CLI_DIR = join(ROOT, 'dist', 'cli');
export const MANIFEST = join(CLI_DIR, 'build.json');
/** Files that shape the bundle besides its inputs. */
const EXTRA_INPUTS = ['scripts/build-cli.mjs', 'tsconfig.json'];
const KEEP_OLD_MS = 60 * 60 * 1000;

/**
 * h5wasm (the HDF5 library, 5.5 MB of JavaScript with its WebAssembly inline) goes into its own
 * h5wasm.cjs beside main.cjs, required only when an HDF5 or MATLAB v7.3 file is read: inside
 * main.cjs it made every start read and hash 6 MB (most of `jacscope info`'s time). The engine's
 * `import('h5wasm')` becomes a require() of that file (a vm.Script cannot import() in Node 20).
 */
const h5wasmApart = {
  name: 'h5wasm-apart',
  setup(b) {
    b.onResolve({ filter: /^h5wasm$/ }, (a) =>
      a.kind === 'entry-point' ? undefined : { path: 'h5wasm', namespace: 'h5wasm-apart' },
    );
    b.onLoad({ filter: /.*/, namespace: 'h5wasm-apart' }, () => ({
      contents: "module.exports = require('./h5wasm.cjs');",
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/h5wasm\.cjs$/ }, (a) => ({ path: a.path, external: true }));
  },
};

/**
 * fflate (inflate for zip entries, MATLAB files, streamed .npz) builds its Huffman tables when it
 * loads: milliseconds at every start, though torch.save stores its entries uncompressed. The bundle
 * gets a stand-in with the same exports, which loads fflate's browser build (the same synchronous
 * code as its Node build, without worker_threads) at the first call or `new`. Plain-data exports
 * (FlateErrorCode) are copied; instanceof against fflate's classes would not hold (nothing uses it).
 */
async function fflateLazy() {
  const lib = await import('fflate/browser');
  const lines = ['let lib;', "const load = () => (lib ??= require('fflate/browser'));"];
  for (const [name, value] of Object.entries(lib)) {
    if (typeof value === 'function')
      lines.push(
        `export function ${name}(...a) { return new.target ? new (load().${name})(...a) : load().${name}(...a); }`,
      );
    else lines.push(`export const ${name} = ${JSON.stringify(value)};`);
  }
  const contents = lines.join('\n');
  return {
    name: 'fflate-lazy',
    setup(b) {
      b.onResolve({ filter: /^fflate$/ }, () => ({ path: 'fflate', namespace: 'fflate-lazy' }));
      b.onLoad({ filter: /.*/, namespace: 'fflate-lazy' }, () => ({
        contents,
        loader: 'js',
        resolveDir: ROOT,
      }));
    },
  };
}

/** Every file under `dir` with its [mtimeMs, size], keyed by its path relative to ROOT with '/'. */
function statTree(dir, out = new Map()) {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) statTree(full, out);
    else if (e.isFile()) {
      const st = statSync(full, { throwIfNoEntry: false });
      if (st) out.set(relative(ROOT, full).split(sep).join('/'), [st.mtimeMs, st.size]);
    }
  }
  return out;
}

/** The first esbuild error as `file:line: message`, or the error's first line. */
export function buildErrorLine(e) {
  const first = e?.errors?.[0];
  if (first) {
    const at = first.location ? `${first.location.file}:${first.location.line}: ` : '';
    return `${at}${first.text}`;
  }
  return String(e?.message ?? e).split('\n')[0];
}

/** Build the CLI bundle; resolves to the new build's folder. Throws esbuild's error on bad sources. */
export async function buildCli() {
  const { build } = await import('esbuild');
  mkdirSync(CLI_DIR, { recursive: true });
  // Stamps taken before esbuild reads the sources: a file edited during the build keeps an older
  // stamp than the file, so the next run rebuilds rather than trusting a bundle of the old text.
  const before = statTree(join(ROOT, 'src'));
  for (const f of EXTRA_INPUTS) {
    const stamp = stampOf(f);
    if (stamp) before.set(f, stamp);
  }
  const id = `${Date.now().toString(36)}-${process.pid}`;
  const dir = join(CLI_DIR, `b-${id}`);
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: {
      main: 'src/cli/main.ts',
      'cpu-pool-thread': 'src/cli/cpu-pool-thread.ts',
      h5wasm: 'h5wasm',
    },
    outdir: dir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    platform: 'node',
    // CommonJS loads faster than an ES module graph in Node 20 (no ESM loader work per module).
    format: 'cjs',
    target: 'node20',
    // Dawn's native module and the bundler itself load from node_modules when needed.
    external: ['webgpu', 'esbuild'],
    // fflate's Node build loads worker_threads when it loads (for its async API, unused here); its
    // browser build is the same synchronous code without that (fflateLazy loads it at first use).
    plugins: [h5wasmApart, await fflateLazy()],
    // Plain ASCII (non-ASCII characters escaped), which bin/jacscope.mjs reads as latin1.
    charset: 'ascii',
    define: { __JACSCOPE_BUNDLE__: 'true' },
    // Half the bytes to read and compile at every start; JACSCOPE_DEBUG stacks map back to src/.
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = {};
  for (const f of [...Object.keys(result.metafile.inputs), ...EXTRA_INPUTS]) {
    const stamp = before.get(f) ?? stampOf(f);
    if (stamp) inputs[f] = stamp;
  }
  const manifest = { version: 1, dir: `b-${id}`, builtAt: new Date().toISOString(), inputs };
  const tmp = `${MANIFEST}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest) + '\n');
  renameSync(tmp, MANIFEST);
  removeOldBuilds(`b-${id}`);
  return dir;
}

function stampOf(f) {
  const st = statSync(join(ROOT, f), { throwIfNoEntry: false });
  return st ? [st.mtimeMs, st.size] : null;
}

function removeOldBuilds(keep) {
  const now = Date.now();
  for (const name of readdirSync(CLI_DIR)) {
    if (!name.startsWith('b-') || name === keep) continue;
    const st = statSync(join(CLI_DIR, name), { throwIfNoEntry: false });
    if (st && now - st.mtimeMs > KEEP_OLD_MS) rmSync(join(CLI_DIR, name), { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  try {
    const dir = await buildCli();
    const ms = (performance.now() - t0).toFixed(0);
    console.log(`jacscope: command line bundled into ${relative(ROOT, dir)} (${ms} ms)`);
  } catch (e) {
    console.error(`jacscope: the command line could not be bundled: ${buildErrorLine(e)}`);
    process.exitCode = 1;
  }
}
