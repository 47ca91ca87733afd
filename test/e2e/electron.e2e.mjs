// The desktop window, driven by Playwright's Electron support. Runs where an Electron binary is installed
// (`npx install-electron`), after building the app into out/ from the current sources; elsewhere it
// reports that it did not run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { _electron } from 'playwright-core';
import { outDir, repoRoot } from './helpers.mjs';

/**
 * The installed Electron binary, found the way the electron package finds it (path.txt beside its dist/),
 * without requiring the package: its index.js starts a download when the binary is missing.
 */
function electronBinary() {
  if (process.env.ELECTRON_PATH)
    return existsSync(process.env.ELECTRON_PATH) ? process.env.ELECTRON_PATH : null;
  const pkg = resolve(repoRoot, 'node_modules/electron');
  const pathFile = resolve(pkg, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = resolve(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

/** Builds out/ (main, preload, renderer) with electron-vite: the window test runs the current code. */
function buildApp() {
  const r = spawnSync(
    process.execPath,
    [resolve(repoRoot, 'node_modules/electron-vite/bin/electron-vite.js'), 'build', '--logLevel', 'warn'],
    { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, ELECTRON_EXEC_PATH: binary } },
  );
  if (r.status !== 0)
    throw new Error(`electron-vite build failed (exit ${r.status}):\n${r.stderr || r.stdout}`);
  assert.ok(existsSync(resolve(repoRoot, 'out/main/index.js')), 'the build wrote no out/main/index.js');
}

const binary = electronBinary();
const reason = binary
  ? null
  : 'NOT RUN: no Electron binary is installed here (run `npx install-electron` where downloads work)';

if (reason) console.log(`# electron window test: ${reason}`);

test(
  'electron: the window opens on the computed demo with the security settings',
  { skip: reason ?? false },
  async () => {
    buildApp();
    const app = await _electron.launch({ executablePath: binary, args: [repoRoot], cwd: repoRoot });
    try {
      const page = await app.firstWindow();
      await page.waitForSelector('.app[data-result-seq="1"]', { timeout: 60_000 });
      assert.equal(await page.getByTestId('model-file').textContent(), 'built-in demo');
      // The page has the preload's small API and no Node.
      const probe = await page.evaluate(() => ({
        api: typeof window.jacscope,
        keys: Object.keys(window.jacscope ?? {}).sort(),
        require: typeof window.require,
        process: typeof window.process,
      }));
      assert.equal(probe.api, 'object');
      assert.equal(probe.require, 'undefined');
      assert.equal(probe.process, 'undefined');
      const prefs = await app.evaluate(({ BrowserWindow }) => {
        const w = BrowserWindow.getAllWindows()[0];
        const p = w.webContents.getLastWebPreferences();
        return {
          contextIsolation: p.contextIsolation,
          sandbox: p.sandbox,
          nodeIntegration: p.nodeIntegration,
        };
      });
      assert.deepEqual(prefs, { contextIsolation: true, sandbox: true, nodeIntegration: false });
      // A built app (not a development run) has no DevTools.
      const devTools = await app.evaluate(
        ({ BrowserWindow }) => BrowserWindow.getAllWindows()[0].webContents.getLastWebPreferences().devTools,
      );
      assert.equal(devTools, false);
      await page.screenshot({ path: resolve(outDir, 'e2e-electron.png') });
    } finally {
      await app.close();
    }
  },
);
