/**
 * Test helpers for the view, join, creation and in-place rules: one table with all of them, a
 * call shortcut, independent index-loop readers, and a finite-difference check of a whole
 * sequence of calls (views, then writes through them), which checkJvp cannot express.
 */
import { expect } from 'vitest';
import { callOp, tangentOf } from '../../../../src/engine/graph/dispatch';
import type { RuleTable } from '../../../../src/engine/graph/rule';
import { dense, tan, type Tan } from '../../../../src/engine/graph/tangent';
import { GTensor, contiguous, fromArrays, sizeOf } from '../../../../src/engine/graph/tensor';
import { createRules } from '../../../../src/engine/graph/rules/create';
import { inplaceRules } from '../../../../src/engine/graph/rules/inplace';
import { joinRules } from '../../../../src/engine/graph/rules/join';
import { scalarRules } from '../../../../src/engine/graph/rules/scalar';
import { shapeRules } from '../../../../src/engine/graph/rules/shape';
import { randTensor } from '../jvp-check';

export const T: RuleTable = { ...shapeRules, ...joinRules, ...createRules, ...inplaceRules, ...scalarRules };

/** Call an op of T with P tangent directions. */
export function call(
  op: string,
  args: unknown[],
  kwargs: Record<string, unknown> = {},
  tangents = true,
  P = 2,
): unknown {
  return callOp(T, op, args, kwargs, { P }, tangents);
}

export function callT(op: string, args: unknown[], kwargs: Record<string, unknown> = {}): GTensor {
  const out = call(op, args, kwargs);
  if (!(out instanceof GTensor)) throw new Error(`${op} returned no tensor`);
  return out;
}

/** Element at a logical index, read through the strides (real part; `im` for the imaginary one). */
export function at(x: GTensor, idx: readonly number[], im = false): number {
  let s = x.offset;
  idx.forEach((i, d) => (s += i * x.strides[d]));
  return im ? x.im![s] : x.re[s];
}

/** Every logical index of a shape in row-major order. */
export function indices(shape: readonly number[]): number[][] {
  const out: number[][] = [];
  const n = sizeOf(shape);
  for (let k = 0; k < n; k++) {
    const idx = new Array<number>(shape.length);
    let r = k;
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d] = r % shape[d];
      r = Math.floor(r / shape[d]);
    }
    out.push(idx);
  }
  return out;
}

/** Row-major values of a tensor read element by element (independent of the engine's copies). */
export function values(x: GTensor, im = false): number[] {
  return indices(x.shape).map((i) => at(x, i, im));
}

/** Expect a tensor to hold f(index) at every index. */
export function expectValues(
  x: GTensor,
  shape: readonly number[],
  f: (idx: number[]) => number,
  im = false,
): void {
  expect([...x.shape]).toEqual([...shape]);
  const got = values(x, im);
  const want = indices(shape).map(f);
  expect(got).toEqual(want);
}

/** Dense row-major values of a tangent ([P, ...full]); zeros for null. */
export function tanValues(t: Tan, P: number, full: readonly number[], im = false): number[] {
  if (!t) return new Array<number>(P * sizeOf(full)).fill(0);
  expect([...t.full]).toEqual([...full]);
  return values(dense(t), im);
}

/**
 * Check the tangent of a sequence's output against central differences. `inputs` builds fresh
 * contiguous roots; those chosen (default: float/complex) get random tangent directions.
 */
export function checkSeq(
  inputs: () => GTensor[],
  run: (ins: GTensor[], tangents: boolean) => GTensor,
  opts: { P?: number; h?: number; tol?: number; seed?: number; perturb?: boolean[] } = {},
): Tan {
  const P = opts.P ?? 2;
  const h = opts.h ?? 1e-6;
  const tol = opts.tol ?? 1e-7;
  const base = inputs();
  const chosen = base.map((x, i) =>
    opts.perturb ? opts.perturb[i] : x.kind === 'float' || x.kind === 'complex',
  );
  const dirs = base.map((x, i) =>
    chosen[i] ? randTensor([P, ...x.shape], (opts.seed ?? 11) + 17 * i, x.kind) : null,
  );
  base.forEach((x, i) => {
    if (dirs[i]) x.tan = tan(dirs[i]!);
  });
  const out = run(base, true);
  const t = tangentOf(out);
  const shape = [...out.shape];
  const n = sizeOf(shape);
  const parts = out.isComplex ? [false, true] : [false];
  const tv = parts.map((im) => tanValues(t, P, shape, im));
  for (let k = 0; k < P; k++) {
    const evalAt = (s: number) => {
      const ins = inputs();
      ins.forEach((x, i) => {
        const d = dirs[i];
        if (!d) return;
        for (let j = 0; j < x.numel; j++) {
          x.re[j] += s * h * d.re[k * x.numel + j];
          if (x.im && d.im) x.im[j] += s * h * d.im[k * x.numel + j];
        }
      });
      const o = contiguous(run(ins, false));
      return parts.map((im) => values(o, im));
    };
    const plus = evalAt(1);
    const minus = evalAt(-1);
    parts.forEach((_, p) => {
      let err = 0;
      let ref = 1;
      for (let e = 0; e < n; e++) {
        const fd = (plus[p][e] - minus[p][e]) / (2 * h);
        err = Math.max(err, Math.abs(fd - tv[p][k * n + e]));
        ref = Math.max(ref, Math.abs(fd));
      }
      expect(
        err / ref,
        `direction ${k}${p ? ' (imaginary part)' : ''}: tangent vs central differences`,
      ).toBeLessThan(tol);
    });
  }
  return t;
}

/** A float root of the given shape with values 0, 1, 2, … (easy to read in failures). */
export function iota(shape: number[], kind: 'float' | 'complex' = 'float'): GTensor {
  const n = sizeOf(shape);
  const re = Float64Array.from({ length: n }, (_, i) => i);
  const im = kind === 'complex' ? Float64Array.from({ length: n }, (_, i) => -i / 2) : null;
  return fromArrays(shape, re, im, kind);
}
