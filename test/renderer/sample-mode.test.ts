// Sample mode in the engine worker's session: when J for every sample is over the memory budget, J is computed
// per sample on demand and the batch views come from one streamed pass. A tiny budget forces it on the committed
// PyTorch fixtures; every value is compared with PyTorch's float64 J (jacobian4_f64.npy, J_f64.npy) and with
// the engine's direct globalSensitivity over that full J.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { globalSensitivity, readNpy, writeNpy } from '../../src/engine';
import { analysisFns, createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { Explorer } from '../../src/renderer/worker/explore';
import { exportBytes } from '../../src/renderer/worker/exports';
import { dataExportBytes } from '../../src/renderer/worker/data-exports';
import { Session } from '../../src/renderer/worker/session';
import type { LoadOutcome } from '../../src/renderer/worker/session';
import { deviceBudget, formatBytes, isOutOfMemory, jMemoryText } from '../../src/renderer/lib/memory-budget';

const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const graph = resolve(__dirname, '../fixtures/graph/mlp-layernorm-noT');
const file = (dir: string, name: string) => ({
  name,
  bytes: new Uint8Array(readFileSync(resolve(dir, name))),
});
const npy = (dir: string, name: string) => readNpy(file(dir, name).bytes, name);

function relErr(a: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(a.length).toBe(want.length);
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(a[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return e / m;
}

function computed(o: LoadOutcome) {
  if (o.kind !== 'computed')
    throw new Error(`expected a result, got ${o.kind}: ${JSON.stringify(o.messages)}`);
  return o.result;
}

const writers = { writeNpy };

async function deepSampled(budget: number) {
  const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: budget });
  const r = computed(await s.load(['model.pt', 'config.json', 'x4.npy', 'p4.npy'].map((n) => file(deep, n))));
  return { s, r, ex: new Explorer(s, analysisFns) };
}

describe('sample mode (J over the memory budget)', () => {
  const Jref = npy(deep, 'jacobian4_f64.npy').data;
  const yref = npy(deep, 'y4_f64.npy').data;
  const p4 = npy(deep, 'p4.npy').data;
  const [B, T, O, P] = npy(deep, 'jacobian4_f64.npy').shape;
  const per = T * O * P;

  it('keeps J whole within the budget and names the size', async () => {
    const { r } = await deepSampled(2 ** 30);
    expect(r.data.memory).toEqual({ mode: 'whole', jBytes: B * per * 8, budgetBytes: 2 ** 30 });
    expect(r.sample).toBeNull();
    expect(r.J.length).toBe(B * per);
  });

  it('holds one sample, computes others on demand, and they are PyTorch float64 J', async () => {
    const { r, ex } = await deepSampled(1000);
    expect(r.data.memory.mode).toBe('sample');
    expect(r.data.memory.jBytes).toBe(B * per * 8);
    expect(r.meta.B).toBe(B);
    expect(r.sampleB).toBe(0);
    expect(r.J.length).toBe(per);
    expect(r.summary.l2.length).toBe(O * P);
    expect(relErr(r.J, Jref.subarray(0, per))).toBeLessThan(1e-10);
    for (const b of [2, 3, 1]) {
      const v = ex.sampleView(r.meta.seq, b);
      expect(relErr(v.J, Jref.subarray(b * per, (b + 1) * per))).toBeLessThan(1e-10);
      expect(relErr(v.y, yref.subarray(b * T * O, (b + 1) * T * O))).toBeLessThan(1e-10);
    }
    expect(() => ex.sampleView(r.meta.seq, B)).toThrow(/not in 0…3/);
    // Compare: two samples' J computed now.
    const c = ex.compare(r.meta.seq, 3, 1);
    const want = new Float64Array(per);
    for (let i = 0; i < per; i++) want[i] = Jref[3 * per + i] - Jref[per + i];
    expect(relErr(c.J, want)).toBeLessThan(1e-9);
    // The derivative check runs on the sample's J.
    expect(ex.check(r.meta.seq, 2).maxRelError).toBeLessThan(1e-6);
  });

  it('streams the global sensitivity: equal to the direct measures over the full J', async () => {
    const { r, ex } = await deepSampled(1000);
    const progress: number[] = [];
    const g = await ex.sensitivityOf(r.meta.seq, { onProgress: (d, t) => progress.push(d / t) });
    expect(g.streamed).toBe(true);
    expect(progress[progress.length - 1]).toBe(1);
    const want = globalSensitivity(Jref, p4, yref, { B, T, O, P });
    expect(relErr(g.nu, want.nu)).toBeLessThan(1e-10);
    expect(relErr(g.nuT, want.nuT)).toBeLessThan(1e-10);
    expect(relErr(g.index!, want.index!)).toBeLessThan(1e-9);
    expect(relErr(g.elasticity, want.elasticity)).toBeLessThan(1e-9);
    // Cached for the exports.
    expect(ex.lastSensitivity()?.nu).toBe((await ex.sensitivityOf(r.meta.seq)).nu);
  });

  it('a cancelled stream says so and leaves the result as it was', async () => {
    const { s, r, ex } = await deepSampled(1000);
    const ac = new AbortController();
    ac.abort();
    await expect(ex.sensitivityOf(r.meta.seq, { signal: ac.signal })).rejects.toThrow(/cancel/i);
    expect(s.result).toBe(r);
  });

  it('refuses exports of the whole J up front with its size; slices and y come from the samples', async () => {
    const { s, r } = await deepSampled(1000);
    const size = formatBytes(B * per * 8);
    for (const what of ['full-npy', 'full-csv', 'full-h5', 'full-mat'] as const)
      expect(() => exportBytes(s.result, { type: 'export', id: 1, what }, writers)).toThrow(
        new RegExp(`J for all 4 samples would need ${size}, over the 1 kB memory budget`),
      );
    const along = { xAxis: 'b' as const, yAxis: 't' as const, fixed: { b: 0, t: 0, o: 0, k: 0 } };
    expect(() =>
      exportBytes(s.result, { type: 'export', id: 1, what: 'slice-npy', slice: along }, writers),
    ).toThrow(/slice along b/);
    // A t×o slice of sample 2 at k = 1.
    const spec = { xAxis: 't' as const, yAxis: 'o' as const, fixed: { b: 2, t: 0, o: 0, k: 1 } };
    const out = exportBytes(s.result, { type: 'export', id: 1, what: 'slice-npy', slice: spec }, writers);
    const sl = readNpy(out.bytes, out.name).data;
    expect(sl.length).toBe(T * O);
    for (let t = 0; t < T; t += 17)
      expect(sl[t * O + 2]).toBeCloseTo(Jref[2 * per + (t * O + 2) * P + 1], 10);
    // y of every sample: over this budget too, refused with its size; within a budget that holds y but not J,
    // forward passes now.
    const yAllMsg = { type: 'export-data' as const, id: 1, what: 'y-all-npy' as const, b: 0 };
    expect(() => dataExportBytes(s.result, null, yAllMsg, writers)).toThrow(
      new RegExp(`y for all 4 samples would need ${formatBytes(B * T * O * 8)}, over the 1 kB memory budget`),
    );
    const mid = await deepSampled(B * T * O * 8 * 2);
    expect(mid.r.data.memory.mode).toBe('sample');
    const yAll = dataExportBytes(mid.s.result, null, yAllMsg, writers);
    expect(relErr(readNpy(yAll.bytes, yAll.name).data, yref)).toBeLessThan(1e-10);
    const y3 = dataExportBytes(
      s.result,
      null,
      { type: 'export-data', id: 1, what: 'y-sample-npy', b: 3 },
      writers,
    );
    expect(relErr(readNpy(y3.bytes, y3.name).data, yref.subarray(3 * T * O))).toBeLessThan(1e-10);
    expect(r.sampleB).toBe(0);
  });

  it('graph models too: the output shape comes from running sample 0', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: 8 });
    const r = computed(await s.load(['model.pt', 'x.npy', 'p.npy'].map((n) => file(graph, n))));
    const Jg = npy(graph, 'J_f64.npy');
    const [Bg, Og, Pg] = Jg.shape;
    expect(r.data.memory).toEqual({ mode: 'sample', jBytes: Bg * Og * Pg * 8, budgetBytes: 8 });
    expect(r.meta.yShape).toEqual([Bg, Og]);
    const ex = new Explorer(s, analysisFns);
    for (let b = 0; b < Bg; b++)
      expect(
        relErr(ex.sampleView(r.meta.seq, b).J, Jg.data.subarray(b * Og * Pg, (b + 1) * Og * Pg)),
      ).toBeLessThan(1e-10);
    const g = await ex.sensitivityOf(r.meta.seq);
    const want = globalSensitivity(Jg.data, npy(graph, 'p.npy').data, npy(graph, 'y_f64.npy').data, {
      B: Bg,
      T: 1,
      O: Og,
      P: Pg,
    });
    expect(relErr(g.nu, want.nu)).toBeLessThan(1e-10);
    expect(relErr(g.elasticity, want.elasticity)).toBeLessThan(1e-9);
  });
});

