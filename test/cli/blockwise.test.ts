// A result written block by block (src/cli/blockwise.ts, tensor-sink.ts): every format read back by
// jacscope's own readers equals the values computed, only two result buffers ever exist, and a
// failure leaves neither the file nor a temporary one. The CLI over several blocks against PyTorch:
// the last test.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { blockSamples, blockwise } from '../../src/cli/blockwise';
import { openTensorSink, type Values } from '../../src/cli/tensor-sink';
import { loadHdf5, openHdf5 } from '../../src/engine/io/hdf5';
import { openMat5 } from '../../src/engine/io/mat';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { fixturePath, loadNpy } from '../engine/fixtures';
import { relErr, tile } from '../engine/helpers';

const dir = mkdtempSync(join(tmpdir(), 'jacscope-blocks-'));
const ROW = [3, 2, 4];
const PER = 24;
const B = 27;
/** Row b's values: distinct, and exact in float32. */
const value = (b: number, i: number) => b * 100 + i + 0.5;
const expected = Float64Array.from({ length: B * PER }, (_, j) => value(Math.floor(j / PER), j % PER));

beforeAll(async () => {
  await loadHdf5();
});

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const jacscope = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

/** A new folder holding x.npy and p.npy: the seed fixture's sample `n` times over. */
function seedBatch(prefix: string, n: number, dtype: 'float32' | 'float64'): string {
  const sub = mkdtempSync(join(tmpdir(), prefix));
  for (const name of ['x', 'p']) {
    const a = loadNpy('seed-fno1d', `${name}.npy`);
    const data = tile(a.data, n);
    writeFileSync(join(sub, `${name}.npy`), writeNpy({ shape: [n, ...a.shape.slice(1)], data }, dtype));
  }
  return sub;
}

/** `jacscope jacobian` of the seed model on a seedBatch folder's data. */
const jacobianArgs = (sub: string, out: string, ...more: string[]) => [
  'jacobian',
  '--model',
  fixturePath('seed-fno1d', 'model.pt'),
  '--x',
  join(sub, 'x.npy'),
  '--p',
  join(sub, 'p.npy'),
  '--out',
  out,
  ...more,
];

/** Runs B rows in blocks of 8 into `file`; returns the buffers compute was handed. */
async function write(file: string, dtype: 'float32' | 'float64', failAt?: number) {
  const seen: (Values | undefined)[] = [];
  const progress: number[] = [];
  await blockwise({
    B,
    block: () => 8,
    rowShape: ROW,
    async compute(b0, n, reuse, onProgress) {
      seen.push(reuse);
      if (b0 === failAt) throw new Error('the computation failed');
      const out = reuse && reuse.length === n * PER ? reuse : new Float64Array(n * PER);
      for (let j = 0; j < n * PER; j++) out[j] = value(b0 + Math.floor(j / PER), j % PER);
      onProgress?.(n, n);
      return { values: out, rowShape: ROW };
    },
    open: (rowShape) => openTensorSink(file, [B, ...rowShape], ['b', 'x', 'y', 'z'], dtype, 'J'),
    onProgress: (d) => progress.push(d),
  });
  return { seen, progress };
}

