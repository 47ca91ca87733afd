// The variance-based tab's worker side, in Node with the real engine on the analytic graph fixtures:
// Sobol' indices of the Ishigami function and Sobol's G function against their analytic values (from the
// fixtures' meta.json, written by the generating script) within the reported 95% intervals, the DGSM bound
// against ν·(b−a)²/(π²·Var y) computed here from the formula's derivatives, the default and loaded
// distributions, cancel, and the exports' shapes.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { Session } from '../../src/renderer/worker/session';
import { runSobol, sobolDists } from '../../src/renderer/worker/sobol-run';
import type { SobolCache } from '../../src/renderer/worker/sobol-run';
import { sobolExportBytes } from '../../src/renderer/worker/sobol-exports';
import { SobolHandler } from '../../src/renderer/worker/sobol-handler';
import { fakeWorker, seen } from '../engine/backends/fake-worker';
import type { FromWorker } from '../../src/renderer/worker/protocol';
import type { SobolDist } from '../../src/renderer/worker/sobol-protocol';

const graphDir = resolve(__dirname, '../fixtures/graph');
const file = (fixture: string, name: string) => ({
  name,
  bytes: new Uint8Array(readFileSync(resolve(graphDir, fixture, name))),
});
interface Analytic {
  first_order: number[];
  total: number[];
  variance: number;
}
const analytic = (fixture: string): Analytic =>
  JSON.parse(readFileSync(resolve(graphDir, fixture, 'meta.json'), 'utf8')).sobol_indices;

async function loaded(fixture: string): Promise<Session> {
  const s = new Session(createEngineAdapter());
  const o = await s.load([file(fixture, 'model.pt'), file(fixture, 'p.npy')]);
  if (o.kind !== 'computed') throw new Error(`not computed: ${JSON.stringify(o.messages)}`);
  return s;
}

const uniform = (low: number, high: number, P: number): SobolDist[] =>
  Array.from({ length: P }, () => ({ dist: 'uniform' as const, low, high }));

/** Every index of output o within its 95% half-width (plus `slack`) of the analytic value. */
function expectWithinCi(c: SobolCache, o: number, want: Analytic, slack: number): void {
  const { O, P } = c.shown;
  for (let k = 0; k < P; k++) {
    const i = o * P + k;
    const s1 = c.shown.S1[i];
    const st = c.shown.ST[i];
    expect(
      Math.abs(s1 - want.first_order[k]),
      `S1[${k}] = ${s1} ± ${c.shown.S1_conf[i]}`,
    ).toBeLessThanOrEqual(c.shown.S1_conf[i] + slack);
    expect(Math.abs(st - want.total[k]), `ST[${k}] = ${st} ± ${c.shown.ST_conf[i]}`).toBeLessThanOrEqual(
      c.shown.ST_conf[i] + slack,
    );
    // The intervals are informative: well under the indices' range.
    expect(c.shown.ST_conf[i]).toBeLessThan(0.1);
  }
  expect(O).toBeGreaterThan(o);
}

