// fno1d-scalar inputs by blocks (src/cli/input-rows.ts): files over the size read by rows give the
// same rows as reading them whole, for .npy (float32, float64), an .npz and HDF5; samples holding
// NaN or Inf are found as rows are read and told after the run, as the whole reader tells them
// before. And `jacscope jacobian` reading by rows writes the J it writes from whole data.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/cli/args';
import { inputRows } from '../../src/cli/input-rows';
import { writeHdf5 } from '../../src/engine/io/hdf5-write';
import { loadHdf5 } from '../../src/engine/io/hdf5';
import { writeNpy } from '../../src/engine/io/npy';
import { fixturePath, loadCase, loadNpy } from '../engine/fixtures';
import { tile } from '../engine/helpers';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jacscope-rows-'));
const { config } = loadCase('seed-fno1d');
const x4 = loadNpy('seed-fno1d', 'x4.npy');
const p4 = loadNpy('seed-fno1d', 'p4.npy');
const reps = 5;
const B = 4 * reps;
const X = tile(x4.data, reps);
const P = tile(p4.data, reps);
// Two bad samples: x of sample 6 and p of sample 13.
X[6 * 601 * 20 + 5 * 20 + 3] = NaN;
P[13 * 14 + 2] = -Infinity;
const xShape = [B, 601, 20];
const pShape = [B, 14];

beforeAll(async () => {
  await loadHdf5();
  for (const dtype of ['float32', 'float64'] as const) {
    writeFileSync(join(dir, `x-${dtype}.npy`), writeNpy({ shape: xShape, data: X }, dtype));
    writeFileSync(join(dir, `p-${dtype}.npy`), writeNpy({ shape: pShape, data: P }, dtype));
  }
  writeFileSync(
    join(dir, 'data.npz'),
    zipSync(
      {
        'x.npy': writeNpy({ shape: xShape, data: X }, 'float64'),
        'p.npy': writeNpy({ shape: pShape, data: P }, 'float64'),
      },
      { level: 0 },
    ),
  );
  writeFileSync(
    join(dir, 'data.h5'),
    writeHdf5([
      { name: 'x', tensor: { dtype: 'float64', shape: xShape, data: X } },
      { name: 'p', tensor: { dtype: 'float64', shape: pShape, data: P } },
    ]),
  );
});

const args = (...a: string[]) => parseArgs(['jacobian', ...a]);

describe('inputs by rows', () => {
  const cases: [string, string[]][] = [
    ['npy float32', ['--x', join(dir, 'x-float32.npy'), '--p', join(dir, 'p-float32.npy')]],
    ['npy float64', ['--x', join(dir, 'x-float64.npy'), '--p', join(dir, 'p-float64.npy')]],
    ['npz', ['--data', join(dir, 'data.npz')]],
    ['h5', ['--x', `${join(dir, 'data.h5')}:/x`, '--p', `${join(dir, 'data.h5')}:/p`]],
  ];
  it.each(cases)('%s: the rows read whole, the bad samples told after the run', async (_name, a) => {
    const before: string[] = [];
    const whole = await inputRows(args(...a), config, (l) => before.push(l), Infinity);
    const after: string[] = [];
    const rows = await inputRows(args(...a), config, (l) => after.push(l), 0);
    expect([rows.B, rows.T]).toEqual([whole.B, whole.T]);
    for (const [b0, n] of [
      [0, 8],
      [8, 8],
      [16, 4],
    ]) {
      const w = whole.rows(b0, n);
      const r = rows.rows(b0, n);
      expect(
        Buffer.from(r.x.buffer, r.x.byteOffset, r.x.byteLength).equals(
          Buffer.from(w.x.buffer, w.x.byteOffset, w.x.byteLength),
        ),
      ).toBe(true);
      expect(Array.from(r.p)).toEqual(Array.from(w.p));
      expect(r.finite).toEqual(w.finite);
    }
    expect(after).toEqual([]);
    expect(rows.notesAfter()).toEqual([
      '2 of 20 samples contained NaN or Inf and were skipped: sample 6 (x[6,5,3] = NaN), sample 13 (p[13,2] = -Inf)',
    ]);
    expect(before).toEqual([
      'note: 2 of 20 samples contain NaN or Inf and will be skipped: sample 6 (x[6,5,3] = NaN), sample 13 (p[13,2] = -Inf)',
    ]);
    rows.close();
  });

  it('jacscope jacobian by rows writes the J it writes from whole data; the note comes after', () => {
    const run = (out: string, env: Record<string, string>) =>
      spawnSync(
        process.execPath,
        [
          BIN,
          'jacobian',
          '--model',
          fixturePath('seed-fno1d', 'model.pt'),
          '--x',
          join(dir, 'x-float32.npy'),
          '--p',
          join(dir, 'p-float32.npy'),
          '--out',
          join(dir, out),
          '--threads',
          '1',
        ],
        { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } },
      );
    const whole = run('J-whole.npy', {});
    const rows = run('J-rows.npy', { JACSCOPE_STREAM_ABOVE_BYTES: '0' });
    expect(whole.status, whole.stderr).toBe(0);
    expect(rows.status, rows.stderr).toBe(0);
    expect(readFileSync(join(dir, 'J-rows.npy')).equals(readFileSync(join(dir, 'J-whole.npy')))).toBe(true);
    expect(whole.stderr).toMatch(/^note: 2 of 20 samples contain NaN or Inf and will be skipped/);
    expect(rows.stderr).toMatch(/^note: 2 of 20 samples contained NaN or Inf and were skipped/);
  }, 120_000);
});
