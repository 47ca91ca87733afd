import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { readModelFile } from '../../../src/engine/io/model-file';
import type { FnoConfig } from '../../../src/engine/models/config';
import type { ModelFile } from '../../../src/engine/io/model-file';
import { recognizeFno } from '../../../src/engine/models/recognize';
import type { HostTensor } from '../../../src/engine/tensor';
import { CASES, fixturePath } from '../fixtures';
import { rng } from '../helpers';
import { randomTensors } from '../random-model';

const modelFile = (tensors: Map<string, HostTensor>, extra: Partial<ModelFile> = {}): ModelFile => ({
  file: 'm.pt',
  format: 'torch',
  tensors,
  notes: [],
  ...extra,
});

const CONFIG: FnoConfig = {
  architecture: 'fno1d-scalar',
  inp_dim_func: 3,
  inp_dim_scalar: 4,
  out_dim_func: 2,
  modes: 5,
  width: 6,
  hidden: 7,
  layers: 2,
  activation: 'gelu',
};

describe('recognizeFno', () => {
  it('infers every hyperparameter but the activation from names and shapes, and says tanh was assumed', () => {
    const r = recognizeFno(modelFile(randomTensors(CONFIG, rng(1))));
    expect(r.config).toEqual({ ...CONFIG, activation: 'tanh' });
    expect(r.sources.width).toBe('inferred');
    expect(r.sources.activation).toBe('assumed');
    expect(r.notes.join(' ')).toMatch(/assumed tanh/);
  });

  it('explicit config wins over metadata, which wins over inference', () => {
    const r = recognizeFno(
      modelFile(randomTensors(CONFIG, rng(2)), { metadata: { activation: 'silu', layers: '2' } }),
      {
        activation: 'gelu',
      },
    );
    expect(r.config.activation).toBe('gelu');
    expect(r.sources.activation).toBe('given');
    expect(r.sources.layers).toBe('metadata');
    expect(r.sources.modes).toBe('inferred');
  });

  it('reads the fixtures: config.json values agree with what the weights say', () => {
    for (const name of CASES) {
      const cfg = JSON.parse(readFileSync(fixturePath(name, 'config.json'), 'utf8')) as FnoConfig;
      for (const f of ['model.pt', 'model.safetensors']) {
        const r = recognizeFno(readModelFile(new Uint8Array(readFileSync(fixturePath(name, f))), f));
        expect({ ...r.config, activation: cfg.activation }).toEqual(cfg);
      }
    }
  });

  it('strips DataParallel / Lightning prefixes', () => {
    const t = randomTensors(CONFIG, rng(3));
    const prefixed = new Map([...t].map(([k, v]) => [`model.module.${k}`, v]));
    const r = recognizeFno(modelFile(prefixed));
    expect(r.config.width).toBe(6);
    expect(r.notes.join(' ')).toMatch(/'model\.'.*'module\.'/);
  });

  it('takes real [in,out,modes,2] spectral weights (the original FNO layout) as complex', () => {
    const t = randomTensors(CONFIG, rng(4));
    const w = t.get('spect1.weights1')!;
    const inter = new Float64Array(w.data.length * 2);
    w.data.forEach((v, i) => {
      inter[2 * i] = v;
      inter[2 * i + 1] = w.imag![i];
    });
    t.set('spect1.weights1', { dtype: 'float32', shape: [...w.shape, 2], data: inter });
    const r = recognizeFno(modelFile(t));
    const got = r.tensors.get('spect1.weights1')!;
    expect(got.shape).toEqual(w.shape);
    expect([...got.data]).toEqual([...w.data]);
    expect([...got.imag!]).toEqual([...w.imag!]);
  });

  it('lists missing, extra and mis-shaped tensors in one message', () => {
    const t = randomTensors(CONFIG, rng(5));
    t.delete('lin1.bias');
    t.set('extra.thing', { dtype: 'float32', shape: [1], data: new Float64Array(1) });
    t.set('linear_q.bias', { dtype: 'float32', shape: [8], data: new Float64Array(8) });
    try {
      recognizeFno(modelFile(t));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(LoadError);
      const m = (e as Error).message;
      expect(m).toMatch(/^m\.pt: /);
      expect(m).toMatch(/missing: lin1\.bias \[6\]/);
      expect(m).toMatch(/extra: extra\.thing/);
      expect(m).toMatch(/linear_q\.bias is \[8\], expected \[7\]/);
    }
  });

  it('a config that contradicts the weights is reported as mis-shaped tensors', () => {
    expect(() => recognizeFno(modelFile(randomTensors(CONFIG, rng(6))), { width: 8 })).toThrow(
      /linear_p\.weight is \[6,3\], expected \[8,3\]/,
    );
  });

  it('a file of unrelated tensors says it is not an fno1d-scalar model', () => {
    const t = new Map<string, HostTensor>([
      ['conv.weight', { dtype: 'float32', shape: [3, 3], data: new Float64Array(9) }],
    ]);
    expect(() => recognizeFno(modelFile(t))).toThrow(
      /does not look like an fno1d-scalar model.*conv\.weight/,
    );
  });
});

describe('model.pt and model.safetensors load to bit-identical weights', () => {
  it.each(CASES)('%s', (name) => {
    const a = recognizeFno(
      readModelFile(new Uint8Array(readFileSync(fixturePath(name, 'model.pt'))), 'model.pt'),
    );
    const b = recognizeFno(
      readModelFile(
        new Uint8Array(readFileSync(fixturePath(name, 'model.safetensors'))),
        'model.safetensors',
      ),
    );
    expect([...a.tensors.keys()]).toEqual([...b.tensors.keys()]);
    for (const [k, ta] of a.tensors) {
      const tb = b.tensors.get(k)!;
      expect(ta.shape).toEqual(tb.shape);
      expect(
        Buffer.from(ta.data.buffer, ta.data.byteOffset, ta.data.byteLength).equals(
          Buffer.from(tb.data.buffer, tb.data.byteOffset, tb.data.byteLength),
        ),
      ).toBe(true);
      if (ta.imag) expect(Buffer.from(ta.imag.buffer).equals(Buffer.from(tb.imag!.buffer))).toBe(true);
    }
  });
});
