import type { FnoConfig } from '../../models/config';
import { activationParams } from './kernel-activation';
import { irfftParams, rfftParams } from './kernel-dft';
import {
  ewiseParams,
  identityRows,
  transposeParams,
  type EwiseShape,
  type RowMap,
} from './kernel-elementwise';
import { type GemmVariant, gemmParams } from './kernel-gemm';
import { mixParams } from './kernel-mix';
import type { Word } from './wgsl-common';

/**
 * The fno1d-scalar graph as a list of kernel dispatches — the GPU twin of Fno1dScalar.run().
 *
 * Tangent structure is decided here, on the host, once per (mode, T): each JVP rule looks at the
 * kind of its input tangent (zero / const-along-time / dense; for spectra zero / dc / dense) and
 * emits the cheap kernels for it, exactly as the CPU rules in ops/*.ts do. So on the GPU too, the
 * first Fourier layer's tangent costs a handful of [B·P, C] products and only the layers after the
 * first activation carry dense [B,T,P,C] tangents.
 *
 * A plan is independent of the batch: buffers are sized per sample, and every step's parameters
 * are a function of n, the number of samples in the chunk. The same plan serves every chunk.
 */

export type Mode = 'forward' | 'jacobian';
export type KernelKind = 'gemm' | 'gemm-tiled' | 'rfft' | 'irfft' | 'mix' | 'ewise' | 'act' | 'transpose';

export type BufRef =
  /** A workspace buffer (per-sample size × chunk capacity). */
  | { t: 'work'; id: number }
  /** A model weight, uploaded once. */
  | { t: 'weight'; name: string }
  /** The DFT bases for this T, uploaded once per T. */
  | { t: 'basis'; which: 'forward' | 'inverse' }
  /** Placeholders for unused optional operands (read-only / writable). */
  | { t: 'dummy' }
  | { t: 'dummyOut' };

export interface WorkBuffer {
  id: number;
  /** f32 elements per sample. */
  perSample: number;
  role: 'x' | 'p' | 'eye' | 'out' | 'temp';
  label: string;
}

export interface StepSpec {
  kernel: KernelKind;
  label: string;
  /** Storage bindings in binding order (binding 0 is always the step's parameter block). */
  bindings: BufRef[];
  /** Which of `bindings` the kernel writes. */
  writes: number[];
  params(n: number): { words: Word[]; threads: number };
}

export interface Plan {
  mode: Mode;
  T: number;
  steps: StepSpec[];
  buffers: WorkBuffer[];
  x: number;
  p: number;
  /** The identity seed of the tangents (Jacobian plans). */
  eye?: number;
  /** y [n,T,O] (forward) or J [n,T,O,P] (Jacobian). */
  out: number;
}

/** A time-domain value [n, Tv, C] (Tv = T, or 1 for the scalar branch). */
interface Val {
  buf: number;
  Tv: number;
  C: number;
}
/** Its tangent: [n,P,C] when const, [n,Tv,P,C] when dense. */
type Tan = { kind: 'zero' } | { kind: 'const' | 'dense'; buf: number };
/** A truncated spectrum [modes, n, C]. */
interface SpecVal {
  re: number;
  im: number;
  C: number;
}
/** Its tangent: [n,P,C] (dc, bin 0 alone) or [modes,n,P,C]. */
type SpecTan = { kind: 'zero' } | { kind: 'dc' | 'dense'; re: number; im: number };

const ZERO: Tan = { kind: 'zero' };
const work = (id: number): BufRef => ({ t: 'work', id });
const weight = (name: string): BufRef => ({ t: 'weight', name });
const DUMMY: BufRef = { t: 'dummy' };
const DUMMY_OUT: BufRef = { t: 'dummyOut' };

/** Names of the weights a plan binds (see WebGpuBackend's upload), for layer prefix `name`. */
export const weightW = (name: string) => `${name}.W`;
export const weightBias = (name: string) => `${name}.bias`;
export const weightMixRe = (layer: number) => `spect${layer + 1}.re`;
export const weightMixIm = (layer: number) => `spect${layer + 1}.im`;

