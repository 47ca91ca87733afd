import { CancelledError, LoadError, ShapeError } from '../engine/errors';
import { parseArgs, UsageError } from './args';

const USAGE = `jacscope — exact Jacobians of PyTorch models with respect to their scalar inputs

usage:
  jacscope info     --model M [--config C] [--backend auto|cpu|webgpu] [--json]
  jacscope forward  --model M [--config C] (--x X --p P | --data D.npz) --out Y.npy|Y.csv|Y.h5|Y.mat [--dtype float32|float64] [--backend auto|cpu|webgpu] [--threads N]
  jacscope jacobian --model M [--config C] (--x X --p P | --data D.npz) --out J.npy|J.csv|J.h5|J.mat [--dtype float32|float64] [--backend auto|cpu|webgpu] [--threads N]
  jacscope sobol    --model M [--x X] [--p P] [--sample b] [--dist D.json] [--n N] [--seed S] [--sampling sobol|random] [--dgsm on|off] [--threads k] [--shard i/n] --out S.json|S.csv
  jacscope sensitivity --model M (--data D.npz | --x X.npy --p P.npy) [--shard i/n] [--chunk N] [--ymax Y.json] [--pass ymax] [--threads k] --out S.json|S.csv
  jacscope merge    PART.json... --out S.json|S.csv

M is a torch.save checkpoint (.pt/.pth/.ckpt) or .safetensors. The config (JSON of the
hyperparameters) is optional: a config.json beside M, or safetensors metadata, is used when present,
and everything but the activation is inferred from the weights.
X and P are .npy, .csv or single-array .npz files; D.npz holds both (x/p or func_inp/scalar_inp).
--backend auto (the default) uses a WebGPU adapter when one exists (not a software one), else the CPU.
--threads N: CPU threads (default: every core). Helper threads start for batches of a third of a
second's work or more; results are the same bit for bit for any N.
J has shape [B,T,O,P]: J[b,t,o,k] = d y[b,t,o] / d p[b,k]. CSV output is long format (b,t,o,k,value);
.h5 holds one dataset (J or y) with the axis names as its 'axes' attribute; .mat one variable
(J or y) in MATLAB's order: v5 (double) up to 2 GB, v7.3 (HDF5) beyond.

A TorchScript archive (torch.jit.trace or torch.jit.script, then .save) runs from its own code; its
inputs follow its forward signature: --x FILE feeds the first tensor argument, --p FILE the
differentiated one, --input NAME=FILE any (repeatable; .npy, or FILE.npz:NAME). --wrt NAME chooses
p (default: the last tensor argument), --output I the element of a tuple output. J has y's shape
followed by P ([B,T,O,P] or [B,O,P]). info with inputs also shows the shapes one sample runs with.

sobol: Sobol' first-order and total indices (S1, ST, 95% half-widths, the DGSM bound from exact J)
of each output element with respect to each p-feature. x (every input but p) is fixed at sample b
(default 0); p is drawn from D.json, one {"dist":"uniform","low":a,"high":b} or
{"dist":"normal","mean":m,"std":s} per feature (default: uniform over each feature's range in P,
or p ± 10% for one sample). N base rows (default 1024) cost N·(P+2) forward passes.
sensitivity: nu = mean J², the normalised index nu·Var(p)/Var(y) and the elasticity |J·p/y| over a
dataset streamed from .npy/.npz files in chunks (memory does not grow with the number of samples).
TorchScript models take --input NAME=FILE, --wrt and --output here too, as for jacobian.
--shard i/n computes the i-th of n parts and writes a partial JSON; merge combines the parts
(Sobol' or sensitivity, told apart by their format) into exactly the single run's result.
See docs/scaling.md for sharded runs on Kubernetes or Slurm.`;

/** Run the CLI; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function main(argv: string[], io = { out: console.log, err: console.error }): Promise<number> {
  try {
    // merge takes its inputs as plain arguments: set them apart from the options.
    const parts: string[] = [];
    if (argv[0] === 'merge') argv = [argv[0], ...splitParts(argv.slice(1), parts)];
    const args = parseArgs(argv);
    if (args.command === undefined || args.command === 'help' || args.flags.has('help')) {
      io.out(USAGE);
      return args.command === undefined ? 1 : 0;
    }
    // Each command loads its own code: `info` starts without the model and the backends.
    switch (args.command) {
      case 'info':
        await (await import('./commands/info')).info(args, io.out);
        return 0;
      case 'forward':
        await (await import('./commands/compute')).forward(args, io.out, io.err);
        return 0;
      case 'jacobian':
        await (await import('./commands/compute')).jacobian(args, io.out, io.err);
        return 0;
      case 'sobol':
        await (await import('./commands/sobol')).sobol(args, io.out, io.err);
        return 0;
      case 'sensitivity':
        await (await import('./commands/sensitivity')).sensitivity(args, io.out, io.err);
        return 0;
      case 'merge':
        await (await import('./commands/merge')).merge(args, parts, io.out);
        return 0;
      default:
        throw new UsageError(
          `unknown command '${args.command}' (try: info, forward, jacobian, sobol, sensitivity, merge)`,
        );
    }
  } catch (e) {
    io.err(`jacscope: ${errorLine(e)}`);
    if (process.env.JACSCOPE_DEBUG && e instanceof Error) io.err(e.stack ?? '');
    return 1;
  }
}

/** Plain arguments (the files to merge) into `parts`; the options are returned. */
function splitParts(rest: string[], parts: string[]): string[] {
  const options: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (!a.startsWith('--')) parts.push(a);
    else {
      options.push(a);
      if (!a.includes('=') && a !== '--help' && i + 1 < rest.length) options.push(rest[++i]);
    }
  }
  return options;
}

function errorLine(e: unknown): string {
  if (e instanceof UsageError)
    return `${e.message}\n${USAGE.split('\n').slice(2, 6).join('\n')}`.split('\n')[0];
  if (e instanceof LoadError || e instanceof ShapeError || e instanceof CancelledError) return e.message;
  if (e instanceof RangeError && /allocation|Array buffer/i.test(e.message))
    return `out of memory: ${e.message}`;
  if (e instanceof Error) return e.message.split('\n')[0];
  return String(e);
}
