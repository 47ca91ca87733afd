import type { FnoConfig } from '../../src/engine/models/config';
import { expectedTensors } from '../../src/engine/models/fno1d-layout';
import type { HostTensor } from '../../src/engine/tensor';
import { sizeOf } from '../../src/engine/tensor';
import { randn } from './helpers';

/** Random weights of the right names and shapes, scaled like PyTorch's default init. */
export function randomTensors(config: FnoConfig, r: () => number): Map<string, HostTensor> {
  const m = new Map<string, HostTensor>();
  for (const e of expectedTensors(config)) {
    const n = sizeOf(e.shape);
    const fanIn = e.shape.length > 1 ? e.shape[1] : e.shape[0];
    const scale = e.complex ? 1 / (e.shape[0] * e.shape[1]) : 1 / Math.sqrt(fanIn);
    m.set(e.name, {
      dtype: e.complex ? 'complex128' : 'float64',
      shape: e.shape,
      data: randn(r, n, scale * 2),
      ...(e.complex ? { imag: randn(r, n, scale * 2) } : {}),
    });
  }
  return m;
}
