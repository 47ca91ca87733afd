// The engine worker's logic, with the real engine, in Node: loading in any order, bad files, data that does not
// fit, and J against the PyTorch float64 reference.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { exportBytes } from '../../src/renderer/worker/exports';
import { Session } from '../../src/renderer/worker/session';
import type { LoadOutcome } from '../../src/renderer/worker/session';
import { writeNpy } from '../../src/engine';

// The committed PyTorch fixtures (test/fixtures/README.md): the seed case, and the deep case for the
// batch of four (the seed case keeps no batch-of-4 Jacobian).
const seed = resolve(__dirname, '../fixtures/fno/seed-fno1d');
const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
const file = (name: string, dir = seed) => ({
  name,
  bytes: new Uint8Array(readFileSync(resolve(dir, name))),
});

function npyF64(name: string, dir = seed): { shape: number[]; data: Float64Array } {
  const b = readFileSync(resolve(dir, name));
  const hlen = b.readUInt16LE(8);
  const header = b.subarray(10, 10 + hlen).toString('latin1');
  const shape = /\(([^)]*)\)/
    .exec(header)![1]
    .split(',')
    .filter((s) => s.trim())
    .map(Number);
  const data = new Float64Array(b.buffer.slice(b.byteOffset + 10 + hlen, b.byteOffset + b.byteLength));
  return { shape, data };
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

function computed(o: LoadOutcome) {
  if (o.kind !== 'computed')
    throw new Error(`expected a result, got ${o.kind}: ${JSON.stringify(o.messages)}`);
  return o.result;
}

