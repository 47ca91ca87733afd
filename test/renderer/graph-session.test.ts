// The engine worker's session with graph models (TorchScript archives run from their code), in Node with the
// real engine on the committed graph fixtures: recognised by their code, data fed by the forward signature,
// fit errors, y and J against PyTorch's float64 references, the choice of p, and the explore tools.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine';
import { analysisFns, createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import type { EngineAdapter, GraphNet, GraphRoles } from '../../src/renderer/worker/engine-contract';
import { Explorer } from '../../src/renderer/worker/explore';
import { exportBytes } from '../../src/renderer/worker/exports';
import { dataExportBytes } from '../../src/renderer/worker/data-exports';
import { Session } from '../../src/renderer/worker/session';
import { fakeWorker, seen } from '../engine/backends/fake-worker';
import type { LoadOutcome } from '../../src/renderer/worker/session';
import type { FileMessage } from '../../src/renderer/worker/protocol';

const graphDir = resolve(__dirname, '../fixtures/graph');
const file = (fixture: string, name: string, as = name) => ({
  name: as,
  bytes: new Uint8Array(readFileSync(resolve(graphDir, fixture, name))),
});
const ref = (fixture: string, name: string) => readNpy(file(fixture, name).bytes, name);

function relErr(a: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(a.length).toBe(want.length);
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(a[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return e / m;
}

function computed(o: LoadOutcome) {
  if (o.kind !== 'computed')
    throw new Error(`expected a result, got ${o.kind}: ${JSON.stringify(o.messages)}`);
  return o.result;
}

const load = (s: Session, fixture: string, names = ['model.pt', 'x.npy', 'p.npy']) =>
  s.load(names.map((n) => file(fixture, n)));

describe('graph models in the session', () => {
  it('computes a batch on helper threads too: the one-thread J bit for bit, PyTorch to 1e-10', async () => {
    // The attention fixture's two samples, sixteen times: chunks enough for the helpers to take some.
    const reps = 16;
    const tiled = (name: string) => {
      const t = ref('attention', name);
      const data = new Float64Array(t.data.length * reps);
      for (let r = 0; r < reps; r++) data.set(t.data, r * t.data.length);
      return { shape: [t.shape[0] * reps, ...t.shape.slice(1)], data };
    };
    const files = () => [
      file('attention', 'model.pt'),
      { name: 'x.npy', bytes: writeNpy(tiled('x.npy'), 'float64') },
      { name: 'p.npy', bytes: writeNpy(tiled('p.npy'), 'float64') },
    ];
    const runs = seen.runs;
    const threaded = new Session(
      createEngineAdapter({ gpu: null, threads: { spawn: () => fakeWorker(), count: 3, spawnAfterMs: 0 } }),
    );
    const r = computed(await threaded.load(files()));
    expect(seen.runs).toBeGreaterThan(runs); // the helpers took part
    expect(r.meta.backend).toMatch(/CPU \(graph engine, float64, 3 threads\)/);
    const one = computed(await new Session(createEngineAdapter({ gpu: null })).load(files()));
    expect(one.meta.backend).toBe('CPU (graph engine, float64)');
    expect(
      Buffer.from(Float64Array.from(r.J).buffer).equals(Buffer.from(Float64Array.from(one.J).buffer)),
    ).toBe(true);
    expect(relErr(r.J, tiled('J_f64.npy').data)).toBeLessThan(1e-10);
    expect(relErr(r.y, tiled('y_f64.npy').data)).toBeLessThan(1e-10);
  });

  it('recognises a TorchScript archive by its code and feeds x and p by the forward signature', async () => {
    const s = new Session(createEngineAdapter());
    await s.demo();
    const r = computed(await load(s, 'attention'));
    const g = r.model.graph!;
    expect(g).toBeDefined();
    expect(r.model.format).toBe('TorchScript archive');
    expect(r.model.architecture).toBe('module Attention');
    expect(g.kind).toBe('traced');
    expect(g.args.map((a) => [a.name, a.role, a.shape])).toEqual([
      ['x', 'x', [2, 12, 3]],
      ['p', 'p', [2, 4]],
    ]);
    expect(g.returns).toMatch(/Tuple\[Tensor, Tensor\]/);
    expect(g.wrt).toBe('p');
    expect(g.ops.find((o) => o.op === 'aten::linear')?.count).toBeGreaterThan(1);
    expect(r.model.params.real).toBe(g.parameters.real + g.buffers.real);
    expect([r.meta.B, r.meta.T, r.meta.O, r.meta.P]).toEqual([2, 12, 3, 4]);
    expect(r.meta.yShape).toEqual([2, 12, 3]);
    expect(r.meta.timeAxis).toBe(true);
    expect(r.meta.backend).toMatch(/CPU/);
    // No WebGPU in Node (navigator.gpu): auto computes on the CPU and has nothing to say about it.
    expect(r.meta.backendKind).toBe('cpu');
    expect(r.meta.backendNote).toBeUndefined();
    expect(r.data.xShape).toEqual([2, 12, 3]);
    expect(relErr(r.y, ref('attention', 'y_f64.npy').data)).toBeLessThan(1e-10);
    expect(relErr(r.J, ref('attention', 'J_f64.npy').data)).toBeLessThan(1e-10);
  });

  it('says why WebGPU chosen where there is none cannot be used, and keeps the result', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }));
    const r = computed(await load(s, 'film-mlp'));
    const o = await s.setBackend('webgpu');
    expect(o).toMatchObject({
      kind: 'unchanged',
      backendError: expect.stringMatching(
        /^WebGPU is not available here .*choose auto or CPU in the model panel$/,
      ),
    });
    expect(s.result).toBe(r);
    const cpu = computed(await s.setBackend('cpu'));
    expect(cpu.meta.backendNote).toBeUndefined();
    expect(relErr(cpu.J, ref('film-mlp', 'J_f64.npy').data)).toBeLessThan(1e-10);
  });

  it("treats y [B,O] as one time step and exports J in the model's own shape", async () => {
    const s = new Session(createEngineAdapter());
    const r = computed(await load(s, 'mlp-layernorm-noT'));
    expect(r.model.graph?.kind).toBe('scripted');
    expect([r.meta.B, r.meta.T, r.meta.O, r.meta.P]).toEqual([3, 1, 3, 4]);
    expect(r.meta.timeAxis).toBe(false);
    expect(r.meta.yShape).toEqual([3, 3]);
    const wantJ = ref('mlp-layernorm-noT', 'J_f64.npy');
    expect(relErr(r.J, wantJ.data)).toBeLessThan(1e-10);
    const npy = exportBytes(s.result, { type: 'export', id: 1, what: 'full-npy' }, { writeNpy });
    const back = readNpy(npy.bytes, 'J.npy');
    expect(back.shape).toEqual(wantJ.shape);
    expect(relErr(back.data, wantJ.data)).toBeLessThan(1e-10);
    const long = exportBytes(s.result, { type: 'export', id: 2, what: 'full-csv' }, { writeNpy });
    expect(new TextDecoder().decode(long.bytes).split('\n')[0]).toBe('b,o,k,value');
    const msg = { type: 'export-data' as const, id: 3, what: 'y-all-npy' as const, b: 0 };
    const y = readNpy(dataExportBytes(s.result, s.activeInputs()!.xRows, msg, { writeNpy }).bytes, 'y.npy');
    expect(y.shape).toEqual([3, 3]);
    expect(relErr(y.data, ref('mlp-layernorm-noT', 'y_f64.npy').data)).toBeLessThan(1e-10);
  });

  it('runs a model whose forward takes p alone from p only, and says a dropped x is not used', async () => {
    const s = new Session(createEngineAdapter());
    const r = computed(await load(s, 'analytic-ishigami', ['model.pt', 'p.npy']));
    expect(r.data.xShape).toBeNull();
    expect(r.data.xFile).toBe('');
    expect(r.model.graph?.args).toEqual([{ name: 'p', type: 'Tensor', role: 'p', shape: [3, 3] }]);
    expect(relErr(r.y, ref('analytic-ishigami', 'y_f64.npy').data)).toBeLessThan(1e-10);
    expect(relErr(r.J, ref('analytic-ishigami', 'J_f64.npy').data)).toBeLessThan(1e-10);
    // Data dropped with it: x is not used (said as the computation starts), p replaces the loaded one.
    const said: FileMessage[] = [];
    const drop = [file('attention', 'x.npy', 'x2.npy'), file('analytic-ishigami', 'p.npy', 'p2.npy')];
    const r2 = computed(await s.load(drop, { onComputing: (m) => said.push(...m) }));
    expect(r2.data.pFile).toBe('p2.npy');
    expect(said).toEqual([
      expect.objectContaining({
        level: 'info',
        text: expect.stringMatching(/x2\.npy: not used.*takes p alone/),
      }),
    ]);
  });

  it('says why data does not fit, keeps it aside, and computes once the partner arrives', async () => {
    const s = new Session(createEngineAdapter());
    const first = await s.load([file('attention', 'model.pt'), file('attention', 'x.npy')]);
    expect(first.kind).toBe('unchanged');
    expect(first.messages[0].text).toMatch(/waiting for p \[B,P\] \(the model's argument 'p'\)/);
    const bad = await s.load([file('mlp-layernorm-noT', 'p.npy', 'p3.npy')]);
    expect(bad.kind).toBe('unchanged');
    expect(bad.messages.find((m) => m.level === 'error')?.text).toMatch(
      /x\.npy has 2 sample\(s\) but p3\.npy has 3: the batch sizes must agree/,
    );
    expect(bad.kind === 'unchanged' && bad.staged).toEqual(['model.pt', 'x.npy', 'p3.npy']);
    const r = computed(await s.load([file('attention', 'p.npy')]));
    expect(relErr(r.J, ref('attention', 'J_f64.npy').data)).toBeLessThan(1e-10);
    // A model that fails on the data: the message names the files, the result stays.
    const o = await s.load([
      file('fno1d-li-grid', 'x.npy', 'x-li.npy'),
      file('fno1d-li-grid', 'p.npy', 'p-li.npy'),
    ]);
    expect(o.kind).toBe('unchanged');
    expect(o.messages[0]).toMatchObject({
      level: 'error',
      text: expect.stringMatching(/^computing J failed: /),
    });
    expect(s.result).toBe(r);
  });

  it('lets a config.json dropped with a TorchScript model go, saying so', async () => {
    const s = new Session(createEngineAdapter());
    const cfg = { name: 'config.json', bytes: new TextEncoder().encode('{"modes": 8}') };
    const said: FileMessage[] = [];
    const files = [cfg, ...['model.pt', 'x.npy', 'p.npy'].map((n) => file('fno1d-li-grid', n))];
    const r = computed(await s.load(files, { onComputing: (m) => said.push(...m) }));
    expect(said).toEqual([
      expect.objectContaining({
        file: 'config.json',
        level: 'warning',
        text: expect.stringMatching(/ignored.*TorchScript/),
      }),
    ]);
    expect(r.model.graph?.kind).toBe('scripted');
    expect(relErr(r.J, ref('fno1d-li-grid', 'J_f64.npy').data)).toBeLessThan(1e-10);
  });

  it('runs the explore tools on a graph model: what-if, check, sweep, sensitivity', async () => {
    const s = new Session(createEngineAdapter());
    const r = computed(await load(s, 'attention'));
    const ex = new Explorer(s, analysisFns);
    const seq = r.meta.seq;
    const TOP = r.meta.T * r.meta.O * r.meta.P;
    const at = ex.whatIf(seq, 1, Array.from(r.p.subarray(4, 8)));
    expect(relErr(at.J, r.J.subarray(TOP, 2 * TOP))).toBeLessThan(1e-12);
    const moved = Array.from(r.p.subarray(4, 8));
    moved[2] += 0.5;
    expect(relErr(ex.whatIf(seq, 1, moved).J, r.J.subarray(TOP, 2 * TOP))).toBeGreaterThan(1e-6);
    const check = ex.check(seq, 1, moved);
    expect(check.whatIf).toBe(true);
    expect(check.precision).toBe('float64');
    expect(check.maxRelError).toBeLessThan(1e-6);
    expect(ex.check(seq, 0).maxRelError).toBeLessThan(1e-6);
    const sw = await ex.sweep(
      {
        type: 'sweep',
        id: 1,
        seq,
        b: 0,
        base: Array.from(r.p.subarray(0, 4)),
        k: 1,
        lo: -1,
        hi: 1,
        n: 3,
        o: 2,
        j: 1,
      },
      {},
    );
    expect(sw.slice.y.length).toBe(3 * r.meta.T);
    const g = ex.sensitivity(seq);
    expect(g.nu.length).toBe(r.meta.O * r.meta.P);
  });

  it('checks derivatives of a model that takes p alone (no x)', async () => {
    const s = new Session(createEngineAdapter());
    const r = computed(await load(s, 'analytic-ishigami', ['model.pt', 'p.npy']));
    const ex = new Explorer(s, analysisFns);
    const c = ex.check(r.meta.seq, 2);
    expect(c.kinked).toBe(true); // abs in its code
    expect(c.maxRelError).toBeLessThan(1e-6);
    const w = ex.whatIf(r.meta.seq, 0, [0.1, 0.2, 0.3]);
    expect(w.y[0]).toBeCloseTo(Math.sin(0.1) + 7 * Math.sin(0.2) ** 2 + 0.1 * 0.3 ** 4 * Math.sin(0.1), 12);
  });
});

/**
 * A graph model of two tensor arguments of the same shape, y = a ⊙ b² ([B,2]), so that either can be p:
 * J with respect to a is diag(b²), with respect to b diag(2ab). `log` records its backends set up and freed.
 */
function productNet(log: string[] = []): GraphNet {
  const run = (roles: GraphRoles, x: Float64Array | null, p: Float64Array) => {
    const [a, b] = roles.wrt === 'a' ? [p, x!] : [x!, p];
    const B = p.length / 2;
    const J = new Float64Array(B * 4);
    for (let i = 0; i < B * 2; i++) J[i * 2 + (i % 2)] = roles.wrt === 'a' ? b[i] ** 2 : 2 * a[i] * b[i];
    return { y: a.map((v, i) => v * b[i] ** 2), J };
  };
  const model = (roles: GraphRoles) => ({
    parameterCount: () => ({ real: 0, complex: 0 }),
    forward: (x: Float64Array, p: Float64Array) => run(roles, x, p).y,
    jacobian: (x: Float64Array, p: Float64Array) => run(roles, x, p).J,
    evaluate: (x: Float64Array, p: Float64Array) => run(roles, x, p),
    jacobianAsync: async (x: Float64Array, p: Float64Array) => run(roles, x, p).J,
  });
  return {
    kind: 'scripted',
    kindReason: 'a test double',
    rootType: 'Product',
    args: [
      { name: 'a', type: 'Tensor' },
      { name: 'b', type: 'Tensor' },
    ],
    returns: 'Tensor',
    tensorArgs: ['a', 'b'],
    ops: [{ op: 'aten::mul', count: 2 }],
    parameters: { tensors: 0, real: 0, complex: 0 },
    buffers: { tensors: 0, real: 0, complex: 0 },
    modules: 1,
    notes: [],
    kinked: false,
    evaluate: async (roles, x, p) => ({ ...run(roles, x, p.data), yShape: [p.shape[0], 2] }),
    engineModel: model,
    selectBackend: async (want) => {
      log.push(`set up ${want}`);
      return {
        evaluate: async (roles, x, p) => ({
          ...run(roles, x, p.data),
          yShape: [p.shape[0], 2],
          backend: { description: 'CPU (a test double)', kind: 'cpu' },
        }),
        dispose: () => log.push(`freed ${want}`),
      };
    },
  };
}

describe('the choice of p', () => {
  const real = createEngineAdapter();
  const backendLog: string[] = [];
  const engine: EngineAdapter = {
    ...real,
    readModel: (bytes, name) =>
      name === 'product.pt'
        ? {
            file: name,
            format: 'TorchScript archive',
            tensorCount: 0,
            raw: null,
            graph: productNet(backendLog),
          }
        : real.readModel(bytes, name),
  };
  const npy = (name: string, shape: number[], data: number[]) => ({
    name,
    bytes: writeNpy({ shape, data: Float64Array.from(data) }, 'float64'),
  });
  const product = { name: 'product.pt', bytes: new Uint8Array(1) };

  it('defaults to the last tensor argument; another recomputes with p fed to it and stays for new data', async () => {
    const s = new Session(engine);
    // x.npy [B,F] is 2-D: read as x by its name, and fed to the graph model as it is.
    const r = computed(await s.load([product, npy('x.npy', [1, 2], [2, 3]), npy('p.npy', [1, 2], [5, 7])]));
    expect(r.model.graph?.wrt).toBe('b');
    expect(r.model.graph?.args.map((a) => [a.name, a.role, a.shape])).toEqual([
      ['a', 'x', [1, 2]],
      ['b', 'p', [1, 2]],
    ]);
    expect(r.data.xShape).toEqual([1, 2]);
    expect(Array.from(r.J)).toEqual([20, 0, 0, 42]);
    const phases: string[] = [];
    const r2 = computed(await s.setWrt('a', { onComputing: () => phases.push('computing') }));
    expect(phases).toEqual(['computing']);
    expect(r2.model.graph?.wrt).toBe('a');
    expect(r2.model.graph?.args.map((a) => a.role)).toEqual(['p', 'x']);
    expect(Array.from(r2.y)).toEqual([20, 63]);
    expect(Array.from(r2.J)).toEqual([4, 0, 0, 9]);
    // The explore tools follow the choice.
    const ex = new Explorer(s, analysisFns);
    expect(Array.from(ex.whatIf(r2.meta.seq, 0, [1, 1]).y)).toEqual([4, 9]);
    expect(ex.check(r2.meta.seq, 0).maxRelError).toBeLessThan(1e-6);
    const r3 = computed(await s.load([npy('p.npy', [1, 2], [1, 1])]));
    expect(r3.model.graph?.wrt).toBe('a');
    expect(Array.from(r3.y)).toEqual([4, 9]);
    // Unknown names are refused; the same choice changes nothing.
    const bad = await s.setWrt('c');
    expect(bad.kind).toBe('unchanged');
    expect(bad.messages[0].text).toMatch(/no tensor argument 'c' \(its tensor arguments: a, b\)/);
    const same = await s.setWrt('a');
    expect(same).toMatchObject({ kind: 'unchanged', messages: [] });
    expect(s.result).toBe(r3);
    // One backend served every p (it does not depend on p); a new choice replaces it, a new model frees it.
    expect(backendLog).toEqual(['set up auto']);
    computed(await s.setBackend('cpu'));
    expect(backendLog.slice(1).sort()).toEqual(['freed auto', 'set up cpu']);
    computed(await load(s, 'analytic-ishigami', ['model.pt', 'p.npy']));
    await Promise.resolve();
    expect(backendLog.slice(3)).toEqual(['freed cpu']);
  });

  it('keeps the previous choice and result when the model fails with the new one', async () => {
    const s = new Session(createEngineAdapter());
    const r = computed(await load(s, 'attention'));
    // x [2,12,3] fed to 'p' and p [2,4] to 'x': the model cannot run.
    const o = await s.setWrt('x');
    expect(o.kind).toBe('unchanged');
    expect(o.messages[0].text).toMatch(/^computing J failed: /);
    expect(s.result).toBe(r);
    expect(await s.setWrt('p')).toMatchObject({ kind: 'unchanged', messages: [] });
    const fno = new Session(createEngineAdapter());
    await fno.demo();
    expect((await fno.setWrt('p')).messages[0].text).toMatch(/no graph model/);
  });
});
