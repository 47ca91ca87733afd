// `--out J.mat` (src/cli/output.ts writeMatlab): v5 up to the limit, v7.3 beyond, read back by jacscope's own
// readers (v5 in TypeScript, v7.3 through the HDF5 library). The CLI run itself: cli.test.ts.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMatlab } from '../../src/cli/output';
import { openMat5 } from '../../src/engine/io/mat';
import { loadHdf5 } from '../../src/engine/io/hdf5';
import { openMat73 } from '../../src/engine/io/mat73';
import { readNpy } from '../../src/engine/io/npy';
import { fixturePath } from '../engine/fixtures';

const deep = (f: string) => fixturePath('deep-fno1d', f);
const ref = readNpy(new Uint8Array(readFileSync(deep('jacobian_f64.npy'))), 'ref');
const dir = mkdtempSync(join(tmpdir(), 'jacscope-mat-'));

beforeAll(async () => {
  await loadHdf5();
});

describe('MATLAB output', () => {
  it('beyond the v5 limit, v7.3 in the asked dtype (float32 as single), the same values', () => {
    const J = Float32Array.from(ref.data);
    const path = join(dir, 'J73.mat');
    expect(writeMatlab(path, ref.shape.slice(), J, 'float32', 'J', 1000)).toBe('v7.3');
    const src = openMat73(new Uint8Array(readFileSync(path)), 'J73.mat');
    try {
      expect(src.variables()).toEqual([{ name: 'J', shape: ref.shape, dtype: 'float32' }]);
      expect(Array.from(src.read('J').data)).toEqual(Array.from(J));
    } finally {
      src.close();
    }
    // and under it, v5 with float32's values as doubles
    const small = join(dir, 'J5.mat');
    expect(writeMatlab(small, ref.shape.slice(), J, 'float32', 'J', 2 ** 31 - 1)).toBe('v5');
    expect(Array.from(openMat5(new Uint8Array(readFileSync(small)), 'J5.mat').read('J').data)).toEqual(
      Array.from(J),
    );
  });
});
