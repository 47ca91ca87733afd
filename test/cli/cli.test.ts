import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { openMat5 } from '../../src/engine/io/mat';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { fixturePath } from '../engine/fixtures';
import { relErr, rng } from '../engine/helpers';
import { main } from '../../src/cli/main';

// The CLI end to end, as a user runs it: the real bin script in a child process.
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));

function jacscope(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const seed = (f: string) => fixturePath('seed-fno1d', f);
const deep = (f: string) => fixturePath('deep-fno1d', f);

describe('jacscope CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-cli-'));

  it('jacobian on the seed fixture (torch checkpoint) matches PyTorch float64 within float32 rounding', () => {
    const out = join(dir, 'J.npy');
    const r = jacscope(
      'jacobian',
      '--model',
      seed('model.pt'),
      '--x',
      seed('x.npy'),
      '--p',
      seed('p.npy'),
      '--out',
      out,
    );
    expect(r.stderr).not.toMatch(/jacscope:/);
    expect(r.code).toBe(0);
    const J = readNpy(new Uint8Array(readFileSync(out)), out);
    expect(J.dtype).toBe('float32');
    expect(J.shape).toEqual([1, 601, 15, 14]);
    const ref = readNpy(new Uint8Array(readFileSync(seed('jacobian_f64.npy'))), 'ref');
    expect(relErr(J.data, ref.data)).toBeLessThan(1e-7); // float32 has a 6e-8 relative ulp
  });

  it('jacobian --dtype float64 on the deep fixture (safetensors) matches to 1e-10', () => {
    const out = join(dir, 'Jd.npy');
    const r = jacscope(
      'jacobian',
      '--model',
      deep('model.safetensors'),
      '--x',
      deep('x.npy'),
      '--p',
      deep('p.npy'),
      '--out',
      out,
      '--dtype',
      'float64',
    );
    expect(r.code).toBe(0);
    const J = readNpy(new Uint8Array(readFileSync(out)), out);
    const ref = readNpy(new Uint8Array(readFileSync(deep('jacobian_f64.npy'))), 'ref');
    expect(J.dtype).toBe('float64');
    expect(relErr(J.data, ref.data)).toBeLessThanOrEqual(1e-10);
  });

  it.runIf(existsSync(SWIFTSHADER))(
    '--backend webgpu (SwiftShader here) matches PyTorch float64 to 1e-5',
    () => {
      const out = join(dir, 'Jg.npy');
      const r = spawnSync(
        process.execPath,
        [
          BIN,
          'jacobian',
          '--backend',
          'webgpu',
          '--model',
          deep('model.pt'),
          '--x',
          deep('x4.npy'),
          '--p',
          deep('p4.npy'),
          '--out',
          out,
        ],
        {
          encoding: 'utf8',
          env: { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER },
        },
      );
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/on webgpu/);
      const ref = readNpy(new Uint8Array(readFileSync(deep('jacobian4_f64.npy'))), 'ref');
      expect(relErr(readNpy(new Uint8Array(readFileSync(out)), out).data, ref.data)).toBeLessThanOrEqual(
        1e-5,
      );
    },
  );

  it('jacobian --out J.mat --dtype float64: a MATLAB v5 variable J of shape [B,T,O,P], PyTorch’s J to 1e-10', () => {
    const out = join(dir, 'J.mat');
    const r = jacscope(
      'jacobian',
      '--model',
      deep('model.pt'),
      '--x',
      deep('x.npy'),
      '--p',
      deep('p.npy'),
      '--out',
      out,
      '--dtype',
      'float64',
    );
    expect(r.code, r.stderr).toBe(0);
    const ref = readNpy(new Uint8Array(readFileSync(deep('jacobian_f64.npy'))), 'ref');
    const src = openMat5(new Uint8Array(readFileSync(out)), 'J.mat');
    expect(src.variables()).toEqual([{ name: 'J', shape: ref.shape, dtype: 'float64' }]);
    expect(relErr(src.read('J').data, ref.data)).toBeLessThan(1e-10);
  });

  it('forward writes y and CSV output is long format b,t,o,k,value', () => {
    const y = join(dir, 'y.npy');
    expect(
      jacscope('forward', '--model', deep('model.pt'), '--x', deep('x.npy'), '--p', deep('p.npy'), '--out', y)
        .code,
    ).toBe(0);
    const ref = readNpy(new Uint8Array(readFileSync(deep('y_f64.npy'))), 'ref');
    expect(relErr(readNpy(new Uint8Array(readFileSync(y)), y).data, ref.data)).toBeLessThan(1e-7);

    const csv = join(dir, 'J.csv');
    expect(
      jacscope(
        'jacobian',
        '--model',
        deep('model.pt'),
        '--x',
        deep('x.npy'),
        '--p',
        deep('p.npy'),
        '--out',
        csv,
        '--dtype',
        'float64',
      ).code,
    ).toBe(0);
    const lines = readFileSync(csv, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('b,t,o,k,value');
    const J = readNpy(new Uint8Array(readFileSync(deep('jacobian_f64.npy'))), 'ref');
    expect(lines.length - 1).toBe(J.data.length);
    const [B, T, O, P] = J.shape;
    for (const i of [0, 1, 777, J.data.length - 1]) {
      const [b, t, o, k, v] = lines[i + 1].split(',').map(Number);
      expect(((b * T + t) * O + o) * P + k).toBe(i);
      expect(b < B).toBe(true);
      expect(Math.abs(v - J.data[i])).toBeLessThanOrEqual(1e-10 * 0.01);
    }
  });

  it('info prints the architecture, every hyperparameter and the parameter counts', () => {
    const lone = join(dir, 'model.safetensors'); // no config.json beside: from metadata
    copyFileSync(seed('model.safetensors'), lone);
    const r = jacscope('info', '--model', lone);
    expect(r.code).toBe(0);
    for (const s of [
      'fno1d-scalar',
      'width',
      '64',
      'Fourier modes',
      '16',
      'tanh',
      '13,135 real',
      '131,072 complex',
    ]) {
      expect(r.stdout).toContain(s);
    }
  });

  describe('bad input: exit 1, one line on stderr naming the problem, no stack trace, no output file', () => {
    const corrupt = join(dir, 'corrupt.pt');
    writeFileSync(corrupt, readFileSync(seed('model.pt')).subarray(0, 5000));
    const badNpy = join(dir, 'bad.npy');
    writeFileSync(badNpy, 'not an npy file at all');
    const cases: [string, string[], RegExp][] = [
      ['missing model file', ['--model', join(dir, 'nope.pt')], /nope\.pt: no such file/],
      ['truncated checkpoint', ['--model', corrupt], /corrupt\.pt/],
      [
        'p with the wrong number of parameters',
        ['--p', deep('p.npy')],
        /p\.npy.*6 scalar inputs.*expects 14/,
      ],
      [
        'x and p batches disagree',
        ['--x', seed('x.npy'), '--p', seed('p4.npy')],
        /x\.npy, .*p4\.npy: x has 1 sample \[1,601,20\] but p has 4 \[4,14\]/,
      ],
      ['malformed npy', ['--x', badNpy], /bad\.npy/],
      ['unknown dtype', ['--dtype', 'float16'], /dtype/],
    ];
    it.each(cases)('%s', (_name, override, message) => {
      const out = join(dir, `out-${_name.replace(/\W+/g, '-')}.npy`);
      const args = new Map([
        ['--model', seed('model.pt')],
        ['--x', seed('x.npy')],
        ['--p', seed('p.npy')],
        ['--out', out],
      ]);
      for (let i = 0; i < override.length; i += 2) args.set(override[i], override[i + 1]);
      const r = jacscope('jacobian', ...[...args].flat());
      expect(r.code).toBe(1);
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(out)).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  });
});

