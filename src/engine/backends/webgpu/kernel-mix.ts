import { ENTRY, type Word } from './wgsl-common';

/**
 * The complex channel mix of a spectral layer, einsum("bix,iox->box") per mode:
 *   Y[k,r,o] = Σ_i X[k,r,i] · W[k,i,o]   (complex; r = batch, or batch·tangent for tangents)
 * Weights re-laid from PyTorch's [Cin,Cout,modes] to [modes,Cin,Cout] once at upload. A `dc`
 * tangent runs with modes = 1 (bin 0 alone), which is all the structure needs.
 *
 * Bindings: 0 params, 1 Xre, 2 Xim, 3 Wre, 4 Wim, 5 Yre, 6 Yim. Thread i = (k·R + r)·Cout + o.
 */
export const MIX_WGSL = /* wgsl */ `
struct Params { total: u32, R: u32, Cin: u32, Cout: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> xr: array<f32>;
@group(0) @binding(2) var<storage, read> xi: array<f32>;
@group(0) @binding(3) var<storage, read> wr: array<f32>;
@group(0) @binding(4) var<storage, read> wi: array<f32>;
@group(0) @binding(5) var<storage, read_write> yr: array<f32>;
@group(0) @binding(6) var<storage, read_write> yi: array<f32>;
${ENTRY}
  let o = i % u.Cout;
  let q = i / u.Cout;
  let k = q / u.R;
  let x0 = q * u.Cin;
  var w0 = k * u.Cin * u.Cout + o;
  var sr = 0.0;
  var si = 0.0;
  for (var c = 0u; c < u.Cin; c++) {
    let a = xr[x0 + c];
    let b = xi[x0 + c];
    let p = wr[w0];
    let s = wi[w0];
    sr = fma(a, p, fma(-b, s, sr));
    si = fma(a, s, fma(b, p, si));
    w0 += u.Cout;
  }
  yr[i] = sr;
  yi[i] = si;
}
`;

/** From PyTorch's weights1 [Cin,Cout,modes] (re and im) to [modes,Cin,Cout] f32. */
export function mixWeightsToGpu(
  re: Float64Array,
  im: Float64Array,
  Cin: number,
  Cout: number,
  modes: number,
): { re: Float32Array; im: Float32Array } {
  const r = new Float32Array(modes * Cin * Cout);
  const m = new Float32Array(modes * Cin * Cout);
  for (let i = 0; i < Cin; i++)
    for (let o = 0; o < Cout; o++)
      for (let k = 0; k < modes; k++) {
        const src = (i * Cout + o) * modes + k;
        const dst = (k * Cin + i) * Cout + o;
        r[dst] = re[src];
        m[dst] = im[src];
      }
  return { re: r, im: m };
}

export function mixParams(
  modesUsed: number,
  R: number,
  Cin: number,
  Cout: number,
): { words: Word[]; threads: number } {
  const threads = modesUsed * R * Cout;
  return { threads, words: [threads, R, Cin, Cout] };
}
