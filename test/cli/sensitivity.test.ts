/**
 * `jacscope sensitivity` and `jacscope merge` as a user runs them (the real bin script, a child
 * process) on datasets generated here: the streamed measures against the in-memory
 * globalSensitivity of the same samples, .npy and .npz (stored and deflated) alike, shards merged
 * into exactly the single run, a TorchScript model, peak memory that does not grow with the number
 * of samples, and bad input.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { globalSensitivity } from '../../src/engine/analysis/sensitivity';
import { writeNpy } from '../../src/engine/io/npy';
import { Fno1dScalar } from '../../src/engine/models/fno1d-scalar';
import { GraphModel } from '../../src/engine/models/graph-model';
import { RULES } from '../../src/engine/graph/table';
import { readTorchScript } from '../../src/engine/torchscript/archive';
import { graphHost } from '../../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../../src/engine/torchscript/program';
import { fixturePath, loadCase } from '../engine/fixtures';
import { randn, rng } from '../engine/helpers';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const GRAPH = fileURLToPath(new URL('../fixtures/graph/', import.meta.url));
const MODEL = fixturePath('deep-fno1d', 'model.pt');
const dir = mkdtempSync(join(tmpdir(), 'jacscope-sensitivity-cli-'));
/** Writes the child's peak resident memory (KiB) to $RSS_OUT when it exits. */
const RSS_HOOK = join(dir, 'rss-hook.cjs');
writeFileSync(
  RSS_HOOK,
  "process.on('exit', () => { if (process.env.RSS_OUT) require('node:fs').writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS)); });\n",
);

function jacscope(args: string[], rssOut?: string) {
  // For the memory measurement, V8 keeps a small young generation and a bounded old space, so that
  // the peak shows what is live rather than how much garbage the collector let pile up (with the
  // defaults, the peak wanders by tens of MB from run to run). Data kept in memory would still show
  // (typed arrays live outside the V8 heap) or run out of the heap.
  const node = rssOut ? ['--max-semi-space-size=2', '--max-old-space-size=128', '--require', RSS_HOOK] : [];
  const r = spawnSync(process.execPath, [...node, BIN, ...args], {
    encoding: 'utf8',
    timeout: 600_000,
    env: { ...process.env, RSS_OUT: rssOut ?? '' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]) {
  const r = jacscope(args);
  expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('note: '))).toEqual([]);
  expect(r.code).toBe(0);
  return r;
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
const flat = (v: unknown): number[] =>
  Array.isArray(v) ? v.flatMap(flat) : [v === null ? NaN : (v as number)];

/** Every number of `got` equal to `want`'s to 1e-12 of the largest magnitude of `want`. */
function close(got: unknown, want: ArrayLike<number>, key: string) {
  const x = flat(got);
  expect(x.length, key).toBe(want.length);
  let scale = 1e-300;
  for (let i = 0; i < want.length; i++)
    if (Number.isFinite(want[i])) scale = Math.max(scale, Math.abs(want[i]));
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(want[i])) expect(x[i], key).toBeNaN();
    else expect(Math.abs(x[i] - want[i]), `${key}[${i}]`).toBeLessThanOrEqual(1e-12 * scale);
  }
}

/** Two result files equal to 1e-12 (their numbers), and in everything else. */
function sameResult(a: string, b: string) {
  const A = json(a);
  const B = json(b);
  for (const k of ['nu', 'nuT', 'index', 'elasticity', 'yAbsMax']) close(A[k], flat(B[k]), k);
  expect({ ...A, nu: 0, nuT: 0, index: 0, elasticity: 0 }).toEqual({
    ...B,
    nu: 0,
    nuT: 0,
    index: 0,
    elasticity: 0,
  });
}

const npy = (shape: number[], data: Float64Array, dtype: 'float32' | 'float64' = 'float64') =>
  writeNpy({ shape, data }, dtype);

/** N samples for deep-fno1d (Xf = 5, P = 6) with T time steps: x and p as .npy files. */
function dataset(name: string, N: number, T: number, seed: number) {
  const r = rng(seed);
  // float32-representable values, so that an .npz of float32 holds exactly the same samples.
  const x = randn(r, N * T * 5).map(Math.fround);
  const p = randn(r, N * 6).map((v, i) => Math.fround(v + (i % 6) * 0.5));
  const xf = join(dir, `${name}-x.npy`);
  const pf = join(dir, `${name}-p.npy`);
  writeFileSync(xf, npy([N, T, 5], x));
  writeFileSync(pf, npy([N, 6], p));
  return { x, p, xf, pf, N, T };
}

