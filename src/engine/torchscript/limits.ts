/**
 * Bounds that keep a hostile archive from costing unbounded time or memory. Real TorchScript models
 * stay orders of magnitude below each of them. The archive-wide byte and value budget is the shared
 * `OpenBudget` of `../io/budget.ts` (passed to `readTorchScript`); these are the limits that only the
 * TorchScript front-end has: on code size, syntax nesting and interpretation.
 */

export interface CodeLimits {
  /** Bytes of one code file. */
  maxFileBytes: number;
  /** Bytes of all code files together. */
  maxCodeBytes: number;
  /** Code files in one archive. */
  maxFiles: number;
  /** Nesting of brackets, operators and calls within one expression. */
  maxExprDepth: number;
  /** Nesting of indented blocks. */
  maxBlockDepth: number;
}

export interface RunLimits {
  /** Statements executed plus calls made (ops, functions, methods) in one run. */
  maxSteps: number;
  /** Nested TorchScript function/method calls. */
  maxCallDepth: number;
  /** Elements of one list, tuple, dict or string built by the code. */
  maxListLength: number;
}

/**
 * Real archives hold a few kB to a few hundred kB of code (the largest files are compiled
 * `torch.nn.functional` wrappers and long traced forwards); parsing runs at a few MB per second.
 */
export const CODE_LIMITS: Readonly<CodeLimits> = Object.freeze({
  maxFileBytes: 2 * 2 ** 20,
  maxCodeBytes: 8 * 2 ** 20,
  maxFiles: 10_000,
  maxExprDepth: 200,
  maxBlockDepth: 100,
});

/**
 * A real forward pass runs a few hundred to a few tens of thousands of statements (loops over layers
 * are unrolled by the compiler) and builds lists of a few dozen elements; these limits stop a
 * hostile loop within about a second.
 */
export const RUN_LIMITS: Readonly<RunLimits> = Object.freeze({
  maxSteps: 2_000_000,
  maxCallDepth: 100,
  maxListLength: 100_000,
});
