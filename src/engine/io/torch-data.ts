/**
 * Data saved with `torch.save` (.pt, .pth): a tensor, a dict / list / tuple of tensors, nested to
 * any depth, read through the same restricted unpickler and tensor decoding as model checkpoints
 * (torch-checkpoint.ts): nothing is executed, and only the tensors asked for are decoded.
 *
 * Names: a bare tensor is '' ; dict entries are their keys, nested ones joined with '.'
 * (`{'data': {'x': …}}` → `data.x`), list and tuple items their index (`[x, p]` → `0`, `1`).
 *
 * The same extensions hold models, so `classifyTorchFile` says which one a file is, and why:
 * a TorchScript archive, a pickled nn.Module, a training checkpoint (a state_dict under
 * 'state_dict', 'model_state_dict', 'model' or 'net'), or a state_dict (an OrderedDict carrying
 * PyTorch's `_metadata`, or whose names are parameter names such as `linear_p.weight`) is a model;
 * anything else holding tensors is data.
 */
import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';
import { OpenBudget } from './budget';
import { type DataSource, type VariableInfo, lazyMemorySource } from './data-source';
import { unpickle } from './pickle';
import { PyObject, isTuple, pyAttributes } from './pickle-values';
import { TORCH_GLOBALS, checkFormat, loadStorage, readByteOrder } from './torch-checkpoint';
import { Materializer, type StorageRef, TensorRef } from './torch-tensors';
import { type ZipEntry, readZip } from './zip';

export interface TorchFileKind {
  kind: 'model' | 'data';
  /** What was recognised, for messages: 'a TorchScript archive', 'a state_dict (…)', 'a dict of 2 tensors'. */
  what: string;
}

const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'net'];
/** Parameter and buffer names as nn.Module.state_dict() writes them. */
const PARAM_NAME =
  /(^|\.)(weight|bias|weights\d*|weight_[a-z]+|bias_[a-z]+|running_mean|running_var|num_batches_tracked|in_proj_weight|in_proj_bias)$/;
const MAX_DEPTH = 64;
const MAX_TENSORS = 100_000;

interface Parsed {
  value: unknown;
  torchscript: boolean;
  entries: Map<string, ZipEntry>;
  prefix: string;
  little: boolean;
  notes: string[];
}

function parse(bytes: Uint8Array, file: string, budget: OpenBudget): Parsed {
  checkFormat(bytes, file);
  const list = readZip(bytes, file, budget);
  const entries = new Map<string, ZipEntry>();
  for (const e of list) entries.set(e.name, e);
  let pkl: ZipEntry | undefined;
  for (const e of list) {
    if (!(e.name === 'data.pkl' || e.name.endsWith('/data.pkl'))) continue;
    if (!pkl || e.name.split('/').length < pkl.name.split('/').length) pkl = e;
  }
  if (!pkl) throw new LoadError(file, 'is a zip archive without data.pkl, so not a torch.save file');
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const torchscript = list.some(
    (e) => e.name === `${prefix}constants.pkl` || e.name.startsWith(`${prefix}code/`),
  );
  const notes: string[] = [];
  const little = readByteOrder(entries.get(prefix + 'byteorder'), file, notes);
  const storages = new Map<string, StorageRef>();
  const result = unpickle(pkl.read(), file, {
    label: pkl.name,
    budget,
    globals: TORCH_GLOBALS,
    persistentLoad: (pid) => loadStorage(pid, storages, file),
  });
  return { value: result.value, torchscript, entries, prefix, little, notes };
}

function isModule(v: unknown): boolean {
  if (!(v instanceof PyObject)) return false;
  const s =
    v.state instanceof Map ? v.state : isTuple(v.state) && v.state[0] instanceof Map ? v.state[0] : undefined;
  return !!s && (v.$global.startsWith('__torch__.') || s.has('_parameters') || s.has('_modules'));
}

function tensorValues(m: Map<unknown, unknown>): number {
  let n = 0;
  for (const v of m.values()) if (v instanceof TensorRef) n++;
  return n;
}

