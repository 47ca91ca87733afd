// The explore tools: the display sources the views draw from, slider ranges, export formats, and the worker's
// Explorer (what-if, sweep, sensitivity, check, compare) with the real engine on the fixtures.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNpy } from '../../src/engine';
import { AXES } from '../../src/renderer/lib/axes';
import type { Axis, Dims } from '../../src/renderer/lib/axes';
import {
  dataSource,
  diffBlocks,
  overlaySource,
  sourceOutputSeries,
  sourceSlice,
  sourceTimeSeries,
} from '../../src/renderer/lib/display';
import { outputByParamCsv, rankParams, sweepCsv, sweepFileName } from '../../src/renderer/lib/explore-format';
import { pRanges } from '../../src/renderer/lib/p-range';
import { extractSlice } from '../../src/renderer/lib/slice';
import { analysisFns, createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { Explorer, StaleError } from '../../src/renderer/worker/explore';
import { exploreExportBytes } from '../../src/renderer/worker/explore-exports';
import { exportBytes } from '../../src/renderer/worker/exports';
import { Session } from '../../src/renderer/worker/session';

const dims: Dims = { B: 3, T: 5, O: 2, P: 4 };
const n = dims.B * dims.T * dims.O * dims.P;
const J = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 0.7) * (1 + i));
const y = Float64Array.from({ length: dims.B * dims.T * dims.O }, (_, i) => Math.cos(i));

describe('display sources', () => {
  const pairs: [Axis, Axis][] = [];
  for (const a of AXES) for (const b of AXES) if (a !== b) pairs.push([a, b]);
  const fixed = { b: 2, t: 3, o: 1, k: 2 };

  it.each(pairs)('cut the same %s × %s slice as extractSlice from the data', (xAxis, yAxis) => {
    const want = extractSlice(J, dims, xAxis, yAxis, fixed);
    const got = sourceSlice(dataSource(J, y, dims), xAxis, yAxis, fixed);
    expect(got).toEqual(want);
  });

  it('replace one sample with a what-if, in slices and series', () => {
    const TOP = dims.T * dims.O * dims.P;
    const J1 = Float64Array.from({ length: TOP }, (_, i) => 1000 + i);
    const y1 = Float64Array.from({ length: dims.T * dims.O }, (_, i) => -i);
    const src = overlaySource(dataSource(J, y, dims), 1, J1, y1);
    const patched = J.slice();
    patched.set(J1, TOP);
    const py = y.slice();
    py.set(y1, dims.T * dims.O);
    for (const [xAxis, yAxis] of pairs)
      for (const b of [0, 1, 2])
        expect(sourceSlice(src, xAxis, yAxis, { ...fixed, b })).toEqual(
          extractSlice(patched, dims, xAxis, yAxis, { ...fixed, b }),
        );
    expect(Array.from(sourceTimeSeries(src, 1, 1, 3))).toEqual(
      Array.from({ length: dims.T }, (_, t) => J1[(t * dims.O + 1) * dims.P + 3]),
    );
    expect(Array.from(sourceOutputSeries(src, 1, 0))).toEqual(
      Array.from({ length: dims.T }, (_, t) => y1[t * dims.O]),
    );
    expect(Array.from(sourceOutputSeries(src, 2, 1))).toEqual(
      Array.from({ length: dims.T }, (_, t) => py[(2 * dims.T + t) * dims.O + 1]),
    );
  });

  it('take the difference of two samples', () => {
    const d = diffBlocks(dataSource(J, y, dims), 2, 0);
    const TOP = dims.T * dims.O * dims.P;
    for (let i = 0; i < TOP; i++) expect(d.J[i]).toBe(J[2 * TOP + i] - J[i]);
    for (let i = 0; i < dims.T * dims.O; i++) expect(d.y[i]).toBe(y[2 * dims.T * dims.O + i] - y[i]);
  });
});

describe('what-if slider ranges', () => {
  it('widen the batch range by 10%, or fall back to p ± 3·max(1,|p|) without spread', () => {
    const p = Float64Array.from([0, 5, 7, 10, 5, -2]); // B = 3, P = 2: feature 1 varies, feature 0 not
    const r = pRanges(Float64Array.from([1, 5, 1, 7, 1, 10]), 3, 2);
    expect(r[0]).toEqual({ lo: -2, hi: 4, spread: false });
    expect(r[1].spread).toBe(true);
    expect(r[1].lo).toBeCloseTo(5 - 0.25, 12);
    expect(r[1].hi).toBeCloseTo(10 + 0.25, 12);
    const one = pRanges(p.subarray(0, 2), 1, 2);
    expect(one).toEqual([
      { lo: -3, hi: 3, spread: false },
      { lo: 5 - 15, hi: 5 + 15, spread: false },
    ]);
    expect(pRanges(Float64Array.from([NaN]), 1, 1)[0]).toEqual({ lo: -3, hi: 3, spread: false });
  });
});

