import { allowOnly, required, type ParsedArgs } from '../args';
import { cliBackend, computedOn, describeSelected, graphCpu, parseBackend, parseThreads } from '../backend';
import { samplesOf } from '../../engine/models/graph-model';
import { sizeOf } from '../../engine/tensor';
import { inputRows, type InputRows } from '../input-rows';
import { loadAnyModel, type LoadedModel } from '../load';
import { blockSamples, blockwise } from '../blockwise';
import { OUTPUT_NAME, parseDType, type OutDType } from '../output';
import { openTensorSink, type Values } from '../tensor-sink';

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
  const inputs = await inputRows(args, m.config, log);
  const selected = await cliBackend(want, m, threads);
  return { dtype, outPath, m, inputs, selected, backend: selected.backend };
}

/**
 * Samples [b0, b0+n) through `compute`, on the finite samples only: the others come out as NaN in a
 * `perSample`-values-per-sample result, so one bad sample does not spoil the batch. The result has
 * the type of the file to write (a float32 J is computed straight into float32: half the memory,
 * and no widening of what WebGPU computes in float32 anyway); `reuse` is filled when it fits.
 */
async function onFinite(
  inputs: InputRows,
  b0: number,
  n: number,
  perSample: number,
  dtype: OutDType,
  reuse: Values | undefined,
  compute: (x: Float64Array, p: Float64Array, n: number, out: Values) => Promise<Values>,
): Promise<Values> {
  const { x, p, finite } = inputs.rows(b0, n);
  const make = (k: number): Values =>
    reuse && reuse.length === k ? reuse : dtype === 'float32' ? new Float32Array(k) : new Float64Array(k);
  if (finite.length === n) return compute(x, p, n, make(n * perSample));
  const xs = x.length / n;
  const ps = p.length / n;
  const sx = new Float64Array(finite.length * xs);
  const sp = new Float64Array(finite.length * ps);
  finite.forEach((b, i) => {
    sx.set(x.subarray(b * xs, (b + 1) * xs), i * xs);
    sp.set(p.subarray(b * ps, (b + 1) * ps), i * ps);
  });
  const k = finite.length;
  const Out = dtype === 'float32' ? Float32Array : Float64Array;
  const part = k > 0 ? await compute(sx, sp, k, new Out(k * perSample)) : new Out(0);
  const out = make(n * perSample).fill(NaN);
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
 * on the CPU's graph engine otherwise (every thread unless --threads says fewer). Block by block
 * (see blockwise.ts): the output's size per sample is known after the first block.
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
  const [B, P] = inputs.get(wrt)!.shape;
  const gpu = want === 'cpu' ? null : await import('../graph-gpu');
  const ctx = gpu ? await gpu.graphGpu(want) : null;
  const shapes = new Map([...inputs].map(([k, v]) => [k, v.shape.slice(1)]));
  const onGpu = ctx && gpu ? gpu.graphGpuRunner(ctx, model, { shapes, wrt, output, what }, note) : null;
  const cpu = onGpu ? null : await graphCpu(model, m, threads);
  const name = what === 'forward' ? 'y' : 'J';
  const t0 = performance.now();
  let where = onGpu ? 'webgpu' : 'cpu';
  try {
    const { rowShape } = await blockwise({
      B,
      // The output's size per sample is known after a first block of 8 samples.
      block: (rowShape) =>
        rowShape ? blockSamples(B, sizeOf(rowShape), dtype, onGpu ? 'webgpu' : 'cpu') : Math.min(B, 8),
      async compute(b0, n, _reuse, onProgress) {
        const part = samplesOf(inputs, b0, n);
        const r = onGpu
          ? await onGpu.run(part, dtype, onProgress)
          : what === 'forward'
            ? await cpu!.forward(part, { wrt, output, onProgress, samplesAfter: B - b0 - n })
            : await cpu!.evaluate(part, { wrt, output, onProgress, samplesAfter: B - b0 - n });
        if (cpu) where = computedOn({ kind: 'cpu', threadsUsed: cpu.threadsUsed() });
        const rowShape = r.yShape.slice(1);
        return what === 'forward' ? { values: r.y, rowShape } : { values: r.J!, rowShape: [...rowShape, P] };
      },
      open: (rowShape) =>
        openTensorSink(
          outPath,
          [B, ...rowShape],
          g.axisNames(rowShape.length + 1 - (what === 'jacobian' ? 1 : 0), what === 'jacobian'),
          dtype,
          name,
        ),
      onProgress: progress(what === 'forward' ? 'forward' : 'Jacobian'),
    });
    const ms = performance.now() - t0;
    log(
      `${name} [${[B, ...rowShape].join(',')}] → ${outPath} (${dtype}; ${what === 'forward' ? 'forward' : 'Jacobian'} ${ms.toFixed(1)} ms on ${where}, p = ${wrt})`,
    );
  } finally {
    onGpu?.dispose();
    ctx?.destroy();
    cpu?.dispose();
  }
}

