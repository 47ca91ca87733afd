import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/engine/io/npy';
import { npyHeader } from '../../src/engine/io/npy';
import { fixturePath } from '../engine/fixtures';

// How the CLI starts: from the bundle `npm ci` builds, rebuilt when a source changed, with a clean
// stderr when it succeeds.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/jacscope.mjs');
const seed = (f: string) => fixturePath('seed-fno1d', f);
const run = (bin: string, ...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

describe('npm ci builds the CLI', () => {
  it('the prepare script (which npm ci runs for the root package) bundles it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepare).toBe('node scripts/build-cli.mjs');
    expect(pkg.bin.jacscope).toBe('./bin/jacscope.mjs');
    expect(readFileSync(join(ROOT, '.gitignore'), 'utf8')).toMatch(/^dist\/$/m);
  });
});

describe('the launcher', () => {
  // `npx jacscope` executes bin/jacscope.mjs itself: its shebang starts Node with glibc's malloc
  // asking for transparent huge pages (fresh multi-megabyte arrays such as J then cost one page
  // fault per 2 MiB, not per 4 KiB: about a third off a B = 64 seed Jacobian here).
  it('starts through its own shebang, which sets the allocator for the process', () => {
    const line = readFileSync(BIN, 'utf8').split('\n', 1)[0];
    expect(line).toBe('#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node');
    const r = spawnSync(BIN, ['help'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/jacscope/);
    expect(r.stderr).toBe('');
  });
});

describe('a CLI that is never stale', () => {
  // A copy of what the CLI is built from, so that its sources can be changed here.
  const copy = mkdtempSync(join(tmpdir(), 'jacscope-startup-'));
  for (const p of ['bin', 'scripts/build-cli.mjs', 'src/cli', 'src/engine', 'tsconfig.json', 'package.json'])
    cpSync(join(ROOT, p), join(copy, p), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const bin = join(copy, 'bin/jacscope.mjs');
  const main = join(copy, 'src/cli/main.ts');
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('builds itself when there is no bundle yet, then runs from the bundle', () => {
    const r = run(bin, 'help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^jacscope — exact Jacobians/);
    const manifest = JSON.parse(readFileSync(join(copy, 'dist/cli/build.json'), 'utf8'));
    expect(Object.keys(manifest.inputs)).toEqual(
      expect.arrayContaining(['src/cli/main.ts', 'src/cli/cpu-pool-thread.ts', 'scripts/build-cli.mjs']),
    );
    expect(existsSync(join(copy, 'dist/cli', manifest.dir, 'main.cjs'))).toBe(true);
    expect(existsSync(join(copy, 'dist/cli', manifest.dir, 'cpu-pool-thread.cjs'))).toBe(true);
  });

  it("keeps V8's code cache beside the bundle (one per command), and replaces one V8 refuses", () => {
    const { dir } = JSON.parse(readFileSync(join(copy, 'dist/cli/build.json'), 'utf8'));
    const cache = join(copy, 'dist/cli', dir, 'main.cjs.help.v8cache');
    expect(existsSync(cache)).toBe(true);
    writeFileSync(cache, 'not a code cache');
    expect(run(bin, 'help')).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(cache, 'utf8')).not.toBe('not a code cache');
    expect(run(bin, 'help')).toMatchObject({ code: 0, stderr: '' });
  });

  it('runs the changed code after a source file changes', () => {
    const before = JSON.parse(readFileSync(join(copy, 'dist/cli/build.json'), 'utf8')).dir;
    expect(run(bin, 'help').stdout).toMatch(/^jacscope — exact Jacobians/);
    expect(JSON.parse(readFileSync(join(copy, 'dist/cli/build.json'), 'utf8')).dir).toBe(before);
    writeFileSync(main, readFileSync(main, 'utf8').replace('jacscope — exact', 'jacscope (edited) — exact'));
    const r = run(bin, 'help');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^jacscope \(edited\) — exact Jacobians/);
    expect(JSON.parse(readFileSync(join(copy, 'dist/cli/build.json'), 'utf8')).dir).not.toBe(before);
  });

  it('a source that does not build: one line naming the file and how to see the rest, exit 1', () => {
    const good = readFileSync(main, 'utf8');
    writeFileSync(main, good + '\nexport const broken = ;\n');
    try {
      const r = run(bin, 'help');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^jacscope: .*src\/cli\/main\.ts:\d+: .*npm run prepare/);
    } finally {
      writeFileSync(main, good);
    }
    expect(run(bin, 'help').code).toBe(0);
  });

  it('the build script says what it made in one line', () => {
    const r = spawnSync(process.execPath, [join(copy, 'scripts/build-cli.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^jacscope: command line bundled into dist\/cli\/b-[\w-]+ \(\d+ ms\)\n$/);
    // Builds an hour old are removed; the current one and recent ones stay.
    expect(readdirSync(join(copy, 'dist/cli')).filter((d) => d.startsWith('b-')).length).toBeGreaterThan(0);
  });
});

describe('a clean stderr', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-stderr-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--backend auto (on this machine, whatever its GPU) prints nothing on stderr when it succeeds', () => {
    const info = run(BIN, 'info', '--model', seed('model.pt'), '--backend', 'auto');
    expect(info).toMatchObject({ code: 0, stderr: '' });
    expect(info.stdout).toMatch(/^backend: /m);
    const out = join(dir, 'J.npy');
    const r = run(
      BIN,
      'jacobian',
      '--model',
      seed('model.pt'),
      '--x',
      seed('x.npy'),
      '--p',
      seed('p.npy'),
      '--out',
      out,
      '--backend',
      'auto',
    );
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(existsSync(out)).toBe(true);
  });
});

describe('a fast start', () => {
  it('info loads neither Dawn nor the helper threads nor child processes nor the HDF5 library', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jacscope-modules-'));
    try {
      const spy = join(dir, 'spy.cjs');
      const out = join(dir, 'loaded.json');
      writeFileSync(
        spy,
        `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ builtins: process.moduleLoadList, files: Object.keys(require.cache) })));`,
      );
      const r = spawnSync(process.execPath, ['--require', spy, BIN, 'info', '--model', seed('model.pt')], {
        encoding: 'utf8',
      });
      expect(r).toMatchObject({ status: 0, stderr: '' });
      const loaded = JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; files: string[] };
      for (const heavy of ['NativeModule worker_threads', 'NativeModule child_process'])
        expect(loaded.builtins).not.toContain(heavy);
      expect(loaded.files.filter((f) => /dawn|webgpu|esbuild|tsx|h5wasm/.test(f))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('.npy output written straight from the result', () => {
  it('has the header writeNpy writes', () => {
    for (const shape of [[3], [2, 601, 15, 14], [0, 4], Array.from({ length: 40 }, () => 1)]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const n = shape.reduce((a, b) => a * b, 1);
        const ref = writeNpy({ shape, data: new Float64Array(n) }, dtype);
        const header = npyHeader(shape, dtype);
        expect(Array.from(header)).toEqual(Array.from(ref.subarray(0, header.length)));
        expect(ref.length - header.length).toBe(n * (dtype === 'float32' ? 4 : 8));
      }
    }
  });
});