describe('jacscope CLI data formats', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-cli-data-'));
  const x = readNpy(new Uint8Array(readFileSync(deep('x4.npy'))), 'x4.npy');
  const p = readNpy(new Uint8Array(readFileSync(deep('p4.npy'))), 'p4.npy');
  const ref = readNpy(new Uint8Array(readFileSync(deep('jacobian4_f64.npy'))), 'ref');

  it('--data with an .npz of func_inp/scalar_inp, one sample holding a NaN: that sample is NaN, the rest exact', () => {
    const xBad = { ...x, data: x.data.slice() };
    xBad.data[(2 * 256 + 5) * 5 + 1] = NaN; // x[2,5,1]
    const npz = join(dir, 'data.npz');
    writeFileSync(
      npz,
      zipSync({ 'func_inp.npy': writeNpy(xBad, 'float64'), 'scalar_inp.npy': writeNpy(p, 'float64') }),
    );
    const out = join(dir, 'J.npy');
    const r = jacscope(
      'jacobian',
      '--model',
      deep('model.pt'),
      '--data',
      npz,
      '--out',
      out,
      '--dtype',
      'float64',
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/sample 2 \(x\[2,5,1\] = NaN\)/);
    const J = readNpy(new Uint8Array(readFileSync(out)), out);
    const per = J.data.length / 4;
    for (let b = 0; b < 4; b++) {
      const got = J.data.subarray(b * per, (b + 1) * per);
      if (b === 2) expect(got.every(Number.isNaN)).toBe(true);
      else expect(relErr(got, ref.data.subarray(b * per, (b + 1) * per))).toBeLessThanOrEqual(1e-10);
    }
  });

  it('--p as CSV with feature names in the header', () => {
    const csv = join(dir, 'p.csv');
    const rows = Array.from({ length: 4 }, (_, b) =>
      Array.from(p.data.subarray(b * 6, (b + 1) * 6)).join(','),
    );
    writeFileSync(csv, ['alpha,beta,gamma,delta,eps,zeta', ...rows].join('\n') + '\n');
    const out = join(dir, 'J2.npy');
    expect(
      jacscope(
        'jacobian',
        '--model',
        deep('model.pt'),
        '--x',
        deep('x4.npy'),
        '--p',
        csv,
        '--out',
        out,
        '--dtype',
        'float64',
      ).code,
    ).toBe(0);
    expect(relErr(readNpy(new Uint8Array(readFileSync(out)), out).data, ref.data)).toBeLessThanOrEqual(1e-10);
  });
});