describe('explore export formats', () => {
  it('write a sweep picture with its values, full precision', () => {
    const values = Float64Array.from([-1 / 3, 0.5]);
    const data = Float64Array.from([1, 2, 3, 4, 5, 1 / 7]);
    const lines = new TextDecoder()
      .decode(sweepCsv('theta (p3)', values, data, 3))
      .trimEnd()
      .split('\n');
    expect(lines[0]).toBe('theta (p3),t=0,t=1,t=2');
    expect(lines[1].split(',').map(Number)).toEqual([-1 / 3, 1, 2, 3]);
    expect(lines[2].split(',').map(Number)).toEqual([0.5, 4, 5, 1 / 7]);
    expect(sweepFileName(3, 'theta', 'J', 2, 'u', 5, 'k 5', 'csv')).toBe('sweep_k3-theta_J_o2-u_k5-k_5.csv');
    expect(sweepFileName(3, 'theta', 'y', null, '', null, '', 'npy')).toBe('sweep_k3-theta_y.npy');
  });

  it('rank parameters largest first, NaN last, and average over outputs', () => {
    const m = Float64Array.from([1, 3, NaN, 2, 1, NaN]); // O = 2, P = 3
    expect(rankParams(m, 2, 3, 0)).toEqual([
      { k: 1, value: 3 },
      { k: 0, value: 1 },
      { k: 2, value: NaN },
    ]);
    expect(rankParams(m, 2, 3, -1).map((r) => r.k)).toEqual([1, 0, 2]);
    expect(rankParams(m, 2, 3, -1)[0].value).toBe(2);
    const csv = new TextDecoder().decode(outputByParamCsv(m, ['u', 'v'], ['a', 'b', 'c'])).split('\n');
    expect(csv[0]).toBe('o (output),name,a,b,c');
    expect(csv[1]).toBe('0,u,1,3,NaN');
  });
});

// The committed PyTorch fixtures (test/fixtures/README.md): the seed case, and the deep case for the
// batch of four (the seed case keeps no batch-of-4 Jacobian).
const seed = resolve(__dirname, '../fixtures/fno/seed-fno1d');
const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const file = (dir: string) => (name: string) => ({
  name,
  bytes: new Uint8Array(readFileSync(resolve(dir, name))),
});

function npyF64(name: string, dir = seed): Float64Array {
  const b = readFileSync(resolve(dir, name));
  const hlen = b.readUInt16LE(8);
  return new Float64Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.byteLength));
}

function relErr(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  let e = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}

async function loaded(names: string[], dir = seed) {
  const session = new Session(createEngineAdapter());
  const o = await session.load(names.map(file(dir)));
  if (o.kind !== 'computed') throw new Error(JSON.stringify(o.messages));
  return { session, explorer: new Explorer(session, analysisFns), result: o.result };
}

