// The whole J written in parts (the desktop app's export in sample mode) and sample mode's streamed global
// sensitivity on the batch backend. A tiny memory budget forces sample mode on the committed PyTorch fixtures;
// the streamed .npy is read back with the engine's readNpy and compared with PyTorch's float64 J
// (jacobian4_f64.npy, J_f64.npy) and with J computed per sample; the CSV with the in-memory longCsv.
import { describe, expect, it } from 'vitest';
import { globalSensitivity, poolWorker, readNpy, writeNpy } from '../../src/engine';
import type { PoolReply, PoolRequest, PoolWorker } from '../../src/engine';
import { ParallelCpuBackend } from '../../src/engine/backends/cpu/parallel-backend';
import { longCsv } from '../../src/renderer/lib/export-format';
import { analysisFns, createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import type { BatchBackend } from '../../src/renderer/worker/engine-contract';
import { Explorer } from '../../src/renderer/worker/explore';
import { npyHeader } from '../../src/engine/io/npy';
import { streamWholeJ } from '../../src/renderer/worker/j-stream';
import type { FromWorker } from '../../src/renderer/worker/protocol';
import { Session } from '../../src/renderer/worker/session';
import { StreamExports, sampleChunks, wholeChunks } from '../../src/renderer/worker/stream-export-handler';
import { streamSensitivity } from '../../src/renderer/worker/stream-sensitivity';
import { loadCase } from '../engine/fixtures';
import {
  bytesOf,
  collector,
  computed,
  deep,
  deepSession,
  graph,
  npy,
  relErr,
  tile,
} from './j-stream-helpers';

/** Helper threads in this process (the real worker-side handler, replies on later macrotasks). */
let helperRuns = 0;
function fakeWorker(): PoolWorker {
  let onMessage: ((m: PoolReply) => void) | undefined;
  const handle = poolWorker((msg) => {
    const copy = structuredClone(msg);
    setTimeout(() => onMessage?.(copy), 0);
  });
  return {
    post(msg: PoolRequest) {
      const copy = structuredClone(msg);
      setTimeout(() => {
        if (copy.type === 'run') helperRuns++;
        handle(copy);
      }, 0);
    },
    onMessage: (cb) => (onMessage = cb),
    onError: () => {},
    terminate: () => {},
  };
}

/**
 * The batch backend as the app's adapter wraps it: three threads. Its helpers start within a first call long
 * enough to be worth them and serve every later call; that call is made here, so that the streamed passes'
 * short chunks go to helpers too.
 */
async function threaded(): Promise<{ backend: BatchBackend; par: ParallelCpuBackend }> {
  const { config, tensors } = loadCase('deep-fno1d');
  const par = new ParallelCpuBackend(config, tensors, fakeWorker, 3, { spawnAfterMs: 0 });
  const x = npy(deep, 'x4.npy');
  const p = npy(deep, 'p4.npy');
  await par.evaluate(tile(x.data, 3), tile(p.data, 3), 3 * x.shape[0], x.shape[1]);
  await new Promise((r) => setTimeout(r, 20));
  const backend: BatchBackend = {
    kind: 'cpu',
    description: par.description,
    forward: (x, p, B, T, o) => par.forward(x, p, B, T, o),
    jacobian: (x, p, B, T, o) => par.jacobian(x, p, B, T, o),
    evaluate: (x, p, B, T, o) => par.evaluate(x, p, B, T, o),
    dispose: () => par.dispose(),
  };
  return { backend, par };
}

const Jref = npy(deep, 'jacobian4_f64.npy');
const [B4, T, O, P] = Jref.shape;
const per = T * O * P;

describe('the whole J streamed to a .npy', () => {
  it('reads back as PyTorch float64 J and as J computed per sample (CPU model, small parts)', async () => {
    const { s, r } = await deepSession(1000);
    expect(r.data.memory.mode).toBe('sample');
    const c = collector(1000);
    const progress: number[] = [];
    const out = await streamWholeJ('full-npy', sampleChunks(r.sample!, null, r.meta), c.sink, {
      partBytes: 1000,
      chunkBytes: 1,
      onProgress: (d, t) => progress.push(d / t),
    });
    expect(out).toEqual({ name: 'J.npy', bytes: c.file().length, dtype: 'float64' });
    expect(c.parts.length).toBeGreaterThan(4 * Math.floor((per * 8) / 1000));
    expect(progress.at(-1)).toBe(1);
    const back = readNpy(c.file(), 'J.npy');
    expect(back.shape).toEqual([B4, T, O, P]);
    expect(back.dtype).toBe('float64');
    expect(relErr(back.data, Jref.data)).toBeLessThan(1e-10);
    for (let b = 0; b < B4; b++)
      expect(Array.from(back.data.subarray(b * per, (b + 1) * per))).toEqual(
        Array.from(r.sample!.block(b).J),
      );
    // The result and its one sample are as they were.
    expect(s.result).toBe(r);
    expect(r.J.length).toBe(per);
  });

  it('float32 when asked: the float32 rounding of the same values', async () => {
    const { r } = await deepSession(1000);
    const c = collector();
    const out = await streamWholeJ('full-npy', sampleChunks(r.sample!, null, r.meta), c.sink, {
      dtype: 'float32',
    });
    expect(out.dtype).toBe('float32');
    const back = readNpy(c.file(), 'J.npy');
    expect(back.dtype).toBe('float32');
    expect(back.shape).toEqual([B4, T, O, P]);
    for (let b = 0; b < B4; b++)
      expect(Array.from(back.data.subarray(b * per, (b + 1) * per))).toEqual(
        Array.from(Float32Array.from(r.sample!.block(b).J)),
      );
  });

  it('on the batch backend with helper threads: the same J as per sample, to 1e-12', async () => {
    const { r } = await deepSession(1000, 3);
    const { backend, par } = await threaded();
    try {
      helperRuns = 0;
      const c = collector();
      await streamWholeJ('full-npy', sampleChunks(r.sample!, backend, r.meta), c.sink, {
        chunkBytes: 6 * per * 8,
      });
      expect(helperRuns, 'the helper threads took chunks').toBeGreaterThan(0);
      const back = readNpy(c.file(), 'J.npy');
      expect(back.shape).toEqual([3 * B4, T, O, P]);
      expect(relErr(back.data, new Float64Array(tile(Jref.data, 3)))).toBeLessThan(1e-10);
      for (let b = 0; b < 3 * B4; b++)
        expect(relErr(back.data.subarray(b * per, (b + 1) * per), r.sample!.block(b).J)).toBeLessThan(1e-12);
    } finally {
      par.dispose();
    }
  });

  it('graph models: J [B,O,P] of a y without a time axis, as PyTorch computed it', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: 8 });
    const r = computed(
      await s.load(['model.pt', 'x.npy', 'p.npy'].map((name) => ({ name, bytes: bytesOf(graph, name) }))),
    );
    expect(r.sample).not.toBeNull();
    // On the CPU the graph backend serves the passes too (with helper threads where there are cores).
    const backend = await s.batchBackend();
    expect(backend?.kind).toBe('cpu');
    expect(backend?.description).toBe('CPU (graph engine, float64)');
    const want = npy(graph, 'J_f64.npy');
    for (const through of [backend, null]) {
      const c = collector();
      await streamWholeJ('full-npy', sampleChunks(r.sample!, through, r.meta), c.sink);
      const back = readNpy(c.file(), 'J.npy');
      expect(back.shape).toEqual(want.shape);
      expect(relErr(back.data, want.data)).toBeLessThan(1e-10);
    }
  });

  it('writes the header np.save writes (engine writeNpy as the reference)', () => {
    for (const shape of [[4, 256, 3, 6], [3, 2], [0, 5], [7]]) {
      const n = shape.reduce((a, d) => a * d, 1);
      for (const dtype of ['float32', 'float64'] as const) {
        const whole = writeNpy({ shape, data: new Float64Array(n) }, dtype);
        const head = npyHeader(shape, dtype);
        expect(Array.from(head)).toEqual(Array.from(whole.subarray(0, head.length)));
        expect(whole.length - head.length).toBe(n * (dtype === 'float32' ? 4 : 8));
      }
    }
  });
});

