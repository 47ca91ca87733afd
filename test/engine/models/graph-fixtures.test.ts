/**
 * Every TorchScript fixture model (traced and scripted, made by scripts/fixtures/make_graph_fixtures.py
 * with PyTorch 1.13) against PyTorch's float64 y and J: the whole graph engine, end to end.
 */
import { describe, expect, it } from 'vitest';
import { readTorchScript } from '../../../src/engine/torchscript/archive';
import { graphNpy, GRAPH_CASES, loadGraphFixture } from '../graph-fixture';
import { relErr } from '../helpers';

describe('graph fixtures vs PyTorch float64', () => {
  it('has the committed cases', () => {
    expect(GRAPH_CASES.length).toBeGreaterThanOrEqual(10);
  });
  for (const name of GRAPH_CASES) {
    it(name, () => {
      const { meta, bytes, model, inputs, output } = loadGraphFixture(name);
      expect(readTorchScript(bytes, 'model.pt').kind).toBe(meta.kind);
      const r = model.evaluate(inputs, { wrt: meta.wrt, output });
      const y = graphNpy(name, 'y_f64.npy');
      const J = graphNpy(name, 'J_f64.npy');
      expect(r.yShape).toEqual(y.shape);
      expect(r.jShape).toEqual(J.shape);
      expect(relErr(r.y, y.data)).toBeLessThan(1e-10);
      expect(relErr(r.J!, J.data)).toBeLessThan(1e-10);
      // The forward-only path (chunks of samples) gives the same y.
      expect(relErr(model.forward(inputs, { wrt: meta.wrt, output }).y, y.data)).toBeLessThan(1e-10);
    });
  }
});