describe('the worker explorer on the fixtures', () => {
  it('computes a what-if sample: at the loaded p it is J itself, elsewhere a fresh Jacobian', async () => {
    const { session, explorer, result } = await loaded(['model.pt', 'x.npy', 'p.npy']);
    const seq = result.meta.seq;
    const p0 = Array.from(result.p);
    // whatIf answers in reused buffers (one evaluate pass): copy to keep.
    const r0 = explorer.whatIf(seq, 0, p0);
    const same = { J: r0.J.slice(), y: r0.y.slice() };
    expect(relErr(same.J, npyF64('jacobian_f64.npy'))).toBeLessThan(1e-10);
    expect(relErr(same.y, npyF64('y_f64.npy'))).toBeLessThan(1e-10);
    const p1 = p0.slice();
    p1[3] += 0.75;
    const moved = explorer.whatIf(seq, 0, p1);
    const a = session.activeInputs()!;
    expect(moved.J).toEqual(a.net.jacobian(a.xRows.get(0, a.B), Float64Array.from(p1), 1, a.T));
    expect(moved.y).toEqual(a.net.forward(a.xRows.get(0, a.B), Float64Array.from(p1), 1, a.T));
    expect(relErr(moved.J, same.J)).toBeGreaterThan(1e-4);
    expect(moved.J).toBe(r0.J); // the same buffer, reused
    expect(moved.summary.l2.length).toBe(15 * 14);
    // An export of the shown slice carries the what-if values.
    const shown = explorer.shownSource(seq, { whatIf: { b: 0, p: p1 } })!;
    const out = exportBytes(
      session.result,
      {
        type: 'export',
        id: 1,
        what: 'slice-csv',
        slice: { xAxis: 't', yAxis: 'o', fixed: { b: 0, t: 0, o: 0, k: 3 }, whatIf: { b: 0, p: p1 } },
      },
      { writeNpy },
      shown,
    );
    expect(out.name).toBe('J_whatif_k3-p3_t-by-o.csv');
    const row = new TextDecoder().decode(out.bytes).split('\n')[1 + 200].split(',').map(Number);
    expect(row[1 + 4]).toBe(moved.J[(200 * 15 + 4) * 14 + 3]);
    expect(() => explorer.whatIf(seq + 1, 0, p1)).toThrow(StaleError);
    expect(() => explorer.whatIf(seq, 0, p1.slice(1))).toThrow(/14/);
  });

  it('checks derivatives to ≤ 1e-6 at the loaded p and at a what-if point', async () => {
    const { explorer, result } = await loaded(['model.pt', 'x.npy', 'p.npy']);
    const r = explorer.check(result.meta.seq, 0);
    expect(r.whatIf).toBe(false);
    expect(r.kinked).toBe(false);
    expect(r.maxRelError).toBeLessThan(1e-6);
    expect(r.errorMap.length).toBe(15 * 14);
    expect(r.forwardRows).toBe(56);
    const p = Array.from(result.p);
    p[0] -= 1;
    const w = explorer.check(result.meta.seq, 0, p);
    expect(w.whatIf).toBe(true);
    expect(w.maxRelError).toBeLessThan(1e-6);
  });

  it('sweeps one parameter: y and J at each point are the model at that p', async () => {
    const { session, explorer, result } = await loaded(['model.pt', 'x.npy', 'p.npy']);
    const base = Array.from(result.p);
    const m = {
      type: 'sweep' as const,
      id: 7,
      seq: result.meta.seq,
      b: 0,
      base,
      k: 5,
      lo: -2,
      hi: 2,
      n: 5,
      o: 3,
      j: 5,
    };
    const r = await explorer.sweep(m, {});
    expect(Array.from(r.values)).toEqual([-2, -1, 0, 1, 2]);
    const a = session.activeInputs()!;
    const T = a.T;
    for (let i = 0; i < 5; i++) {
      const p = Float64Array.from(base);
      p[5] = r.values[i];
      const yi = a.net.forward(a.xRows.get(0, a.B), p, 1, T);
      const Ji = a.net.jacobian(a.xRows.get(0, a.B), p, 1, T);
      for (let t = 0; t < T; t += 50) {
        // The sweep's points run as one batch, the reference one at a time: equal to rounding.
        expect(Math.abs(r.slice.y[i * T + t] - yi[t * 15 + 3])).toBeLessThanOrEqual(
          1e-14 * Math.max(1, Math.abs(yi[t * 15 + 3])),
        );
        // J likewise: a product may run as a GEMM for the batch and as plain loops for one sample.
        expect(Math.abs(r.slice.J[i * T + t] - Ji[(t * 15 + 3) * 14 + 5])).toBeLessThanOrEqual(
          1e-14 * Math.max(1, Math.abs(Ji[(t * 15 + 3) * 14 + 5])),
        );
      }
    }
    const csv = exploreExportBytes(
      explorer,
      session.result,
      { type: 'export-explore', id: 2, what: 'sweep-y-csv', o: 3, j: 5 },
      { writeNpy },
    );
    expect(csv.name).toBe('sweep_k5-p5_y_o3-y3.csv');
    const lines = new TextDecoder().decode(csv.bytes).trimEnd().split('\n');
    expect(lines).toHaveLength(6);
    expect(lines[0].startsWith('p5,t=0,t=1')).toBe(true);
    expect(Number(lines[2].split(',')[0])).toBe(-1);
    await expect(explorer.sweep({ ...m, n: 1 }, {})).rejects.toThrow(/number of points/);
    const ac = new AbortController();
    ac.abort();
    await expect(explorer.sweep({ ...m, id: 8 }, { signal: ac.signal })).rejects.toThrow();
  });

  it('computes global sensitivity and sample differences over the batch of four (deep case)', async () => {
    const { session, explorer, result } = await loaded(['model.pt', 'config.json', 'x4.npy', 'p4.npy'], deep);
    const seq = result.meta.seq;
    const ref = npyF64('jacobian4_f64.npy', deep);
    const [B, T, O, P] = [4, 256, 3, 6];
    const nu = new Float64Array(O * P);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let i = 0; i < O * P; i++) nu[i] += ref[(b * T + t) * O * P + i] ** 2 / (B * T);
    const g = explorer.sensitivity(seq);
    expect(relErr(g.nu, nu)).toBeLessThan(1e-9);
    expect(g.index).not.toBeNull();
    expect(explorer.sensitivity(seq)).toBe(g); // cached
    const csv = exploreExportBytes(
      explorer,
      session.result,
      { type: 'export-explore', id: 3, what: 'gsa-csv', o: -1, j: 0, measure: 'nu' },
      { writeNpy },
    );
    expect(csv.name).toBe('dgsm_nu.csv');
    expect(Number(new TextDecoder().decode(csv.bytes).split('\n')[1 + 2].split(',')[2 + 5])).toBe(
      g.nu[2 * P + 5],
    );

    const d = explorer.compare(seq, 2, 0);
    const TOP = T * O * P;
    const want = Float64Array.from({ length: TOP }, (_, i) => ref[2 * TOP + i] - ref[i]);
    let e = 0;
    for (let i = 0; i < TOP; i++) e = Math.max(e, Math.abs(d.J[i] - want[i]));
    expect(e).toBeLessThan(1e-10);
    expect(d.summary.l2.length).toBe(O * P);
    const shown = explorer.shownSource(seq, { compare: { b1: 2, b2: 0 } })!;
    expect(shown.prefix).toBe('J_b2-minus-b0');
    expect(shown.source.dims.B).toBe(1);
  });
});
