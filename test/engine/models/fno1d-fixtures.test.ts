import { describe, expect, it } from 'vitest';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import { BATCH4_CASE, CASES, INPUT_SETS, loadCase, loadNpy } from '../fixtures';
import { relErr } from '../helpers';

// The model against PyTorch's float64 references, for both fixture cases and each input set,
// through the program the state-dict builder emits.
describe.each(CASES)('fno1d-scalar vs PyTorch float64: %s', (name) => {
  const { config, tensors } = loadCase(name);
  describe('graph engine', () => {
    const model = new Fno1dScalar(config, tensors);
    it.each(INPUT_SETS[name])('$x / $p', (set) => {
      const x = loadNpy(name, set.x);
      const p = loadNpy(name, set.p);
      const [B, T] = x.shape;
      const y = model.forward(x.data, p.data, B, T);
      const J = model.jacobian(x.data, p.data, B, T);
      const yRef = loadNpy(name, set.y);
      const jRef = loadNpy(name, set.j);
      expect(relErr(y, yRef.data)).toBeLessThanOrEqual(1e-10);
      expect(relErr(J, jRef.data)).toBeLessThanOrEqual(1e-10);
    });
  });
});

describe('evaluate: y and J from one pass, into caller buffers', () => {
  it.each([BATCH4_CASE])('%s, batch of 4', (name) => {
    const { config, tensors } = loadCase(name);
    const model = new Fno1dScalar(config, tensors);
    const x = loadNpy(name, 'x4.npy');
    const p = loadNpy(name, 'p4.npy');
    const [B, T] = x.shape;
    const out = {
      y: new Float64Array(B * T * config.out_dim_func),
      J: new Float64Array(B * T * config.out_dim_func * config.inp_dim_scalar),
    };
    const r = model.evaluate(x.data, p.data, B, T, out);
    expect(r.y).toBe(out.y);
    expect(relErr(out.y, loadNpy(name, 'y4_f64.npy').data)).toBeLessThanOrEqual(1e-10);
    expect(relErr(out.J, loadNpy(name, 'jacobian4_f64.npy').data)).toBeLessThanOrEqual(1e-10);
  });
});
