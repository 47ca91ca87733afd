// `npm start` and `npm run dev` run this first: where `npm ci` could not download the Electron
// binary (offline), electron-vite would fail with a stack trace ("Error: Electron uninstall").
// This says so in one line instead, with what to do, and exits 1.
//
//   node scripts/electron-check.mjs
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * The Electron executable electron-vite would start, found the way electron-vite finds it
 * (ELECTRON_EXEC_PATH, else node_modules/electron/path.txt naming a file under its dist/), or null
 * when that file is not there. The electron package itself is not loaded: its index.js starts a
 * download when the binary is missing.
 */
export function electronBinary(electronPkgDir = join(ROOT, 'node_modules/electron'), env = process.env) {
  if (env.ELECTRON_EXEC_PATH) return existsSync(env.ELECTRON_EXEC_PATH) ? env.ELECTRON_EXEC_PATH : null;
  const pathFile = join(electronPkgDir, 'path.txt');
  if (!existsSync(pathFile)) return null;
  const bin = join(electronPkgDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(bin) ? bin : null;
}

export const MISSING =
  "jacscope: the Electron binary is missing (it could not be downloaded during npm ci); run 'npx install-electron' when online, or 'npm run web' to use the same app in a browser now";

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!electronBinary()) {
    console.error(MISSING);
    process.exitCode = 1;
  }
}