/** `gemmVariant`: the GEMM kernel this adapter runs (gemm-choice.ts); the same bits either way. */
export function buildPlan(c: FnoConfig, T: number, mode: Mode, gemmVariant: GemmVariant = 'flat'): Plan {
  const P = c.inp_dim_scalar;
  const w = c.width;
  const modes = c.modes;
  const tangents = mode === 'jacobian';
  const buffers: WorkBuffer[] = [];
  const steps: StepSpec[] = [];

  const buf = (perSample: number, label: string, role: WorkBuffer['role'] = 'temp'): number => {
    buffers.push({ id: buffers.length, perSample, role, label });
    return buffers.length - 1;
  };
  const step = (s: StepSpec) => steps.push(s);

  /** The elementwise kernel writing `out`; operands given as (buffer, row map). */
  const ewise = (
    label: string,
    out: number,
    ops: { S?: [number, RowMap]; A?: [number, RowMap]; B?: [number, RowMap] },
    shape: (n: number) => Omit<EwiseShape, 'S' | 'A' | 'B'>,
  ) =>
    step({
      kernel: 'ewise',
      label,
      bindings: [
        ops.S ? work(ops.S[0]) : DUMMY,
        ops.A ? work(ops.A[0]) : DUMMY,
        ops.B ? work(ops.B[0]) : DUMMY,
        work(out),
      ],
      writes: [3],
      params: (n) => ewiseParams({ ...shape(n), S: ops.S?.[1], A: ops.A?.[1], B: ops.B?.[1] }),
    });

  const gemm = (
    label: string,
    name: string,
    A: number,
    out: number,
    rowsPS: number,
    K: number,
    N: number,
    bias: boolean,
  ) =>
    step({
      kernel: gemmVariant === 'tiled' ? 'gemm-tiled' : 'gemm',
      label,
      bindings: [work(A), weight(weightW(name)), bias ? weight(weightBias(name)) : DUMMY, work(out)],
      writes: [3],
      params: (n) => gemmParams({ rows: n * rowsPS, N, K, bias }, gemmVariant),
    });

  // ---- primitives: forward + JVP, each mirroring its ops/*.ts rule ----

  /** dense / conv1x1 (ops/dense.ts): the JVP is the same product without bias, on B·P or B·T·P rows. */
  function dense(name: string, x: Val, dx: Tan | null, Cout: number): [Val, Tan | null] {
    const y = buf(x.Tv * Cout, name);
    gemm(name, name, x.buf, y, x.Tv, x.C, Cout, true);
    const out: Val = { buf: y, Tv: x.Tv, C: Cout };
    if (dx === null) return [out, null];
    if (dx.kind === 'zero') return [out, ZERO];
    const rowsPS = dx.kind === 'const' ? P : x.Tv * P;
    const dy = buf(rowsPS * Cout, `d${name}`);
    gemm(`d${name} (${dx.kind})`, name, dx.buf, dy, rowsPS, x.C, Cout, false);
    return [out, { kind: dx.kind, buf: dy }];
  }

  /** [n,1,C] → [n,T,C]; the tangent becomes const along time, stored once (ops/broadcast-time.ts). */
  function broadcastTime(x: Val, dx: Tan | null): [Val, Tan | null] {
    const y = buf(T * x.C, 'broadcast');
    ewise('broadcastTime', y, { A: [x.buf, { D: T, M: 1, ld: x.C }] }, (n) => ({ rows: n * T, C: x.C }));
    const out: Val = { buf: y, Tv: T, C: x.C };
    if (dx === null) return [out, null];
    return [out, dx.kind === 'zero' ? ZERO : { kind: 'const', buf: dx.buf }];
  }

  /** Channel concat (ops/concat.ts): zero ++ const stays const; any dense side makes it dense. */
  function concat(a: Val, b: Val, da: Tan | null, db: Tan | null): [Val, Tan | null] {
    const C = a.C + b.C;
    const y = buf(T * C, 'concat');
    const rows = (n: number) => n * T;
    ewise('concat a', y, { A: [a.buf, identityRows(a.C)] }, (n) => ({ rows: rows(n), C: a.C, ldo: C }));
    ewise('concat b', y, { A: [b.buf, identityRows(b.C)] }, (n) => ({
      rows: rows(n),
      C: b.C,
      ldo: C,
      oOff: a.C,
    }));
    const out: Val = { buf: y, Tv: T, C };
    if (da === null || db === null) return [out, null];
    if (da.kind === 'zero' && db.kind === 'zero') return [out, ZERO];
    const dense = da.kind === 'dense' || db.kind === 'dense';
    const rowsPS = dense ? T * P : P;
    const dy = buf(rowsPS * C, 'dconcat');
    const part = (d: Tan, Cp: number, off: number) => {
      // A const side of a dense result is read through the broadcast map; a zero side is written as 0.
      const map: RowMap = d.kind === 'const' && dense ? { D: T * P, M: P, ld: Cp } : identityRows(Cp);
      ewise(
        `dconcat ${off === 0 ? 'a' : 'b'} (${d.kind})`,
        dy,
        d.kind === 'zero' ? {} : { A: [d.buf, map] },
        (n) => ({
          rows: n * rowsPS,
          C: Cp,
          ldo: C,
          oOff: off,
        }),
      );
    };
    part(da, a.C, 0);
    part(db, b.C, a.C);
    return [out, { kind: dense ? 'dense' : 'const', buf: dy }];
  }

  /** rfft keeping `modes` bins (ops/rfft.ts): a const tangent is T·c in bin 0 (dc), nothing else. */
  function rfft(h: Val, dh: Tan | null): [SpecVal, SpecTan | null] {
    const re = buf(modes * h.C, 'rfft re');
    const im = buf(modes * h.C, 'rfft im');
    step({
      kernel: 'rfft',
      label: 'rfft',
      bindings: [{ t: 'basis', which: 'forward' }, work(h.buf), work(re), work(im)],
      writes: [2, 3],
      params: (n) => rfftParams(n, T, h.C, modes),
    });
    const out: SpecVal = { re, im, C: h.C };
    if (dh === null) return [out, null];
    switch (dh.kind) {
      case 'zero':
        return [out, { kind: 'zero' }];
      case 'const': {
        const dre = buf(P * h.C, 'drfft re (dc)');
        const dim = buf(P * h.C, 'drfft im (dc)');
        ewise('drfft re (dc)', dre, { A: [dh.buf, identityRows(h.C)] }, (n) => ({
          rows: n * P,
          C: h.C,
          alpha: T,
        }));
        ewise('drfft im (dc)', dim, {}, (n) => ({ rows: n * P, C: h.C }));
        return [out, { kind: 'dc', re: dre, im: dim }];
      }
      case 'dense': {
        const dre = buf(modes * P * h.C, 'drfft re');
        const dim = buf(modes * P * h.C, 'drfft im');
        step({
          kernel: 'rfft',
          label: 'drfft (dense)',
          bindings: [{ t: 'basis', which: 'forward' }, work(dh.buf), work(dre), work(dim)],
          writes: [2, 3],
          params: (n) => rfftParams(n, T, P * h.C, modes),
        });
        return [out, { kind: 'dense', re: dre, im: dim }];
      }
    }
  }

  /** The complex per-mode mix (ops/spectral-mix.ts); a dc tangent needs mode 0 alone. */
  function mix(layer: number, X: SpecVal, dX: SpecTan | null): [SpecVal, SpecTan | null] {
    const Cout = w;
    const wRe = weight(weightMixRe(layer));
    const wIm = weight(weightMixIm(layer));
    const re = buf(modes * Cout, 'mix re');
    const im = buf(modes * Cout, 'mix im');
    step({
      kernel: 'mix',
      label: `spect${layer + 1}`,
      bindings: [work(X.re), work(X.im), wRe, wIm, work(re), work(im)],
      writes: [4, 5],
      params: (n) => mixParams(modes, n, X.C, Cout),
    });
    const out: SpecVal = { re, im, C: Cout };
    if (dX === null) return [out, null];
    if (dX.kind === 'zero') return [out, { kind: 'zero' }];
    const used = dX.kind === 'dc' ? 1 : modes;
    const dre = buf(used * P * Cout, `dmix re (${dX.kind})`);
    const dim = buf(used * P * Cout, `dmix im (${dX.kind})`);
    step({
      kernel: 'mix',
      label: `dspect${layer + 1} (${dX.kind})`,
      bindings: [work(dX.re), work(dX.im), wRe, wIm, work(dre), work(dim)],
      writes: [4, 5],
      params: (n) => mixParams(used, n * P, X.C, Cout),
    });
    return [out, { kind: dX.kind, re: dre, im: dim }];
  }

  /** irfft from `modes` bins (ops/irfft.ts): a dc tangent gives the const Re(dX₀)/T (Im dropped). */
  function irfft(Y: SpecVal, dY: SpecTan | null): [Val, Tan | null] {
    const y = buf(T * Y.C, 'irfft');
    step({
      kernel: 'irfft',
      label: 'irfft',
      bindings: [{ t: 'basis', which: 'inverse' }, work(Y.re), work(Y.im), work(y)],
      writes: [3],
      params: (n) => irfftParams(n, T, Y.C, modes),
    });
    const out: Val = { buf: y, Tv: T, C: Y.C };
    if (dY === null) return [out, null];
    switch (dY.kind) {
      case 'zero':
        return [out, ZERO];
      case 'dc': {
        const dy = buf(P * Y.C, 'dirfft (const)');
        ewise('dirfft (dc)', dy, { A: [dY.re, identityRows(Y.C)] }, (n) => ({
          rows: n * P,
          C: Y.C,
          alpha: 1 / T,
        }));
        return [out, { kind: 'const', buf: dy }];
      }
      case 'dense': {
        const dy = buf(T * P * Y.C, 'dirfft');
        step({
          kernel: 'irfft',
          label: 'dirfft (dense)',
          bindings: [{ t: 'basis', which: 'inverse' }, work(dY.re), work(dY.im), work(dy)],
          writes: [3],
          params: (n) => irfftParams(n, T, P * Y.C, modes),
        });
        return [out, { kind: 'dense', buf: dy }];
      }
    }
  }

  /**
   * act(a (+ b)) — the add of a Fourier layer fused with its activation (ops/add.ts then
   * ops/activation.ts): forward keeps f'(pre); the JVP is f'(pre) ⊙ (da + db), dense unless both
   * tangents are zero, with a const tangent read through the broadcast map.
   */
  function addAct(label: string, a: Val, b: Val | null, da: Tan | null, db: Tan | null): [Val, Tan | null] {
    const C = a.C;
    const h = buf(T * C, label);
    const d = tangents ? buf(T * C, `${label}'`) : null;
    step({
      kernel: 'act',
      label,
      bindings: [work(a.buf), b ? work(b.buf) : DUMMY, work(h), d !== null ? work(d) : DUMMY_OUT],
      writes: [2, 3],
      params: (n) => activationParams(n * T * C, b !== null, d !== null),
    });
    const out: Val = { buf: h, Tv: T, C };
    if (da === null || d === null) return [out, null];
    const parts = [da, db ?? ZERO].filter((t): t is Exclude<Tan, { kind: 'zero' }> => t.kind !== 'zero');
    if (parts.length === 0) return [out, ZERO];
    const map = (t: Exclude<Tan, { kind: 'zero' }>): [number, RowMap] => [
      t.buf,
      t.kind === 'const' ? { D: T * P, M: P, ld: C } : identityRows(C),
    ];
    const dh = buf(T * P * C, `d${label}`);
    ewise(
      `d${label} (${parts.map((t) => t.kind).join('+')})`,
      dh,
      { S: [d, { D: P, M: 1, ld: C }], A: map(parts[0]), B: parts[1] ? map(parts[1]) : undefined },
      (n) => ({ rows: n * T * P, C }),
    );
    return [out, { kind: 'dense', buf: dh }];
  }

  // ---- the graph (models/fno1d-scalar.ts, run()) ----

  const x = buf(T * c.inp_dim_func, 'x', 'x');
  const p = buf(P, 'p', 'p');
  let eye: number | undefined;
  let dp: Tan | null = null;
  if (tangents) {
    // Seed: ∂p/∂p_k is the k-th unit vector, a dense [n,1,P,P] tangent.
    eye = buf(P * P, 'eye', 'eye');
    dp = { kind: 'dense', buf: eye };
  }
  const dx: Tan | null = tangents ? ZERO : null;

  const [a, da] = dense('linear_p', { buf: x, Tv: T, C: c.inp_dim_func }, dx, w);
  const [s, ds] = dense('linear_scalar', { buf: p, Tv: 1, C: P }, dp, w);
  const [sb, dsb] = broadcastTime(s, ds);
  let [h, dh] = concat(a, sb, da, dsb);
  for (let i = 0; i < c.layers; i++) {
    const [X, dX] = rfft(h, dh);
    const [Y, dY] = mix(i, X, dX);
    const [u, du] = irfft(Y, dY);
    const [v, dv] = dense(`lin${i}`, h, dh, w);
    [h, dh] = addAct(`act${i}`, u, v, du, dv);
  }
  const [q, dq] = dense('linear_q', h, dh, c.hidden);
  const [z, dz] = addAct('act_q', q, null, dq, null);
  const [y, dy] = dense('output_layer', z, dz, c.out_dim_func);

  const O = c.out_dim_func;
  let out = y.buf;
  if (tangents) {
    if (dy === null || dy.kind !== 'dense') throw new Error('internal: output tangent is not dense');
    out = buf(T * O * P, 'J');
    step({
      kernel: 'transpose',
      label: 'J',
      bindings: [work(dy.buf), work(out)],
      writes: [1],
      params: (n) => transposeParams(n * T, P, O),
    });
  }
  buffers[out].role = 'out';
  return { mode, T, steps, buffers, x, p, eye, out };
}

