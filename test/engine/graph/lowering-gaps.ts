/**
 * Ops of the rule table that cannot be lowered to a tape yet (graph/lower/), with why: a model
 * using one runs on the CPU, and WebGPU says so naming the op. Every op's test checks this list both
 * ways (lower-check.ts): an op missing here must lower, an op here must not.
 */
export const NOT_LOWERED = new Map<string, string>([]);
