/**
 * The CLI on every TorchScript fixture, as a user runs it (the real bin script): y and J against
 * PyTorch's float64 references, inputs named by the model's forward signature, and the errors a
 * user meets with a graph model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine/io/npy';
import { relErr } from '../engine/helpers';
import { buildArchive } from '../engine/torchscript/zip-builder';

const BIN = fileURLToPath(new URL('../../bin/jacscope.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../fixtures/graph/', import.meta.url));
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function jacscope(...args: string[]) {
  return run(args);
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000, env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
/** Dawn on SwiftShader's Vulkan driver: what `--backend webgpu` finds on a machine without a GPU. */
const ON_SWIFTSHADER = { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER };

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

  it.runIf(existsSync(SWIFTSHADER))(
    '--backend webgpu runs a TorchScript model on WebGPU (SwiftShader here): J matches PyTorch float64 to 1e-5',
    () => {
      const c = join(ROOT, 'film-mlp');
      const out = join(dir, 'film-webgpu.npy');
      const r = run(
        [
          'jacobian',
          '--model',
          join(c, 'model.pt'),
          '--x',
          join(c, 'x.npy'),
          '--p',
          join(c, 'p.npy'),
          '--backend',
          'webgpu',
          '--out',
          out,
        ],
        ON_SWIFTSHADER,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/on webgpu/);
      expect(relErr(npy(out).data, npy(join(c, 'J_f64.npy')).data)).toBeLessThan(1e-5);
    },
  );

  it.runIf(existsSync(SWIFTSHADER))(
    'a model with an op WebGPU cannot run computes on the CPU after one note naming the op',
    () => {
      // Control flow on a value of p (aten::Float reads it on the host) cannot be lowered. Here
      // p[0,0] > 0, so y = p·x and J[b,i,k] = δ_ik · x[b,i].
      const code = [
        'class M(Module):',
        '  __parameters__ = []',
        '  __buffers__ = []',
        '  training : bool',
        '  def forward(self: __torch__.M, x: Tensor, p: Tensor) -> Tensor:',
        '    if float(torch.select(torch.select(p, 0, 0), 0, 0)) > 0.:',
        '      return torch.mul(p, x)',
        '    return torch.sub(x, p)',
        '',
      ].join('\n');
      const model = join(dir, 'branch.pt');
      writeFileSync(model, buildArchive(code));
      const x = Float64Array.from([1, 2, 3, -1, 0.5, 4]);
      const p = Float64Array.from([0.1, -0.2, 0.3, 1.5, -2, 0]);
      writeFileSync(join(dir, 'atan-x.npy'), writeNpy({ shape: [2, 3], data: x }, 'float64'));
      writeFileSync(join(dir, 'atan-p.npy'), writeNpy({ shape: [2, 3], data: p }, 'float64'));
      const out = join(dir, 'atan-J.npy');
      const r = run(
        [
          'jacobian',
          '--model',
          model,
          '--x',
          join(dir, 'atan-x.npy'),
          '--p',
          join(dir, 'atan-p.npy'),
          '--backend',
          'webgpu',
          '--dtype',
          'float64',
          '--out',
          out,
        ],
        ON_SWIFTSHADER,
      );
      expect(r.code).toBe(0);
      expect(r.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^note: WebGPU cannot run this model \(aten::Float: a tensor value read on the host .*\); computing on the CPU$/,
        ),
      ]);
      expect(r.stdout).toMatch(/on cpu/);
      const J = new Float64Array(2 * 3 * 3);
      for (let b = 0; b < 2; b++) for (let i = 0; i < 3; i++) J[(b * 3 + i) * 3 + i] = x[b * 3 + i];
      expect(relErr(npy(out).data, J)).toBeLessThan(1e-14);
    },
  );
});
