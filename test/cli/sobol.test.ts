/**
 * `jacscope sobol` and `jacscope merge` as a user runs them (the real bin script, a child process):
 * Sobol' indices of the analytic TorchScript fixtures against the values in their meta.json, the
 * shapes [T,O,P] of an FNO's, shards merged into exactly the single run, and the errors of bad
 * distributions.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/engine/io/npy';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const GRAPH = fileURLToPath(new URL('../fixtures/graph/', import.meta.url));
const FNO = fileURLToPath(new URL('../fixtures/fno/deep-fno1d/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'jacscope-sobol-cli-'));

function jacscope(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run, expecting success and nothing on stderr but notes. */
function ok(...args: string[]) {
  const r = jacscope(...args);
  expect(r.stderr.split('\n').filter((l) => l && !l.startsWith('note: '))).toEqual([]);
  expect(r.code).toBe(0);
  return r;
}

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));
/** Nested lists → flat numbers (null, an undefined estimate, → NaN). */
const flat = (v: unknown): number[] =>
  Array.isArray(v) ? v.flatMap(flat) : [v === null ? NaN : (v as number)];
const shapeOf = (v: unknown): number[] => (Array.isArray(v) ? [v.length, ...shapeOf(v[0])] : []);

function writeDist(name: string, d: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof d === 'string' ? d : JSON.stringify(d));
  return path;
}

/** Every number of a and b equal to 1e-12 of the largest magnitude of each array. */
function sameNumbers(a: unknown, b: unknown, key: string) {
  const x = flat(a);
  const y = flat(b);
  expect(x.length, key).toBe(y.length);
  const scale = Math.max(1e-300, ...y.filter(Number.isFinite).map(Math.abs));
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(y[i])) expect(x[i], key).toBeNaN();
    else expect(Math.abs(x[i] - y[i]), `${key}[${i}]`).toBeLessThanOrEqual(1e-12 * scale);
  }
}

const U = (low: number, high: number) => ({ dist: 'uniform', low, high });

