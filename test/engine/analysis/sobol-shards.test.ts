/**
 * Sobol' runs in pieces: shards merged (through their JSON files, in any order) give the single
 * run's result; parts of different runs are refused; bounded memory, progress, cancel, bad outputs.
 */
import { describe, expect, it } from 'vitest';
import {
  type SobolResult,
  type SobolSettings,
  mergeSobol,
  mergeSobolPartials,
  parseSobolPartial,
  saltelliRows,
  sobol,
  sobolPartial,
  sobolPartialToJSON,
} from '../../../src/engine/analysis/sobol';
import { resolveSobolSettings } from '../../../src/engine/analysis/sobol/settings';
import { CancelledError, LoadError, ShapeError } from '../../../src/engine/errors';

const P = 3;
/** Two outputs per sample: Ishigami and a smooth function with a large mean (the centring matters). */
function model(p: Float64Array, n: number, J?: Float64Array): Float64Array {
  const y = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    const [a, b, c] = [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
    y[2 * i] = Math.sin(a) + 7 * Math.sin(b) ** 2 + 0.1 * c ** 4 * Math.sin(a);
    y[2 * i + 1] = 1e4 + Math.exp(0.3 * a) * b + c * c;
    if (J) {
      J.set(
        [Math.cos(a) * (1 + 0.1 * c ** 4), 14 * Math.sin(b) * Math.cos(b), 0.4 * c ** 3 * Math.sin(a)],
        6 * i,
      );
      J.set([0.3 * Math.exp(0.3 * a) * b, Math.exp(0.3 * a), 2 * c], 6 * i + 3);
    }
  }
  return y;
}
const evaluate = async (p: Float64Array, n: number) => model(p, n);
const jacobian = async (p: Float64Array, n: number) => {
  const J = new Float64Array(n * 2 * P);
  model(p, n, J);
  return J;
};
const U = { dist: 'uniform', low: -Math.PI, high: Math.PI } as const;
const settings: SobolSettings = {
  N: 1000, // not a multiple of the shard count nor of the blocks: blocks straddle shards
  distributions: [U, { dist: 'normal', mean: 0.5, std: 1.5 }, U],
  seed: 99,
  blocks: 37,
  resamples: 60,
};

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1, Math.abs(b[i])));
}

function sameResult(a: SobolResult, b: SobolResult) {
  for (const k of ['S1', 'ST', 'S1_conf', 'ST_conf', 'mean', 'variance'] as const) close(a[k], b[k]);
  for (const k of ['nu', 'bound', 'bound_conf'] as const) close(a.dgsm![k], b.dgsm![k]);
  expect(Array.from(a.dgsm!.exceeds)).toEqual(Array.from(b.dgsm!.exceeds));
  expect([a.n, a.evaluations, a.seed, a.fingerprint]).toEqual([b.n, b.evaluations, b.seed, b.fingerprint]);
}

