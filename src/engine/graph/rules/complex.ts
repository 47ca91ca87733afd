/**
 * Between complex and real: view_as_real, view_as_complex, real, imag, conj (and resolve_conj,
 * resolve_neg, conj_physical).
 *
 * Complex tensors keep their real and imaginary parts in separate arrays, so PyTorch's views that
 * reinterpret the interleaved storage (view_as_real, view_as_complex, .real, .imag) are copies
 * here; their results refuse in-place writes, which in PyTorch would reach the original. On a real
 * tensor `real`, `conj` and `resolve_conj` return it unchanged, as PyTorch does. Tangents keep their
 * stride-0 axes, and a real-valued tangent of a complex value stays real (its imaginary part zero).
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { map, mapComplex } from '../elementwise';
import { addInto, expandTo, raw, zerosInOrder } from '../kernels/layout';
import type { Rule, RuleTable, TanOf } from '../rule';
import { physicalOrder } from '../strided';
import { boxed, type Tan } from '../tangent';
import { GTensor } from '../tensor';
import { E } from '../lower/expr';

const COPY = (op: string) =>
  `${op} is computed as a copy here (complex parts are stored apart), so it cannot be written in place`;

function readonly(t: GTensor, op: string): GTensor {
  t.readonlyReason = COPY(op);
  return t;
}

/** The real part of a complex tensor as a real internal view. */
function reView(t: GTensor): GTensor {
  return new GTensor([...t.shape], [...t.strides], t.offset, t.re, null, 'float');
}

function imView(t: GTensor): GTensor {
  return new GTensor([...t.shape], [...t.strides], t.offset, t.im!, null, 'float');
}

function isComplex(t: GTensor): boolean {
  return t.kind === 'complex' && t.im !== null;
}

/** Axes broadcast (stride 0) in `t`: compute on the compact tensor, expand the result back. */
function compactOf(t: GTensor): { c: GTensor; expand: (r: GTensor, extra?: number[]) => GTensor } {
  const flat = t.shape.map((d, i) => d > 1 && t.strides[i] === 0);
  if (!flat.some((f) => f)) return { c: t, expand: (r) => r };
  const c = new GTensor(
    t.shape.map((d, i) => (flat[i] ? 1 : d)),
    [...t.strides],
    t.offset,
    t.re,
    t.kind === 'complex' ? t.im : null,
    t.kind,
  );
  return { c, expand: (r, extra = []) => expandTo(r, [...t.shape, ...extra]) };
}

/** [..., 2] real from complex (or real: imaginary part zero, `parts` 1 keeps only the real part). */
function toReal(x: GTensor, parts: 1 | 2): GTensor {
  const shape = [...x.shape, parts];
  const order = [...physicalOrder(x.shape, x.strides), x.rank];
  const out = zerosInOrder(shape, order, 'float');
  const st = out.strides.slice(0, -1);
  addInto(raw(out, x.shape, st, 0), reView(x), 1, false);
  if (parts === 2 && isComplex(x)) addInto(raw(out, x.shape, st, out.strides[x.rank]), imView(x), 1, false);
  return out;
}

/** Complex from [..., k] real (k = 1: imaginary part zero). */
function toComplex(x: GTensor): GTensor {
  const r = x.rank - 1;
  const shape = x.shape.slice(0, r);
  const out = zerosInOrder(shape, physicalOrder(shape, x.strides.slice(0, r)), 'complex');
  const st = x.strides.slice(0, r);
  addInto(reView(out), new GTensor(shape, st, x.offset, x.re, null, 'float'), 1, false);
  if (x.shape[r] > 1)
    addInto(imView(out), new GTensor(shape, st, x.offset + x.strides[r], x.re, null, 'float'), 1, false);
  return out;
}

const viewAsReal: Rule = {
  params: ['self'],
  forward(a) {
    const x = a.tensor('self');
    if (x.kind !== 'complex')
      throw new ShapeError(`${a.op}: view_as_real is only supported for complex tensors`);
    return readonly(toReal(x, 2), 'view_as_real');
  },
  jvp(a, out, t: TanOf): Tan {
    const tx = t(a.tensor('self'));
    if (!tx) return null;
    const { c, expand } = compactOf(tx.data);
    const r = toReal(c, isComplex(c) ? 2 : 1);
    return boxed(expand(r, [r.shape[r.rank - 1]]), (out as GTensor).shape);
  },
};