describe('jacscope sobol on the analytic TorchScript fixtures', () => {
  it('Ishigami: S1 and ST of output 0 within their intervals of the analytic values; the DGSM bound holds', () => {
    const c = join(GRAPH, 'analytic-ishigami');
    const ref = json(join(c, 'meta.json')).sobol_indices;
    const dist = writeDist('ishigami.json', Array(3).fill(U(-Math.PI, Math.PI)));
    const out = join(dir, 'ishigami.json.out.json');
    const r = ok(
      'sobol',
      '--model',
      join(c, 'model.pt'),
      '--dist',
      dist,
      '--n',
      '1024',
      '--seed',
      '3',
      '--out',
      out,
    );
    expect(r.stdout).toMatch(/Sobol' indices \[2,3\]/);
    const S = json(out);
    expect(S.outShape).toEqual([2]);
    expect(shapeOf(S.S1)).toEqual([2, 3]);
    expect(S).toMatchObject({ n: 1024, evaluations: 1024 * 5, seed: 3, sampling: 'sobol', P: 3 });
    expect(S.distributions).toEqual(Array(3).fill(U(-Math.PI, Math.PI)));
    for (let k = 0; k < 3; k++) {
      expect(Math.abs(S.S1[0][k] - ref.first_order[k])).toBeLessThanOrEqual(S.S1_conf[0][k]);
      expect(Math.abs(S.ST[0][k] - ref.total[k])).toBeLessThanOrEqual(S.ST_conf[0][k]);
      expect(ref.total[k]).toBeLessThanOrEqual(S.dgsm.bound[0][k] + S.dgsm.bound_conf[0][k]);
      expect(S.dgsm.exceeds[0][k]).toBe(0);
    }
    expect(Math.abs(S.variance[0] - ref.variance) / ref.variance).toBeLessThan(0.05);
  });

  it("Sobol' G as CSV (long format o,k): the analytic S1 and ST within their intervals", () => {
    const c = join(GRAPH, 'analytic-sobol-g');
    const ref = json(join(c, 'meta.json')).sobol_indices;
    const dist = writeDist('g.json', Array(6).fill(U(0, 1)));
    const out = join(dir, 'g.csv');
    ok('sobol', '--model', join(c, 'model.pt'), '--dist', dist, '--n', '1024', '--seed', '5', '--out', out);
    const [head, ...rows] = readFileSync(out, 'utf8').trim().split('\n');
    const cols = head.split(',');
    expect(cols.slice(0, 6)).toEqual(['o', 'k', 'S1', 'S1_conf', 'ST', 'ST_conf']);
    expect(cols).toContain('dgsm_bound');
    expect(rows.length).toBe(6);
    rows.forEach((line, k) => {
      const v = Object.fromEntries(line.split(',').map((s, i) => [cols[i], Number(s)]));
      expect([v.o, v.k]).toEqual([0, k]);
      expect(Math.abs(v.S1 - ref.first_order[k])).toBeLessThanOrEqual(v.S1_conf);
      expect(Math.abs(v.ST - ref.total[k])).toBeLessThanOrEqual(v.ST_conf);
      expect(ref.total[k]).toBeLessThanOrEqual(v.dgsm_bound + v.dgsm_bound_conf);
    });
  });
});

describe('jacscope sobol on an FNO, sharded and merged', () => {
  const model = join(FNO, 'model.pt');
  const data = ['--x', join(FNO, 'x4.npy'), '--p', join(FNO, 'p4.npy'), '--sample', '2'];
  const common = [...data, '--n', '12', '--seed', '7'];

  it('indices shaped [T,O,P]; 3 shards (any order, 2 threads) merged equal the single run to 1e-12', () => {
    const single = join(dir, 'fno.json');
    const r = ok('sobol', '--model', model, ...common, '--threads', '1', '--out', single);
    // No --dist: uniform over each feature's range over the 4 samples of p4.npy, said in a note.
    expect(r.stderr).toMatch(
      /^note: no --dist: each feature uniform over its min…max over the 4 samples of .*p4\.npy\n$/,
    );
    const S = json(single);
    expect(S.outShape).toEqual([256, 3]);
    expect(S.axes).toEqual(['t', 'o', 'k']);
    for (const k of ['S1', 'ST', 'S1_conf', 'ST_conf']) expect(shapeOf(S[k]), k).toEqual([256, 3, 6]);
    for (const k of ['nu', 'bound', 'bound_conf', 'exceeds'])
      expect(shapeOf(S.dgsm[k]), k).toEqual([256, 3, 6]);
    expect(S.evaluations).toBe(12 * 8);
    const p4 = readNpy(new Uint8Array(readFileSync(join(FNO, 'p4.npy'))), 'p4.npy').data;
    const column = (k: number) => [0, 1, 2, 3].map((b) => p4[b * 6 + k]);
    expect(S.distributions).toEqual(
      [0, 1, 2, 3, 4, 5].map((k) => U(Math.min(...column(k)), Math.max(...column(k)))),
    );

    const parts = [1, 2, 3].map((i) => join(dir, `fno-part${i}.json`));
    parts.forEach((part, i) => {
      const s = ok(
        'sobol',
        '--model',
        model,
        ...common,
        '--threads',
        '2',
        '--shard',
        `${i + 1}/3`,
        '--out',
        part,
      );
      expect(s.stdout).toMatch(new RegExp(`shard ${i + 1}/3`));
      expect(json(part).format).toBe('jacscope-sobol-partial');
    });
    const merged = join(dir, 'fno-merged.json');
    ok('merge', parts[2], parts[0], parts[1], '--out', merged);
    const M = json(merged);
    for (const k of ['S1', 'ST', 'S1_conf', 'ST_conf', 'mean', 'variance']) sameNumbers(M[k], S[k], k);
    for (const k of ['nu', 'bound', 'bound_conf']) sameNumbers(M.dgsm[k], S.dgsm[k], k);
    expect(M.dgsm.exceeds).toEqual(S.dgsm.exceeds);
    for (const k of ['n', 'evaluations', 'seed', 'distributions', 'fingerprint', 'outShape'])
      expect(M[k], k).toEqual(S[k]);

    // Merged to CSV: the same numbers in long format t,o,k.
    const csv = join(dir, 'fno-merged.csv');
    ok('merge', ...parts, '--out', csv);
    const lines = readFileSync(csv, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^t,o,k,S1,S1_conf,ST,ST_conf,/);
    expect(lines.length).toBe(1 + 256 * 3 * 6);
    const row = lines[1 + (5 * 3 + 2) * 6 + 4].split(',').map(Number);
    expect(row.slice(0, 3)).toEqual([5, 2, 4]);
    expect(row[3]).toBeCloseTo(S.S1[5][2][4], 12);

    // Merging is refused when a shard is missing or given twice.
    const bad = join(dir, 'fno-bad.json');
    let e = jacscope('merge', parts[0], parts[2], '--out', bad);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/^jacscope: .*lacks base rows 4–7.*merge every shard/);
    e = jacscope('merge', parts[0], parts[0], parts[1], parts[2], '--out', bad);
    expect(e.code).toBe(1);
    expect(e.stderr).toMatch(/same shard twice/);
    expect(existsSync(bad)).toBe(false);
  });
});

