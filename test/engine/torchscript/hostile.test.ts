/**
 * Hostile archives are refused with one clean error, fast and without exhausting memory or the JS
 * stack: deep nesting, endless or huge loops, huge lists and strings, recursion, huge or malformed
 * code, unknown pickle globals.
 */
import { describe as suite, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { Interpreter, TorchScriptError, describe, readTorchScript } from '../../../src/engine/torchscript';
import { fakeHost } from './fake-host';
import { buildArchive, buildZip, dataPkl } from './helpers';

const HEAD = 'class M(Module):\n  __parameters__ = []\n  __buffers__ = []\n  training : bool\n';
const forward = (body: string, extra = ''): string =>
  `${HEAD}  def forward(self: __torch__.M, x: int):\n${body
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n')}\n${extra}`;

/** Reads and runs the archive; returns the error it must end with, and checks the time it took. */
function refused(bytes: Uint8Array, match: RegExp, ms = 2000): Error {
  const t0 = performance.now();
  let err: unknown;
  try {
    new Interpreter(readTorchScript(bytes, 'evil.pt'), fakeHost()).forward([1]);
  } catch (e) {
    err = e;
  }
  const elapsed = performance.now() - t0;
  expect(err, 'expected a LoadError').toBeInstanceOf(LoadError);
  expect((err as Error).message).toMatch(/^evil\.pt: /);
  expect((err as Error).message).toMatch(match);
  expect(elapsed).toBeLessThan(ms);
  return err as Error;
}

suite('hostile archives', () => {
  it('refuses deeply nested expressions, chains and blocks while parsing', () => {
    refused(
      buildArchive(forward(`return ${'('.repeat(5000)}1${')'.repeat(5000)}`)),
      /expression nested more than 200 deep/,
    );
    refused(buildArchive(forward(`return ${'-'.repeat(100_000)}1`)), /expression nested more than 200 deep/);
    refused(
      buildArchive(forward(`return 1${' + 1'.repeat(100_000)}`)),
      /expression nested more than 200 deep/,
    );
    refused(buildArchive(forward(`return x${'.a'.repeat(100_000)}`)), /expression nested more than 200 deep/);
    refused(
      buildArchive(forward(`return f${'(1)'.repeat(100_000)}`)),
      /expression nested more than 200 deep/,
    );
    refused(buildArchive(forward(`return ${'['.repeat(50_000)}${']'.repeat(50_000)}`)), /nested/);
    const blocks = Array.from({ length: 300 }, (_, i) => `${' '.repeat(i)}if True:`).join('\n');
    refused(
      buildArchive(forward(`${blocks}\n${' '.repeat(300)}pass\nreturn 1`)),
      /blocks nested more than 100 deep/,
    );
  });

  it('stops huge and endless loops at the step budget', () => {
    const e = refused(
      buildArchive(forward('for i in range(1000000000000):\n  pass\nreturn 1')),
      /more than 2000000 statements/,
    );
    expect(e).toBeInstanceOf(TorchScriptError);
    expect((e as TorchScriptError).loc?.line).toBeGreaterThanOrEqual(6);
    refused(buildArchive(forward('while True:\n  pass\nreturn 1')), /more than 2000000 statements/);
    refused(
      buildArchive(forward('n = 0\nwhile True:\n  n = torch.add(n, 1)\nreturn n')),
      /more than 2000000 statements/,
    );
    refused(
      buildArchive(forward('return [i for i in range(10 ** 12)]')),
      /more than the 100000 allowed|more than 2000000/,
    );
  });

  it('caps lists, dicts and strings', () => {
    refused(
      buildArchive(forward('l = annotate(List[int], [])\nwhile True:\n  _0 = torch.append(l, 1)\nreturn l')),
      /a list longer than 100000/,
    );
    refused(buildArchive(forward('return [0] * 1000000000')), /longer than 100000 elements/);
    refused(buildArchive(forward('return "ab" * 1000000000000')), /longer than 100000 elements/);
    refused(buildArchive(forward('return list(range(1000000000000))')), /range of 1000000000000 elements/);
    refused(
      buildArchive(forward('d = {"a": 1}\ni = 0\nwhile True:\n  d[i] = i\n  i += 1\nreturn d')),
      /more than 100000 entries/,
    );
    refused(
      buildArchive(forward('l = [1]\nwhile True:\n  l = l + l\nreturn l')),
      /longer than 100000 elements/,
    );
  });

  it('stops recursion at the call depth, with the JS stack intact', () => {
    refused(buildArchive(forward('return (self).forward(x, )')), /calls nested more than 100 deep/);
    const deep = `${'('.repeat(190)}__torch__.f(n)${')'.repeat(190)}`;
    const extra = `def f(n: int) -> int:\n  return ${deep}\n`;
    refused(
      buildArchive(forward('return __torch__.f(x)', extra)),
      /calls nested more than 100 deep|nests expressions and calls too deeply/,
    );
  });

  it('refuses huge and malformed code files', () => {
    const huge = HEAD + '#'.repeat(3 * 2 ** 20) + '\n';
    refused(buildArchive(huge), /code\/__torch__\.py is \d+ bytes, more than the 2097152 allowed/);
    const big = '#'.repeat(2 ** 21 - 16) + '\n';
    const parts: Record<string, string> = {};
    for (let i = 0; i < 5; i++) parts[`archive/code/__torch__/m${i}.py`] = big;
    refused(
      buildArchive(forward('return 1'), parts),
      /its code files hold \d+ bytes, more than the 8388608 allowed/,
    );
    refused(
      buildArchive(forward('return x +')),
      /^evil\.pt: code\/__torch__\.py:6:15: expected an expression/,
    );
    refused(
      buildArchive(HEAD + '  def forward(self, x):\n  return x\n'),
      /code\/__torch__\.py:6:3: expected an indented block/,
    );
    refused(buildArchive(Uint8Array.of(0x63, 0xff, 0xfe)), /code\/__torch__\.py is not valid UTF-8 text/);
    const many: Record<string, string> = {};
    for (let i = 0; i < 20; i++) many[`archive/code/__torch__/m${i}.py`] = 'x = 1\n';
    expect(() =>
      readTorchScript(buildArchive(forward('return 1'), many), 'evil.pt', { limits: { maxFiles: 10 } }),
    ).toThrow(/21 code files, more than the 10 allowed/);
  });

  it('refuses pickles that name Python globals outside the allow-list', () => {
    const bytes = buildArchive(forward('return 1'), { 'archive/data.pkl': dataPkl('os', 'system') });
    refused(
      bytes,
      /data\.pkl refers to Python globals jacscope does not read \(nothing is run\): os\.system/,
    );
    const notModule = buildArchive(forward('return 1'), {
      'archive/data.pkl': Uint8Array.of(0x80, 0x02, 0x4b, 0x05, 0x2e),
    });
    refused(notModule, /data\.pkl does not hold a TorchScript module/);
  });

  it('reads a module that contains itself (a cyclic data.pkl) without looping', () => {
    const enc = new TextEncoder();
    const key = (k: string): number[] => [0x58, k.length, 0, 0, 0, ...enc.encode(k)];
    const pkl = Uint8Array.from([
      ...[0x80, 0x02, 0x63, ...enc.encode('__torch__\nM\n'), 0x29, 0x81, 0x71, 0x00, 0x7d, 0x28],
      ...[...key('training'), 0x89, ...key('me'), 0x68, 0x00, 0x75, 0x62, 0x2e],
    ]);
    const code = `${HEAD}  me : __torch__.M\n  def forward(self: __torch__.M, x: int):\n    return self.me.me.me.training\n`;
    const a = readTorchScript(buildArchive(code, { 'archive/data.pkl': pkl }), 'cyclic.pt');
    expect(new Interpreter(a, fakeHost()).forward([1])).toBe(false);
    expect(describe(a).modules).toBe(1);
  });

  it('says what is missing when a zip is not a TorchScript archive', () => {
    const noCode = buildZip({ 'archive/data.pkl': dataPkl('__torch__', 'M'), 'archive/version': '3' });
    refused(noCode, /not a TorchScript archive \(no code\/ folder and constants\.pkl beside data\.pkl\)/);
    refused(buildZip({ 'model.json': '{}' }), /PyTorch ≤ 1\.3 \(model\.json\)/);
    refused(new Uint8Array([1, 2, 3, 4]), /not a PyTorch checkpoint/);
  });
});