describe('engine session', () => {
  it('computes the demo', async () => {
    const s = new Session(createEngineAdapter());
    const r = computed(await s.demo());
    expect([r.meta.B, r.meta.T, r.meta.O, r.meta.P]).toEqual([1, 601, 15, 14]);
    expect(r.model.file).toBe('built-in demo');
    expect(r.model.params.complex).toBeGreaterThan(0);
    expect(r.summary.globalMaxAbs).toBeGreaterThan(0);
  });

  it('loads model and data dropped in any order, and J matches jacobian_f64.npy', async () => {
    const s = new Session(createEngineAdapter());
    await s.demo();
    const r = computed(await s.load([file('p.npy'), file('model.pt'), file('x.npy')]));
    expect(r.model.file).toBe('model.pt');
    expect(r.model.origin.activation).toBe('assumed');
    expect(r.model.origin.width).toBe('inferred');
    expect(relErr(r.J, npyF64('jacobian_f64.npy').data)).toBeLessThan(1e-10);
    expect(relErr(r.y, npyF64('y_f64.npy').data)).toBeLessThan(1e-10);
    // The worker's CSV export of a slice round-trips the numbers.
    const out = exportBytes(
      s.result,
      {
        type: 'export',
        id: 1,
        what: 'slice-csv',
        slice: { xAxis: 't', yAxis: 'o', fixed: { b: 0, t: 0, o: 0, k: 2 } },
      },
      { writeNpy },
    );
    const lines = new TextDecoder().decode(out.bytes).split('\n');
    expect(out.name).toBe('J_k2-p2_t-by-o.csv');
    expect(Number(lines[1 + 100].split(',')[1 + 7])).toBe(r.J[(100 * 15 + 7) * 14 + 2]);
  });

  it('keeps the previous result when a file is corrupt, naming the file', async () => {
    const s = new Session(createEngineAdapter());
    await s.demo();
    const broken = { name: 'model.pt', bytes: file('model.pt').bytes.subarray(0, 5000) };
    const o = await s.load([broken]);
    expect(o.kind).toBe('unchanged');
    expect(o.messages).toEqual([
      expect.objectContaining({
        file: 'model.pt',
        level: 'error',
        text: expect.stringMatching(/^model\.pt: /),
      }),
    ]);
    expect(s.result?.model.file).toBe('built-in demo');
    const junk = await s.load([{ name: 'x.npy', bytes: new TextEncoder().encode('not numpy') }]);
    expect(junk.messages[0]).toMatchObject({ file: 'x.npy', level: 'error' });
    // A broken model does not get its data computed with the previous model.
    const mixed = await s.load([broken, file('x.npy'), file('p.npy')]);
    expect(mixed.kind).toBe('unchanged');
    expect(s.result?.model.file).toBe('built-in demo');
  });

  it('says why data does not fit, keeps it aside, and computes once the partner arrives', async () => {
    const s = new Session(createEngineAdapter());
    // The deep model is GELU: its config.json says so (without it the activation is assumed tanh).
    const model = [file('model.pt', deep), file('config.json', deep)];
    computed(await s.load([...model, file('x.npy', deep), file('p.npy', deep)]));
    const o = await s.load([file('p4.npy', deep)]);
    expect(o.kind).toBe('unchanged');
    expect(o.messages.find((m) => m.level === 'error')?.text).toMatch(/2 sample\(s\) but p4\.npy has 4/);
    expect(o.kind === 'unchanged' && o.staged).toEqual(['p4.npy']);
    const r = computed(await s.load([file('x4.npy', deep)]));
    expect(r.meta.B).toBe(4);
    expect(r.data.pFile).toBe('p4.npy');
    expect(relErr(r.J, npyF64('jacobian4_f64.npy', deep).data)).toBeLessThan(1e-10);
  });

  it('applies a config.json that contradicts the weights as an error on that file', async () => {
    const s = new Session(createEngineAdapter());
    await s.demo();
    const cfg = { name: 'config.json', bytes: new TextEncoder().encode('{"modes": 8}') };
    const o = await s.load([file('model.safetensors'), cfg, file('x.npy'), file('p.npy')]);
    expect(o.kind).toBe('unchanged');
    expect(o.messages.some((m) => m.level === 'error' && /modes|spect1/.test(m.text))).toBe(true);
  });

  it('reports an unknown file type by name', async () => {
    const s = new Session(createEngineAdapter());
    const o = await s.load([{ name: 'notes.txt', bytes: new Uint8Array([1]) }]);
    expect(o.messages[0]).toMatchObject({
      file: 'notes.txt',
      level: 'error',
      text: expect.stringMatching(/not a file jacscope reads/),
    });
  });

  it('can be cancelled', async () => {
    const s = new Session(createEngineAdapter());
    await s.demo();
    const ac = new AbortController();
    ac.abort();
    const o = await s.load([file('model.pt'), file('x4.npy'), file('p4.npy')], { signal: ac.signal });
    expect(o.kind).toBe('cancelled');
    expect(s.result?.model.file).toBe('built-in demo');
  });

  it('computes the batch on the chosen backend; WebGPU forced where there is none keeps the result', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }));
    const r1 = computed(await s.load([file('model.pt'), file('x.npy'), file('p.npy')]));
    expect(r1.meta.backendKind).toBe('cpu');
    expect(r1.meta.backendWant).toBe('auto');
    expect(r1.meta.backend).toMatch(/^CPU \(/);
    expect(r1.meta.backendNote).toBeUndefined();
    const phases: string[] = [];
    const o = await s.setBackend('webgpu', { onComputing: () => phases.push('computing') });
    expect(o.kind).toBe('unchanged');
    if (o.kind !== 'unchanged') return;
    expect(o.backendError).toMatch(/WebGPU is not available here.*choose auto or CPU/);
    expect(o.messages[0]).toMatchObject({
      level: 'error',
      text: expect.stringMatching(/previous result stays/),
    });
    expect(s.result).toBe(r1);
    const r2 = computed(await s.setBackend('cpu'));
    expect(r2.meta.backendWant).toBe('cpu');
    expect(r2.meta.seq).toBe(r1.meta.seq + 1);
    expect(relErr(r2.J, npyF64('jacobian_f64.npy').data)).toBeLessThan(1e-10);
    expect(phases).toEqual(['computing']);
  });
});
