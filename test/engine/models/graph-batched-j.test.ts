// Jacobian runs of several samples at once (JACOBIAN_RUN): the same J as one sample per run for a
// model whose samples are independent, and one sample per run — never a mixed-up J — for a model
// that couples its samples (a probe decides). References: the analytic derivatives of the models.
import { describe, expect, it } from 'vitest';
import { GraphModel, JACOBIAN_RUN } from '../../../src/engine/models/graph-model';
import { openModel } from '../../../src/engine/models/open-model';
import { RULES } from '../../../src/engine/graph/table';
import { graphHost } from '../../../src/engine/torchscript/graph-host';
import { buildArchive } from '../torchscript/zip-builder';

function model(body: string): GraphModel {
  const code = `class M(Module):
  __parameters__ = []
  __buffers__ = []
  training : bool
  def forward(self: __torch__.M,
    x: Tensor,
    p: Tensor) -> Tensor:
${body}
`;
  const m = openModel(buildArchive(code), 'model.pt');
  if (m.kind !== 'torchscript') throw new Error('not read as TorchScript');
  return new GraphModel(m.program, graphHost, RULES);
}

const B = 2 * JACOBIAN_RUN + 1;
const P = 3;
const T = 5;
const x = Float64Array.from({ length: B * T }, (_, i) => Math.sin(i + 1));
const p = Float64Array.from({ length: B * P }, (_, i) => 0.3 * Math.cos(2 * i));
const inputs = new Map([
  ['x', { shape: [B, T], data: x }],
  ['p', { shape: [B, P], data: p }],
]);

describe('Jacobian runs of several samples', () => {
  it('an independent model: J[b,t,k] = x[b,t]·cos(p[b,k]) from runs of JACOBIAN_RUN samples', () => {
    // y[b,t] = Σ_k x[b,t]·sin(p[b,k])
    const m = model(`    _0 = torch.sum(torch.sin(p), [1], True, None)
    return torch.mul(x, _0)`);
    const r = m.evaluate(inputs);
    expect(r.jShape).toEqual([B, T, P]);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let k = 0; k < P; k++)
          expect(r.J![(b * T + t) * P + k]).toBeCloseTo(x[b * T + t] * Math.cos(p[b * P + k]), 14);
    // The same bits as one sample per run would give, sample by sample.
    for (let b = 0; b < B; b++) {
      const one = m.evaluate(
        new Map([
          ['x', { shape: [1, T], data: x.slice(b * T, (b + 1) * T) }],
          ['p', { shape: [1, P], data: p.slice(b * P, (b + 1) * P) }],
        ]),
      );
      const got = r.J!.subarray(b * T * P, (b + 1) * T * P);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - one.J![i])).toBeLessThanOrEqual(1e-15);
    }
  });

  it('a model that couples its samples runs one sample at a time: J of each sample alone', () => {
    // y[b,t] = x[b,t]·Σ_b' p[b',0]: across the batch, so a run of several samples would add the
    // other samples' directions into each one's J. Alone, ∂y[b,t]/∂p[b,0] = x[b,t], 0 for k > 0.
    const m = model(`    _0 = torch.select(p, 1, 0)
    _1 = torch.sum(_0, [0], True, None)
    _2 = torch.unsqueeze(_1, 1)
    return torch.mul(x, _2)`);
    const r = m.evaluate(inputs);
    for (let b = 0; b < B; b++)
      for (let t = 0; t < T; t++)
        for (let k = 0; k < P; k++) expect(r.J![(b * T + t) * P + k] + 0).toBe(k === 0 ? x[b * T + t] : 0);
  });
});
