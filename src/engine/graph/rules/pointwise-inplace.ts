/**
 * In-place variants (`add_`, `relu_`, ...) of out-of-place rules: the result is computed out of
 * place from the old values and written into `self` through its strides, so a write into a view
 * lands in its root's storage. The dispatcher runs the JVP first (on the old values); the result it
 * computes there is kept for the forward that follows, so nothing is computed twice.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { assignInto } from '../copy';
import type { Rule } from '../rule';
import { GTensor, shapeString } from '../tensor';

const computed = new WeakMap<Args, unknown>();

function writeInto(op: string, self: GTensor, out: unknown): void {
  if (out === self) return;
  if (!(out instanceof GTensor)) throw new Error(`internal: ${op} computed no tensor`);
  if (out.rank !== self.rank || out.shape.some((d, i) => d !== self.shape[i]))
    throw new ShapeError(
      `${op}: the result's shape ${shapeString(out.shape)} does not fit the tensor written in place, ${shapeString(self.shape)}`,
    );
  if (out.isComplex && !self.isComplex)
    throw new ShapeError(`${op}: a complex result cannot be written into a real tensor`);
  if ((self.kind === 'int' || self.kind === 'bool') && out.kind !== self.kind && out.kind !== 'int')
    throw new ShapeError(`${op}: a ${out.kind} result cannot be written into an integer tensor`);
  assignInto(self, out);
}

/** The in-place form of `rule` (its first parameter is the tensor written). */
export function inPlaceOf(rule: Rule): Rule {
  const selfName = rule.params[0].replace(/=$/, '');
  return {
    params: rule.params,
    inPlace: true,
    forward(a, ctx) {
      const self = a.tensor(selfName);
      const out = computed.has(a) ? computed.get(a) : rule.forward(a, ctx);
      computed.delete(a);
      writeInto(a.op, self, out);
      return self;
    },
    jvp(a, _out, t, ctx) {
      const out = rule.forward(a, ctx);
      computed.set(a, out);
      return rule.jvp(a, out, t, ctx);
    },
  };
}

/** `aten::<name>` and its in-place form `aten::<name>_`. */
export function withInPlace(name: string, rule: Rule): Record<string, Rule> {
  return { [`aten::${name}`]: rule, [`aten::${name}_`]: inPlaceOf(rule) };
}
