import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../../src/engine/backends/cpu/cpu-backend';
import { ParallelCpuBackend } from '../../../src/engine/backends/cpu/parallel-backend';
import { CancelledError } from '../../../src/engine/errors';
import { loadCase, loadNpy } from '../fixtures';
import { relErr, tile } from '../helpers';
import { fakeWorker, seen } from './fake-worker';

const { config, tensors } = loadCase('deep-fno1d');
const x4 = loadNpy('deep-fno1d', 'x4.npy');
const p4 = loadNpy('deep-fno1d', 'p4.npy');
const [B4, T] = x4.shape;
// Twelve samples (the fixture's four, three times) so that every thread gets several chunks.
// Six copies: enough runs of JACOBIAN_RUN samples that helpers, started after the first, take some.
const B = 6 * B4;
const x = tile(x4.data, 6);
const p = tile(p4.data, 6);
const one = new CpuBackend(config, tensors);
/** Start the helpers whatever the call's length (the default waits for calls worth a second). */
const NOW = { spawnAfterMs: 0 };

describe('ParallelCpuBackend', () => {
  it('gives the one-thread results bit for bit (forward, jacobian, evaluate), with progress to B', async () => {
    const par = new ParallelCpuBackend(config, tensors, () => fakeWorker(), 3, NOW);
    try {
      expect(par.description).toMatch(/3 threads\)$/);
      seen.runs = 0;
      const progress: number[] = [];
      const J = await par.jacobian(x, p, B, T, { onProgress: (d) => progress.push(d) });
      expect(Array.from(J)).toEqual(Array.from(await one.jacobian(x, p, B, T)));
      expect(progress.at(-1)).toBe(B);
      expect(progress.every((d, i) => i === 0 || d > progress[i - 1])).toBe(true);
      expect(seen.runs, 'the helpers took chunks').toBeGreaterThan(0);
      expect(Array.from(await par.forward(x, p, B, T))).toEqual(Array.from(await one.forward(x, p, B, T)));
      const both = await par.evaluate(x, p, B, T);
      const ref = await one.evaluate(x, p, B, T);
      expect(Array.from(both.J)).toEqual(Array.from(ref.J));
      expect(Array.from(both.y)).toEqual(Array.from(ref.y));
      expect(
        relErr(both.J.subarray(0, J.length / 6), loadNpy('deep-fno1d', 'jacobian4_f64.npy').data),
      ).toBeLessThan(1e-10);
      const J32 = await par.jacobian(x, p, B, T, { out: new Float32Array(J.length) });
      expect(Array.from(J32)).toEqual(Array.from(Float32Array.from(J)));
    } finally {
      par.dispose();
    }
  });

  it('helpers agree with the calling thread to the bit', async () => {
    const par = new ParallelCpuBackend(config, tensors, () => fakeWorker(), 3, NOW);
    try {
      seen.runs = 0;
      const J = await par.jacobian(x, p, B, T);
      expect(seen.runs).toBeGreaterThan(0);
      const ref = await new CpuBackend(config, tensors).jacobian(x, p, B, T);
      expect(Array.from(J)).toEqual(Array.from(ref));
    } finally {
      par.dispose();
    }
  });

  it('redoes the chunk of a thread that dies, and carries on without it, saying so once', async () => {
    let n = 0;
    const lost: string[] = [];
    const par = new ParallelCpuBackend(
      config,
      tensors,
      () => fakeWorker(n++ === 0 ? { dieOnRun: 1 } : {}),
      3,
      { ...NOW, onHelperLost: (r) => lost.push(r) },
    );
    try {
      seen.died = 0;
      // A longer batch, so that every helper is handed work.
      const [xb, pb, Bb] = [tile(x, 4), tile(p, 4), 4 * B];
      const J = await par.jacobian(xb, pb, Bb, T);
      expect(seen.died, 'a thread died holding a chunk').toBe(1);
      expect(Array.from(J)).toEqual(Array.from(await one.jacobian(xb, pb, Bb, T)));
      expect(Array.from(await par.jacobian(xb, pb, Bb, T))).toEqual(Array.from(J));
      expect(lost).toEqual(['a helper thread stopped (the thread exited); computing on 2 of 3 threads']);
    } finally {
      par.dispose();
    }
  });

  it('starts no threads for a call too short to be worth it', async () => {
    let spawned = 0;
    const par = new ParallelCpuBackend(config, tensors, () => (spawned++, fakeWorker()), 3);
    expect(Array.from(await par.jacobian(x, p, B, T))).toEqual(Array.from(await one.jacobian(x, p, B, T)));
    expect(spawned).toBe(0);
    par.dispose();
  });

  it('finishes a call that is running when the backend is disposed', async () => {
    const par = new ParallelCpuBackend(config, tensors, () => fakeWorker(), 3, NOW);
    const big = 4 * B;
    let disposed = false;
    const J = await par.jacobian(tile(x, 4), tile(p, 4), big, T, {
      onProgress: (d) => {
        if (d >= B && !disposed) {
          disposed = true;
          par.dispose();
        }
      },
    });
    expect(disposed).toBe(true);
    expect(Array.from(J)).toEqual(Array.from(await one.jacobian(tile(x, 4), tile(p, 4), big, T)));
  });

  it('computes alone where no thread can be started, and says so', async () => {
    const lost: string[] = [];
    const par = new ParallelCpuBackend(
      config,
      tensors,
      () => {
        throw new Error('no workers here');
      },
      4,
      { ...NOW, onHelperLost: (r) => lost.push(r) },
    );
    expect(Array.from(await par.forward(x, p, B, T))).toEqual(Array.from(await one.forward(x, p, B, T)));
    expect(lost).toEqual(['could not start a helper thread (no workers here); computing on 1 of 4 threads']);
    par.dispose();
  });

  it('fails the call when a computation fails in a thread', async () => {
    const par = new ParallelCpuBackend(config, tensors, () => fakeWorker({ broken: true }), 2, NOW);
    try {
      // The helper joins once ready; give it a batch long enough to be handed a chunk.
      const big = 8 * B;
      await expect(par.jacobian(tile(x, 8), tile(p, 8), big, T)).rejects.toThrow(
        /no data for the model's argument 'x'/,
      );
    } finally {
      par.dispose();
    }
  });

  it('stops at a cancel, lets the chunks in flight finish, and works again afterwards', async () => {
    const par = new ParallelCpuBackend(config, tensors, () => fakeWorker(), 3, NOW);
    try {
      const ac = new AbortController();
      let calls = 0;
      const run = par.jacobian(x, p, B, T, {
        signal: ac.signal,
        onProgress: () => {
          calls++;
          ac.abort();
        },
      });
      await expect(run).rejects.toBeInstanceOf(CancelledError);
      expect(calls).toBeLessThan(B);
      expect(Array.from(await par.jacobian(x, p, B, T))).toEqual(Array.from(await one.jacobian(x, p, B, T)));
    } finally {
      par.dispose();
    }
  });
});
