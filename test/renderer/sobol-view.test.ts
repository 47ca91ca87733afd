// What the variance-based tab draws of a Sobol' result: bars at a step and averaged over time (NaN steps left
// out), ranked by ST; the ST matrix for the heatmap; the table's checks and D.json text — on small hand-made
// arrays whose answers are worked out by hand below.
import { describe, expect, it } from 'vitest';
import { barDomain, distProblem, distsJson, sobolBars, stMatrix } from '../../src/renderer/lib/sobol-view';
import type { SobolShown } from '../../src/renderer/worker/sobol-protocol';

/** T = 2, O = 1, P = 2: ST[t=0] = [0.2, 0.6], ST[t=1] = [0.4, NaN] (y constant at t=1 for k=1). */
function shown(): SobolShown {
  const a = (v: number[]) => Float64Array.from(v);
  return {
    seq: 1,
    b: 0,
    T: 2,
    O: 1,
    P: 2,
    timeAxis: true,
    S1: a([0.1, 0.5, 0.3, NaN]),
    ST: a([0.2, 0.6, 0.4, NaN]),
    S1_conf: a([0.01, 0.02, 0.03, NaN]),
    ST_conf: a([0.02, 0.04, 0.06, NaN]),
    bound: a([0.5, 0.55, 0.9, NaN]),
    bound_conf: a([0.01, 0.01, 0.01, NaN]),
    exceeds: Uint8Array.from([0, 1, 0, 0]),
    variance: a([1, 2]),
    n: 8,
    evaluations: 32,
    jacobians: 8,
    seed: 0,
    distributions: [],
    ms: 1,
  };
}

describe('variance-based tab pictures', () => {
  it('bars at one step, ranked by ST, with the exceeding estimate flagged', () => {
    const bars = sobolBars(shown(), 0, 0);
    expect(bars.map((b) => b.k)).toEqual([1, 0]);
    expect(bars[0]).toMatchObject({ s1: 0.5, st: 0.6, stConf: 0.04, bound: 0.55, exceeds: 1, steps: 1 });
  });

  it('bars averaged over time leave out the steps where the index is NaN', () => {
    const bars = sobolBars(shown(), 0, -1);
    const k0 = bars.find((b) => b.k === 0)!;
    expect(k0.st).toBeCloseTo(0.3, 15);
    expect(k0.s1).toBeCloseTo(0.2, 15);
    expect(k0.stConf).toBeCloseTo(0.04, 15);
    expect(k0.bound).toBeCloseTo(0.7, 15);
    expect(k0.steps).toBe(2);
    const k1 = bars.find((b) => b.k === 1)!;
    expect([k1.st, k1.steps, k1.exceeds]).toEqual([0.6, 1, 1]);
  });

  it('ST over time × feature, or output × feature without time', () => {
    const m = stMatrix(shown(), 0);
    expect([m.nx, m.ny]).toEqual([2, 2]);
    expect(Array.from(m.data)).toEqual([0.2, 0.4, 0.6, NaN]);
    const noT = { ...shown(), timeAxis: false, T: 1, O: 2 };
    const n = stMatrix(noT, 0);
    expect([n.nx, n.ny]).toEqual([2, 2]);
    expect(Array.from(n.data)).toEqual([0.2, 0.6, 0.4, NaN]);
  });

  it('the axis shows 0…1 widened to the whiskers', () => {
    expect(barDomain(sobolBars(shown(), 0, 0))).toEqual([0, 1]);
    const wide = sobolBars({ ...shown(), S1: Float64Array.from([-0.2, 0.5, 0.3, 0]) }, 0, 0);
    expect(barDomain(wide)[0]).toBeCloseTo(-0.21, 15);
  });

  it("checks a table row like the engine and writes the CLI's D.json", () => {
    expect(distProblem({ dist: 'uniform', low: 1, high: 1 })).toBe('low must be below high');
    expect(distProblem({ dist: 'normal', mean: 0, std: -1 })).toBe('std must be positive');
    expect(distProblem({ dist: 'uniform', low: NaN, high: 1 })).toBe('low and high must be numbers');
    expect(distProblem({ dist: 'normal', mean: 2, std: 0.5 })).toBeNull();
    const text = distsJson([
      { dist: 'uniform', low: -1.5, high: 2 },
      { dist: 'normal', mean: 0, std: 0.25 },
    ]);
    expect(JSON.parse(text)).toEqual([
      { dist: 'uniform', low: -1.5, high: 2 },
      { dist: 'normal', mean: 0, std: 0.25 },
    ]);
  });
});
