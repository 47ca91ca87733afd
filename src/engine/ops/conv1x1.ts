import type { Gemm } from '../kernels/gemm';
import type { Act, Primitive } from '../ad/primitive';
import type { TimeTangent } from '../ad/tangent';
import { dense, type DenseWeights } from './dense';
import { freshAlloc, type Alloc } from '../ad/workspace';

/**
 * PyTorch's Conv1d with kernel_size 1: weight [Cout, Cin, 1], bias [Cout]. On our time-major
 * layout it is exactly a dense layer over channels, so it shares that kernel and JVP rule.
 */
export function conv1x1Weights(
  weight: Float64Array,
  Cout: number,
  Cin: number,
  bias: Float64Array | null,
): DenseWeights {
  const W = new Float64Array(Cin * Cout);
  for (let o = 0; o < Cout; o++) for (let i = 0; i < Cin; i++) W[i * Cout + o] = weight[o * Cin + i];
  return { Cin, Cout, W, bias };
}

export function conv1x1(
  w: DenseWeights,
  gemm: Gemm,
  name = 'conv1x1',
  alloc: Alloc = freshAlloc,
): Primitive<Act, Act, TimeTangent, TimeTangent> {
  return dense(w, gemm, name, alloc);
}
