/** Input distributions for Sobol' indices: parsing with one clear error per bad entry, defaults, mapping. */
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../../src/engine/errors';
import {
  centreOf,
  defaultDistributions,
  fromUnit,
  parseDistributions,
  poincareConstant,
} from '../../../src/engine/analysis/sobol/distributions';
import { parseShard, resolveSobolSettings, shardRows } from '../../../src/engine/analysis/sobol/settings';

function error(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseDistributions', () => {
  it('reads uniform and normal entries from JSON text or parsed JSON', () => {
    const text = '[{"dist":"uniform","low":-1,"high":2},{"dist":"normal","mean":3,"std":0.5}]';
    const want = [
      { dist: 'uniform', low: -1, high: 2 },
      { dist: 'normal', mean: 3, std: 0.5 },
    ];
    expect(parseDistributions(text, 2)).toEqual(want);
    expect(parseDistributions(JSON.parse(text), 2)).toEqual(want);
  });
  const cases: [string, unknown, number, RegExp][] = [
    ['not JSON', '[{"dist":', 1, /not valid JSON/],
    ['not an array', { dist: 'uniform', low: 0, high: 1 }, 1, /expected a JSON array/],
    ['too few entries', [{ dist: 'uniform', low: 0, high: 1 }], 2, /1 entries for the model's 2 features/],
    [
      'too many entries',
      [
        { dist: 'uniform', low: 0, high: 1 },
        { dist: 'normal', mean: 0, std: 1 },
      ],
      1,
      /2 entries/,
    ],
    [
      'low = high',
      [{ dist: 'uniform', low: 1, high: 1 }],
      1,
      /distributions\[0\]: low \(1\) must be below high \(1\)/,
    ],
    ['low > high', [{ dist: 'uniform', low: 2, high: 1 }], 1, /low \(2\) must be below high \(1\)/],
    ['std = 0', [{ dist: 'normal', mean: 0, std: 0 }], 1, /distributions\[0\]: std \(0\) must be positive/],
    ['std < 0', [{ dist: 'normal', mean: 0, std: -1 }], 1, /std \(-1\) must be positive/],
    [
      'NaN',
      [{ dist: 'uniform', low: NaN, high: 1 }],
      1,
      /distributions\[0\]\.low must be a finite number, got NaN/,
    ],
    [
      'Infinity',
      [{ dist: 'normal', mean: Infinity, std: 1 }],
      1,
      /mean must be a finite number, got Infinity/,
    ],
    ['a string number', [{ dist: 'uniform', low: '0', high: 1 }], 1, /low must be a finite number/],
    ['a missing bound', [{ dist: 'uniform', low: 0 }], 1, /high must be a finite number, got nothing/],
    ['an unknown dist', [{ dist: 'lognormal', mean: 0, std: 1 }], 1, /unknown distribution "lognormal"/],
    ['no dist', [{ low: 0, high: 1 }], 1, /unknown distribution undefined/],
    ['a misspelt key', [{ dist: 'uniform', low: 0, hi: 1 }], 1, /unexpected key "hi" for a uniform/],
    ['keys of the other kind', [{ dist: 'normal', low: 0, high: 1 }], 1, /unexpected key "low" for a normal/],
    ['an entry not an object', [3], 1, /distributions\[0\]: expected an object/],
  ];
  for (const [what, input, P, message] of cases)
    it(`refuses ${what} with one clear error`, () => {
      const e = error(() => parseDistributions(input, P));
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toMatch(message);
    });
  it('names the bad entry among good ones', () => {
    const e = error(() =>
      parseDistributions(
        [
          { dist: 'uniform', low: 0, high: 1 },
          { dist: 'uniform', low: 0, high: 1 },
          { dist: 'normal', mean: 1, std: -2 },
        ],
        3,
      ),
    );
    expect(e.message).toMatch(/^distributions\[2\]/);
  });
});

describe('defaultDistributions', () => {
  it("is uniform over each feature's min…max over the batch", () => {
    const p = Float64Array.from([1, -5, 0, 3, 2, 0, 2, -1, 0]); // B=3, P=3; feature 2 never varies
    expect(defaultDistributions(p, 3, 3)).toEqual([
      { dist: 'uniform', low: 1, high: 3 },
      { dist: 'uniform', low: -5, high: 2 },
      { dist: 'uniform', low: -0.1, high: 0.1 },
    ]);
  });
  it('with one sample is p ± 10% (±0.1 at 0)', () => {
    const d = defaultDistributions(Float64Array.from([10, -2, 0]), 1, 3);
    expect(d[0]).toEqual({ dist: 'uniform', low: 9, high: 11 });
    expect(d[1].dist === 'uniform' && [d[1].low, d[1].high]).toEqual([-2.2, -1.8]);
    expect(d[2]).toEqual({ dist: 'uniform', low: -0.1, high: 0.1 });
  });
  it('refuses non-finite p and a wrong length', () => {
    expect(error(() => defaultDistributions(Float64Array.from([1, NaN]), 1, 2)).message).toMatch(
      /p\[0, 1\] is NaN/,
    );
    expect(error(() => defaultDistributions(Float64Array.from([1, 2, 3]), 2, 2)).message).toMatch(
      /3 values for B = 2/,
    );
  });
});

