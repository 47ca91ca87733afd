/**
 * The CLI on every TorchScript fixture, as a user runs it (the real bin script): y and J against
 * PyTorch's float64 references, inputs named by the model's forward signature, and the errors a
 * user meets with a graph model.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../src/engine/io/npy';
import { relErr } from '../engine/helpers';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../fixtures/graph/', import.meta.url));
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function jacscope(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const npy = (path: string) => readNpy(new Uint8Array(readFileSync(path)), path);

describe('jacscope CLI on TorchScript models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'jacscope-graph-cli-'));

  for (const name of CASES) {
    it(`${name}: y and J match PyTorch float64`, () => {
      const c = join(ROOT, name);
      const meta = JSON.parse(readFileSync(join(c, 'meta.json'), 'utf8'));
      const inputs = (meta.signature as { name: string }[]).flatMap((a) => [
        '--input',
        `${a.name}=${join(c, `${a.name}.npy`)}`,
      ]);
      const output = typeof meta.output_index === 'number' ? ['--output', String(meta.output_index)] : [];
      for (const [cmd, ref] of [
        ['forward', 'y_f64.npy'],
        ['jacobian', 'J_f64.npy'],
      ]) {
        const out = join(dir, `${name}-${cmd}.npy`);
        const r = jacscope(
          cmd,
          '--model',
          join(c, 'model.pt'),
          ...inputs,
          ...output,
          '--wrt',
          meta.wrt,
          '--out',
          out,
          '--dtype',
          'float64',
        );
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        const got = npy(out);
        const want = npy(join(c, ref));
        expect(got.shape).toEqual(want.shape);
        expect(relErr(got.data, want.data)).toBeLessThan(1e-10);
      }
    });
  }

  it('info says traced or scripted, the signature, p, ops and parameters; with data, the shapes', () => {
    const c = join(ROOT, 'mlp-layernorm-noT');
    const r = jacscope(
      'info',
      '--model',
      join(c, 'model.pt'),
      '--x',
      join(c, 'x.npy'),
      '--p',
      join(c, 'p.npy'),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/scripted/);
    expect(r.stdout).toMatch(/forward\(x: Tensor, p: Tensor\)/);
    expect(r.stdout).toMatch(/differentiated argument \(p\): p/);
    expect(r.stdout).toMatch(/aten::layer_norm/);
    expect(r.stdout).toMatch(/parameters: /);
    expect(r.stdout).toMatch(/y: \[3,3\] \(b,o\); J: \[3,3,4\] \(b,o,k\)/);
  });

  it('a TorchScript model runs from its code: the GELU FNO with the usual weight names', () => {
    const c = join(ROOT, 'fno1d-gelu-traced');
    const r = jacscope('info', '--model', join(c, 'model.pt'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/aten::gelu/);
    expect(r.stdout).not.toMatch(/assumed/);
  });

  it('errors are one line naming the problem', () => {
    const c = join(ROOT, 'attention');
    const missing = jacscope(
      'jacobian',
      '--model',
      join(c, 'model.pt'),
      '--p',
      join(c, 'p.npy'),
      '--out',
      join(dir, 'e.npy'),
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toMatch(/no data for the model's argument x/);
    const badWrt = jacscope(
      'jacobian',
      '--model',
      join(c, 'model.pt'),
      '--x',
      join(c, 'x.npy'),
      '--p',
      join(c, 'p.npy'),
      '--wrt',
      'q',
      '--out',
      join(dir, 'e.npy'),
    );
    expect(badWrt.code).toBe(1);
    expect(badWrt.stderr).toMatch(/no tensor argument 'q'/);
    const badShape = jacscope(
      'jacobian',
      '--model',
      join(c, 'model.pt'),
      '--x',
      join(c, 'p.npy'),
      '--p',
      join(c, 'p.npy'),
      '--out',
      join(dir, 'e.npy'),
    );
    expect(badShape.code).toBe(1);
    expect(badShape.stderr.trim().split('\n')).toHaveLength(1);
  });
});