describe('the whole J streamed to a long CSV', () => {
  it('is byte for byte the in-memory long CSV when J is whole, and the same rows in sample mode', async () => {
    const whole = await deepSession(2 ** 30);
    expect(whole.r.sample).toBeNull();
    const want = longCsv(whole.r.J, { B: B4, T, O, P }, true);
    const c = collector();
    await streamWholeJ('full-csv', wholeChunks(whole.r), c.sink, { chunkBytes: per * 8 });
    expect(c.parts.length).toBeGreaterThan(B4);
    expect(c.file()).toEqual(want);

    const sampled = await deepSession(1000);
    const d = collector();
    const out = await streamWholeJ('full-csv', sampleChunks(sampled.r.sample!, null, sampled.r.meta), d.sink);
    expect(out.name).toBe('J_long.csv');
    const got = new TextDecoder().decode(d.file()).split('\n');
    const ref = new TextDecoder().decode(want).split('\n');
    expect(got.length).toBe(ref.length);
    expect(got[0]).toBe('b,t,o,k,value');
    const values = (lines: string[]) => lines.slice(1, -1).map((l) => Number(l.split(',')[4]));
    const keys = (lines: string[]) => lines.map((l) => l.split(',').slice(0, 4).join(','));
    expect(keys(got)).toEqual(keys(ref));
    expect(relErr(values(got), Jref.data)).toBeLessThan(1e-10);
    expect(relErr(values(got), values(ref))).toBeLessThan(1e-12);
  });
});

