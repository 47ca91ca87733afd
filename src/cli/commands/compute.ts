import { Fno1dScalar } from '../../engine/models/fno1d-scalar';
import { allowOnly, required, type ParsedArgs } from '../args';
import { loadInputs, loadModel } from '../load';
import { parseDType, writeTensor } from '../output';

const COMMON = ['model', 'config', 'x', 'p', 'out', 'dtype'];

function prepare(args: ParsedArgs) {
  allowOnly(args, COMMON);
  const dtype = parseDType(args.options.get('dtype'));
  const outPath = required(args, 'out');
  if (!/\.(npy|csv)$/i.test(outPath)) throw new Error(`${outPath}: the output name must end in .npy or .csv`);
  const m = loadModel(required(args, 'model'), args.options.get('config'));
  const inputs = loadInputs(required(args, 'x'), required(args, 'p'), m.config);
  return { dtype, outPath, m, inputs, model: new Fno1dScalar(m.config, m.tensors) };
}

/** `jacscope forward`: y [B,T,O]. */
export function forward(args: ParsedArgs, log: (line: string) => void): void {
  const { dtype, outPath, m, inputs, model } = prepare(args);
  const { x, p, B, T } = inputs;
  const t0 = performance.now();
  const y = model.forward(x.data, p.data, B, T);
  const ms = performance.now() - t0;
  writeTensor(outPath, [B, T, m.config.out_dim_func], y, ['b', 't', 'o'], dtype);
  log(`y [${B},${T},${m.config.out_dim_func}] → ${outPath} (${dtype}; forward ${ms.toFixed(1)} ms)`);
}

/** `jacscope jacobian`: J [B,T,O,P], J[b,t,o,k] = ∂y[b,t,o]/∂p[b,k]. */
export function jacobian(args: ParsedArgs, log: (line: string) => void): void {
  const { dtype, outPath, m, inputs, model } = prepare(args);
  const { x, p, B, T } = inputs;
  const t0 = performance.now();
  const J = model.jacobian(x.data, p.data, B, T);
  const ms = performance.now() - t0;
  const { out_dim_func: O, inp_dim_scalar: P } = m.config;
  writeTensor(outPath, [B, T, O, P], J, ['b', 't', 'o', 'k'], dtype);
  log(`J [${B},${T},${O},${P}] → ${outPath} (${dtype}; Jacobian ${ms.toFixed(1)} ms)`);
}
