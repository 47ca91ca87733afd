// scripts/check-standalone.mjs on throwaway git repositories: references outside the repository fail
// (printed as file:line), references that stay inside pass.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(new URL('../../scripts/check-standalone.mjs', import.meta.url));
// Built from pieces so that this file does not trip the check itself.
const UP = '..' + '/';
const SHARED = UP + 'sha' + 'red';
const WORK = '/wo' + 'rk/';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A git repository holding `files` (added to the index, as CI's checkout has them tracked). */
function repo(files: Record<string, string | Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-standalone-'));
  made.push(dir);
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  };
  git('init', '-q');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  git('add', '-A');
  return dir;
}

function check(dir: string) {
  const r = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const CLEAN = {
  'README.md': '# x\n\nSee [the design](docs/design.md) and [src](./src/a.ts).\n',
  'docs/design.md': `Back to the [README](${UP}README.md); code in [src](${UP}src/a.ts).\n`,
  'src/a.ts': 'export const a = 1;\n',
  'test/engine/io/a.test.ts': `import { a } from '${UP}${UP}${UP}src/a';\nconst f = new URL('${UP}${UP}fixtures/x.npy', import.meta.url);\n`,
  'scripts/tool.py': `ROOT = os.path.join(HERE, "..")\nspread = [...xs]\n`,
  'eslint.config.js': `export default [{ patterns: ['${UP}${UP}main/*', '..'] }];\n`,
  'model.pt': Uint8Array.of(0x50, 0x4b, 0, 0, ...new TextEncoder().encode(SHARED)),
};

describe('check-standalone', () => {
  it('passes a repository whose references stay inside it (imports, links, binary files ignored)', () => {
    const r = check(repo(CLEAN));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/6 text files, no references outside the repository/);
  });

  it('fails on a path above the root, a mention of the shared folder or of /work, and says where', () => {
    const dir = repo({
      ...CLEAN,
      'README.md': `# x\n\nThe design: [DESIGN](${SHARED}/DESIGN.md).\n`,
      'test/a.test.ts': `import { a } from '${UP}src/a';\nconst f = new URL('${UP}${UP}${UP}elsewhere/x.npy', import.meta.url);\n`,
      'scripts/tool.py': `FIX = os.path.join(HERE, "..", "..", "data")\n`,
      'bench/run.sh': `fixtures=\${1:-${WORK}data}\n`,
      'test/engine/io/a.test.ts': `import { a } from '${UP}${UP}${UP}${UP}src/a';\n`,
    });
    const r = check(dir);
    expect(r.code).toBe(1);
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toEqual([
      `README.md:3: ${SHARED}  (the sibling shared folder)`,
      `README.md:3: ${SHARED}/DESIGN.md  (resolves outside the repository)`,
      `bench/run.sh:1: ${WORK}  (an absolute path into the /work tree)`,
      `scripts/tool.py:1: "..", "..", "data"  (path segments resolve outside the repository)`,
      `test/a.test.ts:2: ${UP}${UP}${UP}elsewhere/x.npy  (resolves outside the repository)`,
      `test/engine/io/a.test.ts:1: ${UP}${UP}${UP}${UP}src/a  (resolves outside the repository)`,
    ]);
    expect(r.err).toMatch(/6 reference\(s\) to paths outside the repository/);
  });

  it('also checks files not yet added to git (but not ignored ones)', () => {
    const dir = repo(CLEAN);
    writeFileSync(join(dir, 'new.md'), `[x](${UP}outside.md)\n`);
    writeFileSync(join(dir, '.gitignore'), 'ignored.md\n');
    writeFileSync(join(dir, 'ignored.md'), `[x](${UP}outside.md)\n`);
    const r = check(dir);
    expect(r.code).toBe(1);
    expect(r.out.trimEnd().split('\n')).toEqual([
      `new.md:1: ${UP}outside.md  (resolves outside the repository)`,
    ]);
  });
});