describe('out of memory', () => {
  it('is reported as such, and the loaded data and its result stay', async () => {
    const engine = createEngineAdapter({ gpu: null });
    let failNext = false;
    const readModel = engine.readModel;
    // The graph model's batch evaluation fails as an allocation beyond the heap does.
    engine.readModel = (bytes, name) => {
      const m = readModel(bytes, name);
      const g = m.graph!;
      const selectBackend = g.selectBackend.bind(g);
      g.selectBackend = async (want) => {
        const b = await selectBackend(want);
        return {
          evaluate: (roles, x, p, hooks) => {
            if (failNext && p.shape[0] > 1) throw new RangeError('Array buffer allocation failed');
            return b.evaluate(roles, x, p, hooks);
          },
          dispose: () => b.dispose(),
        };
      };
      return m;
    };
    const s = new Session(engine);
    const names = ['model.pt', 'x.npy', 'p.npy'];
    const first = computed(await s.load(names.map((n) => file(graph, n))));
    failNext = true;
    const o = await s.load(names.map((n) => file(graph, n)));
    expect(o.kind).toBe('unchanged');
    expect(o.messages.map((m) => m.text).join('\n')).toMatch(
      /^computing J failed: not enough memory for J of 3 samples \(288 bytes\) \(the memory budget for J is 537 MB\); the loaded data and its result stay$/,
    );
    expect(s.result).toBe(first);
  });
});

