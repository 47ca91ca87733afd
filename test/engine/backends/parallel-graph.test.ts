/**
 * Every TorchScript fixture on three CPU threads (helpers simulated in-process, see fake-worker.ts;
 * real threads: test/cli/threads.test.ts): y and J equal the one-thread graph engine's bit for
 * bit, and PyTorch's float64 to 1e-10, on a batch long enough that the helpers take chunks.
 */
import { describe, expect, it } from 'vitest';
import { ParallelGraphModel } from '../../../src/engine/backends/cpu/parallel-graph';
import { CancelledError } from '../../../src/engine/errors';
import { type InputArray } from '../../../src/engine/models/graph-model';
import { graphModelOf, graphNpy, GRAPH_CASES, loadGraphFixture } from '../graph-fixture';
import { relErr, tile } from '../helpers';
import { fakeWorker, seen } from './fake-worker';

/** Copies of each fixture's batch: enough chunks that helpers started after the first take some. */
const REPS = 8;

/** A fixture with every input REPS times over; `model()` opens a fresh GraphModel of it. */
function load(name: string) {
  const { meta, bytes, inputs, output } = loadGraphFixture(name);
  const tiled = new Map<string, InputArray>();
  for (const [arg, t] of inputs)
    tiled.set(arg, { shape: [t.shape[0] * REPS, ...t.shape.slice(1)], data: tile(t.data, REPS) });
  return { bytes, model: () => graphModelOf(bytes), inputs: tiled, opts: { wrt: meta.wrt, output } };
}

describe('ParallelGraphModel', () => {
  it.each(GRAPH_CASES)('%s: the one-thread y and J bit for bit, PyTorch to 1e-10', async (name) => {
    const { bytes, model, inputs, opts } = load(name);
    const one = model().evaluate(inputs, opts);
    const oneY = model().forward(inputs, opts);
    const par = new ParallelGraphModel(model(), { bytes, file: 'model.pt' }, () => fakeWorker(), 3, {
      spawnAfterMs: 0,
    });
    try {
      const runs = seen.runs;
      const progress: number[] = [];
      const r = await par.evaluate(inputs, { ...opts, onProgress: (d) => progress.push(d) });
      const f = await par.forward(inputs, opts);
      expect(seen.runs).toBeGreaterThan(runs); // the helpers took part
      expect(r.yShape).toEqual(one.yShape);
      expect(r.jShape).toEqual(one.jShape);
      expect(Buffer.from(r.J!.buffer).equals(Buffer.from(one.J!.buffer))).toBe(true);
      expect(Buffer.from(r.y.buffer).equals(Buffer.from(one.y.buffer))).toBe(true);
      expect(f.yShape).toEqual(oneY.yShape);
      expect(Buffer.from(f.y.buffer).equals(Buffer.from(oneY.y.buffer))).toBe(true);
      expect(progress.at(-1)).toBe(inputs.get(opts.wrt)!.shape[0]);
      expect(relErr(r.J!, tile(graphNpy(name, 'J_f64.npy').data, REPS))).toBeLessThanOrEqual(1e-10);
      expect(relErr(f.y, tile(graphNpy(name, 'y_f64.npy').data, REPS))).toBeLessThanOrEqual(1e-10);
    } finally {
      par.dispose();
    }
  });

  it('carries on when a helper dies, fails the call when a computation fails, and cancels', async () => {
    const { bytes, model, inputs, opts } = load(GRAPH_CASES[0]);
    const one = model().evaluate(inputs, opts);
    const lost: string[] = [];
    const dying = new ParallelGraphModel(
      model(),
      { bytes, file: 'model.pt' },
      () => fakeWorker({ dieOnRun: 1 }),
      3,
      {
        spawnAfterMs: 0,
        onHelperLost: (r) => lost.push(r),
      },
    );
    const r = await dying.evaluate(inputs, opts);
    expect(Buffer.from(r.J!.buffer).equals(Buffer.from(one.J!.buffer))).toBe(true);
    expect(lost.some((l) => /a helper thread stopped/.test(l))).toBe(true);
    dying.dispose();

    // A helper whose archive is not a TorchScript model cannot start: the calling thread goes on alone.
    const bad = new ParallelGraphModel(
      model(),
      { bytes: new Uint8Array(8), file: 'bad.pt' },
      () => fakeWorker(),
      2,
      {
        spawnAfterMs: 0,
        onHelperLost: (m) => lost.push(m),
      },
    );
    const rb = await bad.evaluate(inputs, opts);
    expect(Buffer.from(rb.J!.buffer).equals(Buffer.from(one.J!.buffer))).toBe(true);
    expect(lost.some((l) => /bad\.pt/.test(l))).toBe(true);
    bad.dispose();

    const par = new ParallelGraphModel(model(), { bytes, file: 'model.pt' }, () => fakeWorker(), 3, {
      spawnAfterMs: 0,
    });
    const ac = new AbortController();
    const cancelled = par.evaluate(inputs, { ...opts, signal: ac.signal, onProgress: () => ac.abort() });
    await expect(cancelled).rejects.toBeInstanceOf(CancelledError);
    const again = await par.evaluate(inputs, opts);
    expect(Buffer.from(again.J!.buffer).equals(Buffer.from(one.J!.buffer))).toBe(true);
    par.dispose();
  });
});
