// `--out J.mat`: the whole J (or y) as a MATLAB variable in MATLAB's order, read back by jacscope's own
// readers (v5 in TypeScript, v7.3 through the HDF5 library) and compared with PyTorch's float64 J.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeMatlab } from '../../src/cli/output';
import { openMat5 } from '../../src/engine/io/mat';
import { loadHdf5 } from '../../src/engine/io/hdf5';
import { openMat73 } from '../../src/engine/io/mat73';
import { readNpy } from '../../src/engine/io/npy';
import { fixturePath } from '../engine/fixtures';
import { relErr } from '../engine/helpers';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const deep = (f: string) => fixturePath('deep-fno1d', f);
const ref = readNpy(new Uint8Array(readFileSync(deep('jacobian_f64.npy'))), 'ref');
const dir = mkdtempSync(join(tmpdir(), 'jacscope-mat-'));

beforeAll(async () => {
  await loadHdf5();
});

describe('MATLAB output', () => {
  it('jacobian --out J.mat --dtype float64: a v5 variable J of shape [B,T,O,P], PyTorch’s J to 1e-10', () => {
    const out = join(dir, 'J.mat');
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'jacobian',
        '--model',
        deep('model.pt'),
        '--x',
        deep('x.npy'),
        '--p',
        deep('p.npy'),
        '--out',
        out,
        '--dtype',
        'float64',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const src = openMat5(new Uint8Array(readFileSync(out)), 'J.mat');
    expect(src.variables()).toEqual([{ name: 'J', shape: ref.shape, dtype: 'float64' }]);
    expect(relErr(src.read('J').data, ref.data)).toBeLessThan(1e-10);
  });

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
