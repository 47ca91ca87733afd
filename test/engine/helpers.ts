import type { Act, Spec } from '../../src/engine/ad/primitive';
import { densify, type SpecTangent, type TimeTangent } from '../../src/engine/ad/tangent';

/** Deterministic PRNG (mulberry32) so every property test is reproducible from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(r: () => number, n: number, scale = 1): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = Math.max(r(), 1e-300);
    out[i] = scale * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

export function randInt(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** max|a-b| / max|b| (the fixtures' measure). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** Direction k of a time tangent as a [B,T,C] array. */
export function timeDirection(
  t: TimeTangent,
  k: number,
  B: number,
  T: number,
  P: number,
  C: number,
): Float64Array {
  const full = densify(t, B, T, P, C);
  const out = new Float64Array(B * T * C);
  for (let bt = 0; bt < B * T; bt++) for (let c = 0; c < C; c++) out[bt * C + c] = full[(bt * P + k) * C + c];
  return out;
}

/** Direction k of a spectral tangent as re/im [modes,B,C]. */
export function specDirection(t: SpecTangent, k: number, modes: number, B: number, P: number, C: number) {
  const re = new Float64Array(modes * B * C);
  const im = new Float64Array(modes * B * C);
  if (t.kind === 'zero') return { re, im };
  const M = t.kind === 'dc' ? 1 : modes;
  for (let m = 0; m < M; m++)
    for (let b = 0; b < B; b++)
      for (let c = 0; c < C; c++) {
        const src = ((m * B + b) * P + k) * C + c;
        re[(m * B + b) * C + c] = t.re[src];
        im[(m * B + b) * C + c] = t.im[src];
      }
  return { re, im };
}

export function axpy(x: Float64Array, a: number, d: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + a * d[i];
  return out;
}

export const act = (B: number, T: number, C: number, data: Float64Array): Act => ({ B, T, C, data });
export const spec = (modes: number, B: number, C: number, re: Float64Array, im: Float64Array): Spec => ({
  modes,
  B,
  C,
  re,
  im,
});

/** A random time tangent of the given kind, [B,T,P,C] or [B,P,C]. */
export function randomTimeTangent(
  r: () => number,
  kind: TimeTangent['kind'],
  B: number,
  T: number,
  P: number,
  C: number,
): TimeTangent {
  if (kind === 'zero') return { kind };
  if (kind === 'const') return { kind, data: randn(r, B * P * C) };
  return { kind, data: randn(r, B * T * P * C) };
}

export function randomSpecTangent(
  r: () => number,
  kind: SpecTangent['kind'],
  modes: number,
  B: number,
  P: number,
  C: number,
): SpecTangent {
  if (kind === 'zero') return { kind };
  const n = (kind === 'dc' ? 1 : modes) * B * P * C;
  return { kind, re: randn(r, n), im: randn(r, n) };
}