describe('the worker side of a streamed export', () => {
  /** Runs one export through StreamExports as the UI thread would answer it; `onPart` may cancel or fail. */
  async function run(
    msg: { seq: number; what: 'full-npy' | 'full-csv'; dtype?: 'float32' | 'float64' },
    session: ConstructorParameters<typeof StreamExports>[0],
    onPart: (n: number) => { cancel?: boolean; error?: string } = () => ({}),
  ) {
    const posted: FromWorker[] = [];
    const parts: Uint8Array[] = [];
    let ended!: (m: FromWorker) => void;
    const end = new Promise<FromWorker>((r) => (ended = r));
    const h: StreamExports = new StreamExports(
      session,
      (m) => {
        posted.push(m);
        if (m.type === 'export-part') {
          parts.push(m.bytes);
          const what = onPart(parts.length);
          if (what.cancel) h.handle({ type: 'export-stream-cancel', id: 7 });
          setTimeout(() => h.handle({ type: 'export-part-ack', id: 7, error: what.error }), 0);
        }
        if (m.type === 'export-stream-end') ended(m);
      },
      (id) => (done, total) => posted.push({ type: 'progress', id, done, total }),
      (e) => (e instanceof Error ? e.message : String(e)),
    );
    expect(h.handle({ type: 'export-stream', id: 7, ...msg })).toBe(true);
    return { end: await end, parts, posted };
  }

  it('sends the file in acknowledged parts, with progress, and says it ended', async () => {
    const { s, r } = await deepSession(1000);
    const { end, parts, posted } = await run({ seq: r.meta.seq, what: 'full-npy' }, s);
    const size = parts.reduce((a, p) => a + p.length, 0);
    expect(end).toEqual({ type: 'export-stream-end', id: 7, ok: true, name: 'J.npy', bytes: size });
    const file = new Uint8Array(size);
    parts.reduce((off, p) => (file.set(p, off), off + p.length), 0);
    expect(relErr(readNpy(file, 'J.npy').data, Jref.data)).toBeLessThan(1e-10);
    const progress = posted.filter((m) => m.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ done: B4, total: B4 });
  });

  it('a cancel stops it: no part after, and the end says cancelled', async () => {
    const { s, r } = await deepSession(1000);
    const { end, parts } = await run({ seq: r.meta.seq, what: 'full-csv' }, s, (n) => ({ cancel: n === 1 }));
    expect(end).toMatchObject({ ok: false, cancelled: true });
    expect(parts.length).toBe(1);
  });

  it("a part main could not write ends it with main's reason; a stale result is refused", async () => {
    const { s, r } = await deepSession(1000);
    const failed = await run({ seq: r.meta.seq, what: 'full-npy' }, s, () => ({
      error: '/x/J.npy: no space',
    }));
    expect(failed.end).toMatchObject({ ok: false, cancelled: false, message: '/x/J.npy: no space' });
    expect(failed.parts.length).toBe(1);
    const stale = await run({ seq: r.meta.seq + 1, what: 'full-npy' }, s);
    expect(stale.end).toMatchObject({ ok: false, message: expect.stringMatching(/result changed/) });
    expect(stale.parts).toEqual([]);
  });
});

