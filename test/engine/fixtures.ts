import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNpy } from '../../src/engine/io/npy';
import { readSafetensors } from '../../src/engine/io/safetensors';
import type { FnoConfig } from '../../src/engine/models/config';
import type { HostTensor } from '../../src/engine/tensor';

/** ../shared/fixtures beside the checkout (CI lays shared/ there too). */
export const FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/', import.meta.url));
export const CASES = ['seed-fno1d', 'deep-fno1d'] as const;
export type CaseName = (typeof CASES)[number];

export function fixturePath(name: CaseName, file: string): string {
  return `${FIXTURES}${name}/${file}`;
}

export function fixturesPresent(): boolean {
  return existsSync(`${FIXTURES}seed-fno1d/model.safetensors`);
}

export function loadNpy(name: CaseName, file: string): HostTensor {
  return readNpy(new Uint8Array(readFileSync(fixturePath(name, file))), file);
}

export function loadCase(name: CaseName) {
  const config = JSON.parse(readFileSync(fixturePath(name, 'config.json'), 'utf8')) as FnoConfig;
  const st = readSafetensors(
    new Uint8Array(readFileSync(fixturePath(name, 'model.safetensors'))),
    'model.safetensors',
  );
  return { config, tensors: st.tensors };
}

/** The two input sets of a case: the case's own batch and the batch-of-4 set. */
export const INPUT_SETS = [
  { x: 'x.npy', p: 'p.npy', y: 'y_f64.npy', j: 'jacobian_f64.npy' },
  { x: 'x4.npy', p: 'p4.npy', y: 'y4_f64.npy', j: 'jacobian4_f64.npy' },
] as const;
