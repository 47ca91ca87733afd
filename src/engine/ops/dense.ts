import type { Gemm } from '../kernels/gemm';
import type { Act, Primitive } from '../ad/primitive';
import { unreachable, ZERO, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';

/** Weights of an affine map over channels, stored [Cin, Cout] so the product needs no transpose. */
export interface DenseWeights {
  readonly Cin: number;
  readonly Cout: number;
  /** [Cin, Cout] */
  readonly W: Float64Array;
  /** [Cout] */
  readonly bias: Float64Array | null;
}

/** Transpose PyTorch's Linear weight [out, in] into [in, out]. */
export function fromTorchLinear(
  weight: Float64Array,
  outF: number,
  inF: number,
  bias: Float64Array | null,
): DenseWeights {
  const W = new Float64Array(inF * outF);
  for (let o = 0; o < outF; o++) for (let i = 0; i < inF; i++) W[i * outF + o] = weight[o * inF + i];
  return { Cin: inF, Cout: outF, W, bias };
}

/** Rows × Cin → rows × Cout, the shared kernel of `dense` and `conv1x1`. */
export function applyLinear(
  w: DenseWeights,
  x: Float64Array,
  rows: number,
  gemm: Gemm,
  withBias: boolean,
  alloc: Alloc = freshAlloc,
): Float64Array {
  const out = alloc(rows * w.Cout, false); // the product overwrites it
  gemm({ M: rows, N: w.Cout, K: w.Cin, A: x, B: w.W, C: out });
  if (withBias && w.bias) {
    const { bias, Cout } = w;
    for (let r = 0; r < rows; r++) for (let o = 0; o < Cout; o++) out[r * Cout + o] += bias[o];
  }
  return out;
}

/**
 * Dense linear layer y = x Wᵀ + b over the channel axis of [B,T,C]. Its JVP is the same product
 * without the bias, on B·P rows for a time-constant tangent and B·T·P rows for a dense one.
 */
export function dense(
  w: DenseWeights,
  gemm: Gemm,
  name = 'dense',
  alloc: Alloc = freshAlloc,
): Primitive<Act, Act, TimeTangent, TimeTangent> {
  return {
    name,
    forward(x) {
      checkChannels(name, x.C, w.Cin);
      return { B: x.B, T: x.T, C: w.Cout, data: applyLinear(w, x.data, x.B * x.T, gemm, true, alloc) };
    },
    jvp(x, _y, dx, P) {
      switch (dx.kind) {
        case 'zero':
          return ZERO;
        case 'const':
          return { kind: 'const', data: applyLinear(w, dx.data, x.B * P, gemm, false, alloc) };
        case 'dense':
          return { kind: 'dense', data: applyLinear(w, dx.data, x.B * x.T * P, gemm, false, alloc) };
        default:
          return unreachable(dx);
      }
    },
  };
}

function checkChannels(name: string, got: number, want: number): void {
  if (got !== want) throw new Error(`${name}: input has ${got} channels, weights expect ${want}`);
}
