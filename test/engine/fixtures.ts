import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readNpy } from '../../src/engine/io/npy';
import { readSafetensors } from '../../src/engine/io/safetensors';
import type { FnoConfig } from '../../src/engine/models/config';
import type { HostTensor } from '../../src/engine/tensor';

/**
 * The PyTorch reference fixtures, committed in test/fixtures/fno/ (made by
 * scripts/fixtures/make_fno_fixtures.py; described in test/fixtures/README.md). A missing file
 * makes the test that reads it fail.
 */
export const FIXTURES = fileURLToPath(new URL('../fixtures/fno/', import.meta.url));
export const CASES = ['seed-fno1d', 'deep-fno1d'] as const;
export type CaseName = (typeof CASES)[number];

export function fixturePath(name: CaseName, file: string): string {
  return `${FIXTURES}${name}/${file}`;
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

/** An input set of a case with its float64 references. */
export type InputSet = { x: string; p: string; y: string; j: string };
const ONE: InputSet = { x: 'x.npy', p: 'p.npy', y: 'y_f64.npy', j: 'jacobian_f64.npy' };
const FOUR: InputSet = { x: 'x4.npy', p: 'p4.npy', y: 'y4_f64.npy', j: 'jacobian4_f64.npy' };

/**
 * The input sets with float64 references: each case's own batch (seed B = 1, deep B = 2) and, for
 * the deep case, the batch-of-4 set. (The seed case keeps x4/p4 but not their 4 MB Jacobian.)
 */
export const INPUT_SETS: Record<CaseName, readonly InputSet[]> = {
  'seed-fno1d': [ONE],
  'deep-fno1d': [ONE, FOUR],
};

/** The case with batch-of-4 float64 references. */
export const BATCH4_CASE: CaseName = 'deep-fno1d';
