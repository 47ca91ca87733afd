/**
 * Streaming derivative-based sensitivity against the in-memory globalSensitivity on the same data:
 * chunks of any size, shards through JSON merged in any order, all equal to 1e-12; bad input refused.
 */
import { describe, expect, it } from 'vitest';
import { globalSensitivity } from '../../../src/engine/analysis/sensitivity';
import {
  StreamingSensitivity,
  absMaxOfOutputs,
  mergeStreaming,
  parseStreamingPartial,
} from '../../../src/engine/analysis/streaming';
import { LoadError, ShapeError } from '../../../src/engine/errors';
import { randn, rng } from '../helpers';

const [B, T, O, P, XF] = [41, 5, 3, 4, 2];

function dataset(seed: number) {
  const r = rng(seed);
  const J = randn(r, B * T * O * P);
  const p = randn(r, B * P, 2).map((v, i) => v + (i % P)); // feature 0 centred at 0, others not
  const y = randn(r, B * T * O).map((v, i) => v + (i % O === 2 ? 1000 : 0)); // output 2: a large mean
  // Some outputs near 0 and one exactly 0: the elasticity's floor has something to skip.
  for (let i = 0; i < y.length; i += 17) y[i] *= 1e-4;
  y[5] = 0;
  const x = randn(r, B * T * XF);
  return { J, p, y, x };
}

function close(a: ArrayLike<number> | null, b: ArrayLike<number> | null, tol = 1e-12) {
  expect(a === null).toBe(b === null);
  if (!a || !b) return;
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (Number.isNaN(b[i])) expect(a[i]).toBeNaN();
    else expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * Math.max(1e-300, Math.abs(b[i])));
  }
}

/** Rows [b0, b1) of the dataset as one chunk's arrays. */
function rows(d: ReturnType<typeof dataset>, b0: number, b1: number) {
  return [
    d.x.subarray(b0 * T * XF, b1 * T * XF),
    d.p.subarray(b0 * P, b1 * P),
    d.J.subarray(b0 * T * O * P, b1 * T * O * P),
    d.y.subarray(b0 * T * O, b1 * T * O),
  ] as const;
}

function stream(d: ReturnType<typeof dataset>, b0: number, b1: number, chunk: number, opts = {}) {
  const s = new StreamingSensitivity({ T, O, P }, opts);
  for (let b = b0; b < b1; b += chunk) s.add(...rows(d, b, Math.min(b1, b + chunk)));
  return s;
}

describe('streaming sensitivity equals globalSensitivity on the same data', () => {
  const d = dataset(1);
  const ref = globalSensitivity(d.J, d.p, d.y, { B, T, O, P });
  // The pre-pass: max |y| per output over all the data, chunk by chunk.
  let yAbsMax: Float64Array | undefined;
  for (let b = 0; b < B; b += 10) yAbsMax = absMaxOfOutputs(rows(d, b, Math.min(B, b + 10))[3], O, yAbsMax);

  it('the data exercise every branch: skipped elasticities, a large mean, p features not centred', () => {
    expect(ref.index).not.toBeNull();
    const skipped = Array.from(d.y).filter((v, i) => !(Math.abs(v) > 1e-2 * yAbsMax![i % O])).length;
    expect(skipped).toBeGreaterThan(3);
  });

  for (const chunk of [1, 7, 16, B])
    it(`in chunks of ${chunk}: ν, ν over time, the index and the elasticity to 1e-12`, () => {
      const r = stream(d, 0, B, chunk, { yAbsMax }).result();
      close(r.nu, ref.nu);
      close(r.nuT, ref.nuT);
      close(r.index, ref.index);
      close(r.elasticity, ref.elasticity);
      expect(r.yFloor).toBe(ref.yFloor);
      expect(r.B).toBe(B);
    });

  it('another relFloor, and without yAbsMax (no elasticity, the rest the same)', () => {
    const ref2 = globalSensitivity(d.J, d.p, d.y, { B, T, O, P }, 0.3);
    close(stream(d, 0, B, 9, { yAbsMax, relFloor: 0.3 }).result().elasticity, ref2.elasticity);
    const r = stream(d, 0, B, 9).result();
    expect(r.elasticity).toBeNull();
    close(r.nu, ref.nu);
    close(r.index, ref.index);
  });

  it('one sample: no index, as in memory', () => {
    const one = globalSensitivity(d.J.subarray(0, T * O * P), d.p.subarray(0, P), d.y.subarray(0, T * O), {
      B: 1,
      T,
      O,
      P,
    });
    const r = stream(d, 0, 1, 1, { yAbsMax: absMaxOfOutputs(d.y.subarray(0, T * O), O) }).result();
    expect(r.index).toBeNull();
    expect(one.index).toBeNull();
    close(r.nu, one.nu);
    close(r.elasticity, one.elasticity);
  });

  it('3 shards through JSON, merged in any order, equal the single pass to 1e-12', () => {
    const cuts = [0, 14, 30, B];
    const parts = [0, 1, 2].map((i) =>
      parseStreamingPartial(
        stream(d, cuts[i], cuts[i + 1], 5 + i, {
          yAbsMax,
          model: 'm1',
          rows: [cuts[i], cuts[i + 1]],
        }).partialJSON(),
        `shard-${i + 1}.json`,
      ),
    );
    for (const order of [
      [0, 1, 2],
      [2, 0, 1],
    ]) {
      const merged = mergeStreaming(order.map((i) => parts[i]));
      expect(merged.ranges).toEqual([[0, B]]);
      const r = merged.result();
      close(r.nu, ref.nu);
      close(r.nuT, ref.nuT);
      close(r.index, ref.index);
      close(r.elasticity, ref.elasticity);
    }
  });

  it('holds O(T·O·P) state however many samples pass', () => {
    const s = new StreamingSensitivity({ T, O, P });
    for (let i = 0; i < 50; i++) s.add(...rows(d, 0, B));
    expect(s.B).toBe(50 * B);
    const held = Object.values(s.a).reduce((n, a) => n + a.length, 0);
    expect(held).toBe(2 * T * O * P + 2 * P + 2 * O + 2 * O * P + O);
  });
});

