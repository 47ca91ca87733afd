import { describe, expect, it } from 'vitest';
import type { FnoConfig } from '../../../src/engine/models/config';
import { Fno1dScalar } from '../../../src/engine/models/fno1d-scalar';
import { ACTIVATION_NAMES } from '../../../src/engine/ops/activations';
import { randInt, randn, relErr, rng } from '../helpers';
import { randomTensors } from '../random-model';

// The whole model's Jacobian against float64 central finite differences of its own forward pass,
// on random architectures beyond the fixtures: every activation, 1–3 layers, odd/prime/even T,
// modes up to T//2+1, P = 1, O = 1, width 1. (The forward pass itself is checked against PyTorch
// in fno1d-fixtures.test.ts.) Richardson-extrapolated differences keep the truncation error ~1e-11.
describe('fno1d-scalar Jacobian vs finite differences', () => {
  for (let seed = 1; seed <= 16; seed++) {
    const r = rng(seed * 7919);
    const T = [2, 3, 5, 8, 11, 16, 23, 30][randInt(r, 0, 7)];
    const maxModes = Math.floor(T / 2) + 1;
    const config: FnoConfig = {
      architecture: 'fno1d-scalar',
      inp_dim_func: randInt(r, 1, 4),
      inp_dim_scalar: seed % 4 === 0 ? 1 : randInt(r, 1, 5),
      out_dim_func: seed % 5 === 0 ? 1 : randInt(r, 1, 4),
      modes: seed % 3 === 0 ? maxModes : randInt(r, 1, maxModes),
      width: seed % 6 === 0 ? 1 : randInt(r, 2, 6),
      hidden: randInt(r, 1, 6),
      layers: randInt(r, 1, 3),
      activation: ACTIVATION_NAMES[seed % 4],
    };
    const B = randInt(r, 1, 3);
    it(`seed ${seed}: ${config.activation} L=${config.layers} w=${config.width} T=${T} modes=${config.modes} P=${config.inp_dim_scalar} O=${config.out_dim_func} B=${B}`, () => {
      const model = new Fno1dScalar(config, randomTensors(config, r));
      const P = config.inp_dim_scalar;
      const O = config.out_dim_func;
      const x = randn(r, B * T * config.inp_dim_func);
      const p = randn(r, B * P);
      const J = model.jacobian(x, p, B, T);
      const fd = new Float64Array(J.length);
      // relu has kinks: a small step so no sample crosses one; smooth ones take Richardson.
      const h = config.activation === 'relu' ? 1e-7 : 1e-3;
      const diff = (k: number, step: number) => {
        const up = p.slice();
        const dn = p.slice();
        for (let b = 0; b < B; b++) {
          up[b * P + k] += step;
          dn[b * P + k] -= step;
        }
        const yu = model.forward(x, up, B, T);
        const yd = model.forward(x, dn, B, T);
        return yu.map((v, i) => (v - yd[i]) / (2 * step));
      };
      for (let k = 0; k < P; k++) {
        const d1 = diff(k, h);
        const d = config.activation === 'relu' ? d1 : diff(k, h / 2).map((v, i) => (4 * v - d1[i]) / 3);
        for (let bto = 0; bto < B * T * O; bto++) fd[bto * P + k] = d[bto];
      }
      expect(relErr(J, fd)).toBeLessThanOrEqual(config.activation === 'relu' ? 1e-6 : 1e-8);
    });
  }
});
