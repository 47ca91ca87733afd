import { erf } from './erf';

/** An elementwise nonlinearity with its derivative, which may reuse the forward value y = f(x). */
export interface ActivationFn {
  readonly name: ActivationName;
  f(x: number): number;
  df(x: number, y: number): number;
}

export type ActivationName = 'tanh' | 'gelu' | 'relu' | 'silu';
export const ACTIVATION_NAMES: readonly ActivationName[] = ['tanh', 'gelu', 'relu', 'silu'];

const INV_SQRT2 = Math.SQRT1_2;
const INV_SQRT_2PI = 0.3989422804014327;

export const ACTIVATIONS: Record<ActivationName, ActivationFn> = {
  tanh: { name: 'tanh', f: Math.tanh, df: (_x, y) => 1 - y * y },
  // nn.GELU(approximate="none"): x·Φ(x); d/dx = Φ(x) + x·φ(x). Written as PyTorch writes it.
  gelu: {
    name: 'gelu',
    f: (x) => 0.5 * x * (1 + erf(x * INV_SQRT2)),
    df: (x) => 0.5 * (1 + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x),
  },
  // PyTorch's convention: the derivative at the kink is 0.
  relu: { name: 'relu', f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0) },
  silu: {
    name: 'silu',
    f: (x) => x / (1 + Math.exp(-x)),
    df: (x) => {
      const s = 1 / (1 + Math.exp(-x));
      return s * (1 + x * (1 - s));
    },
  },
};
