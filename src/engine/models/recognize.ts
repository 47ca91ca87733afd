import { LoadError } from '../errors';
import { shapeString, sameShape, type HostTensor } from '../tensor';
import type { ModelFile } from '../io/model-file';
import { CONFIG_KEYS, parseMetadataConfig, type ConfigKey, type FnoConfig } from './config';
import { expectedTensors } from './fno1d-layout';

export type ConfigSource = 'given' | 'metadata' | 'inferred' | 'assumed';

export interface RecognizedModel {
  config: FnoConfig;
  /** Where each hyperparameter came from, for `jacscope info` and the app's model panel. */
  sources: Record<ConfigKey, ConfigSource>;
  /** The tensors the model uses, complex weights as complex whatever layout the file had. */
  tensors: Map<string, HostTensor>;
  notes: string[];
}

const PREFIXES = ['module.', 'model.'];

/** DataParallel and Lightning-style wrappers prefix every key; strip a prefix all keys share. */
function stripCommonPrefix(tensors: Map<string, HostTensor>, notes: string[]): Map<string, HostTensor> {
  let current = tensors;
  for (let round = 0; round < 2; round++) {
    const names = [...current.keys()];
    const prefix = PREFIXES.find((p) => names.length > 0 && names.every((n) => n.startsWith(p)));
    if (!prefix) break;
    notes.push(`stripped the '${prefix}' prefix from every tensor name`);
    current = new Map(names.map((n) => [n.slice(prefix.length), current.get(n)!]));
  }
  return current;
}

/** The original FNO code stores complex weights as real [..., 2] (re, im); make them complex. */
function asComplex(t: HostTensor): HostTensor | null {
  if (t.imag) return t;
  if (t.shape.length < 1 || t.shape[t.shape.length - 1] !== 2) return null;
  const n = t.data.length / 2;
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    re[i] = t.data[2 * i];
    im[i] = t.data[2 * i + 1];
  }
  return {
    dtype: t.dtype === 'float64' ? 'complex128' : 'complex64',
    shape: t.shape.slice(0, -1),
    data: re,
    imag: im,
  };
}

function countLayers(tensors: Map<string, HostTensor>): number {
  let L = 0;
  while (tensors.has(`spect${L + 1}.weights1`)) L++;
  return L;
}

/** Hyperparameters read off names and shapes; absent where the tensor that tells is missing. */
function inferConfig(t: Map<string, HostTensor>): Partial<FnoConfig> {
  const out: Partial<FnoConfig> = {};
  const shape = (name: string) => t.get(name)?.shape;
  const lp = shape('linear_p.weight');
  if (lp?.length === 2) [out.width, out.inp_dim_func] = lp;
  const ls = shape('linear_scalar.weight');
  if (ls?.length === 2) out.inp_dim_scalar = ls[1];
  const layers = countLayers(t);
  if (layers > 0) out.layers = layers;
  const s1 = t.get('spect1.weights1');
  if (s1) {
    const dims = s1.imag ? s1.shape : s1.shape.slice(0, -1);
    if (dims.length === 3) out.modes = dims[2];
  }
  const q = shape('linear_q.weight');
  if (q?.length === 2) out.hidden = q[0];
  const o = shape('output_layer.weight');
  if (o?.length === 2) out.out_dim_func = o[0];
  return out;
}

/**
 * Recognise an fno1d-scalar model: infer every hyperparameter but the activation from the tensors,
 * let the file's metadata and then explicitly given values override, and check that every tensor
 * fits. A model that does not fit gets one message listing missing, extra and mis-shaped tensors.
 */
export function recognizeFno(file: ModelFile, explicit: Partial<FnoConfig> = {}): RecognizedModel {
  const notes = [...file.notes];
  const tensors = stripCommonPrefix(file.tensors, notes);
  const inferred = inferConfig(tensors);
  const meta = file.metadata ? parseMetadataConfig(file.metadata, file.file) : {};
  const sources = {} as Record<ConfigKey, ConfigSource>;
  const merged: Partial<FnoConfig> = {};
  for (const key of CONFIG_KEYS) {
    const pick = (v: unknown, src: ConfigSource) => {
      (merged as Record<string, unknown>)[key] = v;
      sources[key] = src;
    };
    if (explicit[key] !== undefined) pick(explicit[key], 'given');
    else if (meta[key] !== undefined) pick(meta[key], 'metadata');
    else if (inferred[key] !== undefined) pick(inferred[key], 'inferred');
    else if (key === 'activation') pick('tanh', 'assumed');
  }
  const missingKeys = CONFIG_KEYS.filter((k) => merged[k] === undefined);
  if (missingKeys.length > 0) {
    throw new LoadError(
      file.file,
      `does not look like an fno1d-scalar model: cannot tell ${missingKeys.join(', ')} ` +
        `(expected tensors like linear_p.weight, linear_scalar.weight, spect1.weights1, lin0.weight, linear_q.weight, output_layer.weight; found ${describeNames(tensors)})`,
    );
  }
  const config = { architecture: 'fno1d-scalar', ...merged } as FnoConfig;

  const used = new Map<string, HostTensor>();
  const missing: string[] = [];
  const misshaped: string[] = [];
  for (const e of expectedTensors(config)) {
    const t = tensors.get(e.name);
    if (!t) {
      missing.push(`${e.name} ${shapeString(e.shape)}`);
      continue;
    }
    const v = e.complex ? asComplex(t) : t.imag ? null : t;
    if (!v || !sameShape(v.shape, e.shape)) {
      const kind = t.imag ? ' complex' : '';
      const want = e.complex
        ? `complex ${shapeString(e.shape)} (or real ${shapeString([...e.shape, 2])})`
        : shapeString(e.shape);
      misshaped.push(`${e.name} is${kind} ${shapeString(t.shape)}, expected ${want}`);
      continue;
    }
    used.set(e.name, v);
  }
  const extra = [...tensors.keys()].filter((n) => !expectedTensors(config).some((e) => e.name === n));
  if (missing.length || misshaped.length || extra.length) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing: ${missing.join(', ')}`);
    if (extra.length) parts.push(`extra: ${extra.join(', ')}`);
    if (misshaped.length) parts.push(`mis-shaped: ${misshaped.join('; ')}`);
    throw new LoadError(file.file, `the tensors do not fit ${summary(config)} — ${parts.join(' | ')}`);
  }
  if (sources.activation === 'assumed') notes.push('activation not stored in the file: assumed tanh');
  return { config, sources, tensors: used, notes };
}

function summary(c: FnoConfig): string {
  return `fno1d-scalar (layers=${c.layers}, width=${c.width}, modes=${c.modes}, hidden=${c.hidden}, Xf=${c.inp_dim_func}, P=${c.inp_dim_scalar}, O=${c.out_dim_func})`;
}

function describeNames(t: Map<string, HostTensor>): string {
  const names = [...t.keys()];
  if (names.length === 0) return 'no tensors';
  return names.slice(0, 8).join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');
}
