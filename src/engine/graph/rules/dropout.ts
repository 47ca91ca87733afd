/**
 * dropout, feature_dropout, alpha_dropout, feature_alpha_dropout (and in-place forms) in evaluation
 * mode: the identity, returning the input itself as ATen does. Training-mode dropout is random, so
 * it has no Jacobian to compute; it is refused unless p = 0.
 */
import { UnsupportedError } from '../args';
import type { Rule, RuleTable } from '../rule';

function dropoutRule(name: string, inPlace: boolean): Rule {
  const rule: Rule = {
    params: ['input', 'p', 'train'],
    forward(a) {
      const x = a.tensor('input');
      if (a.bool('train') && a.number('p') !== 0)
        throw new UnsupportedError(
          `${a.op}: ${name} in training mode is random; put the model in eval mode (model.eval()) before saving`,
        );
      return x;
    },
    jvp(a, _out, t) {
      return t(a.tensor('input'));
    },
  };
  return inPlace ? { ...rule, inPlace: true } : rule;
}

const NAMES = ['dropout', 'feature_dropout', 'alpha_dropout', 'feature_alpha_dropout'];

export const dropoutRules = Object.fromEntries(
  NAMES.flatMap((n) => [
    [`aten::${n}`, dropoutRule(n, false)],
    [`aten::${n}_`, dropoutRule(n, true)],
  ]),
) satisfies RuleTable;
