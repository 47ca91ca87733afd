#!/usr/bin/env node
// The repository must stand alone: a clone of it alone builds, tests and documents itself. This
// scans the text files git knows (tracked, plus untracked ones not ignored) for references to paths
// outside the repository and prints each as file:line; it exits 1 if there is any.
//
//   node scripts/check-standalone.mjs [repository folder]     # default: the one around the cwd
//
// What counts as a reference outside:
//  - a relative path literal or markdown link target starting with dot-dot-slash that resolves,
//    from the file's own folder, above the repository root (so test/engine/a.ts may import
//    src/x.ts two folders up, and test/a.ts may not go three up);
//  - a chain of quoted path segments starting with a quoted dot-dot, as in join(here, ...), resolved
//    the same way;
//  - any mention of the sibling "shared" folder (dot-dot-slash shared) or of the absolute /work tree.
// ESLint configs are exempt from the first two: their relative strings are import patterns, relative
// to the importing files, not paths. No dependencies beyond Node.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const BINARY =
  /\.(png|jpe?g|gif|ico|webp|pdf|pt|pth|ckpt|npy|npz|safetensors|bin|wasm|zip|gz|xz|tgz|woff2?|ttf|otf|node|so|dll|dylib)$/i;
const MAX_BYTES = 4 << 20;
const IMPORT_PATTERNS = /(^|\/)(eslint\.config\.[cm]?[jt]s|\.eslintrc(\.[a-z]+)?)$/;

// Patterns are written so that this file does not match them itself.
const MENTIONS = [
  { re: /\.\.[\\/]shared(?![\w-])/g, why: 'the sibling shared folder' },
  { re: /(?<![\w.])\/work\//g, why: 'an absolute path into the /work tree' },
];
// A token starting with one or more ../ (or a bare ..), after a quote, bracket, space, = , : or the
// start of a line; it ends at a quote, space, bracket or backtick.
const RELATIVE = /(?<=^|[\s'"`([{<=:,])(\.\.(?:\/[^\s'"`)\]}>*|\\]*)?)(?=$|[\s'"`)\]}>*|,;])/g;
// Consecutive quoted arguments, the first a bare dot-dot.
const JOIN = /(['"])\.\.\1(?:\s*,\s*(['"])[^'"\n]*\2)+/g;

function repoRoot(dir) {
  try {
    return execFileSync('git', ['rev-parse', '--show-toplevel'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (e) {
    throw new Error(`${dir} is not in a git checkout (git rev-parse: ${String(e.stderr ?? e).trim()})`);
  }
}

function listFiles(root) {
  const out = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  return [...new Set(out.split('\0').filter(Boolean))];
}

function isText(buf) {
  return !buf.subarray(0, 8192).includes(0);
}

/** Whether `target`, a path relative to `fromDir`, lands above `root`. */
function escapes(root, fromDir, target) {
  const rel = relative(root, resolve(fromDir, target));
  return rel === '..' || rel.startsWith('..' + sep);
}

export function checkFile(root, file, text) {
  const problems = [];
  const dir = dirname(resolve(root, file));
  const lines = text.split('\n');
  const paths = !IMPORT_PATTERNS.test(file);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const found = new Set();
    const report = (what, why) => {
      if (found.has(what)) return;
      found.add(what);
      problems.push({ file, line: i + 1, what, why });
    };
    for (const { re, why } of MENTIONS) for (const m of line.matchAll(re)) report(m[0], why);
    if (!paths) continue;
    for (const m of line.matchAll(RELATIVE)) {
      if (escapes(root, dir, m[1])) report(m[1], 'resolves outside the repository');
    }
    for (const m of line.matchAll(JOIN)) {
      const parts = [...m[0].matchAll(/(['"])([^'"\n]*)\1/g)].map((p) => p[2]);
      if (escapes(root, dir, parts.join('/'))) report(m[0], 'path segments resolve outside the repository');
    }
  }
  return problems;
}

export function checkRepo(start) {
  const root = repoRoot(start);
  const problems = [];
  let scanned = 0;
  for (const file of listFiles(root)) {
    const abs = resolve(root, file);
    if (BINARY.test(file) || !existsSync(abs)) continue;
    const st = statSync(abs);
    if (!st.isFile() || st.size > MAX_BYTES) continue;
    const buf = readFileSync(abs);
    if (!isText(buf)) continue;
    scanned++;
    problems.push(...checkFile(root, file, buf.toString('utf8')));
  }
  return { root, scanned, problems };
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  let result;
  try {
    result = checkRepo(resolve(process.argv[2] ?? '.'));
  } catch (e) {
    console.error(`check-standalone: ${e.message}`);
    process.exit(2);
  }
  const { scanned, problems } = result;
  for (const p of problems) console.log(`${p.file}:${p.line}: ${p.what}  (${p.why})`);
  if (problems.length) {
    console.error(`check-standalone: ${problems.length} reference(s) to paths outside the repository`);
    process.exit(1);
  }
  console.log(`check-standalone: ${scanned} text files, no references outside the repository`);
}