/** forward or jacobian of an fno1d-scalar model, block by block (see blockwise.ts). */
async function fnoCompute(
  args: ParsedArgs,
  loaded: LoadedModel,
  what: 'forward' | 'jacobian',
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const { dtype, outPath, m, inputs, selected, backend } = await prepare(args, note, loaded);
  const { B, T } = inputs;
  const { out_dim_func: O, inp_dim_scalar: P } = m.config;
  const rowShape = what === 'forward' ? [T, O] : [T, O, P];
  const perSample = sizeOf(rowShape);
  const t0 = performance.now();
  try {
    await blockwise({
      B,
      block: () => blockSamples(B, perSample, dtype, backend.kind === 'webgpu' ? 'webgpu' : 'cpu'),
      rowShape,
      async compute(b0, n, reuse, onProgress) {
        const values = await onFinite(inputs, b0, n, perSample, dtype, reuse, (x, p, k, out) => {
          const opts = { out, onProgress, samplesAfter: B - b0 - n };
          return what === 'forward' ? backend.forward(x, p, k, T, opts) : backend.jacobian(x, p, k, T, opts);
        });
        return { values, rowShape };
      },
      open: () =>
        openTensorSink(
          outPath,
          [B, ...rowShape],
          what === 'forward' ? ['b', 't', 'o'] : ['b', 't', 'o', 'k'],
          dtype,
          what === 'forward' ? 'y' : 'J',
        ),
      onProgress: progress(what === 'forward' ? 'forward' : 'Jacobian'),
    });
  } finally {
    backend.dispose();
    inputs.close();
  }
  for (const n of inputs.notesAfter()) note(`note: ${n}`);
  const ms = performance.now() - t0;
  log(
    `${what === 'forward' ? 'y' : 'J'} [${[B, ...rowShape].join(',')}] → ${outPath} (${dtype}; ${what === 'forward' ? 'forward' : 'Jacobian'} ${ms.toFixed(1)} ms on ${computedOn(backend)})`,
  );
  if (selected.fallbackReason) note(describeSelected(selected));
}

/** `jacscope forward`: y [B,T,O]. */
export async function forward(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const loaded = await loadAnyModel(required(args, 'model'), args.options.get('config'));
  if (loaded.kind === 'torchscript') return graphCompute(args, loaded, 'forward', log, note);
  return fnoCompute(args, loaded, 'forward', log, note);
}

/** `jacscope jacobian`: J [B,T,O,P], J[b,t,o,k] = ∂y[b,t,o]/∂p[b,k]. */
export async function jacobian(
  args: ParsedArgs,
  log: (line: string) => void,
  note: (line: string) => void,
): Promise<void> {
  const loaded = await loadAnyModel(required(args, 'model'), args.options.get('config'));
  if (loaded.kind === 'torchscript') return graphCompute(args, loaded, 'jacobian', log, note);
  return fnoCompute(args, loaded, 'jacobian', log, note);
}
