/**
 * One op call: bind the arguments, run the forward rule and, when any argument tensor depends on
 * p, the JVP rule, and attach the result's tangent where later calls will find it — on the output
 * root, on the views (derived from their root's tangent on demand), or, for an in-place op, on the
 * root the written view belongs to.
 */
import { ShapeError } from '../errors';
import { Args, UnsupportedError } from './args';
import { assignInto } from './copy';
import type { Ctx, Rule, RuleTable } from './rule';
import { boxed, dense, isFull, tan, type Tan } from './tangent';
import { GTensor, copyOf, zerosTensor } from './tensor';
import { flushReaders } from './lazy-join';
import { activeRecorder } from './lower/record';

/** The tangent of any tensor: a root's own, or its view's derived from the root's. */
export function tangentOf(t: GTensor): Tan {
  const root = t.root;
  if (root === t) return t.tan;
  if (root.tan === null) return null;
  return t.step!(root.tan);
}

function anyTangent(v: unknown, depth = 0): boolean {
  if (v instanceof GTensor) return tangentOf(v) !== null;
  if (Array.isArray(v) && depth < 4) return v.some((e) => anyTangent(e, depth + 1));
  return false;
}

/** Whether `v` is a leading block of its root, in the root's own layout (slices from 0). */
function isLeadingBlock(v: GTensor): boolean {
  const r = v.root;
  return (
    v.offset === r.offset &&
    v.rank === r.rank &&
    v.shape.every((d, i) => d <= r.shape[i] && (d === 1 || v.strides[i] === r.strides[i]))
  );
}

/** After an in-place write into `view`, set its root's tangent so that `view`'s tangent is `t`. */
function setViewTangent(view: GTensor, t: Tan, ctx: Ctx): void {
  const root = view.root;
  if (view === root) {
    root.tan = t;
    return;
  }
  if (root.tan === null && t === null) return;
  // Zeros written where the tangent is already zero (outside its box) change nothing.
  if (t === null && root.tan !== null && view.step!(root.tan) === null) return;
  if (root.tan === null && isLeadingBlock(view)) {
    // The common FNO case: a slice of `zeros` written once. Keep the leading-block structure.
    const data = t!.data;
    if (data.rank === view.rank + 1 && data.shape.every((d, i) => i === 0 || d <= view.shape[i - 1])) {
      // strides of t's data may be anything; the box is t's box within the view's block
      root.tan = boxed(data, root.shape);
      return;
    }
  }
  // General case: a fresh dense tangent for the whole root, the view's part overwritten.
  const whole = root.tan
    ? copyOf(dense(root.tan))
    : zerosTensor([ctx.P, ...root.shape], root.kind === 'complex' ? 'complex' : 'float');
  const target = view.step!(tan(whole));
  if (!target || !isFull(target) || target.data.root !== whole)
    throw new UnsupportedError('an in-place write through a view that cannot carry a derivative');
  const src = t ? dense(t) : null;
  if (src) assignInto(target.data, src);
  else assignInto(target.data, zerosTensor([], whole.kind));
  root.tan = tan(whole);
}

/** Track which leading block of a root may be non-zero after a write into `view`. */
function updateNonzero(view: GTensor, opName: string): void {
  const root = view.root;
  if (opName === 'aten::zero_' && view === root) {
    root.nz = root.shape.map(() => 0);
    return;
  }
  if (root.nz && isLeadingBlock(view)) {
    root.nz = root.nz.map((n, i) => Math.max(n, view.shape[i]));
    return;
  }
  root.nz = null;
}

export interface CallResult {
  value: unknown;
}

/**
 * Call op `name` of `table`. With `tangents` false no JVP runs (a plain forward pass); otherwise
 * outputs get tangents whenever an argument tensor has one.
 */
export function callOp(
  table: RuleTable,
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  ctx: Ctx,
  tangents: boolean,
): unknown {
  const rule: Rule | undefined = table[name];
  if (!rule) throw new UnsupportedError(`unsupported op ${name}`);
  const rec = activeRecorder();
  if (!rec) return call(rule, name, args, kwargs, ctx, tangents);
  // A recorded run names the op on every record it makes.
  const outer = rec.op;
  rec.op = name;
  try {
    return call(rule, name, args, kwargs, ctx, tangents);
  } finally {
    rec.op = outer;
  }
}

function call(
  rule: Rule,
  name: string,
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
  ctx: Ctx,
  tangents: boolean,
): unknown {
  const a = Args.bind(name, rule.params, args, kwargs);
  const differentiate =
    tangents &&
    !rule.nondiff &&
    (args.some((v) => anyTangent(v)) || Object.values(kwargs).some((v) => anyTangent(v)));

  if (rule.inPlace) {
    const self = a.tensor(rule.params[0].replace(/=$/, ''));
    const root = self.root;
    if (root.readonlyReason) throw new UnsupportedError(`${name}: ${root.readonlyReason}`);
    // joins not yet made that read this root take its values as they are now (PyTorch copied them)
    flushReaders(root);
    const newTan =
      tangents && (differentiate || tangentOf(self) !== null) ? rule.jvp(a, null, tangentOf, ctx) : null;
    const out = rule.forward(a, ctx);
    updateNonzero(self, name);
    if (tangents) setViewTangent(self, newTan as Tan, ctx);
    return out;
  }

  const out = rule.forward(a, ctx);
  if (!differentiate) return out;
  if (rule.view) {
    // Views carry their tangent through their step; a non-view result (a lazily truncated
    // spectrum) gets its tangent now.
    const fresh = (v: unknown) => v instanceof GTensor && v.parent === null;
    if (Array.isArray(out) ? !out.some(fresh) : !fresh(out)) return out;
  }
  const t = rule.jvp(a, out, tangentOf, ctx);
  attach(name, out, t);
  return out;
}

function attach(name: string, out: unknown, t: Tan | Tan[]): void {
  if (out instanceof GTensor) {
    if (Array.isArray(t)) throw new Error(`internal: ${name} returned one tensor but a list of tangents`);
    checkShape(name, out, t);
    if (out.parent === null) out.tan = t;
    return;
  }
  if (Array.isArray(out)) {
    const ts = Array.isArray(t) ? t : null;
    out.forEach((o, i) => {
      if (o instanceof GTensor && o.parent === null) {
        const ti = ts ? ts[i] : null;
        checkShape(name, o, ti);
        o.tan = ti;
      }
    });
  }
}

function checkShape(name: string, out: GTensor, t: Tan): void {
  if (t && (t.full.length !== out.rank || t.full.some((d, i) => d !== out.shape[i])))
    throw new ShapeError(`internal: ${name}'s tangent has shape [${t.full}] for an output [${out.shape}]`);
}
