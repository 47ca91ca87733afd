import type { Act, Primitive, Spec } from '../ad/primitive';
import { unreachable, ZERO, type SpecTangent, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';
import type { TruncatedDft } from '../dft/truncated-dft';

/**
 * torch.fft.rfft over time keeping the first `modes` bins: [B,T,C] → [modes,B,C] complex.
 * Linear, so its JVP is itself; the rfft of a time-constant tangent c is T·c in bin 0 and nothing
 * elsewhere, which is the `dc` structure.
 */
export function rfftTruncated(
  dft: TruncatedDft,
  alloc: Alloc = freshAlloc,
): Primitive<Act, Spec, TimeTangent, SpecTangent> {
  const { T, modes } = dft;
  return {
    name: 'rfft',
    forward(x) {
      if (x.T !== T) throw new Error(`rfft: built for T = ${T}, input has T = ${x.T}`);
      const re = alloc(modes * x.B * x.C);
      const im = alloc(modes * x.B * x.C);
      dft.rfft(x.data, x.B, x.C, re, im);
      return { modes, B: x.B, C: x.C, re, im };
    },
    jvp(x, _y, dx, P) {
      switch (dx.kind) {
        case 'zero':
          return ZERO;
        case 'const': {
          const re = alloc(dx.data.length);
          for (let i = 0; i < re.length; i++) re[i] = T * dx.data[i];
          return { kind: 'dc', re, im: alloc(dx.data.length) };
        }
        case 'dense': {
          const n = modes * x.B * P * x.C;
          const re = alloc(n);
          const im = alloc(n);
          dft.rfft(dx.data, x.B, P * x.C, re, im); // [B,T,P·C] → [modes,B,P·C]
          return { kind: 'dense', re, im };
        }
        default:
          return unreachable(dx);
      }
    },
  };
}