describe('the streamed global sensitivity on the batch backend', () => {
  it('equals the CPU model pass to 1e-12 and PyTorch J’s direct measures to 1e-10', async () => {
    const { r } = await deepSession(1000, 3);
    const { backend, par } = await threaded();
    try {
      helperRuns = 0;
      const onBackend = await streamSensitivity(r.sample!, {}, 1e-2, backend);
      expect(helperRuns, 'the helper threads took chunks').toBeGreaterThan(0);
      const onModel = await streamSensitivity(r.sample!, {}, 1e-2, null);
      for (const k of ['nu', 'nuT', 'index', 'elasticity'] as const)
        expect(relErr(onBackend[k]!, onModel[k]!)).toBeLessThan(1e-12);
      expect(Math.abs(onBackend.jAbsMax - onModel.jAbsMax) / onModel.jAbsMax).toBeLessThan(1e-12);
      expect(onBackend.yFloor).toBeCloseTo(onModel.yFloor, 14);
      const want = globalSensitivity(
        tile(Jref.data, 3),
        tile(npy(deep, 'p4.npy').data, 3),
        tile(npy(deep, 'y4_f64.npy').data, 3),
        { B: 3 * B4, T, O, P },
      );
      expect(relErr(onBackend.nu, want.nu)).toBeLessThan(1e-10);
      expect(relErr(onBackend.elasticity, want.elasticity)).toBeLessThan(1e-9);
    } finally {
      par.dispose();
    }
  });

  it('the explorer takes the session batch backend for fno1d-scalar', async () => {
    const { s, r } = await deepSession(1000);
    const real = (await s.batchBackend())!;
    expect(real.kind).toBe('cpu');
    const used = { forward: 0, evaluate: 0 };
    const counted: BatchBackend = {
      ...real,
      kind: real.kind,
      description: real.description,
      forward: (...a) => (used.forward++, real.forward(...a)),
      evaluate: (...a) => (used.evaluate++, real.evaluate(...a)),
    };
    s.batchBackend = async () => counted;
    const ex = new Explorer(s, analysisFns);
    const g = await ex.sensitivityOf(r.meta.seq);
    expect(used.forward).toBeGreaterThan(0);
    expect(used.evaluate).toBeGreaterThan(0);
    expect(g.streamed).toBe(true);
    const want = globalSensitivity(Jref.data, npy(deep, 'p4.npy').data, npy(deep, 'y4_f64.npy').data, {
      B: B4,
      T,
      O,
      P,
    });
    expect(relErr(g.nu, want.nu)).toBeLessThan(1e-10);
    expect(relErr(g.index!, want.index!)).toBeLessThan(1e-9);
  });
});
