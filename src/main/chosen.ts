/**
 * The files the user chose in this session. Main reads a user's file only when its path is here:
 * put here by main itself from the open dialog, the recent-files list or the command line, or by
 * the preload from a trusted drop event (webUtils.getPathForFile). A page that asks main to open
 * any other path gets a refusal naming the path, and nothing is read.
 */
import { isAbsolute, resolve } from 'node:path';
import { hasOpenableExtension } from './files';

export type ChoiceSource = 'dialog' | 'drop' | 'recent' | 'command line';

export class ChosenPaths {
  private readonly paths = new Map<string, ChoiceSource>();

  grant(paths: readonly string[], source: ChoiceSource): void {
    for (const p of paths) if (!this.paths.has(p)) this.paths.set(p, source);
  }

  has(path: string): boolean {
    return this.paths.has(path);
  }

  /** How the user chose it (for tests and diagnostics). */
  source(path: string): ChoiceSource | undefined {
    return this.paths.get(path);
  }
}

/**
 * The files named on the command line (`jacscope-app model.pt x.npy`, or a second launch's), as
 * absolute paths: Electron's own arguments and Chromium switches are left out, and so is anything
 * that is not a model or data file jacscope opens.
 */
export function pathsFromArgv(argv: readonly string[], opts: { defaultApp: boolean; cwd: string }): string[] {
  // argv[0] is the executable; run as `electron <app>` (defaultApp), argv[1] is the app's folder.
  const args = argv.slice(opts.defaultApp ? 2 : 1);
  const out: string[] = [];
  let afterDashes = false;
  for (const a of args) {
    if (!afterDashes && a === '--') {
      afterDashes = true;
      continue;
    }
    if (!afterDashes && a.startsWith('-')) continue;
    if (a.length === 0 || a.includes('\0') || /^[a-z][a-z0-9+.-]*:\/\//i.test(a)) continue;
    if (!hasOpenableExtension(a)) continue;
    out.push(isAbsolute(a) ? a : resolve(opts.cwd, a));
  }
  return out;
}
