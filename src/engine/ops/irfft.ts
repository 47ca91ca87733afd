import type { Act, Primitive, Spec } from '../ad/primitive';
import { unreachable, ZERO, type SpecTangent, type TimeTangent } from '../ad/tangent';
import { freshAlloc, type Alloc } from '../ad/workspace';
import type { TruncatedDft } from '../dft/truncated-dft';

/**
 * torch.fft.irfft(·, n=T) of a spectrum holding only the first `modes` bins: [modes,B,C] → [B,T,C].
 * Linear, so its JVP is itself. A `dc` tangent maps to the time-constant Re(dX₀)/T — the imaginary
 * part of bin 0 is dropped by the C2R transform, in the tangent as in the value.
 */
export function irfftTruncated(
  dft: TruncatedDft,
  alloc: Alloc = freshAlloc,
): Primitive<Spec, Act, SpecTangent, TimeTangent> {
  const { T, modes } = dft;
  return {
    name: 'irfft',
    forward(s) {
      if (s.modes !== modes) throw new Error(`irfft: built for ${modes} modes, input has ${s.modes}`);
      const y = alloc(s.B * T * s.C);
      dft.irfft(s.re, s.im, s.B, s.C, y);
      return { B: s.B, T, C: s.C, data: y };
    },
    jvp(s, _y, ds, P) {
      switch (ds.kind) {
        case 'zero':
          return ZERO;
        case 'dc': {
          const data = alloc(ds.re.length);
          for (let i = 0; i < data.length; i++) data[i] = ds.re[i] / T;
          return { kind: 'const', data };
        }
        case 'dense': {
          const data = alloc(s.B * T * P * s.C);
          dft.irfft(ds.re, ds.im, s.B, P * s.C, data);
          return { kind: 'dense', data };
        }
        default:
          return unreachable(ds);
      }
    },
  };
}
