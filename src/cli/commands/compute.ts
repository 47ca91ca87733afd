import { allowOnly, required, type ParsedArgs } from '../args';
import { cliBackend, computedOn, describeSelected, graphCpu, parseBackend, parseThreads } from '../backend';
import { loadAnyModel, loadInputs, type Inputs, type LoadedModel } from '../load';
import { OUTPUT_NAME, parseDType, writeTensor, type OutDType } from '../output';

const COMMON = ['model', 'config', 'x', 'p', 'data', 'out', 'dtype', 'backend', 'threads'];
/** Options of models that run from their own code (TorchScript). */
const GRAPH = ['model', 'x', 'p', 'input', 'wrt', 'output', 'out', 'dtype', 'backend', 'threads'];

function outputOptions(args: ParsedArgs) {
  const dtype = parseDType(args.options.get('dtype'));
  const outPath = required(args, 'out');
  if (!OUTPUT_NAME.test(outPath))
    throw new Error(`${outPath}: the output name must end in .npy, .csv, .h5 or .mat`);
  return { dtype, outPath };
}

async function prepare(args: ParsedArgs, log: (line: string) => void, m: LoadedModel) {
  allowOnly(args, COMMON);
  const { dtype, outPath } = outputOptions(args);
  const want = parseBackend(args.options.get('backend'));
  const threads = parseThreads(args.options.get('threads'));
  const o = args.options;
  const inputs = await loadInputs({ x: o.get('x'), p: o.get('p'), data: o.get('data') }, m.config);
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

/**
 * forward/jacobian of a TorchScript model: y as the model returns it and J = y's shape followed by
 * P. On WebGPU when one is chosen or found (`auto`: a hardware adapter) and the model lowers to it;
 * on the CPU's graph engine otherwise.
 */
async function graphCompute(
  args: ParsedArgs,
  m: Awaited<ReturnType<typeof loadAnyModel>>,
  what: 'forward' | 'jacobian',
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  if (m.kind !== 'torchscript') throw new Error('internal: not a graph model');
  allowOnly(args, GRAPH);
  const { dtype, outPath } = outputOptions(args);
  const want = parseBackend(args.options.get('backend'));
  const threads = parseThreads(args.options.get('threads'));
  const g = await import('../graph-model');
  const model = g.graphModelOf(m);
  const wrt = model.wrtArg(args.options.get('wrt'));
  const inputs = g.graphInputs(model, args, wrt);
  const output = g.parseOutputIndex(args.options.get('output'));
  const onProgress = progress(what === 'forward' ? 'forward' : 'Jacobian');
  const gpu = want === 'cpu' ? null : await import('../graph-gpu');
  const ctx = gpu ? await gpu.graphGpu(want) : null;
  const t0 = performance.now();
  let r: { y: Out; yShape: number[]; J: Out | null; jShape: number[] | null } | null = null;
  let where = 'cpu';
  if (ctx && gpu) {
    try {
      r = await gpu.runGraphOnGpu(ctx, model, { inputs, wrt, output, what, dtype, onProgress }, note);
      if (r) where = 'webgpu';
    } finally {
      ctx.destroy();
    }
  }
  if (!r) {
    const opts = { wrt, output, onProgress };
    const cpu = await graphCpu(model, m, threads);
    try {
      r = what === 'forward' ? await cpu.forward(inputs, opts) : await cpu.evaluate(inputs, opts);
      where = computedOn({ kind: 'cpu', threadsUsed: cpu.threadsUsed() });
    } finally {
      cpu.dispose();
    }
  }
  const ms = performance.now() - t0;
  const [data, shape] = what === 'forward' ? [r.y, r.yShape] : [r.J!, r.jShape!];
  const out = dtype === 'float32' && !(data instanceof Float32Array) ? Float32Array.from(data) : data;
  const name = what === 'forward' ? 'y' : 'J';
  writeTensor(outPath, shape, out, g.axisNames(r.yShape.length, what === 'jacobian'), dtype, name);
  log(
    `${name} [${shape.join(',')}] → ${outPath} (${dtype}; ${what === 'forward' ? 'forward' : 'Jacobian'} ${ms.toFixed(1)} ms on ${where}, p = ${wrt})`,
  );
}

/** `jacscope forward`: y [B,T,O]. */
export async function forward(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const loaded = await loadAnyModel(required(args, 'model'), args.options.get('config'));
  if (loaded.kind === 'torchscript') return graphCompute(args, loaded, 'forward', log, note);
  const { dtype, outPath, m, inputs, selected, backend } = await prepare(args, note, loaded);
  const { B, T } = inputs;
  const O = m.config.out_dim_func;
  const t0 = performance.now();
  const y = await onFinite(inputs, T * O, dtype, (x, p, n, out) =>
    backend.forward(x, p, n, T, { out, onProgress: progress('forward') }),
  );
  const ms = performance.now() - t0;
  writeTensor(outPath, [B, T, O], y, ['b', 't', 'o'], dtype, 'y');
  log(`y [${B},${T},${O}] → ${outPath} (${dtype}; forward ${ms.toFixed(1)} ms on ${computedOn(backend)})`);
  if (selected.fallbackReason) note(describeSelected(selected));
  backend.dispose();
}

/** `jacscope jacobian`: J [B,T,O,P], J[b,t,o,k] = ∂y[b,t,o]/∂p[b,k]. */
export async function jacobian(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const loaded = await loadAnyModel(required(args, 'model'), args.options.get('config'));
  if (loaded.kind === 'torchscript') return graphCompute(args, loaded, 'jacobian', log, note);
  const { dtype, outPath, m, inputs, selected, backend } = await prepare(args, note, loaded);
  const { B, T } = inputs;
  const { out_dim_func: O, inp_dim_scalar: P } = m.config;
  const t0 = performance.now();
  const J = await onFinite(inputs, T * O * P, dtype, (x, p, n, out) =>
    backend.jacobian(x, p, n, T, { out, onProgress: progress('Jacobian') }),
  );
  const ms = performance.now() - t0;
  writeTensor(outPath, [B, T, O, P], J, ['b', 't', 'o', 'k'], dtype, 'J');
  log(
    `J [${B},${T},${O},${P}] → ${outPath} (${dtype}; Jacobian ${ms.toFixed(1)} ms on ${computedOn(backend)})`,
  );
  if (selected.fallbackReason) note(describeSelected(selected));
  backend.dispose();
}
