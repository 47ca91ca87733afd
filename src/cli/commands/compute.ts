import { allowOnly, required, type ParsedArgs } from '../args';
import { cliBackend, describeSelected, parseBackend, parseThreads } from '../backend';
import { loadInputs, loadModel, type Inputs } from '../load';
import { parseDType, writeTensor, type OutDType } from '../output';

const COMMON = ['model', 'config', 'x', 'p', 'data', 'out', 'dtype', 'backend', 'threads'];

async function prepare(args: ParsedArgs, log: (line: string) => void) {
  allowOnly(args, COMMON);
  const dtype = parseDType(args.options.get('dtype'));
  const want = parseBackend(args.options.get('backend'));
  const threads = parseThreads(args.options.get('threads'));
  const outPath = required(args, 'out');
  if (!/\.(npy|csv)$/i.test(outPath)) throw new Error(`${outPath}: the output name must end in .npy or .csv`);
  const m = loadModel(required(args, 'model'), args.options.get('config'));
  const o = args.options;
  const inputs = loadInputs({ x: o.get('x'), p: o.get('p'), data: o.get('data') }, m.config);
  for (const n of inputs.notes) log(`note: ${n}`);
  const selected = await cliBackend(want, m, threads);
  return { dtype, outPath, m, inputs, selected, backend: selected.backend };
}

type Out = Float64Array | Float32Array;

/**
 * Run `compute` on the finite samples only and scatter the results into a NaN-filled output of
 * `perSample` values per sample, so one bad sample does not spoil the batch. The output has the
 * type of the file to write: a float32 result is computed straight into float32 (half the memory
 * of a large J, and no widening of what WebGPU computes in float32 anyway).
 */
async function onFinite(
  inputs: Inputs,
  perSample: number,
  dtype: OutDType,
  compute: (x: Float64Array, p: Float64Array, B: number, out: Out) => Promise<Out>,
): Promise<Out> {
  const { x, p, B, finite } = inputs;
  const make = (n: number): Out => (dtype === 'float32' ? new Float32Array(n) : new Float64Array(n));
  if (finite.length === B) return await compute(x.data, p.data, B, make(B * perSample));
  const xs = x.data.length / B;
  const ps = p.data.length / B;
  const sx = new Float64Array(finite.length * xs);
  const sp = new Float64Array(finite.length * ps);
  finite.forEach((b, i) => {
    sx.set(x.data.subarray(b * xs, (b + 1) * xs), i * xs);
    sp.set(p.data.subarray(b * ps, (b + 1) * ps), i * ps);
  });
  const n = finite.length;
  const part = n > 0 ? await compute(sx, sp, n, make(n * perSample)) : make(0);
  const out = make(B * perSample).fill(NaN);
  finite.forEach((b, i) => out.set(part.subarray(i * perSample, (i + 1) * perSample), b * perSample));
  return out;
}

/**
 * A progress line on stderr for long runs, when a person is watching (a terminal), redrawn in place
 * at most ten times a second and cleared at the end.
 */
function progress(what: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const start = performance.now();
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && (now - start < 500 || now - last < 100)) return;
    last = now;
    const line = done < total ? `${what}: ${done}/${total} samples` : '';
    process.stderr.write(`\r${line.padEnd(40)}\r${line}`);
    if (done === total) process.stderr.write('\r'.padEnd(41) + '\r');
  };
}

/** `jacscope forward`: y [B,T,O]. */
export async function forward(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const { dtype, outPath, m, inputs, selected, backend } = await prepare(args, note);
  const { B, T } = inputs;
  const O = m.config.out_dim_func;
  const t0 = performance.now();
  const y = await onFinite(inputs, T * O, dtype, (x, p, n, out) =>
    backend.forward(x, p, n, T, { out, onProgress: progress('forward') }),
  );
  const ms = performance.now() - t0;
  writeTensor(outPath, [B, T, O], y, ['b', 't', 'o'], dtype);
  log(`y [${B},${T},${O}] → ${outPath} (${dtype}; forward ${ms.toFixed(1)} ms on ${selected.backend.kind})`);
  backend.dispose();
}

/** `jacscope jacobian`: J [B,T,O,P], J[b,t,o,k] = ∂y[b,t,o]/∂p[b,k]. */
export async function jacobian(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const { dtype, outPath, m, inputs, selected, backend } = await prepare(args, note);
  const { B, T } = inputs;
  const { out_dim_func: O, inp_dim_scalar: P } = m.config;
  const t0 = performance.now();
  const J = await onFinite(inputs, T * O * P, dtype, (x, p, n, out) =>
    backend.jacobian(x, p, n, T, { out, onProgress: progress('Jacobian') }),
  );
  const ms = performance.now() - t0;
  writeTensor(outPath, [B, T, O, P], J, ['b', 't', 'o', 'k'], dtype);
  log(
    `J [${B},${T},${O},${P}] → ${outPath} (${dtype}; Jacobian ${ms.toFixed(1)} ms on ${selected.backend.kind})`,
  );
  if (selected.fallbackReason) note(describeSelected(selected));
  backend.dispose();
}