describe('jacscope sensitivity streams a dataset', () => {
  const d = dataset('a', 90, 24, 1);
  const { config, tensors } = loadCase('deep-fno1d');
  const single = join(dir, 'a.json');
  /** The single run, chunks of 7 on one thread: every other test compares with it. */
  let ran: ReturnType<typeof ok> | undefined;
  const singleRun = () =>
    (ran ??= ok(
      'sensitivity',
      '--model',
      MODEL,
      '--x',
      d.xf,
      '--p',
      d.pf,
      '--chunk',
      '7',
      '--threads',
      '1',
      '--out',
      single,
    ));

  it('equals globalSensitivity of the same samples in memory, to 1e-12', () => {
    const r = singleRun();
    expect(r.stdout).toMatch(/sensitivity of 90 samples, outputs \[24,3\] × P = 6/);
    const { y, J } = new Fno1dScalar(config, tensors).evaluate(d.x, d.p, d.N, d.T);
    const [O, P] = [3, 6];
    const ref = globalSensitivity(J, d.p, y, { B: d.N, T: d.T, O, P });
    const S = json(single);
    expect(S).toMatchObject({
      format: 'jacscope-sensitivity',
      samples: 90,
      outShape: [24, 3],
      P: 6,
      yFloor: 0.01,
    });
    close(S.nu, ref.nu, 'nu');
    close(S.nuT, ref.nuT, 'nuT');
    close(S.index, ref.index!, 'index');
    close(S.elasticity, ref.elasticity, 'elasticity');
    const max = new Float64Array(O);
    for (let i = 0; i < y.length; i++) max[i % O] = Math.max(max[i % O], Math.abs(y[i]));
    // max |y| comes from the forward pass (runs of several samples), the reference from the
    // Jacobian's one-sample runs: equal to rounding.
    close(S.yAbsMax, max, 'yAbsMax');
    // The chunk size and the threads change nothing.
    const other = join(dir, 'a-chunks.json');
    ok(
      'sensitivity',
      '--model',
      MODEL,
      '--x',
      d.xf,
      '--p',
      d.pf,
      '--chunk',
      '32',
      '--threads',
      '2',
      '--out',
      other,
    );
    sameResult(other, single);
  });

  it('reads .npz members in place (stored) or inflating as it goes (deflated), float32 or float64', () => {
    singleRun();
    const x = npy([d.N, d.T, 5], d.x, 'float32');
    const p = npy([d.N, 6], d.p);
    const stored = join(dir, 'a-stored.npz');
    const deflated = join(dir, 'a-deflated.npz');
    writeFileSync(stored, zipSync({ 'p.npy': [p, { level: 0 }], 'x.npy': [x, { level: 0 }] }));
    writeFileSync(
      deflated,
      zipSync({ 'func_inp.npy': [x, { level: 6 }], 'scalar_inp.npy': [p, { level: 6 }] }),
    );
    for (const f of [stored, deflated]) {
      const out = `${f}.json`;
      ok('sensitivity', '--model', MODEL, '--data', f, '--chunk', '7', '--threads', '1', '--out', out);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(single, 'utf8'));
    }
    // One array of an .npz by name, the other from .npy.
    const out = join(dir, 'a-mixed.json');
    ok(
      'sensitivity',
      '--model',
      MODEL,
      '--x',
      `${deflated}:func_inp`,
      '--p',
      d.pf,
      '--chunk',
      '7',
      '--out',
      out,
    );
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(single, 'utf8'));
  });

  it('3 shards merged (any order) equal the single run to 1e-12, with or without a merged --pass ymax', () => {
    singleRun();
    const base = ['sensitivity', '--model', MODEL, '--x', d.xf, '--p', d.pf, '--threads', '1'];
    const parts = [1, 2, 3].map((i) => join(dir, `a-part${i}.json`));
    parts.forEach((part, i) => {
      const r = ok(...base, '--shard', `${i + 1}/3`, '--out', part);
      // Each shard finds max |y| over all the samples first, and says so.
      expect(r.stderr).toMatch(/^note: the elasticity needs max \|y\| over all 90 samples/);
      expect(r.stdout).toMatch(new RegExp(`samples ${i * 30}–${i * 30 + 29} of 90 \\(shard ${i + 1}/3\\)`));
      expect(json(part).format).toBe('jacscope-sensitivity-partial');
    });
    const merged = join(dir, 'a-merged.json');
    ok('merge', parts[1], parts[2], parts[0], '--out', merged);
    sameResult(merged, single);

    // max |y| by shards, merged, then given to every shard: no shard reads all the samples.
    const ymaxParts = [1, 2].map((i) => join(dir, `a-ymax${i}.json`));
    ymaxParts.forEach((f, i) => ok(...base, '--pass', 'ymax', '--shard', `${i + 1}/2`, '--out', f));
    const ymax = join(dir, 'a-ymax.json');
    ok('merge', ...ymaxParts, '--out', ymax);
    const parts2 = [1, 2, 3, 4].map((i) => join(dir, `a-q${i}.json`));
    parts2.forEach((f, i) => {
      const r = ok(...base, '--ymax', ymax, '--shard', `${i + 1}/4`, '--out', f);
      expect(r.stderr).toBe('');
    });
    const merged2 = join(dir, 'a-merged2.csv');
    ok('merge', ...parts2, '--out', merged2);
    const lines = readFileSync(merged2, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('o,k,nu,index,elasticity');
    expect(lines).toHaveLength(1 + 3 * 6);
    const S = json(single);
    lines.slice(1).forEach((line, i) => {
      const [o, k, nu, index, el] = line.split(',').map(Number);
      expect([o, k]).toEqual([Math.floor(i / 6), i % 6]);
      expect(Math.abs(nu - S.nu[o][k])).toBeLessThanOrEqual(1e-12 * Math.abs(S.nu[o][k]));
      expect(Math.abs(index - S.index[o][k])).toBeLessThanOrEqual(1e-12 * Math.abs(S.index[o][k]));
      expect(Math.abs(el - S.elasticity[o][k])).toBeLessThanOrEqual(1e-12 * Math.abs(S.elasticity[o][k]));
    });

    // A missing shard, one given twice, parts of different kinds or runs: refused.
    const bad = join(dir, 'a-bad.json');
    const e = dataset('e', 6, 24, 2);
    const otherRun = join(dir, 'e-part.json');
    ok('sensitivity', '--model', MODEL, '--x', e.xf, '--p', e.pf, '--shard', '2/2', '--out', otherRun);
    for (const [files, want] of [
      [[parts[0], parts[2]], /cover only some of the 90 samples \(30–59 are missing\)/],
      [[parts[0], parts[0], parts[1], parts[2]], /same shard twice/],
      [[parts[0], ymax], /cannot merge .*max \|y\| partial.* with .*sensitivity partial/],
      [[parts[0], otherRun], /cannot merge sensitivity parts of different runs: part 2 has/],
      [[join(GRAPH, 'analytic-ishigami', 'meta.json')], /is not a partial result/],
    ] as [string[], RegExp][]) {
      const r = jacscope(['merge', ...files, '--out', bad]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(want);
    }
    expect(existsSync(bad)).toBe(false);
  });

  it('a TorchScript model with outputs [B,O]: globalSensitivity with T = 1', () => {
    const c = join(GRAPH, 'mlp-layernorm-noT');
    const archive = readTorchScript(new Uint8Array(readFileSync(join(c, 'model.pt'))), 'model.pt');
    const model = new GraphModel(torchScriptProgram(archive), graphHost, RULES);
    const names = model.tensorArgs();
    expect(names).toEqual(['x', 'p']);
    const N = 40;
    const r = rng(5);
    const x = randn(r, N * 10 * 3);
    const p = randn(r, N * 4);
    writeFileSync(
      join(dir, 'mlp.npz'),
      zipSync({ 'x.npy': [npy([N, 10, 3], x), { level: 0 }], 'p.npy': [npy([N, 4], p), { level: 0 }] }),
    );
    const out = join(dir, 'mlp.json');
    ok(
      'sensitivity',
      '--model',
      join(c, 'model.pt'),
      '--data',
      join(dir, 'mlp.npz'),
      '--chunk',
      '9',
      '--out',
      out,
    );
    const g = model.evaluate(
      new Map([
        ['x', { shape: [N, 10, 3], data: x }],
        ['p', { shape: [N, 4], data: p }],
      ]),
      { wrt: 'p' },
    );
    const O = g.yShape[1];
    expect(g.yShape).toEqual([N, O]);
    const ref = globalSensitivity(g.J!, p, g.y, { B: N, T: 1, O, P: 4 });
    const S = json(out);
    expect(S.outShape).toEqual([O]);
    expect(S.nuT).toBeUndefined();
    close(S.nu, ref.nu, 'nu');
    close(S.index, ref.index!, 'index');
    close(S.elasticity, ref.elasticity, 'elasticity');
  });

  it('peak memory does not grow with the number of samples (2,000 and 20,000)', () => {
    const peak: number[] = [];
    let inMemory = 0;
    for (const N of [2000, 20000]) {
      const T = 24;
      const big = dataset(`rss${N}`, N, T, 9);
      // What holding the data, y and J of every sample would take.
      inMemory = N * (T * 5 + 6 + T * 3 + T * 3 * 6) * 8;
      const rss = join(dir, `rss${N}.txt`);
      const out = join(dir, `rss${N}.json`);
      const r = jacscope(
        ['sensitivity', '--model', MODEL, '--x', big.xf, '--p', big.pf, '--threads', '1', '--out', out],
        rss,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(json(out).samples).toBe(N);
      peak.push(Number(readFileSync(rss, 'utf8')) * 1024);
    }
    // Ten times the samples: the peak within 25 MB, where keeping them would take 90 MB more.
    expect(inMemory * 0.9).toBeGreaterThan(90e6);
    expect(peak[1] - peak[0]).toBeLessThan(25e6);
  }, 900_000);
});

describe('jacscope sensitivity refuses bad input with one line and no output', () => {
  const d = dataset('bad', 12, 24, 3);
  const base = ['sensitivity', '--model', MODEL];
  const write = (name: string, bytes: Uint8Array) => {
    const f = join(dir, name);
    writeFileSync(f, bytes);
    return f;
  };
  const nanP = Float64Array.from(d.p);
  nanP[4 * 6 + 2] = NaN;
  const fortran = new TextDecoder('latin1')
    .decode(npy([12, 6], d.p))
    .replace("'fortran_order': False", "'fortran_order': True ");
  const cases: [string, string[], RegExp][] = [
    [
      'NaN in p',
      ['--x', d.xf, '--p', write('nan-p.npy', npy([12, 6], nanP))],
      /nan-p\.npy: sample 4 holds NaN; sensitivity needs finite data/,
    ],
    [
      'fewer p than x',
      ['--x', d.xf, '--p', write('short-p.npy', npy([11, 6], d.p.subarray(0, 66)))],
      /has 12 samples but .*short-p\.npy has 11/,
    ],
    [
      'p of the wrong width',
      ['--x', d.xf, '--p', write('wide-p.npy', npy([6, 12], d.p))],
      /p must be \[N,6\] for this model, got \[6,12\]/,
    ],
    [
      'Fortran order',
      [
        '--x',
        d.xf,
        '--p',
        write(
          'f.npy',
          Uint8Array.from(fortran, (c) => c.charCodeAt(0)),
        ),
      ],
      /Fortran order.*np\.ascontiguousarray/,
    ],
    [
      'truncated',
      ['--x', write('trunc-x.npy', npy([12, 24, 5], d.x).subarray(0, 2000)), '--p', d.pf],
      /trunc-x\.npy: is truncated or corrupt/,
    ],
    [
      'a CSV',
      ['--x', d.xf, '--p', write('p.csv', new TextEncoder().encode('a,b\n1,2\n'))],
      /p\.csv: is not streamed: give \.npy, \.npz or HDF5/,
    ],
    ['missing file', ['--x', d.xf, '--p', join(dir, 'nope.npy')], /nope\.npy: no such file/],
    ['bad shard', ['--x', d.xf, '--p', d.pf, '--shard', '0/2'], /--shard must be i\/n/],
    [
      'too many shards',
      ['--x', d.xf, '--p', d.pf, '--shard', '1/13'],
      /12 samples cannot be split into 13 shards/,
    ],
    [
      'a CSV shard',
      ['--x', d.xf, '--p', d.pf, '--shard', '1/2', '--out', join(dir, 'part.csv')],
      /partial result, which is JSON/,
    ],
    ['--chunk 0', ['--x', d.xf, '--p', d.pf, '--chunk', '0'], /--chunk must be an integer from 1/],
  ];
  for (const [what, args, want] of cases)
    it(what, () => {
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}.json`);
      const r = jacscope([...base, '--out', out, ...args]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^jacscope: /);
      expect(lines[0]).toMatch(want);
      expect(existsSync(out)).toBe(false);
    });

  it('--ymax of part of the data, or of other data', () => {
    const half = join(dir, 'bad-ymax-half.json');
    ok(...base, '--x', d.xf, '--p', d.pf, '--pass', 'ymax', '--shard', '2/2', '--out', half);
    const other = dataset('bad-other', 13, 24, 4);
    const whole = join(dir, 'bad-ymax-other.json');
    ok(...base, '--x', other.xf, '--p', other.pf, '--pass', 'ymax', '--out', whole);
    const out = join(dir, 'bad-ymax.json');
    for (const [f, want] of [
      [half, /bad-ymax-half\.json: covers only part of the data \(samples 0–5 are missing\)/],
      [whole, /bad-ymax-other\.json: comes from another model or dataset/],
    ] as [string, RegExp][]) {
      const r = jacscope([...base, '--x', d.xf, '--p', d.pf, '--ymax', f, '--out', out]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(want);
    }
    expect(existsSync(out)).toBe(false);
  });
});