function classify(p: Parsed): TorchFileKind {
  const v = p.value;
  if (p.torchscript) return { kind: 'model', what: 'a TorchScript archive (torch.jit.save)' };
  if (isModule(v)) return { kind: 'model', what: `a pickled nn.Module (${(v as PyObject).$global})` };
  if (v instanceof TensorRef) return { kind: 'data', what: 'a tensor' };
  if (v instanceof Map) {
    for (const k of STATE_DICT_KEYS) {
      const inner = v.get(k);
      if ((inner instanceof Map && tensorValues(inner) > 0) || isModule(inner))
        return { kind: 'model', what: `a training checkpoint (model weights under '${k}')` };
    }
    const keys = [...v.keys()].filter((k): k is string => typeof k === 'string');
    const tensors = tensorValues(v);
    const meta = pyAttributes(v);
    if (tensors > 0 && meta instanceof Map && meta.has('_metadata'))
      return { kind: 'model', what: `a state_dict of ${tensors} tensors (it carries nn.Module's _metadata)` };
    const params = keys.filter((k) => PARAM_NAME.test(k) && v.get(k) instanceof TensorRef).length;
    if (params > 0 && params * 2 >= tensors)
      return {
        kind: 'model',
        what: `a state_dict of ${tensors} tensors (named like model parameters: ${keys
          .filter((k) => PARAM_NAME.test(k))
          .slice(0, 3)
          .join(', ')})`,
      };
    return { kind: 'data', what: `a dict of ${v.size} entries` };
  }
  if (Array.isArray(v))
    return { kind: 'data', what: `a ${isTuple(v) ? 'tuple' : 'list'} of ${v.length} items` };
  return { kind: 'data', what: 'a saved Python value' };
}

/**
 * Whether a torch.save / torch.jit.save file holds a model or data, and what was recognised.
 * Throws LoadError when it is not a readable torch.save file at all.
 */
export function classifyTorchFile(
  bytes: Uint8Array,
  file: string,
  budget = new OpenBudget(file),
): TorchFileKind {
  return classify(parse(bytes, file, budget));
}

/** True when the file is a model (weights or TorchScript), false when data or unreadable. */
export function looksLikeModel(bytes: Uint8Array, file: string): boolean {
  try {
    return classifyTorchFile(bytes, file).kind === 'model';
  } catch {
    return false;
  }
}

/** Every tensor in the saved value, with its dotted name, depth-first in insertion order. */
function collect(value: unknown, file: string): [string, TensorRef][] {
  const out: [string, TensorRef][] = [];
  const seen = new Set<object>();
  const walk = (v: unknown, name: string, depth: number): void => {
    if (v instanceof TensorRef) {
      if (out.length >= MAX_TENSORS) throw new LoadError(file, `holds more than ${MAX_TENSORS} tensors`);
      out.push([name, v]);
      return;
    }
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    if (depth > MAX_DEPTH) throw new LoadError(file, `nests containers more than ${MAX_DEPTH} deep`);
    seen.add(v);
    const join = (k: unknown) => (name === '' ? String(k) : `${name}.${String(k)}`);
    if (v instanceof Map) {
      for (const [k, item] of v)
        if (typeof k === 'string' || typeof k === 'number') walk(item, join(k), depth + 1);
    } else if (Array.isArray(v)) v.forEach((item, i) => walk(item, join(i), depth + 1));
  };
  walk(value, '', 0);
  return out;
}

/**
 * Opens torch.save data as a DataSource. A model file is refused with a LoadError saying what it
 * is (load it as the model); tensors are decoded when read.
 */
export function openTorchData(bytes: Uint8Array, file: string, budget = new OpenBudget(file)): DataSource {
  const p = parse(bytes, file, budget);
  const kind = classify(p);
  if (kind.kind === 'model')
    throw new LoadError(file, `is a model file (${kind.what}); load it as the model, not as data`);
  const found = collect(p.value, file);
  if (found.length === 0) throw new LoadError(file, `holds no tensors (${kind.what})`);
  const refs = new Map<string, TensorRef>();
  for (const [name, ref] of found) if (!refs.has(name)) refs.set(name, ref);
  const ctx = new Materializer(file, p.entries, p.prefix, p.little, budget);
  const list: VariableInfo[] = [...refs].map(([name, ref]) =>
    ref.dtype && !ref.problem
      ? { name, shape: [...ref.size], dtype: ref.dtype }
      : { name, shape: [...ref.size], dtype: null, note: ref.problem ?? 'no dtype' },
  );
  return lazyMemorySource(file, 'torch', list, (name): HostTensor => ctx.materialize(name, refs.get(name)!));
}