describe('blockwise output', () => {
  it('.npy, .h5, .csv and .mat hold every row as computed, in the asked dtype', async () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const npy = join(dir, `J-${dtype}.npy`);
      const { seen, progress } = await write(npy, dtype);
      // Blocks at 0, 8, 16, 24: from the third on, compute is offered the buffer of two blocks before.
      expect(seen.map((s) => s !== undefined)).toEqual([false, false, true, true]);
      expect(progress).toEqual([8, 16, 24, 27]);
      const t = readNpy(new Uint8Array(readFileSync(npy)), 'J.npy');
      expect([t.shape, t.dtype]).toEqual([[B, ...ROW], dtype]);
      expect(Array.from(t.data)).toEqual(Array.from(expected));

      const h5 = join(dir, `J-${dtype}.h5`);
      await write(h5, dtype);
      const src = openHdf5(new Uint8Array(readFileSync(h5)), h5);
      try {
        expect(Array.from(src.readRows('/J', 0, B).data)).toEqual(Array.from(expected));
      } finally {
        src.close();
      }

      const mat = join(dir, `J-${dtype}.mat`);
      await write(mat, dtype);
      const m = openMat5(new Uint8Array(readFileSync(mat)), 'J.mat').read('J');
      expect(m.shape).toEqual([B, ...ROW]);
      expect(Array.from(m.data)).toEqual(Array.from(expected));
    }
    const csv = join(dir, 'J.csv');
    await write(csv, 'float64');
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('b,x,y,z,value');
    expect(lines.length).toBe(1 + B * PER);
    // Row 9 (the second block), index (1, 0, 3): flat 1·8 + 3 = 11.
    expect(lines[1 + 9 * PER + 11]).toBe(`9,1,0,3,${value(9, 11)}`);
    expect(lines.at(-1)).toBe(`26,2,1,3,${value(26, 23)}`);
  });

  it('a block whose samples have another output shape is refused, and nothing is left', async () => {
    const path = join(dir, 'shapes.npy');
    const run = blockwise({
      B,
      block: () => 8,
      async compute(b0, n) {
        const row = b0 === 0 ? ROW : [3, 2, 5];
        return { values: new Float64Array(n * row.reduce((a, b) => a * b, 1)), rowShape: row };
      },
      open: (rowShape) => openTensorSink(path, [B, ...rowShape], ['b', 'x', 'y', 'z'], 'float32', 'J'),
    });
    await expect(run).rejects.toThrow(
      "samples 8…15 give an output of shape [3,2,5] a sample, unlike the first ones' [3,2,4]",
    );
    expect(readdirSync(dir).filter((f) => f.includes('shapes'))).toEqual([]);
  });

  it('a failure in a later block leaves no file and no temporary file', async () => {
    const path = join(dir, 'failed.npy');
    await expect(write(path, 'float32', 16)).rejects.toThrow('the computation failed');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('failed'))).toEqual([]);
  });

  it('interrupted (SIGINT) while writing, jacscope removes its temporary file and exits 130', async () => {
    const sub = seedBatch('jacscope-sigint-', 256, 'float32');
    const child = spawn(process.execPath, [BIN, ...jacobianArgs(sub, join(sub, 'J.npy'), '--threads', '1')]);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Once the file is open (its temporary file exists), interrupt.
    const t0 = Date.now();
    while (!readdirSync(sub).some((f) => f.endsWith('.tmp')) && Date.now() - t0 < 60_000)
      await new Promise((r) => setTimeout(r, 20));
    expect(readdirSync(sub).some((f) => f.endsWith('.tmp'))).toBe(true);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(readdirSync(sub).sort()).toEqual(['p.npy', 'x.npy']);
  }, 120_000);

  it('an output folder that does not exist is refused before any computing, in one line', () => {
    // 2,048 seed samples: about ten seconds of work that must not be done first.
    const sub = seedBatch('jacscope-nofolder-', 2048, 'float32');
    const out = join(sub, 'missing', 'J.npy');
    const t0 = performance.now();
    const r = jacscope(jacobianArgs(sub, out));
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(`jacscope: ${out}: cannot write: the folder does not exist`);
    expect(readdirSync(sub).sort()).toEqual(['p.npy', 'x.npy']);
  }, 120_000);

  it('blocks are multiples of 8 samples, about 64 MB of results on the CPU, at least 8', () => {
    expect(blockSamples(1000, 601 * 15 * 14, 'float32', 'cpu')).toBe(128);
    expect(blockSamples(64, 601 * 15 * 14, 'float64', 'cpu')).toBe(64);
    expect(blockSamples(5, 10, 'float32', 'cpu')).toBe(5);
    expect(blockSamples(1000, 10 ** 8, 'float64', 'cpu')).toBe(8);
  });

  it('jacscope jacobian over several blocks (and both threads): PyTorch float64 J', () => {
    // The seed fixture's sample, 160 times: blocks of 64, 64 and 32 in float64 (1 MB of J a sample).
    const sub = seedBatch('jacscope-blocks-cli-', 160, 'float64');
    const out = join(sub, 'J.npy');
    const r = jacscope(jacobianArgs(sub, out, '--dtype', 'float64', '--backend', 'cpu'));
    expect(r.status, r.stderr).toBe(0);
    const ref = loadNpy('seed-fno1d', 'jacobian_f64.npy');
    const J = readNpy(new Uint8Array(readFileSync(out)), 'J.npy');
    expect(J.shape).toEqual([160, ...ref.shape.slice(1)]);
    expect(relErr(J.data, tile(ref.data, 160))).toBeLessThan(1e-12);
  }, 120_000);
});
