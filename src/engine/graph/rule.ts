/**
 * An op of the graph engine: how its arguments are named (aten's schema), a forward rule and a
 * forward-mode derivative (JVP) rule. The rule table (table.ts) maps aten names to rules; `Rule`
 * makes both halves mandatory, so an op cannot be added without its derivative.
 */
import type { Tan } from './tangent';
import type { GTensor } from './tensor';
import type { Args } from './args';

/** What a rule may see of the run. */
export interface Ctx {
  /** Number of tangent directions (P). */
  readonly P: number;
}

/** The tangent of an argument tensor (null: it does not depend on p). */
export type TanOf = (t: GTensor) => Tan;

export interface Rule {
  /**
   * The aten schema's argument names in order; `name=` marks one with a default (the rule reads
   * it with a fallback), `*name` collects the remaining positional arguments as a list.
   */
  readonly params: readonly string[];
  /** The output: a tensor, a list of tensors, or a plain value (sizes, ints, bools). */
  forward(a: Args, ctx: Ctx): unknown;
  /**
   * The output's tangent (a list for list outputs), given the primal arguments and output and a
   * way to read each argument tensor's tangent. Rules return null when nothing depends on p.
   * For in-place ops (`inPlace`) it runs before `forward`, sees the old values, and returns the
   * mutated tensor's new tangent.
   */
  jvp(a: Args, out: unknown, t: TanOf, ctx: Ctx): Tan | Tan[];
  /** The op writes into its first argument (`copy_`, `add_`, ...) and returns it. */
  readonly inPlace?: true;
  /**
   * The op returns views of its first argument (made with `GTensor.view`, whose step gives their
   * tangents); the host then takes tangents from the views, not from `jvp`.
   */
  readonly view?: true;
  /** Not differentiable in its tensor arguments and returns no tensor (size, dim, ...). */
  readonly nondiff?: true;
}

export type RuleTable = Readonly<Record<string, Rule>>;
