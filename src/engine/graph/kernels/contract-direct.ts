/**
 * The direct path of a contraction (contract.ts): plain loops over the operands in place, for the
 * small products per call (GEMV-like, many of them) where the GEMM would mostly copy — the FNO's
 * spectral mix of one sample reads each weight once.
 */
import type { Side } from './contract-operands';

/** ns per multiply-add of the direct loops: real·real, one complex side, both complex. */
export const DIRECT_NS = [0.8, 1.4, 2.4];

/**
 * target[...] += Σ a·b by loops over every label, the innermost over the largest operand's
 * unit stride; for the small per-call products where a GEMM would mostly copy.
 */
export function directKernel(
  A: Side,
  B: Side,
  T: { re: Float64Array; im: Float64Array | null; off: number; stride: Map<number, number> },
  labels: number[],
  size: Map<number, number>,
): void {
  const shape = labels.map((l) => size.get(l)!);
  const sa = labels.map((l) => A.stride.get(l) ?? 0);
  const sb = labels.map((l) => B.stride.get(l) ?? 0);
  const sc = labels.map((l) => T.stride.get(l) ?? 0);
  // loop order: by the larger operand's strides, labels it lacks outermost
  const big = A.numel >= B.numel ? sa : sb;
  const order = labels
    .map((_, i) => i)
    .sort((i, j) => (big[j] === 0 ? Infinity : big[j]) - (big[i] === 0 ? Infinity : big[i]) || i - j);
  // merge adjacent axes (in loop order) along which all three step contiguously
  const dims: number[] = [];
  const st: [number[], number[], number[]] = [[], [], []];
  for (const ax of order) {
    const k = dims.length - 1;
    if (
      k >= 0 &&
      st[0][k] === sa[ax] * shape[ax] &&
      st[1][k] === sb[ax] * shape[ax] &&
      st[2][k] === sc[ax] * shape[ax]
    ) {
      dims[k] *= shape[ax];
      st[0][k] = sa[ax];
      st[1][k] = sb[ax];
      st[2][k] = sc[ax];
    } else {
      dims.push(shape[ax]);
      st[0].push(sa[ax]);
      st[1].push(sb[ax]);
      st[2].push(sc[ax]);
    }
  }
  while (dims.length < 2) {
    dims.unshift(1);
    st.forEach((x) => x.unshift(0));
  }
  // the two innermost axes run as a block inside the kernel, the rest by an odometer; the
  // innermost of the two is one along which an operand is constant (hoisted) or the longer
  const r = dims.length;
  const still = (k: number) => st[0][k] === 0 || st[1][k] === 0 || st[2][k] === 0;
  const [p, q] = [r - 2, r - 1];
  if ((still(p) && !still(q)) || (still(p) === still(q) && dims[p] > dims[q])) {
    [dims[p], dims[q]] = [dims[q], dims[p]];
    for (const x of st) [x[p], x[q]] = [x[q], x[p]];
  }
  const n1 = dims[r - 2];
  const n0 = dims[r - 1];
  const [a1, b1, c1] = st.map((x) => x[r - 2]);
  const [a0, b0, c0] = st.map((x) => x[r - 1]);
  const outer = dims.slice(0, r - 2);
  const idx = new Array<number>(outer.length).fill(0);
  let oa = A.off;
  let ob = B.off;
  let oc = T.off;
  const total = outer.reduce((p, d) => p * d, 1);
  const ar = A.re;
  const ai = A.im;
  const br = B.re;
  const bi = B.im;
  const cr = T.re;
  const ci = T.im;
  for (let it = 0; it < total; it++) {
    if (!ai && !bi) block1(ar, br, cr, oa, ob, oc, n1, n0, a1, b1, c1, a0, b0, c0);
    else blockC(ar, ai, br, bi, cr, ci, oa, ob, oc, n1, n0, a1, b1, c1, a0, b0, c0);
    for (let d = outer.length - 1; d >= 0; d--) {
      idx[d]++;
      oa += st[0][d];
      ob += st[1][d];
      oc += st[2][d];
      if (idx[d] < outer[d]) break;
      oa -= st[0][d] * outer[d];
      ob -= st[1][d] * outer[d];
      oc -= st[2][d] * outer[d];
      idx[d] = 0;
    }
  }
}

function block1(
  ar: Float64Array,
  br: Float64Array,
  cr: Float64Array,
  oa: number,
  ob: number,
  oc: number,
  n1: number,
  n0: number,
  a1: number,
  b1: number,
  c1: number,
  a0: number,
  b0: number,
  c0: number,
): void {
  for (let u = 0; u < n1; u++, oa += a1, ob += b1, oc += c1) {
    let ia = oa;
    let ib = ob;
    if (c0 === 0) {
      let s = 0;
      for (let v = 0; v < n0; v++, ia += a0, ib += b0) s += ar[ia] * br[ib];
      cr[oc] += s;
    } else if (a0 === 0) {
      const x = ar[ia];
      for (let v = 0, ic = oc; v < n0; v++, ib += b0, ic += c0) cr[ic] += x * br[ib];
    } else if (b0 === 0) {
      const y = br[ib];
      for (let v = 0, ic = oc; v < n0; v++, ia += a0, ic += c0) cr[ic] += ar[ia] * y;
    } else for (let v = 0, ic = oc; v < n0; v++, ia += a0, ib += b0, ic += c0) cr[ic] += ar[ia] * br[ib];
  }
}

function blockC(
  ar: Float64Array,
  ai: Float64Array | null,
  br: Float64Array,
  bi: Float64Array | null,
  cr: Float64Array,
  ci: Float64Array | null,
  oa: number,
  ob: number,
  oc: number,
  n1: number,
  n0: number,
  a1: number,
  b1: number,
  c1: number,
  a0: number,
  b0: number,
  c0: number,
): void {
  for (let u = 0; u < n1; u++, oa += a1, ob += b1, oc += c1) {
    let ia = oa;
    let ib = ob;
    if (c0 === 0) {
      let s = 0;
      let t = 0;
      for (let v = 0; v < n0; v++, ia += a0, ib += b0) {
        const xr = ar[ia];
        const xi = ai ? ai[ia] : 0;
        const yr = br[ib];
        const yi = bi ? bi[ib] : 0;
        s += xr * yr - xi * yi;
        t += xr * yi + xi * yr;
      }
      cr[oc] += s;
      if (ci) ci[oc] += t;
    } else if (a0 === 0 && ai && bi && ci) {
      const xr = ar[ia];
      const xi = ai[ia];
      for (let v = 0, ic = oc; v < n0; v++, ib += b0, ic += c0) {
        const yr = br[ib];
        const yi = bi[ib];
        cr[ic] += xr * yr - xi * yi;
        ci[ic] += xr * yi + xi * yr;
      }
    } else if (ai && bi && ci) {
      for (let v = 0, ic = oc; v < n0; v++, ia += a0, ib += b0, ic += c0) {
        const xr = ar[ia];
        const xi = ai[ia];
        const yr = br[ib];
        const yi = bi[ib];
        cr[ic] += xr * yr - xi * yi;
        ci[ic] += xr * yi + xi * yr;
      }
    } else
      for (let v = 0, ic = oc; v < n0; v++, ia += a0, ib += b0, ic += c0) {
        const xr = ar[ia];
        const xi = ai ? ai[ia] : 0;
        const yr = br[ib];
        const yi = bi ? bi[ib] : 0;
        cr[ic] += xr * yr - xi * yi;
        if (ci) ci[ic] += xr * yi + xi * yr;
      }
  }
}