describe('jacscope sobol refuses bad distributions with one clear line', () => {
  const model = join(FNO, 'model.pt');
  const x = join(FNO, 'x4.npy');
  const good = Array(6).fill(U(0, 1));
  const cases: [string, unknown, RegExp][] = [
    ['low ≥ high', [...good.slice(1), U(2, 2)], /distributions\[5\]: low \(2\) must be below high \(2\)/],
    [
      'std ≤ 0',
      [...good.slice(1), { dist: 'normal', mean: 0, std: 0 }],
      /distributions\[5\]: std \(0\) must be positive/,
    ],
    [
      'negative std',
      [{ dist: 'normal', mean: 1, std: -1 }, ...good.slice(1)],
      /distributions\[0\]: std \(-1\) must be positive/,
    ],
    ['wrong count', good.slice(1), /5 entries for the model's 6 features/],
    ['NaN', JSON.stringify(good).replace('"low":0', '"low":NaN'), /holds NaN or Infinity/],
    [
      'a bound as text',
      [...good.slice(1), { dist: 'uniform', low: 'NaN', high: 1 }],
      /low must be a finite number, got NaN/,
    ],
    ['unknown distribution', [...good.slice(1), { dist: 'beta', a: 1 }], /unknown distribution "beta"/],
    ['not JSON', '[{"dist": "uniform", ', /not valid JSON/],
  ];
  for (const [what, d, want] of cases)
    it(what, () => {
      const dist = writeDist(`bad-${what.replace(/\W+/g, '-')}.json`, d);
      const out = join(dir, `bad-${what.replace(/\W+/g, '-')}.out.json`);
      const r = jacscope('sobol', '--model', model, '--x', x, '--dist', dist, '--n', '4', '--out', out);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^jacscope: .*bad-.*\.json: /);
      expect(lines[0]).toMatch(want);
      expect(existsSync(out)).toBe(false);
    });

  it('other bad options: a TorchScript model whose p does not fit the count, --shard, --n, a CSV shard', () => {
    const g = join(GRAPH, 'analytic-sobol-g', 'model.pt');
    const three = writeDist('three.json', Array(3).fill(U(0, 1)));
    const out = join(dir, 'other.json');
    const r1 = jacscope('sobol', '--model', g, '--dist', three, '--n', '4', '--out', out);
    expect(r1.stderr).toMatch(
      /^jacscope: .*three\.json: 3 distributions, but the model does not run on p \[1,3\].*one per feature\n$/,
    );
    const six = writeDist('six.json', Array(6).fill(U(0, 1)));
    for (const [args, want] of [
      [['--shard', '4/3'], /--shard must be i\/n with 1 ≤ i ≤ n/],
      [['--n', '1'], /--n must be an integer from 2/],
      [['--sampling', 'halton'], /--sampling must be sobol or random/],
      [['--shard', '1/2', '--out', join(dir, 'x.csv')], /a shard writes a partial result, which is JSON/],
      [[], /--dist D\.json is needed/],
    ] as [string[], RegExp][]) {
      const withDist = args.length > 0;
      const r = jacscope('sobol', '--model', g, ...(withDist ? ['--dist', six] : []), '--out', out, ...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(want);
    }
    expect(existsSync(out)).toBe(false);
  });
});
