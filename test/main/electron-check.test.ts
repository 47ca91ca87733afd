import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm start` / `npm run dev` where the Electron binary could not be downloaded.
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CHECK = join(ROOT, 'scripts/electron-check.mjs');
const check = (env: Record<string, string>) =>
  spawnSync(process.execPath, [CHECK], { encoding: 'utf8', env: { ...process.env, ...env } });
const MISSING =
  /^jacscope: the Electron binary is missing .*'npx install-electron' when online.*'npm run web'.*\n$/;

describe('the Electron check before npm start', () => {
  it('without a binary: one line saying how to get it and what works now, exit 1', () => {
    const r = check({ ELECTRON_EXEC_PATH: join(ROOT, 'no-such-electron') });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(MISSING);
  });

  it('with a binary: silent, exit 0', () => {
    const r = check({ ELECTRON_EXEC_PATH: process.execPath });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '', '']);
  });

  it('finds the binary the way electron-vite does (node_modules/electron/path.txt)', () => {
    const pkg = join(ROOT, 'node_modules/electron');
    const pathTxt = join(pkg, 'path.txt');
    const installed =
      existsSync(pathTxt) && existsSync(join(pkg, 'dist', readFileSync(pathTxt, 'utf8').trim()));
    const env = { ...process.env };
    delete env.ELECTRON_EXEC_PATH;
    const r = spawnSync(process.execPath, [CHECK], { encoding: 'utf8', env });
    expect(r.status).toBe(installed ? 0 : 1);
    if (!installed) expect(r.stderr).toMatch(MISSING);
  });

  it('npm start runs it first: one line and a non-zero exit, no stack trace', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.start).toMatch(/^node scripts\/electron-check\.mjs && /);
    expect(pkg.scripts.dev).toMatch(/^node scripts\/electron-check\.mjs && /);
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['start', '--silent'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, ELECTRON_EXEC_PATH: join(ROOT, 'no-such-electron') },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(MISSING);
    expect(r.stderr).not.toMatch(/Electron uninstall|\n\s+at /);
  });
});
