import { CONFIG_KEYS } from '../../engine/models/config';
import { Fno1dScalar } from '../../engine/models/fno1d-scalar';
import { cliBackend, describeSelected, parseBackend } from '../backend';
import { allowOnly, required, type ParsedArgs } from '../args';
import { loadModel } from '../load';

const LABELS: Record<string, string> = {
  inp_dim_func: 'x features (Xf)',
  inp_dim_scalar: 'scalar parameters (P)',
  out_dim_func: 'outputs (O)',
  modes: 'Fourier modes',
  width: 'width',
  hidden: 'hidden',
  layers: 'Fourier layers',
  activation: 'activation',
};

/** `jacscope info`: what the file holds, every hyperparameter and where it came from. */
export async function info(args: ParsedArgs, out: (line: string) => void): Promise<void> {
  allowOnly(args, ['model', 'config', 'backend']);
  const want = parseBackend(args.options.get('backend'));
  const m = loadModel(required(args, 'model'), args.options.get('config'));
  const model = new Fno1dScalar(m.config, m.tensors);
  const { real, complex } = model.parameterCount();
  const selected = await cliBackend(want, m);
  const backend = describeSelected(selected);
  selected.backend.dispose();
  if (args.flags.has('json')) {
    out(
      JSON.stringify(
        {
          file: m.file,
          format: m.format,
          config: m.config,
          sources: m.sources,
          parameters: { real, complex },
          notes: m.notes,
        },
        null,
        2,
      ),
    );
    return;
  }
  out(`${m.file}: ${m.format === 'torch' ? 'torch.save checkpoint' : 'safetensors'}`);
  out(`architecture: fno1d-scalar`);
  for (const k of CONFIG_KEYS) {
    const src = m.sources[k];
    const from =
      src === 'given' ? `given in ${m.configFile}` : src === 'metadata' ? 'from the file metadata' : src;
    out(`  ${LABELS[k].padEnd(24)} ${String(m.config[k]).padEnd(6)} (${from})`);
  }
  out(
    `parameters: ${(real + 2 * complex).toLocaleString('en-US')} real numbers = ${real.toLocaleString('en-US')} real + ${complex.toLocaleString('en-US')} complex`,
  );
  out(backend);
  for (const n of m.notes) out(`note: ${n}`);
}