function error(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('bad input: one clear error', () => {
  const d = dataset(2);
  const [x, p, J, y] = rows(d, 0, 4);
  const s = () => new StreamingSensitivity({ T, O, P }, { yAbsMax: absMaxOfOutputs(y, O) });
  it('chunks of the wrong shape or with non-finite values', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => s().add(x, p.subarray(1), J, y), /p has 15 values: not \[b, 4\]/],
      [() => s().add(x, p, J.subarray(1), y), /J has \d+ values, not \[4, 5, 3, 4\]/],
      [() => s().add(x, p, J, y.subarray(1)), /y has 59 values, not \[4, 5, 3\]/],
      [() => s().add(x.subarray(1), p, J, y), /x has 39 values for 4 samples/],
      [
        () =>
          s().add(
            x,
            p,
            J.map((v, i) => (i === 3 ? NaN : v)),
            y,
          ),
        /J has a non-finite value \(NaN\)/,
      ],
      [
        () =>
          s().add(
            x,
            p,
            J,
            y.map((v) => 2 * v),
          ),
        /exceeds the yAbsMax given/,
      ],
      [() => new StreamingSensitivity({ T, O: 0, P }), /O must be a positive integer/],
      [() => new StreamingSensitivity({ T, O, P }, { yAbsMax: [1] }), /yAbsMax must be 3 finite/],
      [() => new StreamingSensitivity({ T, O, P }).result(), /no samples were added/],
      [
        () => {
          const a = new StreamingSensitivity({ T, O, P }, { rows: [0, 10] });
          a.add(x, p, J, y);
          return a.partialJSON();
        },
        /rows 0–9 are 10 samples but 4 were added/,
      ],
    ];
    for (const [f, message] of cases) {
      const e = error(f);
      expect(e).toBeInstanceOf(ShapeError);
      expect(e.message).toMatch(message);
    }
    // A refused chunk leaves the accumulator as it was.
    const a = s();
    a.add(x, p, J, y);
    const before = a.partialJSON();
    error(() =>
      a.add(
        x,
        p,
        J,
        y.map((v) => 2 * v),
      ),
    );
    expect(a.partialJSON()).toBe(before);
  });
  it('merges of different settings or overlapping shards, and malformed partial files', () => {
    const part = (opts: object) => {
      const a = new StreamingSensitivity({ T, O, P }, opts);
      a.add(x, p, J, y);
      return a;
    };
    const cases: [() => unknown, RegExp][] = [
      [
        () => mergeStreaming([part({ rows: [0, 4] }), part({ rows: [4, 8], relFloor: 0.1 })]),
        /part 2 has relFloor 0.1/,
      ],
      [
        () => mergeStreaming([part({ rows: [0, 4] }), part({ rows: [4, 8], model: 'b' })]),
        /part 2 has model "b"/,
      ],
      [() => mergeStreaming([part({ rows: [0, 4] }), part({ rows: [2, 6] })]), /both cover rows from 2/],
      [() => mergeStreaming([part({ rows: [0, 4] }), part({})]), /do not both name the rows/],
      [() => mergeStreaming([]), /nothing to merge/],
    ];
    for (const [f, message] of cases) expect(error(f).message).toMatch(message);
    const o = JSON.parse(part({}).partialJSON());
    const files: [string, RegExp][] = [
      ['[', /p\.json: .*JSON/],
      ['{}', /not a partial sensitivity result/],
      [JSON.stringify({ ...o, version: 3 }), /version 3 is not supported/],
      [JSON.stringify({ ...o, nuS: o.nuS.slice(1) }), /nuS must be 60 finite numbers/],
      [JSON.stringify({ ...o, B: -1 }), /B must be a non-negative integer/],
      [JSON.stringify({ ...o, dims: { T, O: 2.5, P } }), /O must be a positive integer/],
    ];
    for (const [t, message] of files) {
      const e = error(() => parseStreamingPartial(t, 'p.json'));
      expect(e).toBeInstanceOf(LoadError);
      expect(e.message).toMatch(message);
    }
  });
});
