/**
 * The test body every graph op's JVP rule goes through: random tangent directions on the
 * arguments, the rule's tangent of the output, and float64 central finite differences of the
 * forward rule along each direction. In-place ops are checked on fresh arguments every time. Then
 * the op's lowering (lower-check.ts): its tape must give the same values and tangents.
 */
import { expect } from 'vitest';
import { callOp, tangentOf } from '../../../src/engine/graph/dispatch';
import type { RuleTable } from '../../../src/engine/graph/rule';
import { dense, tan } from '../../../src/engine/graph/tangent';
import { GTensor, contiguous, fromArrays, type Kind } from '../../../src/engine/graph/tensor';
import { randn, rng } from '../helpers';
import { checkLowering } from './lower-check';

export interface Call {
  args: unknown[];
  kwargs?: Record<string, unknown>;
}

/** A random contiguous tensor (standard normal entries; complex: both parts). */
export function randTensor(shape: number[], seed: number, kind: Kind = 'float', scale = 1): GTensor {
  const r = rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const re = randn(r, n, scale);
  const im = kind === 'complex' ? randn(r, n, scale) : null;
  return fromArrays(shape, re, im, kind);
}

function tensorsIn(v: unknown, out: GTensor[] = []): GTensor[] {
  if (v instanceof GTensor) out.push(v);
  else if (Array.isArray(v)) v.forEach((e) => tensorsIn(e, out));
  return out;
}

function differentiable(t: GTensor): boolean {
  return t.kind === 'float' || t.kind === 'complex';
}

function outputs(v: unknown): GTensor[] {
  return tensorsIn(v);
}

/** [re, im] of a tensor in row-major order. */
function valuesOf(t: GTensor): [Float64Array, Float64Array | null] {
  const c = contiguous(t);
  return [
    Float64Array.from(c.re.subarray(0, c.numel)),
    c.im ? Float64Array.from(c.im.subarray(0, c.numel)) : null,
  ];
}

/**
 * Check op's JVP against central differences. `build` returns fresh arguments each call (roots).
 * `perturb` chooses which argument tensors (in order of appearance) get tangents; default: every
 * float or complex tensor.
 */
export function checkJvp(
  table: RuleTable,
  op: string,
  build: () => Call,
  opts: {
    P?: number;
    h?: number;
    tol?: number;
    perturb?: (i: number, t: GTensor) => boolean;
    seed?: number;
  } = {},
): void {
  const P = opts.P ?? 2;
  const h = opts.h ?? 1e-6;
  const tol = opts.tol ?? 1e-6;
  const pick = opts.perturb ?? ((_i: number, t: GTensor) => differentiable(t));
  const ctx = { P };

  const base = build();
  const inputs = tensorsIn([base.args, Object.values(base.kwargs ?? {})]);
  const chosen = inputs.map((t, i) => pick(i, t) && differentiable(t));
  expect(
    chosen.some((c) => c),
    `${op}: no argument to differentiate`,
  ).toBe(true);
  const dirs = inputs.map((t, i) =>
    chosen[i]
      ? randTensor([P, ...t.shape], (opts.seed ?? 7) + 31 * i, t.kind === 'complex' ? 'complex' : 'float')
      : null,
  );
  inputs.forEach((t, i) => {
    expect(t.parent, `${op}: build() must return root tensors`).toBeNull();
    if (dirs[i]) t.tan = tan(dirs[i]!);
  });
  const out = callOp(table, op, base.args, base.kwargs ?? {}, ctx, true);
  const outs = outputs(out);
  expect(outs.length, `${op}: no tensor output`).toBeGreaterThan(0);
  const tangents = outs.map((o) => {
    const t = tangentOf(o);
    return t ? valuesOf(dense(t)) : null;
  });

  const evalAt = (k: number, s: number): [Float64Array, Float64Array | null][] => {
    const c = build();
    const ins = tensorsIn([c.args, Object.values(c.kwargs ?? {})]);
    ins.forEach((t, i) => {
      const d = dirs[i];
      if (!d) return;
      const n = t.numel;
      for (let j = 0; j < n; j++) {
        t.re[j] += s * h * d.re[k * n + j];
        if (t.im && d.im) t.im[j] += s * h * d.im[k * n + j];
      }
    });
    return outputs(callOp(table, op, c.args, c.kwargs ?? {}, ctx, false)).map(valuesOf);
  };

  for (let k = 0; k < P; k++) {
    const plus = evalAt(k, 1);
    const minus = evalAt(k, -1);
    outs.forEach((o, j) => {
      const n = o.numel;
      const t = tangents[j];
      const parts: [Float64Array, Float64Array | null, Float64Array | null][] = [
        [plus[j][0], minus[j][0], t ? t[0] : null],
      ];
      if (plus[j][1]) parts.push([plus[j][1]!, minus[j][1]!, t ? t[1] : null]);
      let err = 0;
      let scaleRef = 1;
      for (const [p, m, tv] of parts)
        for (let e = 0; e < n; e++) {
          const fd = (p[e] - m![e]) / (2 * h);
          const an = tv ? tv[k * n + e] : 0;
          err = Math.max(err, Math.abs(fd - an));
          scaleRef = Math.max(scaleRef, Math.abs(fd));
        }
      expect(err / scaleRef, `${op}: output ${j}, direction ${k}: JVP vs central differences`).toBeLessThan(
        tol,
      );
    });
  }

  checkLowering(table, op, build, dirs, P);
}
