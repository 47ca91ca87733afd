import { maxModes } from '../dft/truncated-dft';
import { LoadError } from '../errors';
import { ACTIVATION_NAMES, type ActivationName } from '../ops/activations';

/** Hyperparameters of the `fno1d-scalar` family (see docs/design.md). */
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

/** A config.json (or --config file): the fno1d-scalar keys, validated. */
export function parseConfigJson(text: string, file: string): Partial<FnoConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new LoadError(file, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new LoadError(file, 'must hold a JSON object of hyperparameters');
  }
  try {
    return parseConfigValues(raw as Record<string, unknown>, 'config');
  } catch (e) {
    throw new LoadError(file, (e as Error).message);
  }
}

/** The hyperparameters in a model file's own metadata (safetensors `__metadata__`), validated. */
export function parseMetadataConfig(metadata: Record<string, string>, file: string): Partial<FnoConfig> {
  if (!Object.keys(metadata).some((k) => k !== 'format')) return {};
  try {
    return parseConfigValues(metadata, 'its __metadata__');
  } catch (e) {
    throw new LoadError(file, (e as Error).message);
  }
}

/**
 * Why x with T time steps cannot go through a model keeping `modes` Fourier modes (the rfft of T
 * steps has T//2+1 bins), or null when it can. The one place this check and its message are written:
 * the models, the backends, the CLI and the app all call it. `model` names the model in the message.
 */
export function modesProblem(modes: number, T: number, model = 'the model'): string | null {
  if (T >= 2 && modes <= maxModes(T)) return null;
  const need = Math.max(2, 2 * modes - 2);
  return T < 2
    ? `x has T = ${T} time steps; ${model} needs at least ${need}`
    : `x has T = ${T} time steps, but ${model} keeps ${modes} modes, more than T//2+1 = ${maxModes(T)}: it needs T ≥ ${need}`;
}
