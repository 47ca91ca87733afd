/**
 * The rule table: every op the graph engine runs, by its aten name. Each family of ops lives in
 * its own file under rules/; `Rule` demands a forward and a JVP rule for each entry.
 */
import type { RuleTable } from './rule';

export const RULES: RuleTable = {};
