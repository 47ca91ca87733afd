import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { readDataFile } from '../../../src/engine/io/dataset';
import { classifyTorchFile, looksLikeModel, openTorchData } from '../../../src/engine/io/torch-data';
import type { HostTensor } from '../../../src/engine/tensor';
import { loadNpy } from '../fixtures';
import { expectLoadError, prng } from './helpers';

/** test/fixtures/data/*.pt: torch.save files made by scripts/fixtures/make_data_fixtures.py. */
const DATA = fileURLToPath(new URL('../../fixtures/data/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const data = (name: string) => new Uint8Array(readFileSync(DATA + name));
const fixture = (path: string) => new Uint8Array(readFileSync(FIXTURES + path));

const X = loadNpy('deep-fno1d', 'x.npy');
const P = loadNpy('deep-fno1d', 'p.npy');
const deep = { Xf: 5, P: 6 };

function same(t: HostTensor, ref: HostTensor): void {
  expect(t.shape).toEqual(ref.shape);
  expect(Array.from(t.data)).toEqual(Array.from(ref.data));
}

describe('torch.save data', () => {
  it('a dict of tensors: keys are the names', () => {
    const s = openTorchData(data('deep-dict.pt'), 'deep-dict.pt');
    expect(s.variables()).toEqual([
      { name: 'x', shape: [2, 256, 5], dtype: 'float32' },
      { name: 'p', shape: [2, 6], dtype: 'float32' },
    ]);
    same(s.read('x'), X);
    same(s.read('p'), P);
    const d = readDataFile(data('deep-dict.pt'), 'deep-dict.pt', deep);
    same(d.x!, X);
    same(d.p!, P);
    expect(d.format).toBe('torch');
  });

  it('nested dicts give dotted names; non-tensor entries are left out', () => {
    const s = openTorchData(data('deep-nested.pt'), 'deep-nested.pt');
    expect(s.variables()).toEqual([
      { name: 'data.func_inp', shape: [2, 256, 5], dtype: 'float64' },
      { name: 'data.scalar_inp', shape: [2, 6], dtype: 'float64' },
    ]);
    const d = readDataFile(data('deep-nested.pt'), 'deep-nested.pt', deep);
    same(d.x!, X);
    same(d.p!, P);
    expect(d.variables).toEqual({ x: 'data.func_inp', p: 'data.scalar_inp' });
  });

  it('a list gives indices as names, and is chosen by shape', () => {
    const s = openTorchData(data('deep-list.pt'), 'deep-list.pt');
    expect(s.variables().map((v) => v.name)).toEqual(['0', '1']);
    const d = readDataFile(data('deep-list.pt'), 'deep-list.pt', deep);
    same(d.x!, X);
    same(d.p!, P);
    expect(d.notes.join('\n')).toMatch(/x = entry '0' \[2,256,5\] \(chosen by shape\)/);
  });

  it("a bare tensor is the variable '', and strided views are gathered", () => {
    const s = openTorchData(data('deep-x.pt'), 'deep-x.pt');
    expect(s.variables()).toEqual([{ name: '', shape: [2, 256, 5], dtype: 'float32' }]);
    same(readDataFile(data('deep-x.pt'), 'deep-x.pt', deep, 'x').x!, X);
    const v = openTorchData(data('deep-view.pt'), 'deep-view.pt').read('x_even');
    expect(v.shape).toEqual([2, 128, 5]);
    for (let b = 0; b < 2; b++)
      for (let t = 0; t < 128; t++)
        for (let f = 0; f < 5; f++)
          expect(v.data[(b * 128 + t) * 5 + f]).toBe(X.data[(b * 256 + 2 * t) * 5 + f]);
  });
});

describe('torch.save: model or data', () => {
  it.each([
    ['fno/deep-fno1d/model.pt', /^a state_dict of 17 tensors \(it carries nn\.Module's _metadata\)/],
    ['graph/seed-fno1d-traced/model.pt', /^a TorchScript archive/],
  ])('%s is a model (%s)', (path, what) => {
    const k = classifyTorchFile(fixture(path), path);
    expect(k.kind).toBe('model');
    expect(k.what).toMatch(what);
    expect(looksLikeModel(fixture(path), path)).toBe(true);
    expectLoadError(
      () => readDataFile(fixture(path), 'model.pt', deep),
      /model\.pt: is a model file \(a (state_dict|TorchScript).*\); load it as the model, not as data/,
    );
  });

  it.each(['deep-dict.pt', 'deep-nested.pt', 'deep-list.pt', 'deep-x.pt'])('%s is data', (f) => {
    expect(classifyTorchFile(data(f), f).kind).toBe('data');
    expect(looksLikeModel(data(f), f)).toBe(false);
  });

  it("the model reader's checkpoints are models; its plain dicts of odd tensors are data", () => {
    const cases = fileURLToPath(new URL('./cases/', import.meta.url));
    const kind = (name: string) => classifyTorchFile(new Uint8Array(readFileSync(cases + name)), name);
    for (const name of [
      'state-dict.pt',
      'protocol4.pt',
      'training-checkpoint.pth',
      'lightning.ckpt',
      'whole-module.pt',
      'torchscript.pt',
      'dataparallel.pth',
      'dataparallel-module.pt',
      'nested-module.pt',
      'real-spectral.pt',
      'double-params.pt',
    ])
      expect(kind(name).kind, `${name}: ${kind(name).what}`).toBe('model');
    for (const name of ['views.pt', 'dtypes.pt', 'big-endian.pt']) expect(kind(name).kind, name).toBe('data');
    expect(kind('training-checkpoint.pth').what).toMatch(
      /training checkpoint \(model weights under 'model_state_dict'\)/,
    );
    expect(kind('whole-module.pt').what).toMatch(/pickled nn\.Module \(fno_model\.FNO1d\)/);
    expectLoadError(() => kind('legacy.pt'), /legacy/);
  });
});

describe('torch.save data: broken files', () => {
  it('truncated or flipped: loads or one LoadError naming the file', () => {
    const good = data('deep-nested.pt');
    const r = prng(3);
    for (let i = 0; i < 300; i++) {
      const b = i % 2 ? good.slice(0, Math.floor(r() * good.length)) : good.slice();
      if (i % 2 === 0) for (let k = 0; k < 3; k++) b[Math.floor(r() * b.length)] = Math.floor(r() * 256);
      try {
        const s = openTorchData(b, 'd.pt');
        for (const v of s.variables()) if (v.dtype) s.read(v.name);
      } catch (e) {
        if (!(e instanceof LoadError)) throw e;
        expect(e.message.startsWith('d.pt: ')).toBe(true);
      }
    }
  });
});