function error(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('shards', () => {
  it('4 shards, written as JSON and merged in any order, equal the single run to 1e-12', async () => {
    const single = await sobol(settings, { evaluate, jacobian });
    const parts = [];
    for (let i = 0; i < 4; i++) {
      // Different chunk sizes per shard: chunking does not change the result.
      const part = await sobolPartial(settings, {
        evaluate,
        jacobian,
        shard: { index: i, count: 4 },
        chunkRows: 13 + 10 * i,
      });
      parts.push(parseSobolPartial(sobolPartialToJSON(part), `shard-${i + 1}.json`));
    }
    sameResult(mergeSobol([parts[2], parts[0], parts[3], parts[1]]), single);
    sameResult(mergeSobol(parts), single);
    // Merging partial merges is the same again.
    sameResult(
      mergeSobol([mergeSobolPartials([parts[3], parts[1]]), mergeSobolPartials([parts[0], parts[2]])]),
      single,
    );
    expect(single.S1.length).toBe(2 * P);
  });

  it('shards evaluate exactly the rows the single run evaluates, once each', async () => {
    const s = resolveSobolSettings(settings, false);
    const seen: Float64Array[] = [];
    const record = async (p: Float64Array, n: number) => {
      seen.push(Float64Array.from(p.subarray(0, n * P)));
      return model(p, n);
    };
    for (let i = 0; i < 3; i++)
      await sobolPartial(settings, { evaluate: record, shard: { index: i, count: 3 }, chunkRows: 1000 });
    const all = saltelliRows(s, 0, 1000);
    // Each shard's batch is its own rows' design, then the centre point.
    const starts = [0, 333, 666, 1000];
    for (let i = 0; i < 3; i++) {
      const rows = starts[i + 1] - starts[i];
      const own = saltelliRows(s, starts[i], rows);
      expect(seen[i].subarray(0, (P + 2) * rows * P)).toEqual(own);
      // A rows of the shard are rows starts[i].. of the single design's A block.
      expect(own.subarray(0, rows * P)).toEqual(all.subarray(starts[i] * P, starts[i + 1] * P));
    }
  });

  it('refuses parts of different runs, the same shard twice, and an incomplete set', async () => {
    const opts = { evaluate, jacobian };
    const a = await sobolPartial(settings, { ...opts, shard: { index: 0, count: 2 } });
    const b = await sobolPartial(settings, { ...opts, shard: { index: 1, count: 2 } });
    const otherSeed = await sobolPartial(
      { ...settings, seed: 100 },
      { ...opts, shard: { index: 1, count: 2 } },
    );
    const otherDist = await sobolPartial(
      { ...settings, distributions: [U, U, U] },
      { ...opts, shard: { index: 1, count: 2 } },
    );
    const noJ = await sobolPartial(settings, { evaluate, shard: { index: 1, count: 2 } });
    const otherModel = await sobolPartial(settings, {
      evaluate: async (p, n) => model(p, n).map((v) => v * 2),
      jacobian,
      shard: { index: 1, count: 2 },
    });
    const labelled = await sobolPartial(
      { ...settings, model: 'sha:abc' },
      { ...opts, shard: { index: 1, count: 2 } },
    );
    const cases: [unknown[], RegExp][] = [
      [[a, otherSeed], /different runs: part 2 has seed 100 where part 1 has 99/],
      [[a, otherDist], /part 2 has distributions/],
      [[a, noJ], /part 2 has dgsm false where part 1 has true/],
      [[a, labelled], /part 2 has model "sha:abc" where part 1 has ""/],
      [[a, otherModel], /part 2's model gave y = .* at the distributions' centre/],
      [[a, b, b], /parts 2 and 3 both cover base rows from 500 \(the same shard twice\?\)/],
      [[a], /lacks base rows 500–999 of 0–999: merge every shard/],
      [[b], /lacks base rows 0–499 of 0–999/],
      [[], /nothing to merge/],
    ];
    for (const [parts, message] of cases) {
      const e = error(() => mergeSobol(parts as never));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toMatch(message);
    }
  });

  it('refuses a malformed or edited partial file with a LoadError naming it', async () => {
    const part = await sobolPartial(settings, { evaluate, shard: { index: 0, count: 2 } });
    const text = sobolPartialToJSON(part);
    const o = JSON.parse(text);
    const variants: [string, RegExp][] = [
      ['{', /shard\.json: not valid JSON/],
      ['{"format":"other"}', /not a partial Sobol' result/],
      [JSON.stringify({ ...o, version: 2 }), /version 2 is not supported/],
      [JSON.stringify({ ...o, settings: { ...o.settings, seed: 1 } }), /fingerprint does not match/],
      [JSON.stringify({ ...o, settings: { ...o.settings, N: 1 } }), /settings: N \(base rows\)/],
      [JSON.stringify({ ...o, sums: o.sums.slice(1) }), /sums has \d+ numbers, not \d+/],
      [JSON.stringify({ ...o, centre: [null, 1] }), /centre must be a list of finite numbers/],
      [JSON.stringify({ ...o, ranges: [[0, 2000]] }), /range \[0,2000\] is not within 0..1000/],
      [JSON.stringify({ ...o, evaluations: -1 }), /evaluations must be a non-negative integer/],
    ];
    for (const [t, message] of variants) {
      const e = error(() => parseSobolPartial(t, 'shard.json'));
      expect(e).toBeInstanceOf(LoadError);
      expect(e.message).toMatch(message);
    }
    // The untouched text reads back bit for bit.
    const back = parseSobolPartial(text);
    expect(back.sums).toEqual(part.sums);
    expect(back.comp).toEqual(part.comp);
    expect(back.blockSums).toEqual(part.blockSums);
  });
});

describe('a run', () => {
  it('holds one chunk of outputs at a time: batches of chunkRows·(P+2) (+1 for the centre)', async () => {
    const sizes: number[] = [];
    await sobol(
      { ...settings, N: 4096 },
      {
        evaluate: async (p, n) => {
          sizes.push(n);
          return model(p, n);
        },
        chunkRows: 64,
      },
    );
    expect(Math.max(...sizes)).toBe(64 * (P + 2) + 1);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(4096 * (P + 2) + 1);
  });

  it('sizes the default number of blocks by the output: 79 for 30000 elements of one feature', async () => {
    const E = 30000;
    const r = await sobol(
      { N: 80, distributions: [U], resamples: 5 },
      {
        evaluate: async (p, n) => {
          const y = new Float64Array(n * E);
          for (let s = 0; s < n; s++) for (let e = 0; e < E; e++) y[s * E + e] = p[s] * (1 + e);
          return y;
        },
        chunkRows: 16,
      },
    );
    expect(r.blocks).toBe(79);
    expect(r.S1.length).toBe(E);
  });

  it('reports progress and stops on cancel with a CancelledError', async () => {
    const progress: number[] = [];
    await sobol(
      { ...settings, N: 300 },
      { evaluate, chunkRows: 64, onProgress: (d, t) => progress.push(d / t) },
    );
    expect(progress).toEqual([64, 128, 192, 256, 300].map((d) => d / 300));
    const ctl = new AbortController();
    let calls = 0;
    const run = sobol(
      { ...settings, N: 4096 },
      {
        evaluate: async (p, n) => {
          if (++calls === 3) ctl.abort();
          return model(p, n);
        },
        signal: ctl.signal,
      },
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(calls).toBe(3);
  });

  it('refuses non-finite or mis-sized outputs with one clear error', async () => {
    const s = { ...settings, N: 64 };
    await expect(
      sobol(s, { evaluate: async (p, n) => model(p, n).map((v, i) => (i === 7 ? NaN : v)) }),
    ).rejects.toThrow(/the model's output is NaN at p = \[.*\]: Sobol' indices need finite outputs/);
    await expect(sobol(s, { evaluate: async (p, n) => model(p, n).subarray(1) })).rejects.toThrow(
      /the model returned \d+ values for \d+ samples/,
    );
    await expect(sobol(s, { evaluate, outShape: [3] })).rejects.toThrow(
      /returned 2 values per sample where the output shape \[3\] has 3/,
    );
    await expect(
      sobol(s, { evaluate, jacobian: async (p, n) => new Float64Array(n * 2 * P).fill(Infinity) }),
    ).rejects.toThrow(/the model's Jacobian is Infinity at p = /);
    await expect(sobol(s, { evaluate, shard: { index: 0, count: 2 } })).rejects.toThrow(/use sobolPartial/);
  });
});
