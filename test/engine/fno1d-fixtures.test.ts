import { describe, expect, it } from 'vitest';
import { gemmJs } from '../../src/engine/backends/cpu/gemm';
import { Fno1dScalar } from '../../src/engine/models/fno1d-scalar';
import { CASES, INPUT_SETS, loadCase, loadNpy } from './fixtures';
import { relErr } from './helpers';

// The model against PyTorch's float64 references, for both fixture cases and both input sets,
// with each way of computing the truncated DFT.
describe.each(CASES)('fno1d-scalar vs PyTorch float64: %s', (name) => {
  const { config, tensors } = loadCase(name);
  describe.each(['matrix', 'fft'] as const)('dft=%s', (dft) => {
    const model = new Fno1dScalar(config, tensors, { dft, gemm: gemmJs });
    it.each(INPUT_SETS)('$x / $p', (set) => {
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
