import { ACTIVATION_NAMES, type ActivationName } from '../ops/activations';

/** Hyperparameters of the `fno1d-scalar` family (see ../shared/fixtures/README.md). */
export interface FnoConfig {
  architecture: 'fno1d-scalar';
  /** Xf: features of the function input x [B,T,Xf] */
  inp_dim_func: number;
  /** P: scalar parameters p [B,P] */
  inp_dim_scalar: number;
  /** O: outputs per time step, y [B,T,O] */
  out_dim_func: number;
  modes: number;
  width: number;
  hidden: number;
  layers: number;
  activation: ActivationName;
}

export type ConfigKey = Exclude<keyof FnoConfig, 'architecture'>;
export const CONFIG_KEYS: readonly ConfigKey[] = [
  'inp_dim_func',
  'inp_dim_scalar',
  'out_dim_func',
  'modes',
  'width',
  'hidden',
  'layers',
  'activation',
];

/**
 * Read config values from JSON or safetensors metadata (where every value is a string).
 * Unknown keys are ignored; a present but malformed value is an error naming the key.
 */
export function parseConfigValues(raw: Record<string, unknown>, source: string): Partial<FnoConfig> {
  const out: Partial<FnoConfig> = {};
  if (raw.architecture !== undefined && raw.architecture !== 'fno1d-scalar') {
    throw new Error(
      `${source}: architecture "${String(raw.architecture)}" is not supported (only fno1d-scalar)`,
    );
  }
  for (const key of CONFIG_KEYS) {
    const v = raw[key];
    if (v === undefined || v === null) continue;
    if (key === 'activation') {
      const name = String(v).toLowerCase();
      if (!(ACTIVATION_NAMES as readonly string[]).includes(name)) {
        throw new Error(`${source}: activation "${String(v)}" is not one of ${ACTIVATION_NAMES.join(', ')}`);
      }
      out.activation = name as ActivationName;
      continue;
    }
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 1e7) {
      throw new Error(`${source}: "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    out[key] = n;
  }
  return out;
}

export function describeConfig(c: FnoConfig): string {
  return `fno1d-scalar: layers=${c.layers} width=${c.width} modes=${c.modes} hidden=${c.hidden} activation=${c.activation} Xf=${c.inp_dim_func} P=${c.inp_dim_scalar} O=${c.out_dim_func}`;
}
