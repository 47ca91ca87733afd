// The desktop window, driven by Playwright's Electron support. Runs only where an Electron binary is installed
// (`npx install-electron`) and the app is built (`npm run build`); elsewhere it reports that it did not run.
import assert from 'node:assert/strict';
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

const binary = electronBinary();
const built = existsSync(resolve(repoRoot, 'out/main/index.js'));
const reason = !binary
  ? 'NOT RUN: no Electron binary is installed here (run `npx install-electron` where downloads work)'
  : !built
    ? 'NOT RUN: the desktop app is not built (run `npm run build` first)'
    : null;

if (reason) console.log(`# electron window test: ${reason}`);

test(
  'electron: the window opens on the computed demo with the security settings',
  { skip: reason ?? false },
  async () => {
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
      await page.screenshot({ path: resolve(outDir, 'e2e-electron.png') });
    } finally {
      await app.close();
    }
  },
);