describe('mapping from the unit interval', () => {
  it('uniform is affine, normal the inverse CDF; centres and Poincaré constants', () => {
    const u = { dist: 'uniform', low: -2, high: 6 } as const;
    const n = { dist: 'normal', mean: 1, std: 2 } as const;
    expect(fromUnit(u, 0.25)).toBe(0);
    expect(fromUnit(n, 0.5)).toBe(1);
    expect(fromUnit(n, 0.975)).toBeCloseTo(1 + 2 * 1.959963984540054, 14);
    expect(centreOf(u)).toBe(2);
    expect(centreOf(n)).toBe(1);
    expect(poincareConstant(u)).toBeCloseTo(64 / Math.PI ** 2, 14);
    expect(poincareConstant(n)).toBe(4);
  });
});

describe('settings and shards', () => {
  const U = [{ dist: 'uniform' as const, low: 0, high: 1 }];
  it('fills defaults and refuses bad settings with one clear error each', () => {
    const s = resolveSobolSettings({ N: 50, distributions: U }, false);
    expect(s).toMatchObject({
      N: 50,
      P: 1,
      seed: 0,
      sampling: 'sobol',
      blocks: 50,
      resamples: 100,
      dgsm: false,
    });
    expect(error(() => resolveSobolSettings({ N: 1, distributions: U }, false)).message).toMatch(
      /N \(base rows\)/,
    );
    expect(error(() => resolveSobolSettings({ N: 2.5, distributions: U }, false)).message).toMatch(
      /N \(base rows\)/,
    );
    expect(error(() => resolveSobolSettings({ N: 8, distributions: U, seed: -1 }, false)).message).toMatch(
      /seed/,
    );
    expect(error(() => resolveSobolSettings({ N: 8, distributions: U, blocks: 1 }, false)).message).toMatch(
      /blocks/,
    );
    expect(error(() => resolveSobolSettings({ N: 8, distributions: [] }, false)).message).toMatch(
      /distributions/,
    );
    expect(
      error(() => resolveSobolSettings({ N: 8, distributions: U, sampling: 'halton' as never }, false))
        .message,
    ).toMatch(/sampling must be 'sobol' or 'random'/);
    const many = Array.from({ length: 129 }, () => U[0]);
    expect(error(() => resolveSobolSettings({ N: 8, distributions: many }, false)).message).toMatch(
      /up to 128 features/,
    );
    expect(resolveSobolSettings({ N: 8, distributions: many, sampling: 'random' }, false).P).toBe(129);
  });
  it('the default number of blocks is 100 unless their sums would pass 128 MiB (never under 10)', () => {
    expect(resolveSobolSettings({ N: 8192, distributions: U }, false).blocks).toBe(100);
    // 50000 elements × (4 + 3·1) sums × 8 bytes = 2.8 MB a block: 47 blocks in 128 MiB.
    expect(resolveSobolSettings({ N: 8192, distributions: U }, false, 50000).blocks).toBe(47);
    expect(resolveSobolSettings({ N: 8192, distributions: U }, true, 1e7).blocks).toBe(10);
    expect(resolveSobolSettings({ N: 8192, distributions: U, blocks: 64 }, false, 1e7).blocks).toBe(64);
  });
  it('parses --shard i/n (1-based) and splits N rows into contiguous ranges covering 0..N once', () => {
    expect(parseShard('2/4')).toEqual({ index: 1, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', '1', 'a/b', '1/2/3'])
      expect(error(() => parseShard(bad)).message).toMatch(/--shard must be i\/n/);
    for (const [N, n] of [
      [1000, 4],
      [7, 7],
      [8192, 3],
    ]) {
      let next = 0;
      for (let i = 0; i < n; i++) {
        const [a, b] = shardRows(N, { index: i, count: n });
        expect(a).toBe(next);
        expect(b).toBeGreaterThan(a);
        next = b;
      }
      expect(next).toBe(N);
    }
    expect(error(() => shardRows(3, { index: 0, count: 4 })).message).toMatch(
      /cannot be split into 4 shards/,
    );
  });
});
