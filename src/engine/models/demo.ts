import type { HostTensor } from '../tensor';
import type { FnoConfig } from './config';
import { expectedTensors } from './fno1d-layout';

/** The demo the app opens on: the seed configuration, so the first screen is a real-size Jacobian. */
export const DEMO_CONFIG: FnoConfig = {
  architecture: 'fno1d-scalar',
  inp_dim_func: 20,
  inp_dim_scalar: 14,
  out_dim_func: 15,
  modes: 16,
  width: 64,
  hidden: 32,
  layers: 1,
  activation: 'tanh',
};

/** mulberry32: a tiny seeded PRNG, so the demo is the same on every machine. */
function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function normal(u: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(u(), 1e-300))) * Math.cos(2 * Math.PI * u());
}

/**
 * Weights drawn as PyTorch initialises them — Linear/Conv1d U(±1/√fan_in), spectral weights
 * (1/(cin·w))·U[0,1) for real and imaginary parts — from a fixed seed.
 */
export function demoModel(
  config: FnoConfig = DEMO_CONFIG,
  seed = 2024,
): { config: FnoConfig; tensors: Map<string, HostTensor> } {
  const u = uniform(seed);
  const tensors = new Map<string, HostTensor>();
  for (const e of expectedTensors(config)) {
    const n = e.shape.reduce((a, b) => a * b, 1);
    if (e.complex) {
      const scale = 1 / (e.shape[0] * e.shape[1]);
      const data = Float64Array.from({ length: n }, () => scale * u());
      const imag = Float64Array.from({ length: n }, () => scale * u());
      tensors.set(e.name, { dtype: 'complex64', shape: e.shape, data, imag });
    } else {
      const isBias = e.name.endsWith('.bias');
      const fanIn = isBias ? (tensors.get(e.name.replace('.bias', '.weight'))?.shape[1] ?? 1) : e.shape[1];
      const bound = 1 / Math.sqrt(fanIn);
      tensors.set(e.name, {
        dtype: 'float32',
        shape: e.shape,
        data: Float64Array.from({ length: n }, () => bound * (2 * u() - 1)),
      });
    }
  }
  return { config, tensors };
}

/**
 * Inputs for the demo: x [B,T,Xf] smooth signals (a few sinusoids per feature plus a little
 * noise, like a sampled forcing), p [B,P] standard normal. Deterministic.
 */
export function demoData(B = 1, T = 601, config: FnoConfig = DEMO_CONFIG, seed = 7) {
  const u = uniform(seed);
  const Xf = config.inp_dim_func;
  const P = config.inp_dim_scalar;
  const x = new Float64Array(B * T * Xf);
  for (let b = 0; b < B; b++)
    for (let f = 0; f < Xf; f++) {
      const freq = 1 + Math.floor(u() * 4);
      const phase = 2 * Math.PI * u();
      const amp = 0.5 + u();
      for (let t = 0; t < T; t++) {
        x[(b * T + t) * Xf + f] = amp * Math.sin((2 * Math.PI * freq * t) / T + phase) + 0.05 * normal(u);
      }
    }
  const p = Float64Array.from({ length: B * P }, () => normal(u));
  const xt: HostTensor = { dtype: 'float32', shape: [B, T, Xf], data: x };
  const pt: HostTensor = { dtype: 'float32', shape: [B, P], data: p };
  return {
    x: xt,
    p: pt,
    xNames: Array.from({ length: Xf }, (_, i) => `x${i}`),
    pNames: Array.from({ length: P }, (_, i) => `p${i}`),
    yNames: Array.from({ length: config.out_dim_func }, (_, i) => `y${i}`),
  };
}