/**
 * Assign workspace buffers to physical slots, reusing a slot once its last reader has run.
 * Inputs are live from the start, the output and the seed to the end; a step never gets a slot that one of its
 * own operands still holds (a dispatch may not read and write one buffer). Returns the slot of
 * every buffer and each slot's size in f32 elements per sample.
 */
export function assignSlots(plan: Plan): { slotOf: number[]; slotPerSample: number[] } {
  const nb = plan.buffers.length;
  const first = new Array<number>(nb).fill(Infinity);
  const last = new Array<number>(nb).fill(-1);
  plan.steps.forEach((s, i) => {
    for (const b of s.bindings) {
      if (b.t !== 'work') continue;
      first[b.id] = Math.min(first[b.id], i);
      last[b.id] = Math.max(last[b.id], i);
    }
  });
  for (const b of plan.buffers) {
    if (b.role === 'x' || b.role === 'p' || b.role === 'eye') first[b.id] = -1;
    // The output is read back after the pass; the seed is uploaded once per workspace, not per chunk.
    if (b.role === 'out' || b.role === 'eye') last[b.id] = Infinity;
  }
  const slotOf = new Array<number>(nb).fill(-1);
  const slotPerSample: number[] = [];
  const free: number[] = [];
  const order = [...plan.buffers.keys()]
    .filter((b) => first[b] !== Infinity)
    .sort((a, b) => first[a] - first[b]);
  const pending = [...order];
  const live: number[] = [];
  for (let i = -1; i < plan.steps.length; i++) {
    // Free slots whose buffers were last used before step i.
    for (let k = live.length - 1; k >= 0; k--) {
      if (last[live[k]] < i) {
        free.push(slotOf[live[k]]);
        live.splice(k, 1);
      }
    }
    while (pending.length && first[pending[0]] === i) {
      const b = pending.shift()!;
      const need = plan.buffers[b].perSample;
      // Smallest free slot that fits; else grow the largest free one; else a new slot.
      let pick = -1;
      for (const f of free)
        if (slotPerSample[f] >= need && (pick < 0 || slotPerSample[f] < slotPerSample[pick])) pick = f;
      if (pick < 0 && free.length) {
        pick = free.reduce((m, f) => (slotPerSample[f] > slotPerSample[m] ? f : m), free[0]);
        slotPerSample[pick] = need;
      }
      if (pick < 0) {
        pick = slotPerSample.length;
        slotPerSample.push(need);
      } else free.splice(free.indexOf(pick), 1);
      slotOf[b] = pick;
      live.push(b);
    }
  }
  return { slotOf, slotPerSample };
}
