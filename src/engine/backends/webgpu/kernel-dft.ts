import { cosTurn, sinTurn } from '../../dft/twiddle';
import { checkModes, irfftBinWeight, irfftDropsImag } from '../../dft/truncated-dft';
import { ENTRY, type Word } from './wgsl-common';

/**
 * The truncated DFTs of a spectral layer as matrix products with cos/sin bases, the same
 * formulation as dft/matrix-dft.ts (exact for any T: odd, prime, not a power of two):
 *
 *   rfft:  re[k,b,c] = Σ_t cos(2πkt/T) x[b,t,c],   im[k,b,c] = -Σ_t sin(2πkt/T) x[b,t,c]
 *   irfft: y[b,t,c]  = Σ_k gc[t,k] re[k,b,c] + gs[t,k] im[k,b,c]
 *
 * with the irfft's 1/T scale, bin weights (1 for DC and Nyquist, 2 otherwise) and PyTorch's C2R
 * rule (the imaginary parts of DC and Nyquist are dropped: an exact zero column in gs) folded into
 * the inverse basis. The bases are built in float64 here — angles reduced exactly in integers —
 * and only then rounded to f32, once per T, and uploaded once.
 *
 * Layouts as on the CPU: x, y [B,T,C]; spectra [modes,B,C] mode-major. C may be P·channels (a
 * dense tangent [B,T,P,ch]); the spectrum is then [modes, B·P, ch], the rows the mix expects.
 */
export function dftBases(T: number, modes: number): { forward: Float32Array; inverse: Float32Array } {
  checkModes(T, modes);
  const Mp = Math.ceil(modes / 4) * 4;
  const Tp = Math.ceil(T / 4) * 4;
  // forward [2][T][Mp]: cos, then -sin, modes innermost (read as vec4 over 4 modes);
  // inverse [2][modes][Tp]: gc, then gs, time innermost (read as vec4 over 4 time steps).
  // Padding entries stay zero.
  const forward = new Float32Array(2 * T * Mp);
  const inverse = new Float32Array(2 * modes * Tp);
  for (let k = 0; k < modes; k++) {
    const w = irfftBinWeight(k, T) / T;
    const dropIm = irfftDropsImag(k, T);
    for (let t = 0; t < T; t++) {
      const c = cosTurn(k * t, T);
      const s = sinTurn(k * t, T);
      forward[t * Mp + k] = c;
      forward[(T + t) * Mp + k] = -s;
      inverse[k * Tp + t] = w * c;
      inverse[(modes + k) * Tp + t] = dropIm ? 0 : -w * s;
    }
  }
  return { forward, inverse };
}

/**
 * Each thread: 4 modes × 4 channels of one sample (vec4 accumulators over the modes), so per time
 * step it loads 4 values of x and two vec4s of the basis for 32 multiply-adds.
 * Bindings: 0 params, 1 forward basis, 2 x, 3 re, 4 im. Thread i = (kq·B + b)·C4 + cq.
 */
export const RFFT_WGSL = /* wgsl */ `
struct Params { total: u32, B: u32, T: u32, C: u32, modes: u32, M4: u32, C4: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> F: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> re: array<f32>;
@group(0) @binding(4) var<storage, read_write> im: array<f32>;

fn store(k0: u32, b: u32, c: u32, vr: vec4<f32>, vi: vec4<f32>) {
  if (c >= u.C) { return; }
  for (var l = 0u; l < 4u; l++) {
    let k = k0 + l;
    if (k < u.modes) {
      let o = (k * u.B + b) * u.C + c;
      re[o] = vr[l];
      im[o] = vi[l];
    }
  }
}
${ENTRY}
  let cq = i % u.C4;
  let q = i / u.C4;
  let b = q % u.B;
  let kq = q / u.B;
  let c0 = cq * 4u;
  let last = u.C - 1u;
  var x0 = b * u.T * u.C;
  let o1 = min(c0 + 1u, last) - c0;
  let o2 = min(c0 + 2u, last) - c0;
  let o3 = min(c0 + 3u, last) - c0;
  x0 += c0;
  var fc = kq;
  var fs = u.T * u.M4 + kq;
  var r0 = vec4<f32>(0.0); var r1 = vec4<f32>(0.0); var r2 = vec4<f32>(0.0); var r3 = vec4<f32>(0.0);
  var i0 = vec4<f32>(0.0); var i1 = vec4<f32>(0.0); var i2 = vec4<f32>(0.0); var i3 = vec4<f32>(0.0);
  for (var t = 0u; t < u.T; t++) {
    let c = F[fc];
    let s = F[fs];
    let v0 = vec4<f32>(x[x0]);
    let v1 = vec4<f32>(x[x0 + o1]);
    let v2 = vec4<f32>(x[x0 + o2]);
    let v3 = vec4<f32>(x[x0 + o3]);
    r0 = fma(v0, c, r0); i0 = fma(v0, s, i0);
    r1 = fma(v1, c, r1); i1 = fma(v1, s, i1);
    r2 = fma(v2, c, r2); i2 = fma(v2, s, i2);
    r3 = fma(v3, c, r3); i3 = fma(v3, s, i3);
    x0 += u.C;
    fc += u.M4;
    fs += u.M4;
  }
  let k0 = kq * 4u;
  store(k0, b, c0, r0, i0);
  store(k0, b, c0 + 1u, r1, i1);
  store(k0, b, c0 + 2u, r2, i2);
  store(k0, b, c0 + 3u, r3, i3);
}
`;

