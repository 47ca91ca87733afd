/**
 * The tensor host the TorchScript interpreter runs on: every aten call goes to the graph engine's
 * rule table (forward, and the JVP when an argument depends on p). Python floats reach the rules as
 * JS numbers and dtype constants as ScalarType codes; the interpreter keeps Python-level arithmetic.
 */
import { UnsupportedError } from '../graph/args';
import { callOp } from '../graph/dispatch';
import { markConstant } from '../graph/kernels/contract';
import type { Ctx, RuleTable } from '../graph/rule';
import { GTensor, fromArrays, type Kind } from '../graph/tensor';
import type { HostTensor } from '../tensor';
import { isComplex } from '../tensor';
import { scalarTypeCode, type TensorHost } from './host';
import { DTypeConst, PyFloat, type Value } from './values';

/** Arguments as the rules read them: floats as numbers, dtype constants as ScalarType codes. */
function toRuleValue(v: unknown, depth = 0): unknown {
  if (v instanceof PyFloat) return v.value;
  if (v instanceof DTypeConst) return scalarTypeCode(v.dtype) ?? v.dtype;
  if (Array.isArray(v) && depth < 8) return v.map((e) => toRuleValue(e, depth + 1));
  return v;
}

function kindOf(t: HostTensor): Kind {
  if (isComplex(t.dtype)) return 'complex';
  if (t.dtype === 'bool') return 'bool';
  if (t.dtype.startsWith('int') || t.dtype.startsWith('uint')) return 'int';
  return 'float';
}

/** A TensorHost over the graph engine. `tangents` false runs forward rules only. */
export function graphHost(table: RuleTable, ctx: Ctx, tangents: boolean): TensorHost<GTensor> {
  const cache = new WeakMap<HostTensor, GTensor>();
  return {
    isTensor(v: unknown): v is GTensor {
      return v instanceof GTensor;
    },
    /** Parameters, buffers and constants: shared storage, refused as in-place targets. */
    fromHost(t: HostTensor, origin: string): GTensor {
      let g = cache.get(t);
      if (!g) {
        g = fromArrays([...t.shape], t.data, t.imag ?? null, kindOf(t));
        // Parameters are never written (in-place writes into them are refused), so products
        // may keep re-laid-out copies of them from one run to the next.
        g.readonlyReason = `the model writes into its own parameter or constant ${origin}`;
        markConstant(g);
        cache.set(t, g);
      }
      return g;
    },
    shape(t: GTensor): readonly number[] {
      return t.shape;
    },
    call(op: string, args: Value<GTensor>[], kwargs: Record<string, Value<GTensor>>): Value<GTensor> {
      if (!table[op]) throw new UnsupportedError(`unsupported op ${op}`);
      const a = args.map((v) => toRuleValue(v));
      const kw: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(kwargs)) kw[k] = toRuleValue(v);
      const out = callOp(table, op, a, kw, ctx, tangents);
      // Python floats stay floats (the interpreter keeps int and float arithmetic apart).
      if (typeof out === 'number' && (op === 'aten::Float' || op === 'aten::FloatImplicit'))
        return new PyFloat(out);
      if (typeof out === 'number' && op === 'aten::ScalarImplicit') {
        const t = a[0];
        if (t instanceof GTensor && (t.kind === 'float' || t.kind === 'complex')) return new PyFloat(out);
      }
      return out as Value<GTensor>;
    },
  };
}
