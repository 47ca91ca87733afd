/**
 * Every TorchScript fixture on three CPU threads (helpers simulated in-process, see fake-worker.ts;
 * real threads: test/cli/threads.test.ts): y and J equal the one-thread graph engine's bit for
 * bit, and PyTorch's float64 to 1e-10, on a batch long enough that the helpers take chunks.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ParallelGraphModel } from '../../../src/engine/backends/cpu/parallel-graph';
import { CancelledError } from '../../../src/engine/errors';
import { readNpy } from '../../../src/engine/io/npy';
import { RULES } from '../../../src/engine/graph/table';
import { GraphModel, type InputArray } from '../../../src/engine/models/graph-model';
import { readTorchScript } from '../../../src/engine/torchscript/archive';
import { graphHost } from '../../../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../../../src/engine/torchscript/program';
import { relErr } from '../helpers';
import { fakeWorker, seen } from './fake-worker';

const ROOT = fileURLToPath(new URL('../../fixtures/graph/', import.meta.url));
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);
/** Copies of each fixture's batch: enough chunks that helpers started after the first take some. */
const REPS = 8;

function npy(dir: string, name: string) {
  return readNpy(new Uint8Array(readFileSync(`${dir}/${name}`)), name);
}
const tile = (a: Float64Array) => {
  const out = new Float64Array(a.length * REPS);
  for (let r = 0; r < REPS; r++) out.set(a, r * a.length);
  return out;
};

function load(name: string) {
  const dir = ROOT + name;
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
  const bytes = new Uint8Array(readFileSync(`${dir}/model.pt`));
  const model = () =>
    new GraphModel(torchScriptProgram(readTorchScript(bytes, 'model.pt')), graphHost, RULES);
  const inputs = new Map<string, InputArray>();
  for (const arg of model().tensorArgs()) {
    const t = npy(dir, `${arg}.npy`);
    inputs.set(arg, { shape: [t.shape[0] * REPS, ...t.shape.slice(1)], data: tile(t.data) });
  }
  const output = typeof meta.output_index === 'number' ? meta.output_index : undefined;
  return { dir, meta, bytes, model, inputs, opts: { wrt: meta.wrt as string, output } };
}

describe('ParallelGraphModel', () => {
  it.each(CASES)('%s: the one-thread y and J bit for bit, PyTorch to 1e-10', async (name) => {
    const { dir, bytes, model, inputs, opts } = load(name);
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
      expect(relErr(r.J!, tile(npy(dir, 'J_f64.npy').data))).toBeLessThanOrEqual(1e-10);
      expect(relErr(f.y, tile(npy(dir, 'y_f64.npy').data))).toBeLessThanOrEqual(1e-10);
    } finally {
      par.dispose();
    }
  });

  it('carries on when a helper dies, fails the call when a computation fails, and cancels', async () => {
    const { bytes, model, inputs, opts } = load(CASES[0]);
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