/**
 * Each thread: 4 time steps × 4 channels of one sample (vec4 accumulators over time), so per mode
 * it loads 4 re, 4 im and two vec4s of the basis for 32 multiply-adds.
 * Bindings: 0 params, 1 inverse basis, 2 re, 3 im, 4 y. Thread i = (b·T4 + tq)·C4 + cq.
 */
export const IRFFT_WGSL = /* wgsl */ `
struct Params { total: u32, B: u32, T: u32, C: u32, modes: u32, T4: u32, C4: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> G: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> re: array<f32>;
@group(0) @binding(3) var<storage, read> im: array<f32>;
@group(0) @binding(4) var<storage, read_write> y: array<f32>;

fn store(b: u32, t0: u32, c: u32, v: vec4<f32>) {
  if (c >= u.C) { return; }
  for (var l = 0u; l < 4u; l++) {
    let t = t0 + l;
    if (t < u.T) { y[(b * u.T + t) * u.C + c] = v[l]; }
  }
}
${ENTRY}
  let cq = i % u.C4;
  let q = i / u.C4;
  let tq = q % u.T4;
  let b = q / u.T4;
  let c0 = cq * 4u;
  let last = u.C - 1u;
  let o1 = min(c0 + 1u, last) - c0;
  let o2 = min(c0 + 2u, last) - c0;
  let o3 = min(c0 + 3u, last) - c0;
  let stride = u.B * u.C;
  var s0 = b * u.C + c0;
  var gc = tq;
  var gs = u.modes * u.T4 + tq;
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  for (var k = 0u; k < u.modes; k++) {
    let c = G[gc];
    let s = G[gs];
    a0 = fma(vec4<f32>(re[s0]), c, fma(vec4<f32>(im[s0]), s, a0));
    a1 = fma(vec4<f32>(re[s0 + o1]), c, fma(vec4<f32>(im[s0 + o1]), s, a1));
    a2 = fma(vec4<f32>(re[s0 + o2]), c, fma(vec4<f32>(im[s0 + o2]), s, a2));
    a3 = fma(vec4<f32>(re[s0 + o3]), c, fma(vec4<f32>(im[s0 + o3]), s, a3));
    s0 += stride;
    gc += u.T4;
    gs += u.T4;
  }
  let t0 = tq * 4u;
  store(b, t0, c0, a0);
  store(b, t0, c0 + 1u, a1);
  store(b, t0, c0 + 2u, a2);
  store(b, t0, c0 + 3u, a3);
}
`;

/** rfft of B samples of C channels each: [B,T,C] → [modes,B,C]. */
export function rfftParams(
  B: number,
  T: number,
  C: number,
  modes: number,
): { words: Word[]; threads: number } {
  const M4 = Math.ceil(modes / 4);
  const C4 = Math.ceil(C / 4);
  const threads = M4 * B * C4;
  return { threads, words: [threads, B, T, C, modes, M4, C4] };
}

/** irfft of B samples of C channels each: [modes,B,C] → [B,T,C]. */
export function irfftParams(
  B: number,
  T: number,
  C: number,
  modes: number,
): { words: Word[]; threads: number } {
  const T4 = Math.ceil(T / 4);
  const C4 = Math.ceil(C / 4);
  const threads = B * T4 * C4;
  return { threads, words: [threads, B, T, C, modes, T4, C4] };
}
