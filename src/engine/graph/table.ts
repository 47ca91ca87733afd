/**
 * The rule table: every op the graph engine runs, by its aten name. Each family of ops lives in
 * its own file under rules/; `Rule` demands a forward and a JVP rule for each entry, and an op
 * name may be defined by one family only (checked below, at load).
 */
import type { RuleTable } from './rule';
import { activationRules } from './rules/activation';
import { clampRules } from './rules/clamp';
import { complexRules } from './rules/complex';
import { convRules } from './rules/conv';
import { createRules } from './rules/create';
import { dropoutRules } from './rules/dropout';
import { einsumRules } from './rules/einsum';
import { fftRules } from './rules/fft';
import { inplaceRules } from './rules/inplace';
import { joinRules } from './rules/join';
import { linalgRules } from './rules/linalg';
import { mathRules } from './rules/pointwise-math';
import { normRules } from './rules/norm';
import { padRules } from './rules/join-pad';
import { pointwiseRules } from './rules/pointwise';
import { reduceRules } from './rules/reduce';
import { scalarRules } from './rules/scalar';
import { shapeRules } from './rules/shape';
import { sliceRules } from './rules/shape-slice';
import { softmaxRules } from './rules/softmax';

const FAMILIES: Record<string, RuleTable> = {
  activationRules,
  clampRules,
  complexRules,
  convRules,
  createRules,
  dropoutRules,
  einsumRules,
  fftRules,
  inplaceRules,
  joinRules,
  linalgRules,
  mathRules,
  normRules,
  padRules,
  pointwiseRules,
  reduceRules,
  scalarRules,
  shapeRules,
  sliceRules,
  softmaxRules,
};

function merge(families: Record<string, RuleTable>): RuleTable {
  const out: Record<string, RuleTable[string]> = {};
  const owner: Record<string, string> = {};
  for (const [family, rules] of Object.entries(families))
    for (const [op, rule] of Object.entries(rules)) {
      if (op in out && out[op] !== rule)
        throw new Error(`internal: ${op} is defined by both ${owner[op]} and ${family}`);
      out[op] = rule;
      owner[op] = family;
    }
  return Object.freeze(out);
}

export const RULES: RuleTable = merge(FAMILIES);
