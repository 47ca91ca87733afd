import { ENTRY, type Word } from './wgsl-common';

/**
 * The structural glue of the graph in one kernel — broadcast over time, channel concat, add, the
 * tangent of an activation, scaling — as
 *
 *   out[r·ldo + oOff + c] = alpha · S(r,c) · (A(r,c) + B(r,c))      r < rows, c < C
 *
 * where each operand is optional (absent: A, B read as 0, S as 1) and reads its own row
 *   src(r) = (r / D)·M + r % M
 * of a [*, ld] array at column offset `off`. That one map expresses every broadcast the tangent
 * structure needs on the flattened row index:
 *   identity                          D = 1,   M = 1
 *   [B,C] → [B,T,C] (over time)       D = T,   M = 1
 *   const [B,P,C] → dense [B,T,P,C]   D = T·P, M = P
 *   [B,T,C] → [B,T,P,C] (f'(x) ⊙ dh)  D = P,   M = 1
 *
 * Bindings: 0 params, 1 S, 2 A, 3 B (dummies when absent), 4 out.
 */
export const EWISE_WGSL = /* wgsl */ `
struct Params {
  total: u32, C: u32, C4: u32, ldo: u32, oOff: u32, flags: u32, alpha: f32, pad0: u32,
  sD: u32, sM: u32, sLd: u32, sOff: u32,
  aD: u32, aM: u32, aLd: u32, aOff: u32,
  bD: u32, bM: u32, bLd: u32, bOff: u32,
}
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> A: array<f32>;
@group(0) @binding(3) var<storage, read> Bv: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
fn src(D: u32, M: u32, r: u32) -> u32 { return (r / D) * M + r % M; }
${ENTRY}
  // One thread per row, 4 channels per step: the row maps' integer divisions (slow on some
  // implementations, SwiftShader among them) are paid once per row.
  let r = i;
  let sRow = src(u.sD, u.sM, r) * u.sLd + u.sOff;
  let aRow = src(u.aD, u.aM, r) * u.aLd + u.aOff;
  let bRow = src(u.bD, u.bM, r) * u.bLd + u.bOff;
  let oRow = r * u.ldo + u.oOff;
  for (var c0 = 0u; c0 < u.C; c0 += 4u) {
    // Clamped reads (lanes past C re-read the last channel), guarded writes.
    let o = c0 + min(vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(u.C - 1u - c0));
    var v = vec4<f32>(0.0);
    if ((u.flags & 2u) != 0u) { v += vec4<f32>(A[aRow + o.x], A[aRow + o.y], A[aRow + o.z], A[aRow + o.w]); }
    if ((u.flags & 4u) != 0u) { v += vec4<f32>(Bv[bRow + o.x], Bv[bRow + o.y], Bv[bRow + o.z], Bv[bRow + o.w]); }
    if ((u.flags & 1u) != 0u) { v *= vec4<f32>(S[sRow + o.x], S[sRow + o.y], S[sRow + o.z], S[sRow + o.w]); }
    v *= u.alpha;
    out[oRow + c0] = v.x;
    if (c0 + 1u < u.C) { out[oRow + c0 + 1u] = v.y; }
    if (c0 + 2u < u.C) { out[oRow + c0 + 2u] = v.z; }
    if (c0 + 3u < u.C) { out[oRow + c0 + 3u] = v.w; }
  }
}
`;

/** How an operand's row is found from the output row (see above), its leading dimension and offset. */
export interface RowMap {
  D: number;
  M: number;
  ld: number;
  off?: number;
}

export const identityRows = (ld: number, off = 0): RowMap => ({ D: 1, M: 1, ld, off });

export interface EwiseShape {
  rows: number;
  C: number;
  ldo?: number;
  oOff?: number;
  alpha?: number;
  S?: RowMap;
  A?: RowMap;
  B?: RowMap;
}

export function ewiseParams(e: EwiseShape): { words: Word[]; threads: number } {
  const C4 = Math.ceil(e.C / 4);
  const threads = e.rows;
  const flags = (e.S ? 1 : 0) | (e.A ? 2 : 0) | (e.B ? 4 : 0);
  const m = (r?: RowMap): Word[] => (r ? [r.D, r.M, r.ld, r.off ?? 0] : [1, 1, 0, 0]);
  return {
    threads,
    words: [
      threads,
      e.C,
      C4,
      e.ldo ?? e.C,
      e.oOff ?? 0,
      flags,
      { f32: e.alpha ?? 1 },
      0,
      ...m(e.S),
      ...m(e.A),
      ...m(e.B),
    ],
  };
}

/**
 * The last step of the Jacobian: the output tangent [B,T,P,O] (tangent rows, channels innermost,
 * as every GEMM wants) transposed to J [B,T,O,P]. Thread i = (bt·O + o)·P + k.
 * Bindings: 0 params, 1 dy, 2 J.
 */
export const TRANSPOSE_WGSL = /* wgsl */ `
struct Params { total: u32, P: u32, O: u32 }
@group(0) @binding(0) var<uniform> u: Params;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> J: array<f32>;
${ENTRY}
  let k = i % u.P;
  let q = i / u.P;
  let o = q % u.O;
  let bt = q / u.O;
  J[i] = dy[(bt * u.P + k) * u.O + o];
}
`;

export function transposeParams(rows: number, P: number, O: number): { words: Word[]; threads: number } {
  const threads = rows * P * O;
  return { threads, words: [threads, P, O] };
}
