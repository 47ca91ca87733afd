/**
 * What the interpreter needs from a tensor runtime. The interpreter does everything Python-level
 * itself (ints, floats, lists, dicts, strings, control flow, module dispatch, sizes through `shape`);
 * every tensor operation goes to `call` with a normalised op name:
 *
 * - `torch.linear(...)`, `ops.aten.linear(...)`, `torch.nn.functional.linear(...)` → `aten::linear`
 * - `torch.fft.rfft` / `torch.fft_rfft` → `aten::fft_rfft`; `torch.linalg.x` → `aten::linalg_x`;
 *   `torch.special.x` → `aten::special_x`
 * - tensor methods `x.view(...)` → `aten::view` with `x` as the first argument; `x[i]` →
 *   `aten::select(x, 0, i)`, `x[a:b]` → `aten::slice(x, 0, a, b, 1)`
 * - `ops.prim.NumToTensor(n)` → `prim::NumToTensor`; `ops.prim.dtype(x)` / `x.dtype` → `prim::dtype`
 *   (to return the ScalarType int, see SCALAR_TYPES); `int(t)`, `float(t)`, `bool(t)` on a tensor →
 *   `aten::Int`, `aten::Float`, `aten::Bool` (return number, PyFloat, boolean); `annotate(number, t)`
 *   (traced code's 0-d tensor used as a number) → `aten::ScalarImplicit` (return a number for integer
 *   tensors, a PyFloat for floating ones); `if t:` → `aten::Bool`; `for x in t` → `aten::unbind(t, 0)`
 *   (return a list); other unknown prims → `prim::<name>`
 *
 * Arguments keep their Python types (values.ts): ints are numbers, floats `PyFloat` (use `toNumber`),
 * dtypes mostly ScalarType ints (`dtype=6`; `DTypeConst` where code names `torch.float32`), devices
 * `Device`, None `null`, lists arrays, tuples frozen arrays. Keyword arguments keep their names
 * (`dim=`, `keepdim=`, `dtype=`, `n=`, `norm=`, `alpha=`, `approximate=` ...).
 *
 * Op names carry no overload (TorchScript's printed code has none): `aten::add` is called for
 * tensor+tensor and tensor+scalar alike. Ops on Python values only (`torch.add(1, 2)`,
 * `torch.append(list, x)`, `torch.eq("a", "b")`, `torch.len`, `torch.format`, ...) never reach the host.
 *
 * In-place ops and views (`torch.copy_(torch.slice(out, 2, 0, 4), y)`: slice assignment) are the
 * host's business: the interpreter passes them through and keeps whatever identity the host returns.
 *
 * The host throws plain Errors for ops or arguments it does not support (`unsupported op
 * aten::istft`); the interpreter re-throws them as TorchScriptError with the code location.
 */
import type { SourceLoc } from './ast';
import type { HostTensor } from '../tensor';
import { DTypeConst, PyFloat, type Value } from './values';

export interface TensorHost<T> {
  /** Whether `v` is one of this host's tensors. */
  isTensor(v: unknown): v is T;
  /**
   * A parameter, buffer or constant of the archive as a host tensor. `origin` names it: the attribute
   * path from the root module (`lift.weight`, `spec.0.w`) or `CONSTANTS.c0`. Called once per tensor
   * per interpreter.
   */
  fromHost(t: HostTensor, origin: string): T;
  /** The tensor's shape (for `size`, `dim`, `numel`, `len`, `.shape`). */
  shape(t: T): readonly number[];
  /** Runs one op. `at` is where the code calls it (for the host's own bookkeeping; errors get it anyway). */
  call(op: string, args: Value<T>[], kwargs: Record<string, Value<T>>, at: SourceLoc): Value<T>;
}

/** c10::ScalarType codes, as traced and scripted code writes dtypes (`dtype=6`). */
export const SCALAR_TYPES: Readonly<Record<number, string>> = Object.freeze({
  0: 'uint8',
  1: 'int8',
  2: 'int16',
  3: 'int32',
  4: 'int64',
  5: 'float16',
  6: 'float32',
  7: 'float64',
  8: 'complex32',
  9: 'complex64',
  10: 'complex128',
  11: 'bool',
  15: 'bfloat16',
});

/** The dtype name of a `dtype=` argument (ScalarType int or DTypeConst); undefined for None/other. */
export function dtypeName(v: unknown): string | undefined {
  if (typeof v === 'number') return SCALAR_TYPES[v];
  if (v instanceof DTypeConst) return v.dtype;
  return undefined;
}

/** The ScalarType code of a dtype name (inverse of SCALAR_TYPES). */
export function scalarTypeCode(dtype: string): number | undefined {
  for (const [k, v] of Object.entries(SCALAR_TYPES)) if (v === dtype) return Number(k);
  return undefined;
}

/** A Python scalar argument as a JS number (int, float or bool); throws for anything else. */
export function scalarArg(v: unknown, what = 'argument'): number {
  if (typeof v === 'number') return v;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  throw new Error(`${what} is not a number`);
}

/** Whether a Python scalar argument is a float (affects result dtypes, e.g. `torch.full([2], 1.)`). */
export function isFloatArg(v: unknown): v is PyFloat {
  return v instanceof PyFloat;
}

/** A list of ints argument (`[1, 2]`, `(1,)`, or a single int where PyTorch broadcasts it). */
export function intListArg(v: unknown, what = 'argument'): number[] {
  if (typeof v === 'number') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return [...(v as number[])];
  throw new Error(`${what} is not a list of ints`);
}