describe('the memory budget', () => {
  it('follows the device memory within 256 MB … 1 GB, 512 MB when unknown', () => {
    expect(deviceBudget(undefined)).toBe(512 * 2 ** 20);
    expect(deviceBudget(0.5)).toBe(256 * 2 ** 20);
    expect(deviceBudget(4)).toBe(512 * 2 ** 20);
    expect(deviceBudget(8)).toBe(2 ** 30);
  });

  it('names sizes and the mode', () => {
    expect(formatBytes(8.3e9)).toBe('8.3 GB');
    expect(formatBytes(512 * 2 ** 20)).toBe('537 MB');
    expect(formatBytes(14_000)).toBe('14 kB');
    expect(jMemoryText({ mode: 'sample', jBytes: 8.3e9, budgetBytes: 5e8 }, 20000)).toMatch(
      /^J for all 20,000 samples would need 8.3 GB, over the 500 MB budget: kept per sample/,
    );
  });

  it('tells an allocation failure from other range errors', () => {
    let caught: unknown;
    try {
      new Float64Array(2 ** 52);
    } catch (e) {
      caught = e;
    }
    expect(isOutOfMemory(caught)).toBe(true);
    expect(isOutOfMemory(new RangeError('sample 3 is out of range'))).toBe(false);
    expect(isOutOfMemory(new Error('Array buffer allocation failed'))).toBe(false);
  });
});