const viewAsComplex: Rule = {
  params: ['self'],
  forward(a) {
    const x = a.tensor('self');
    if (x.kind === 'complex')
      throw new ShapeError(`${a.op}: view_as_complex is only supported for real tensors`);
    if (x.rank === 0 || x.shape[x.rank - 1] !== 2)
      throw new ShapeError(`${a.op}: the last dimension of the input must have size 2, got [${x.shape}]`);
    return readonly(toComplex(x), 'view_as_complex');
  },
  jvp(a, out, t: TanOf): Tan {
    const tx = t(a.tensor('self'));
    if (!tx) return null;
    const d = tx.data;
    // compact over the leading axes only (the last one is the re/im pair)
    const lead = new GTensor(d.shape.slice(0, -1), d.strides.slice(0, -1), d.offset, d.re, null, 'float');
    const { c, expand } = compactOf(lead);
    const cd = new GTensor(
      [...c.shape, d.shape[d.rank - 1]],
      [...c.strides, d.strides[d.rank - 1]],
      d.offset,
      d.re,
      null,
      'float',
    );
    return boxed(expand(toComplex(cd)), (out as GTensor).shape);
  },
};

function partRule(op: 'real' | 'imag'): Rule {
  return {
    params: ['self'],
    forward(a) {
      const x = a.tensor('self');
      if (x.kind !== 'complex') {
        if (op === 'imag')
          throw new ShapeError(`${a.op}: imag is not implemented for tensors with non-complex dtypes`);
        return x;
      }
      const part = op === 'real' ? reView(x) : isComplex(x) ? imView(x) : null;
      const out = zerosInOrder(x.shape, physicalOrder(x.shape, x.strides), 'float');
      if (part) addInto(out, part, 1, false);
      return readonly(out, op);
    },
    jvp(a, _out, t: TanOf): Tan {
      const x = a.tensor('self');
      const tx = t(x);
      if (!tx) return null;
      if (x.kind !== 'complex') return tx;
      const d = tx.data;
      if (op === 'imag' && !isComplex(d)) return null;
      const src = op === 'real' ? reView(d) : imView(d);
      return { data: map(src, (v) => v, { compact: true, lower: E.in(0) }), full: tx.full };
    },
  };
}

const CONJ = [E.in(0), E.un('neg', E.in(1))];

function conjRule(copyAlways: boolean): Rule {
  return {
    params: ['self'],
    forward(a: Args) {
      const x = a.tensor('self');
      if (x.kind !== 'complex') return x;
      const out = mapComplex(
        x,
        (r, i, o) => {
          o[0] = r;
          o[1] = -i;
        },
        { lower: CONJ },
      );
      return copyAlways ? out : readonly(out, a.op.replace('aten::', ''));
    },
    jvp(a, _out, t: TanOf): Tan {
      const x = a.tensor('self');
      const tx = t(x);
      if (!tx || x.kind !== 'complex') return tx;
      const d = tx.data;
      if (!isComplex(d)) return tx;
      return {
        data: mapComplex(
          d,
          (r, i, o) => {
            o[0] = r;
            o[1] = -i;
          },
          { compact: true, lower: CONJ },
        ),
        full: tx.full,
      };
    },
  };
}

/** resolve_conj / resolve_neg: conjugation is never lazy here, so there is nothing to resolve. */
const identity: Rule = {
  params: ['self'],
  forward: (a) => a.tensor('self'),
  jvp: (a, _out, t: TanOf) => t(a.tensor('self')),
};

export const complexRules = {
  'aten::view_as_real': viewAsReal,
  'aten::view_as_complex': viewAsComplex,
  'aten::real': partRule('real'),
  'aten::imag': partRule('imag'),
  'aten::conj': conjRule(false),
  'aten::resolve_conj': identity,
  'aten::conj_physical': conjRule(true),
  'aten::resolve_neg': identity,
} satisfies RuleTable;
