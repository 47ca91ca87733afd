/**
 * Every TorchScript fixture model (traced and scripted, made by scripts/fixtures/make_graph_fixtures.py
 * with PyTorch 1.13) against PyTorch's float64 y and J: the whole graph engine, end to end.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readNpy } from '../../../src/engine/io/npy';
import { GraphModel, type InputArray } from '../../../src/engine/models/graph-model';
import { RULES } from '../../../src/engine/graph/table';
import { readTorchScript } from '../../../src/engine/torchscript/archive';
import { graphHost } from '../../../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../../../src/engine/torchscript/program';
import { relErr } from '../helpers';

const ROOT = fileURLToPath(new URL('../../fixtures/graph/', import.meta.url));
const CASES = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function npy(dir: string, name: string) {
  return readNpy(new Uint8Array(readFileSync(`${dir}/${name}`)), name);
}

describe('graph fixtures vs PyTorch float64', () => {
  it('has the committed cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of CASES) {
    it(name, () => {
      const dir = ROOT + name;
      const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
      const archive = readTorchScript(new Uint8Array(readFileSync(`${dir}/model.pt`)), 'model.pt');
      expect(archive.kind).toBe(meta.kind);
      const program = torchScriptProgram(archive);
      const model = new GraphModel(program, graphHost, RULES);
      const inputs = new Map<string, InputArray>();
      for (const arg of model.tensorArgs()) {
        const t = npy(dir, `${arg}.npy`);
        inputs.set(arg, { shape: t.shape, data: t.data });
      }
      const output = typeof meta.output_index === 'number' ? meta.output_index : undefined;
      const r = model.evaluate(inputs, { wrt: meta.wrt, output });
      const y = npy(dir, 'y_f64.npy');
      const J = npy(dir, 'J_f64.npy');
      expect(r.yShape).toEqual(y.shape);
      expect(r.jShape).toEqual(J.shape);
      expect(relErr(r.y, y.data)).toBeLessThan(1e-10);
      expect(relErr(r.J!, J.data)).toBeLessThan(1e-10);
      // The forward-only path (chunks of samples) gives the same y.
      expect(relErr(model.forward(inputs, { wrt: meta.wrt, output }).y, y.data)).toBeLessThan(1e-10);
    });
  }
});
