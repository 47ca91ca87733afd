import { CONFIG_KEYS } from '../../engine/models/config';
import { checkTensors } from '../../engine/models/fno1d-layout';
import { describeChoice, parseBackend } from '../backend';
import { allowOnly, required, type ParsedArgs } from '../args';
import { loadAnyModel } from '../load';

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
  allowOnly(args, ['model', 'config', 'backend', 'wrt', 'x', 'p', 'input', 'output']);
  const want = parseBackend(args.options.get('backend'));
  const loaded = await loadAnyModel(required(args, 'model'), args.options.get('config'));
  if (loaded.kind === 'torchscript') {
    const { graphInfo } = await import('./graph-info');
    await graphInfo(loaded, args, out);
    return;
  }
  const m = loaded;
  // The counts and the shape checks the model makes, without building it (info stays fast).
  const { real, complex } = checkTensors(m.config, m.tensors);
  // Before any output: a backend that cannot be had (--backend webgpu here) is the one error line.
  const backend = await describeChoice(want, m);
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
    `parameters: ${grouped(real + 2 * complex)} real numbers = ${grouped(real)} real + ${grouped(complex)} complex`,
  );
  out(backend);
  for (const n of m.notes) out(`note: ${n}`);
}

/** 1234567 → "1,234,567" (toLocaleString would load ICU's number formats: 20 ms at start). */
function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
