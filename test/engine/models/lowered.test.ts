/**
 * Lowering graph models to tapes (models/lowered.ts): every TorchScript fixture lowers, and its tape
 * run in float64 (graph/lower/run-tape.ts, the reference semantics every tape backend is held to)
 * gives PyTorch's float64 y and J — at the fixture's batch and at another, with the samples in
 * another order — and fusing its elementwise chains changes no bit. A model with an op that has no lowering, one that reads tensor values on the host
 * and one whose samples interact are refused with a reason naming what.
 */
import { describe, expect, it } from 'vitest';
import { runTape } from '../../../src/engine/graph/lower/run-tape';
import { RULES } from '../../../src/engine/graph/table';
import type { GraphProgram } from '../../../src/engine/graph/program';
import { GraphModel } from '../../../src/engine/models/graph-model';
import { lowerGraphModel, lowerGraphModelAsync } from '../../../src/engine/models/lowered';
import { CancelledError } from '../../../src/engine/errors';
import { graphHost } from '../../../src/engine/torchscript/graph-host';
import type { TensorHost } from '../../../src/engine/torchscript/host';
import type { GTensor } from '../../../src/engine/graph/tensor';
import { map } from '../../../src/engine/graph/elementwise';
import type { Args } from '../../../src/engine/graph/args';
import { graphNpy, GRAPH_CASES, loadGraphFixture } from '../graph-fixture';
import { relErr } from '../helpers';

/** Rows `order` of a [B, ...] array. */
function rows(data: Float64Array, B: number, order: readonly number[]): Float64Array {
  const per = data.length / B;
  const out = new Float64Array(order.length * per);
  order.forEach((b, i) => out.set(data.subarray(b * per, (b + 1) * per), i * per));
  return out;
}

describe('lowered fixtures vs PyTorch float64', () => {
  for (const name of GRAPH_CASES) {
    it(name, () => {
      const { meta, model, inputs, output } = loadGraphFixture(name);
      const shapes = new Map([...inputs].map(([k, v]) => [k, v.shape.slice(1)]));
      const lowered = lowerGraphModel(model, { shapes, wrt: meta.wrt, output, mode: 'jacobian' });
      if (!lowered.ok) throw new Error(`${name} did not lower: ${lowered.reason}`);
      const y = graphNpy(name, 'y_f64.npy').data;
      const J = graphNpy(name, 'J_f64.npy').data;
      const B = inputs.get(meta.wrt)!.shape[0];
      expect(lowered.model.P).toBe(inputs.get(meta.wrt)!.shape[1]);

      // The fixture's batch, and a larger one: the samples reversed, then the first again twice.
      for (const order of [[...Array(B).keys()], [...[...Array(B).keys()].reverse(), 0, 0]]) {
        const n = order.length;
        const tape = lowered.model.at(n);
        const got = runTape(tape, {
          inputs: new Map([...inputs].map(([k, v]) => [k, rows(v.data, B, order)])),
          n,
          P: lowered.model.P,
        });
        expect(relErr(got.y, rows(y, B, order))).toBeLessThan(1e-10);
        expect(relErr(got.J!, rows(J, B, order))).toBeLessThan(1e-10);
      }

      // Fusing the elementwise chains changes no bit, and leaves fewer records or as many.
      const [fused, plain] = [lowered.model.at(B), lowered.model.at(B, false)];
      expect(fused.recs.length).toBeLessThanOrEqual(plain.recs.length);
      const io = { inputs: new Map([...inputs].map(([k, v]) => [k, v.data])), n: B, P: lowered.model.P };
      const [a, b] = [runTape(fused, io), runTape(plain, io)];
      expect(a.y).toEqual(b.y);
      expect(a.J).toEqual(b.J);
    });
  }
});

const AT = { file: 'test', line: 1, col: 1 };

/** A two-argument program (x [B,3], p [B,2]) whose forward is `body`. */
function program(body: (h: TensorHost<GTensor>, x: GTensor, p: GTensor) => unknown): GraphModel {
  const prog: GraphProgram<TensorHost<GTensor>> = {
    origin: 'unknown',
    signature: [
      { name: 'x', type: 'Tensor' },
      { name: 'p', type: 'Tensor' },
    ],
    run: (host, args) => body(host, args[0] as GTensor, args[1] as GTensor),
  };
  return new GraphModel(prog, graphHost, RULES);
}

const SHAPES = new Map([
  ['x', [3]],
  ['p', [2]],
]);

describe('lowering refuses what it cannot reproduce, naming it', () => {
  it('an elementwise function given without its expression', () => {
    // A rule whose function has no expression (a table entry of the test's own): refused by name.
    const table = {
      ...RULES,
      'aten::opaque': {
        params: ['self'],
        forward: (a: Args) => map(a.tensor('self'), (v) => v * v),
        jvp: () => null,
      },
    };
    const prog: GraphProgram<TensorHost<GTensor>> = {
      origin: 'unknown',
      signature: [
        { name: 'x', type: 'Tensor' },
        { name: 'p', type: 'Tensor' },
      ],
      run: (h, args) =>
        h.call('aten::mul', [h.call('aten::opaque', [args[1] as GTensor], {}, AT), 2], {}, AT),
    };
    const m = new GraphModel(prog, graphHost, table);
    const r = lowerGraphModel(m, { shapes: SHAPES, wrt: 'p', mode: 'forward' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^aten::opaque: an elementwise function with no lowering/);
  });

  it('a tensor value read on the host', () => {
    const m = program((h, x, p) => {
      const s = h.call('aten::sum', [p], {}, AT);
      const k = h.call('aten::Float', [s], {}, AT) as number;
      return h.call('aten::mul', [x, k], {}, AT);
    });
    const r = lowerGraphModel(m, { shapes: SHAPES, wrt: 'p', mode: 'forward' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/^aten::Float: a tensor value read on the host/);
  });

  it('samples that interact', () => {
    const m = program((h, x, p) => h.call('aten::add', [x, h.call('aten::sum', [p], {}, AT)], {}, AT));
    const r = lowerGraphModel(m, { shapes: SHAPES, wrt: 'p', mode: 'jacobian' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/samples interact/);
  });
});

describe('lowering a model asynchronously', () => {
  const { meta, model, inputs } = loadGraphFixture('film-mlp');
  const shapes = new Map([...inputs].map(([a, v]) => [a, v.shape.slice(1)]));
  const req = { shapes, wrt: meta.wrt, mode: 'jacobian' as const };

  it('gives the same tape as the synchronous lowering', async () => {
    const [a, b] = [lowerGraphModel(model, req), await lowerGraphModelAsync(model, req)];
    if (!a.ok || !b.ok) throw new Error('did not lower');
    expect(JSON.stringify(b.model.at(2), (_k, v) => (v instanceof Float64Array ? [...v] : v))).toBe(
      JSON.stringify(a.model.at(2), (_k, v) => (v instanceof Float64Array ? [...v] : v)),
    );
  });

  it('stops between its steps when cancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(lowerGraphModelAsync(model, req, ac.signal)).rejects.toBeInstanceOf(CancelledError);
    // cancelled while it runs: a step later
    const later = new AbortController();
    const run = lowerGraphModelAsync(model, req, later.signal);
    setTimeout(() => later.abort(), 0);
    await expect(run).rejects.toBeInstanceOf(CancelledError);
  });
});
