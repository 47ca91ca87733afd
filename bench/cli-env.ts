/**
 * The environment the CLI starts with: the variable assignments in its launcher's shebang
 * (`#!/usr/bin/env -S GLIBC_TUNABLES=glibc.malloc.hugetlb=1 node`, bin/jacscope.mjs). glibc's
 * malloc then asks for transparent huge pages, which spares a page fault per 4 KiB of every fresh
 * multi-megabyte array (J at B = 64 is 65 MB; on this VM a fault costs microseconds). The bench
 * runs jacscope's in-process rows and the CLI under it, and times PyTorch with and without it.
 */
import { readFileSync } from 'node:fs';

/** The assignments in `bin`'s shebang line. */
export function cliEnv(bin: string): Record<string, string> {
  const line = readFileSync(bin, 'utf8').split('\n', 1)[0];
  const env: Record<string, string> = {};
  for (const m of line.matchAll(/\s([A-Z_][A-Z0-9_]*)=(\S+)/g)) env[m[1]] = m[2];
  return env;
}
