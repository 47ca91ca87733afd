import type { Gemm } from '../kernels/gemm';
import type { Primitive, Spec } from '../ad/primitive';
import { unreachable, ZERO, type SpecTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';

/**
 * Complex weights of a spectral layer, re-laid per mode: for each k a [Cin, Cout] matrix, so
 * `einsum("bix,iox->box")` is one complex matrix product per mode with the batch in the rows.
 */
export interface MixWeights {
  readonly Cin: number;
  readonly Cout: number;
  readonly modes: number;
  /** [modes][Cin·Cout] real parts, imaginary parts, and negated imaginary parts. */
  readonly re: Float64Array[];
  readonly im: Float64Array[];
  readonly negIm: Float64Array[];
}

/** From PyTorch's `weights1` [Cin, Cout, modes] (re and im arrays of that shape). */
export function mixWeightsFromTorch(
  re: Float64Array,
  im: Float64Array,
  Cin: number,
  Cout: number,
  modes: number,
): MixWeights {
  const w: MixWeights = { Cin, Cout, modes, re: [], im: [], negIm: [] };
  for (let k = 0; k < modes; k++) {
    const r = new Float64Array(Cin * Cout);
    const i_ = new Float64Array(Cin * Cout);
    const n = new Float64Array(Cin * Cout);
    for (let i = 0; i < Cin; i++)
      for (let o = 0; o < Cout; o++) {
        const src = (i * Cout + o) * modes + k;
        r[i * Cout + o] = re[src];
        i_[i * Cout + o] = im[src];
        n[i * Cout + o] = -im[src];
      }
    w.re.push(r);
    w.im.push(i_);
    w.negIm.push(n);
  }
  return w;
}

/**
 * Y_k = X_k · W_k for one mode k on `rows` rows stored at row offset `row0` of [*,Cin] / [*,Cout]
 * arrays: (Xr + iXi)(Wr + iWi) = (Xr·Wr − Xi·Wi) + i(Xr·Wi + Xi·Wr).
 */
function mixMode(
  w: MixWeights,
  k: number,
  xr: Float64Array,
  xi: Float64Array,
  yr: Float64Array,
  yi: Float64Array,
  row0: number,
  rows: number,
  gemm: Gemm,
): void {
  const { Cin, Cout } = w;
  const base = { M: rows, N: Cout, K: Cin, aOff: row0 * Cin, cOff: row0 * Cout };
  gemm({ ...base, A: xr, B: w.re[k], C: yr });
  gemm({ ...base, A: xi, B: w.negIm[k], C: yr, accumulate: true });
  gemm({ ...base, A: xr, B: w.im[k], C: yi });
  gemm({ ...base, A: xi, B: w.re[k], C: yi, accumulate: true });
}

/** The complex channel mix of a spectral layer, [modes,B,Cin] → [modes,B,Cout]. */
export function spectralMix(
  w: MixWeights,
  gemm: Gemm,
  alloc: Alloc = freshAlloc,
): Primitive<Spec, Spec, SpecTangent, SpecTangent> {
  const { Cin, Cout, modes } = w;
  return {
    name: 'spectralMix',
    forward(x) {
      if (x.C !== Cin || x.modes !== modes) throw new Error(`spectralMix: expected [${modes},B,${Cin}]`);
      const re = alloc(modes * x.B * Cout);
      const im = alloc(modes * x.B * Cout);
      for (let k = 0; k < modes; k++) mixMode(w, k, x.re, x.im, re, im, k * x.B, x.B, gemm);
      return { modes, B: x.B, C: Cout, re, im };
    },
    jvp(x, _y, dx, P) {
      const rows = x.B * P;
      switch (dx.kind) {
        case 'zero':
          return ZERO;
        case 'dc': {
          const re = alloc(rows * Cout);
          const im = alloc(rows * Cout);
          mixMode(w, 0, dx.re, dx.im, re, im, 0, rows, gemm);
          return { kind: 'dc', re, im };
        }
        case 'dense': {
          const re = alloc(modes * rows * Cout);
          const im = alloc(modes * rows * Cout);
          for (let k = 0; k < modes; k++) mixMode(w, k, dx.re, dx.im, re, im, k * rows, rows, gemm);
          return { kind: 'dense', re, im };
        }
        default:
          return unreachable(dx);
      }
    },
  };
}
