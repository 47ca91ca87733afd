/**
 * In-place writes: copy_ (how `out_ft[:, :, :modes] = …` lands in a `zeros` spectrum), zero_, fill_.
 * The dispatch runs the JVP first (it returns the written view's new tangent), then the forward,
 * then sets the root's tangent and its known-zero block.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { assignInto, fillInto } from '../copy';
import type { Rule, RuleTable } from '../rule';
import type { Tan } from '../tangent';
import { GTensor, shapeString } from '../tensor';
import { castTan, castTo } from './scalar';
import { materialize, tExpand } from './shape-view';
import { broadcastStrides } from '../strided';

/** The tangent written into `self` by a value whose tangent is `t` (broadcast to self's shape). */
function writtenTan(self: GTensor, t: Tan): Tan {
  if (self.kind === 'int' || self.kind === 'bool') return null;
  return castTan(tExpand(t, self.shape), self.kind);
}

/** copy_'s source, checked to broadcast to the destination. */
function checkedSource(a: Args): GTensor {
  const self = a.tensor('self');
  const src = a.tensor('src');
  try {
    broadcastStrides(src, self.shape);
  } catch {
    throw new ShapeError(
      `${a.op}: the source of shape ${shapeString(src.shape)} does not broadcast to the destination's ${shapeString(self.shape)}`,
    );
  }
  return src;
}

const copy: Rule = {
  params: ['self', 'src', 'non_blocking='],
  inPlace: true,
  forward(a) {
    const self = a.tensor('self');
    let src = a.tensor('src');
    try {
      broadcastStrides(src, self.shape);
    } catch {
      throw new ShapeError(
        `${a.op}: the source of shape ${shapeString(src.shape)} does not broadcast to ${shapeString(self.shape)}`,
      );
    }
    if (src === self) return self;
    // Overlapping storage: read everything before writing.
    if (src.root === self.root) src = materialize(src);
    if ((self.kind === 'int' || self.kind === 'bool') && src.kind !== self.kind) src = castTo(src, self.kind);
    assignInto(self, src);
    return self;
  },
  jvp(a, _out, t) {
    const self = a.tensor('self');
    const src = checkedSource(a);
    if (src === self) return t(self);
    return writtenTan(self, t(src));
  },
};

/** A fill value: a number, or a 0-d tensor (fill_.Tensor), whose tangent then fills the tangent. */
function fillValue(a: Args): number {
  const v = a.raw('value');
  if (v instanceof GTensor) {
    if (v.rank !== 0 && v.numel !== 1)
      throw new ShapeError(
        `${a.op}: the value must be a number or a 0-d tensor, got a tensor of shape ${shapeString(v.shape)}`,
      );
    return v.re[v.offset];
  }
  return a.number('value');
}

const fill: Rule = {
  params: ['self', 'value'],
  inPlace: true,
  forward(a) {
    const self = a.tensor('self');
    let v = fillValue(a);
    if (self.kind === 'int') v = Math.trunc(v);
    else if (self.kind === 'bool') v = v !== 0 ? 1 : 0;
    fillInto(self, v);
    return self;
  },
  jvp(a, _out, t) {
    const self = a.tensor('self');
    const v = a.raw('value');
    if (!(v instanceof GTensor)) return null;
    const tv = t(v);
    if (!tv) return null;
    // A one-element tensor of any rank: its tangent as a 0-d one, then broadcast.
    const data = tv.data;
    const flat = new GTensor([data.shape[0]], [data.strides[0]], data.offset, data.re, data.im, data.kind);
    return writtenTan(self, { data: flat, full: [] });
  },
};

const zero: Rule = {
  params: ['self'],
  inPlace: true,
  forward(a) {
    const self = a.tensor('self');
    fillInto(self, 0);
    return self;
  },
  jvp: () => null,
};

export const inplaceRules = {
  'aten::copy_': copy,
  'aten::zero_': zero,
  'aten::fill_': fill,
} satisfies RuleTable;
