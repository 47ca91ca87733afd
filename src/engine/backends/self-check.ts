/**
 * Whether a WebGPU run agrees with the CPU's on a few samples, before `auto` trusts an adapter (fno1d-scalar in
 * select.ts, graph models in the app): a loose bound that catches drivers that compile the kernels but compute
 * garbage (the tests hold the kernels to 1e-5).
 */

type Values = ArrayLike<number>;

/** Why `gpu` disagrees with `cpu` (y and J of the same samples), or undefined when it agrees. */
export function selfCheckProblem(
  gpu: { y: Values; J: Values },
  cpu: { y: Values; J: Values },
): string | undefined {
  for (const what of ['y', 'J'] as const) {
    const [g, c] = [gpu[what], cpu[what]];
    if (g.length !== c.length)
      return `the self-check failed (${what} has ${g.length} values, not ${c.length})`;
    let num = 0;
    let den = 0;
    for (let i = 0; i < c.length; i++) {
      // A sample whose inputs hold NaN or Inf has no finite answer to compare (the data's note says so).
      if (!Number.isFinite(c[i])) continue;
      // A NaN from the GPU where the CPU is finite fails: Math.max would carry it, and the test below is false.
      num = Math.max(num, Number.isFinite(g[i]) ? Math.abs(g[i] - c[i]) : NaN);
      den = Math.max(den, Math.abs(c[i]));
    }
    if (!(num <= 1e-2 * den + 1e-6))
      return `the self-check failed (${what} differs from the CPU by ${Number.isNaN(num) ? 'NaN' : (num / (den || 1)).toExponential(1)} relative)`;
  }
  return undefined;
}
