/**
 * Sobol' indices of the committed TorchScript fixtures (analytic-ishigami, analytic-sobol-g) run by
 * the graph engine, forward passes and exact Jacobians batched by the run: against the analytic
 * values in their meta.json, and against the same run on plain JavaScript functions.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Distribution, type SobolRunOptions, sobol } from '../../../src/engine/analysis/sobol';
import { RULES } from '../../../src/engine/graph/table';
import { GraphModel, type InputArray } from '../../../src/engine/models/graph-model';
import { readTorchScript } from '../../../src/engine/torchscript/archive';
import { graphHost } from '../../../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../../../src/engine/torchscript/program';

const ROOT = fileURLToPath(new URL('../../fixtures/graph/', import.meta.url));

function load(name: string) {
  const dir = ROOT + name;
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
  const archive = readTorchScript(new Uint8Array(readFileSync(`${dir}/model.pt`)), 'model.pt');
  const model = new GraphModel(torchScriptProgram(archive), graphHost, RULES);
  const P: number = meta.P;
  const inputs = (p: Float64Array, n: number) =>
    new Map<string, InputArray>([['p', { shape: [n, P], data: p }]]);
  const opts: SobolRunOptions = {
    evaluate: async (p, n) => model.forward(inputs(p, n), { wrt: 'p' }).y,
    jacobian: async (p, n) => model.evaluate(inputs(p, n), { wrt: 'p' }).J!,
  };
  return { meta, opts, P };
}

describe('Sobol indices of TorchScript fixtures through the graph engine', () => {
  it('analytic-ishigami, output 0: the analytic S1 and ST within their intervals; equal to the JS function', async () => {
    const { meta, opts, P } = load('analytic-ishigami');
    const ref = meta.sobol_indices;
    expect(ref.output).toBe(0);
    const U: Distribution = { dist: 'uniform', low: -Math.PI, high: Math.PI };
    const settings = { N: 1024, distributions: [U, U, U], seed: 3 };
    const r = await sobol(settings, { ...opts, chunkRows: 128 });
    expect(r.outShape).toEqual([2]);
    for (let k = 0; k < P; k++) {
      expect(Math.abs(r.S1[k] - ref.first_order[k])).toBeLessThanOrEqual(r.S1_conf[k]);
      expect(Math.abs(r.ST[k] - ref.total[k])).toBeLessThanOrEqual(r.ST_conf[k]);
      expect(r.dgsm!.exceeds[k]).toBe(0);
      expect(r.dgsm!.exceeds[P + k]).toBe(0);
    }
    expect(Math.abs(r.variance[0] - ref.variance) / ref.variance).toBeLessThan(0.05);
    // The same design through a plain function of the same formula gives the same indices (each
    // output element's sums are its own, so output 0 alone compares with output 0 of the model).
    const [a, b] = [ref.a, ref.b];
    const js = await sobol(settings, {
      evaluate: async (p, n) => {
        const y = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          const [x0, x1, x2] = [p[3 * i], p[3 * i + 1], p[3 * i + 2]];
          y[i] = Math.sin(x0) + a * Math.sin(x1) ** 2 + b * x2 ** 4 * Math.sin(x0);
        }
        return y;
      },
    });
    for (let k = 0; k < P; k++) {
      expect(Math.abs(js.S1[k] - r.S1[k])).toBeLessThan(1e-9);
      expect(Math.abs(js.ST[k] - r.ST[k])).toBeLessThan(1e-9);
    }
  });

  it('analytic-sobol-g: the analytic S1 and ST within their intervals, the DGSM bound holding', async () => {
    const { meta, opts, P } = load('analytic-sobol-g');
    const ref = meta.sobol_indices;
    const U: Distribution = { dist: 'uniform', low: 0, high: 1 };
    const r = await sobol({ N: 1024, distributions: Array(P).fill(U), seed: 5 }, opts);
    expect(r.outShape).toEqual([1]);
    for (let k = 0; k < P; k++) {
      expect(Math.abs(r.S1[k] - ref.first_order[k])).toBeLessThanOrEqual(r.S1_conf[k]);
      expect(Math.abs(r.ST[k] - ref.total[k])).toBeLessThanOrEqual(r.ST_conf[k]);
      expect(ref.total[k]).toBeLessThanOrEqual(r.dgsm!.bound[k] + r.dgsm!.bound_conf[k]);
      expect(r.dgsm!.exceeds[k]).toBe(0);
    }
  });
});