describe("Sobol' indices in the worker", () => {
  it('a graph model computes them on helper threads too: the one-thread indices', async () => {
    const load = async (threads?: Parameters<typeof createEngineAdapter>[0]) => {
      const s = new Session(createEngineAdapter(threads));
      const o = await s.load([file('analytic-ishigami', 'model.pt'), file('analytic-ishigami', 'p.npy')]);
      if (o.kind !== 'computed') throw new Error(`not computed: ${JSON.stringify(o.messages)}`);
      return s;
    };
    const run = async (s: Session) =>
      runSobol(
        s,
        {
          type: 'sobol',
          id: 1,
          seq: s.result!.meta.seq,
          b: 0,
          N: 256,
          seed: 5,
          distributions: uniform(-Math.PI, Math.PI, 3),
        },
        new AbortController().signal,
      );
    const one = await run(await load());
    const runs = seen.runs;
    const threaded = await load({
      gpu: null,
      threads: { spawn: () => fakeWorker(), count: 3, spawnAfterMs: 0 },
    });
    const many = await run(threaded);
    expect(seen.runs).toBeGreaterThan(runs); // the helpers took part
    for (const key of ['S1', 'ST', 'bound'] as const)
      for (let i = 0; i < one.shown[key].length; i++)
        expect(Math.abs(many.shown[key][i] - one.shown[key][i]), `${key}[${i}]`).toBeLessThanOrEqual(
          1e-12 * Math.max(1, Math.abs(one.shown[key][i])),
        );
  });

  it('Ishigami: S1 and ST of output 0 match the analytic indices within their 95% intervals', async () => {
    const s = await loaded('analytic-ishigami');
    const seq = s.result!.meta.seq;
    const N = 1024;
    const steps: number[] = [];
    const c = await runSobol(
      s,
      { type: 'sobol', id: 1, seq, b: 0, N, seed: 3, distributions: uniform(-Math.PI, Math.PI, 3) },
      new AbortController().signal,
      (done, total) => steps.push(done / total),
    );
    const want = analytic('analytic-ishigami');
    expect([c.shown.T, c.shown.O, c.shown.P, c.shown.timeAxis]).toEqual([1, 2, 3, false]);
    expect(c.shown.evaluations).toBe(N * 5);
    expect(c.shown.jacobians).toBe(N);
    // Var y of output 0 against the analytic variance (Monte Carlo: a few percent).
    expect(Math.abs(c.shown.variance[0] / want.variance - 1)).toBeLessThan(0.05);
    expectWithinCi(c, 0, want, 0.01);
    // Progress climbs to 1.
    expect(steps.at(-1)).toBe(1);
    expect(steps.every((v, i) => i === 0 || v >= steps[i - 1])).toBe(true);

    // DGSM: ν_k = E[(∂y/∂p_k)²] for U(−π, π) from the formula, so bound_k = ν_k·(2π)²/(π²·V).
    const a = 7;
    const b = 0.1;
    const pi4 = Math.PI ** 4;
    const pi8 = Math.PI ** 8;
    // ∂y/∂p0 = cos p0 (1 + b p2⁴): E = ½·(1 + 2b π⁴/5 + b² π⁸/9); ∂y/∂p1 = 2a sin p1 cos p1 = a sin 2p1: E = a²/2;
    // ∂y/∂p2 = 4b p2³ sin p0: E = 16 b² π⁶/7 · ½.
    const nu = [
      0.5 * (1 + (2 * b * pi4) / 5 + (b * b * pi8) / 9),
      (a * a) / 2,
      (8 * b * b * Math.PI ** 6) / 7,
    ];
    for (let k = 0; k < 3; k++) {
      const bound = (nu[k] * 4) / want.variance;
      const got = c.shown.bound[k];
      expect(Math.abs(got - bound), `bound[${k}] ${got} vs ${bound}`).toBeLessThanOrEqual(
        c.shown.bound_conf[k] + 0.05 * bound,
      );
      // The total index respects its bound: no flag.
      expect(c.shown.exceeds[k]).toBe(0);
      expect(want.total[k]).toBeLessThanOrEqual(bound);
    }
  });

  it("Sobol's G: six features, S1 and ST within their intervals", async () => {
    const s = await loaded('analytic-sobol-g');
    const seq = s.result!.meta.seq;
    const c = await runSobol(
      s,
      { type: 'sobol', id: 1, seq, b: 0, N: 1024, seed: 0, distributions: uniform(0, 1, 6) },
      new AbortController().signal,
    );
    expect([c.shown.T, c.shown.O, c.shown.P]).toEqual([1, 1, 6]);
    expectWithinCi(c, 0, analytic('analytic-sobol-g'), 0.01);
  });

  it('defaults: uniform over the batch min…max; a D.json is checked with one message', async () => {
    const s = await loaded('analytic-ishigami');
    const seq = s.result!.meta.seq;
    const p = s.result!.p;
    const d = sobolDists(s, { type: 'sobol-dists', id: 1, seq });
    expect(d.error).toBeUndefined();
    for (let k = 0; k < 3; k++) {
      const col = [p[k], p[3 + k], p[6 + k]];
      expect(d.distributions![k]).toEqual({ dist: 'uniform', low: Math.min(...col), high: Math.max(...col) });
    }
    expect(d.note).toMatch(/min…max over the 3 loaded samples/);

    const good = JSON.stringify([
      { dist: 'uniform', low: -1, high: 1 },
      { dist: 'normal', mean: 0, std: 2 },
      { dist: 'uniform', low: 0, high: 3 },
    ]);
    const ok = sobolDists(s, { type: 'sobol-dists', id: 2, seq, text: good, file: 'D.json' });
    expect(ok.distributions![1]).toEqual({ dist: 'normal', mean: 0, std: 2 });
    // A saved result (S.json) carries its distributions under "distributions".
    const wrapped = JSON.stringify({ distributions: JSON.parse(good) });
    expect(sobolDists(s, { type: 'sobol-dists', id: 3, seq, text: wrapped }).distributions).toHaveLength(3);

    const bad = (text: string) => sobolDists(s, { type: 'sobol-dists', id: 4, seq, text, file: 'D.json' });
    expect(bad('[1,2').error).toMatch(/^D\.json: not valid JSON/);
    expect(bad('[]').error).toMatch(/^D\.json: 0 entries for the model's 3 features/);
    expect(bad(good.replace('"high":1', '"high":-2')).error).toBe(
      'D.json: distributions[0]: low (-1) must be below high (-2)',
    );
    expect(bad(good.replace('"std":2', '"std":0')).error).toMatch(
      /distributions\[1\]: std \(0\) must be positive/,
    );
    expect(bad(good.replace('"normal"', '"beta"')).error).toMatch(
      /distributions\[1\]: unknown distribution "beta"/,
    );
    // Stale: about a result that has been replaced.
    expect(sobolDists(s, { type: 'sobol-dists', id: 5, seq: seq + 1 }).error).toMatch(/data changed/);
  });

  it('cancel stops the run within a step, and the handler says so', async () => {
    const s = await loaded('analytic-sobol-g');
    const seq = s.result!.meta.seq;
    const posted: FromWorker[] = [];
    const adapter = createEngineAdapter();
    const h = new SobolHandler(s, (m) => posted.push(m), adapter);
    // N large enough to take many seconds.
    h.handle({ type: 'sobol', id: 7, seq, b: 0, N: 2 ** 18, seed: 0, distributions: uniform(0, 1, 6) });
    const t0 = performance.now();
    while (!posted.some((m) => m.type === 'progress')) await new Promise((r) => setTimeout(r, 5));
    h.handle({ type: 'sobol-cancel', id: 7 });
    while (!posted.some((m) => m.type === 'sobol-failed')) await new Promise((r) => setTimeout(r, 5));
    const ms = performance.now() - t0;
    const failed = posted.find((m) => m.type === 'sobol-failed')!;
    expect(failed).toMatchObject({ id: 7, cancelled: true, message: 'cancelled' });
    expect(posted.some((m) => m.type === 'sobol-result')).toBe(false);
    const last = posted.filter((m) => m.type === 'progress').at(-1) as { done: number; total: number };
    expect(last.done).toBeLessThan(last.total / 10);
    expect(ms).toBeLessThan(5000);
  });

  it("exports S.json in the CLI's shapes and a long CSV with names", async () => {
    const s = await loaded('analytic-ishigami');
    const seq = s.result!.meta.seq;
    const dists = uniform(-Math.PI, Math.PI, 3);
    const c = await runSobol(
      s,
      { type: 'sobol', id: 1, seq, b: 0, N: 64, seed: 1, distributions: dists },
      new AbortController().signal,
    );
    const json = JSON.parse(new TextDecoder().decode(sobolExportBytes(c, 'sobol-json').bytes));
    expect(json.format).toBe('jacscope-sobol');
    expect(json.outShape).toEqual([2]);
    expect(json.axes).toEqual(['o', 'k']);
    for (const key of ['S1', 'ST', 'S1_conf', 'ST_conf']) {
      expect(json[key]).toHaveLength(2);
      expect(json[key][0]).toHaveLength(3);
    }
    expect(json.S1[1][2]).toBe(c.result.S1[5]);
    expect([json.n, json.evaluations, json.seed]).toEqual([64, 64 * 5, 1]);
    expect(json.distributions).toEqual(dists);
    expect(json.dgsm.bound[0]).toHaveLength(3);
    expect(json.features).toEqual(s.result!.meta.pNames);

    const csv = new TextDecoder().decode(sobolExportBytes(c, 'sobol-csv').bytes).trim().split('\n');
    expect(csv[0]).toBe(
      'o,output,k,feature,S1,S1_conf,ST,ST_conf,nu,dgsm_bound,dgsm_bound_conf,exceeds_bound',
    );
    expect(csv).toHaveLength(1 + 2 * 3);
    const row = csv[1 + 3 + 1].split(',');
    expect(row.slice(0, 1).concat(row.slice(2, 3))).toEqual(['1', '1']);
    expect(Number(row[6])).toBe(c.result.ST[4]);
    expect(() => sobolExportBytes(null, 'sobol-csv')).toThrow(/run them first/);
  });
});

describe("Sobol' indices of an fno1d-scalar model in the worker", () => {
  it("run on the session's batch backend and equal the engine's own run on the float64 model", async () => {
    const dir = resolve(__dirname, '../fixtures/fno/deep-fno1d');
    const f = (name: string) => ({ name, bytes: new Uint8Array(readFileSync(resolve(dir, name))) });
    const s = new Session(createEngineAdapter());
    const o = await s.load([f('model.pt'), f('x4.npy'), f('p4.npy')]);
    if (o.kind !== 'computed') throw new Error(`not computed: ${JSON.stringify(o.messages)}`);
    const backend = await s.batchBackend();
    expect(backend?.kind).toBe('cpu');
    const a = s.activeInputs()!;
    const dists = sobolDists(s, { type: 'sobol-dists', id: 1, seq: a.seq }).distributions!;
    const N = 8;
    const c = await runSobol(
      s,
      { type: 'sobol', id: 2, seq: a.seq, b: 1, N, seed: 5, distributions: dists },
      new AbortController().signal,
    );
    // The same design evaluated one sample at a time on the session's float64 model, through the
    // engine's estimators directly.
    const { sobolPartial, finalizeSobol } = await import('../../src/engine/analysis/sobol');
    const xRow = a.xRows.get(1, 2);
    const rep = (n: number) => {
      const out = new Float64Array(n * a.xPer);
      for (let i = 0; i < n; i++) out.set(xRow, i * a.xPer);
      return out;
    };
    const ref = finalizeSobol(
      await sobolPartial(
        { N, distributions: dists, seed: 5, sampling: 'sobol' },
        {
          evaluate: async (p, n) => {
            const y = new Float64Array(n * a.T * a.O);
            for (let i = 0; i < n; i++)
              y.set(a.net.forward(xRow, p.subarray(i * a.P, (i + 1) * a.P), 1, a.T), i * a.T * a.O);
            return y;
          },
          jacobian: async (p, n) => a.net.jacobianAsync(rep(n), p, n, a.T, {}),
          outShape: [a.T, a.O],
          chunkRows: 4,
        },
      ),
    );
    expect(c.shown.evaluations).toBe(N * (a.P + 2));
    for (const [got, want] of [
      [c.shown.S1, ref.S1],
      [c.shown.ST, ref.ST],
    ] as const) {
      expect(got.length).toBe(want.length);
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect(worst).toBeLessThan(1e-9);
    }
  }, 120_000);
});
