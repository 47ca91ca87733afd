import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/engine/backends/cpu/cpu-backend';
import { ParallelCpuBackend } from '../../src/engine/backends/cpu/parallel-backend';
import { ParallelGraphModel } from '../../src/engine/backends/cpu/parallel-graph';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { type InputArray } from '../../src/engine/models/graph-model';
import { nodePoolWorker } from '../../src/cli/cpu-pool';
import { fixturePath, loadCase, loadNpy } from '../engine/fixtures';
import { GRAPH_ROOT, graphModelOf, graphNpy, loadGraphFixture } from '../engine/graph-fixture';
import { tile } from '../engine/helpers';

// The parallel CPU backend on real worker_threads (the engine tests simulate the threads).
const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
/** The seed model as torch.jit.trace saved it. */
const TRACED = 'seed-fno1d-traced';
const jacscope = (...args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('CPU threads in Node', () => {
  it('worker_threads helpers give the one-thread results bit for bit', async () => {
    const { config, tensors } = loadCase('deep-fno1d');
    const x4 = loadNpy('deep-fno1d', 'x4.npy');
    const p4 = loadNpy('deep-fno1d', 'p4.npy');
    const [B4, T] = x4.shape;
    const reps = 6;
    const x = new Float64Array(x4.data.length * reps);
    const p = new Float64Array(p4.data.length * reps);
    for (let r = 0; r < reps; r++) {
      x.set(x4.data, r * x4.data.length);
      p.set(p4.data, r * p4.data.length);
    }
    const B = B4 * reps;
    let spawned = 0;
    const par = new ParallelCpuBackend(config, tensors, () => (spawned++, nodePoolWorker()), 3, {
      spawnAfterMs: 0,
    });
    try {
      const one = new CpuBackend(config, tensors);
      const ref = await one.evaluate(x, p, B, T);
      // The first call starts the threads (they join once they have compiled the engine).
      await par.evaluate(x, p, B, T);
      expect(spawned).toBe(2);
      const got = await par.evaluate(x, p, B, T);
      expect(Array.from(got.J)).toEqual(Array.from(ref.J));
      expect(Array.from(got.y)).toEqual(Array.from(ref.y));
    } finally {
      par.dispose();
    }
  }, 60_000);

  it('a TorchScript model on worker_threads helpers: the one-thread y and J bit for bit', async () => {
    const { bytes, inputs: one } = loadGraphFixture(TRACED);
    const open = () => graphModelOf(bytes);
    const reps = 8;
    const inputs = new Map<string, InputArray>();
    for (const [name, a] of one)
      inputs.set(name, { shape: [a.shape[0] * reps, ...a.shape.slice(1)], data: tile(a.data, reps) });
    let spawned = 0;
    const lost: string[] = [];
    const par = new ParallelGraphModel(
      open(),
      { bytes, file: 'model.pt' },
      () => (spawned++, nodePoolWorker()),
      3,
      {
        spawnAfterMs: 0,
        onHelperLost: (r) => lost.push(r),
      },
    );
    try {
      const ref = open().evaluate(inputs, { wrt: 'p' });
      await par.evaluate(inputs, { wrt: 'p' }); // starts the threads
      expect(spawned).toBe(2);
      const got = await par.evaluate(inputs, { wrt: 'p' });
      expect(lost).toEqual([]);
      expect(Buffer.from(got.J!.buffer).equals(Buffer.from(ref.J!.buffer))).toBe(true);
      expect(Buffer.from(got.y.buffer).equals(Buffer.from(ref.y.buffer))).toBe(true);
    } finally {
      par.dispose();
    }
  }, 60_000);

  it('jacscope --threads on a TorchScript model: helpers start for a long batch, the same J as one thread', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jacscope-threads-ts-'));
    const fix = GRAPH_ROOT + TRACED;
    // 64 samples (the fixture's, repeated): long enough for the CLI to start its helper.
    for (const name of ['x', 'p']) {
      const a = graphNpy(TRACED, `${name}.npy`);
      const data = tile(a.data, 64 / a.shape[0]);
      writeFileSync(
        join(dir, `${name}.npy`),
        writeNpy({ shape: [64, ...a.shape.slice(1)], data }, 'float64'),
      );
    }
    const run = (t: string) =>
      jacscope(
        'jacobian',
        '--model',
        join(fix, 'model.pt'),
        '--x',
        join(dir, 'x.npy'),
        '--p',
        join(dir, 'p.npy'),
        '--out',
        join(dir, `J${t}.npy`),
        '--dtype',
        'float64',
        '--backend',
        'cpu',
        '--threads',
        t,
      );
    for (const t of ['1', '2']) {
      const r = run(t);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      // The summary says whether helpers took part.
      expect(r.stdout).toMatch(t === '1' ? /ms on cpu, p = p\)/ : /ms on cpu \(2 threads\), p = p\)/);
    }
    expect(readFileSync(join(dir, 'J2.npy')).equals(readFileSync(join(dir, 'J1.npy')))).toBe(true);
    // Written in blocks (8 samples, then the rest): PyTorch's float64 J of every sample.
    const ref = graphNpy(TRACED, 'J_f64.npy');
    const J = readNpy(new Uint8Array(readFileSync(join(dir, 'J1.npy'))), 'J1.npy');
    expect(J.shape).toEqual([64, ...ref.shape.slice(1)]);
    const per = ref.data.length / ref.shape[0];
    let worst = 0;
    for (let b = 0; b < 64; b++)
      for (let i = 0; i < per; i++) {
        const want = ref.data[(b % ref.shape[0]) * per + i];
        worst = Math.max(worst, Math.abs(J.data[b * per + i] - want) / (1 + Math.abs(want)));
      }
    expect(worst).toBeLessThan(1e-10);
  }, 120_000);

  it('jacscope --threads: the same J for any thread count; a bad count is refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jacscope-threads-'));
    const seed = (f: string) => fixturePath('seed-fno1d', f);
    const out = (t: string) => join(dir, `J${t}.npy`);
    const run = (t: string) =>
      jacscope(
        'jacobian',
        '--model',
        seed('model.pt'),
        '--x',
        seed('x4.npy'),
        '--p',
        seed('p4.npy'),
        '--out',
        out(t),
        '--dtype',
        'float64',
        '--backend',
        'cpu',
        '--threads',
        t,
      );
    for (const t of ['1', '2']) expect(run(t).status, t).toBe(0);
    // Byte for byte (a Buffer compare: toEqual walks 4 MB element by element).
    expect(readFileSync(out('2')).equals(readFileSync(out('1')))).toBe(true);
    const bad = run('0');
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--threads.*'0' is not a number of threads/);
  }, 120_000);
});