describe('jacscope CLI on broken files (in-process, the same main() the bin runs)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-cli-broken-'));
  const sources: [string, string, 'model' | 'x' | 'p'][] = [
    ['model.pt', deep('model.pt'), 'model'],
    ['model.safetensors', deep('model.safetensors'), 'model'],
    ['x.npy', deep('x.npy'), 'x'],
    ['p.npy', deep('p.npy'), 'p'],
  ];
  const r = rng(42);
  const cases: [string, string, 'model' | 'x' | 'p'][] = [];
  for (const [name, path, role] of sources) {
    const bytes = readFileSync(path);
    for (let i = 0; i < 12; i++) {
      const b = new Uint8Array(bytes);
      const cut = i < 6 ? Math.floor(r() * bytes.length) : bytes.length;
      const broken = b.slice(0, cut);
      if (i >= 6) for (let k = 0; k < 64; k++) broken[Math.floor(r() * Math.min(256, broken.length))] ^= 0xff;
      const file = join(dir, `${i}-${name}`);
      writeFileSync(file, broken);
      cases.push([`${i}-${name}`, file, role]);
    }
  }
  it.each(cases)('%s', async (_n, file, role) => {
    const err: string[] = [];
    const out = join(dir, 'J.npy');
    const args = { model: deep('model.pt'), x: deep('x.npy'), p: deep('p.npy'), [role]: file };
    const code = await main(['jacobian', '--model', args.model, '--x', args.x, '--p', args.p, '--out', out], {
      out: () => {},
      err: (l: string) => err.push(l),
    });
    if (code === 0) return; // a flip that leaves the file valid (e.g. in a float's low bits) is fine
    expect(code).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0].split('\n')).toHaveLength(1);
    expect(err[0]).toContain(file);
    expect(existsSync(out)).toBe(false);
  });
});
