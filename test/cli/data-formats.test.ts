/**
 * The CLI reads data as scientists keep it: HDF5, MATLAB v5/v7/v7.3 and torch.save tensors give the
 * same J as the .npy inputs (the deep fixture's PyTorch float64 reference), whole-file or FILE:NAME.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadHdf5, openHdf5 } from '../../src/engine/io/hdf5';
import { readNpy } from '../../src/engine/io/npy';
import { relErr } from '../engine/helpers';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const FNO = fileURLToPath(new URL('../fixtures/fno/deep-fno1d/', import.meta.url));
const DATA = fileURLToPath(new URL('../fixtures/data/', import.meta.url));

function jacscope(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('jacscope CLI data formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-data-cli-'));
  const ref = readNpy(new Uint8Array(readFileSync(join(FNO, 'jacobian_f64.npy'))), 'J');
  const cases: [string, string[]][] = [
    ['HDF5', ['--data', join(DATA, 'deep.h5')]],
    ['HDF5 chunked gzip', ['--data', join(DATA, 'deep-chunked.h5')]],
    ['MATLAB v7.3', ['--data', join(DATA, 'deep-v73.mat')]],
    ['MATLAB v7 (compressed)', ['--data', join(DATA, 'deep-v7.mat')]],
    ['torch.save dict', ['--data', join(DATA, 'deep-dict.pt')]],
    ['FILE:NAME', ['--x', `${join(DATA, 'deep.h5')}:x`, '--p', `${join(DATA, 'deep.h5')}:p`]],
  ];
  for (const [name, data] of cases) {
    it(`${name}: J matches the float64 reference`, () => {
      const out = join(dir, `${name.replace(/\W+/g, '-')}.npy`);
      const r = jacscope(
        'jacobian',
        '--model',
        join(FNO, 'model.pt'),
        ...data,
        '--out',
        out,
        '--dtype',
        'float64',
      );
      // notes (which variables were picked and why) may come on stderr; nothing else
      for (const line of r.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^note: /);
      expect(r.code).toBe(0);
      const J = readNpy(new Uint8Array(readFileSync(out)), out);
      expect(J.shape).toEqual(ref.shape);
      expect(relErr(J.data, ref.data)).toBeLessThan(1e-12);
    });
  }

  it('writes J and y as HDF5 (one dataset, its axis names as an attribute), read back equal to the reference', async () => {
    await loadHdf5();
    for (const [what, name, file, dtype] of [
      ['jacobian', 'J', 'jacobian_f64.npy', 'float64'],
      ['forward', 'y', 'y_f64.npy', 'float32'],
    ] as const) {
      const out = join(dir, `${name}.h5`);
      const r = jacscope(
        what,
        '--model',
        join(FNO, 'model.pt'),
        '--x',
        join(FNO, 'x.npy'),
        '--p',
        join(FNO, 'p.npy'),
        '--out',
        out,
        '--dtype',
        dtype,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const want = readNpy(new Uint8Array(readFileSync(join(FNO, file))), file);
      const src = openHdf5(new Uint8Array(readFileSync(out)), out);
      try {
        expect(src.variables()).toEqual([{ name: `/${name}`, shape: want.shape, dtype }]);
        const got = src.read(`/${name}`);
        expect(relErr(got.data, want.data)).toBeLessThan(dtype === 'float64' ? 1e-12 : 1e-6);
      } finally {
        src.close();
      }
    }
  });

  it('a variable that is not there is one line listing what is', () => {
    const r = jacscope(
      'jacobian',
      '--model',
      join(FNO, 'model.pt'),
      '--x',
      `${join(DATA, 'deep.h5')}:nope`,
      '--p',
      `${join(DATA, 'deep.h5')}:p`,
      '--out',
      join(dir, 'e.npy'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/nope/);
  });

  it('jacscope sensitivity streams HDF5 datasets by hyperslabs: the same result as the .npy files', () => {
    const run = (x: string, p: string, out: string) => {
      const r = jacscope(
        'sensitivity',
        '--model',
        join(FNO, 'model.pt'),
        '--x',
        x,
        '--p',
        p,
        '--chunk',
        '2',
        '--threads',
        '1',
        '--out',
        out,
      );
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(readFileSync(out, 'utf8'));
    };
    const fromNpy = run(join(FNO, 'x.npy'), join(FNO, 'p.npy'), join(dir, 's-npy.json'));
    for (const [file, x, p] of [
      ['deep.h5', 'x', '/p'],
      ['deep-chunked.h5', '/inputs/x', 'inputs/p'],
    ]) {
      const h5 = join(DATA, file);
      const got = run(`${h5}:${x}`, `${h5}:${p}`, join(dir, `s-${file}.json`));
      for (const key of ['nu', 'index', 'elasticity', 'yAbsMax']) {
        const a = (got[key] as unknown[]).flat(3) as number[];
        const b = (fromNpy[key] as unknown[]).flat(3) as number[];
        expect(a.length, key).toBe(b.length);
        expect(relErr(Float64Array.from(a), Float64Array.from(b)), `${file} ${key}`).toBeLessThanOrEqual(
          1e-12,
        );
      }
    }
  });
});
