/**
 * `torch.save` zip checkpoints (.pt/.pth/.ckpt) → named host tensors, without running anything.
 *
 * Layout (PyTorch ≥ 1.6): `<top>/data.pkl` (the pickle), `<top>/data/<key>` (one raw storage per
 * key), `<top>/byteorder` (`little`/`big`, absent in older files = little), `<top>/version`.
 * Tensors in the pickle are `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`
 * calls whose storage is a persistent id `('storage', torch.FloatStorage, key, location, numel)`.
 *
 * Tensors are kept as lazy references while the pickle is read, and only those that end up in the
 * chosen state_dict are decoded: optimizer state and the like costs nothing.
 */

import { LoadError } from '../errors';
import { type DType, type HostTensor, shapeString } from '../tensor';
import { OpenBudget } from './budget';
import { readZip, type ZipEntry } from './zip';
import { Materializer, StorageRef, TensorRef } from './torch-tensors';
import { unpickle } from './pickle';
import { type AllowedGlobal, BASE_GLOBALS, isTuple, PyGlobal, PyObject } from './pickle-values';

export interface TorchCheckpoint {
  tensors: Map<string, HostTensor>;
  /** What the reader did that the user may want to know (entries ignored, prefixes removed, ...). */
  notes: string[];
}

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};

/** `torch.<name>` dtype constants (`_rebuild_tensor_v3`, TypedStorage) and what they are here. */
const TORCH_DTYPES: Record<string, DType> = {
  float32: 'float32',
  float: 'float32',
  float64: 'float64',
  double: 'float64',
  float16: 'float16',
  half: 'float16',
  bfloat16: 'bfloat16',
  complex64: 'complex64',
  cfloat: 'complex64',
  complex128: 'complex128',
  cdouble: 'complex128',
  int64: 'int64',
  long: 'int64',
  int32: 'int32',
  int: 'int32',
  int16: 'int16',
  short: 'int16',
  int8: 'int8',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
};

/** The value of a `torch.float32`-like global. */
export class TorchDType {
  constructor(readonly dtype: DType) {}
}

/** The value of a storage class global; `dtype` null = untyped bytes (`torch.UntypedStorage`). */
class StorageType {
  constructor(
    readonly name: string,
    readonly dtype: DType | null,
  ) {}
}

/** Keys under which training checkpoints keep the model's state_dict, in order of preference. */
const STATE_DICT_KEYS = ['state_dict', 'model_state_dict', 'model', 'net'];
const WRAPPER_PREFIXES = [
  ['module.', 'DataParallel/DistributedDataParallel'],
  ['model.', 'a wrapping module, e.g. PyTorch Lightning'],
] as const;

/** Module nesting deeper than this is not a real network. */
const MAX_MODULE_DEPTH = 200;
/**
 * Reads the checkpoint's tensors. Everything the zip, the pickle and the decoded tensors cost is
 * charged to `budget` (a fresh one with the default limits unless the caller shares its own).
 */
export function readTorchCheckpoint(
  bytes: Uint8Array,
  file: string,
  budget = new OpenBudget(file),
): TorchCheckpoint {
  checkFormat(bytes, file);
  const entries = readZip(bytes, file, budget);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) byName.set(e.name, e);

  // `<top>/data.pkl`; the top folder's name is whatever the file was called when saved.
  let pkl: ZipEntry | undefined;
  for (const e of entries) {
    if (!(e.name === 'data.pkl' || e.name.endsWith('/data.pkl'))) continue;
    if (!pkl || e.name.split('/').length < pkl.name.split('/').length) pkl = e;
  }
  if (!pkl) {
    const names = entries.slice(0, 8).map((e) => e.name);
    throw new LoadError(
      file,
      `a zip archive without data.pkl, so not a PyTorch checkpoint (it holds ${entries.length} entries: ` +
        `${names.join(', ')}${entries.length > names.length ? ', …' : ''})`,
    );
  }
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const notes: string[] = [];
  const little = readByteOrder(byName.get(prefix + 'byteorder'), file, notes);

  const storages = new Map<string, StorageRef>();
  const result = unpickle(pkl.read(), file, {
    label: pkl.name,
    budget,
    globals: TORCH_GLOBALS,
    persistentLoad: (pid) => loadStorage(pid, storages, file),
  });

  const ctx = new Materializer(file, byName, prefix, little, budget);
  const found = selectTensors(result.value, notes, file);
  const unknownNote = (): string =>
    result.unknownGlobals.length
      ? `; it refers to Python classes or functions jacscope does not read (not run): ${listNames(result.unknownGlobals, 12)}`
      : '';
  if (!found) {
    throw new LoadError(
      file,
      `no tensors found: the checkpoint holds ${describe(result.value)}${unknownNote()}`,
    );
  }
  if (found.entries.length === 0) {
    const skipped = found.skipped.length ? ` (not tensors: ${listNames(found.skipped, 8)})` : '';
    throw new LoadError(file, `no tensors found in ${found.where}${skipped}${unknownNote()}`);
  }
  if (found.skipped.length)
    notes.push(`skipped entries that are not tensors: ${listNames(found.skipped, 8)}`);

  const names = stripWrapperPrefixes(
    found.entries.map(([n]) => n),
    notes,
  );
  const tensors = new Map<string, HostTensor>();
  const locations = new Set<string>();
  found.entries.forEach(([, ref], i) => {
    const name = names[i];
    if (tensors.has(name)) {
      notes.push(`'${name}' appears twice; the first one was kept`);
      return;
    }
    if (ref.storage) locations.add(ref.storage.location);
    tensors.set(name, ctx.materialize(name, ref));
  });
  const devices = [...locations].filter((l) => l !== 'cpu');
  if (devices.length)
    notes.push(`tensors were saved on ${devices.join(', ')}; they are read into main memory`);
  return { tensors, notes };
}

// ---------------------------------------------------------------------------------------------
// Format checks

export function checkFormat(bytes: Uint8Array, file: string): void {
  const isZip =
    bytes.length >= 4 &&
    bytes[0] === 0x50 &&
    bytes[1] === 0x4b &&
    (bytes[2] === 3 || bytes[2] === 5 || bytes[2] === 7);
  if (isZip) return;
  const resave = 're-save it with PyTorch ≥ 1.6: `torch.save(model.state_dict(), path)`';
  // The legacy format starts with a pickled magic number 0x1950a86a20f9469cfc6c (PROTO 2, LONG1 10 bytes).
  const legacyMagic = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];
  if (bytes.length >= legacyMagic.length && legacyMagic.every((b, i) => bytes[i] === b)) {
    throw new LoadError(
      file,
      `this is PyTorch's legacy (pre-1.6, non-zip) checkpoint format, which jacscope does not read; ${resave}`,
    );
  }
  const ustar = bytes.length > 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar';
  if (ustar) {
    throw new LoadError(
      file,
      `this is PyTorch's oldest (tar) checkpoint format, which jacscope does not read; ${resave}`,
    );
  }
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1] >= 2 && bytes[1] <= 5) {
    throw new LoadError(
      file,
      `a bare Python pickle, not a torch.save zip archive (legacy format or pickle.dump); ${resave}`,
    );
  }
  throw new LoadError(
    file,
    bytes.length === 0
      ? 'the file is empty'
      : 'not a PyTorch checkpoint: torch.save writes a zip archive, and this file does not start like one',
  );
}

export function readByteOrder(entry: ZipEntry | undefined, file: string, notes: string[]): boolean {
  if (!entry) return true;
  if (entry.uncompressedSize > 64)
    throw new LoadError(file, `${entry.name} is ${entry.uncompressedSize} bytes long`);
  const text = String.fromCharCode(...entry.read()).trim();
  if (text === 'little') return true;
  if (text === 'big') {
    notes.push('the checkpoint was written on a big-endian machine; its bytes were swapped on reading');
    return false;
  }
  throw new LoadError(file, `${entry.name} says '${text.slice(0, 20)}'; expected 'little' or 'big'`);
}

// ---------------------------------------------------------------------------------------------
// The allow-list

function rebuildTensor(args: unknown[], dtypeArg?: unknown): TensorRef {
  const [storage, offset, size, stride] = args;
  const bad = (why: string): TensorRef => new TensorRef(null, 0, [], [], null, why);
  if (!(storage instanceof StorageRef))
    return bad(`its storage is ${describe(storage)}, not a tensor storage`);
  if (storage.problem) return bad(storage.problem);
  const off = toIndex(offset);
  if (off === undefined) return bad(`its storage offset ${String(offset)} is not a non-negative integer`);
  const sz = toIndexList(size);
  const st = toIndexList(stride);
  if (!sz) return bad('its shape is not a tuple of non-negative integers');
  if (!st || st.length !== sz.length) return bad(`its strides do not match its shape ${shapeString(sz)}`);
  let dtype = storage.dtype;
  if (dtypeArg !== undefined) {
    if (!(dtypeArg instanceof TorchDType)) {
      const name = dtypeArg instanceof PyGlobal ? dtypeArg.$global : describe(dtypeArg);
      return bad(`its dtype ${name} is not supported`);
    }
    dtype = dtypeArg.dtype;
  }
  if (dtype === null) return bad('it has no dtype (an untyped storage without one)');
  return new TensorRef(storage, off, sz, st, dtype);
}

function unwrapParameter(args: unknown[]): unknown {
  // Parameter(data, requires_grad, hooks[, state]): only the data matters for reading weights.
  return args[0];
}

function rebuildFromType(args: unknown[], budget: OpenBudget): unknown {
  // torch._tensor._rebuild_from_type_v2(func, type, args, state): tensor subclasses (e.g. Parameter).
  const [fn, , fnArgs] = args;
  if (fn instanceof PyGlobal && fn.call && Array.isArray(fnArgs)) {
    budget.values(fnArgs.length);
    return fn.call([...fnArgs], budget);
  }
  return new PyObject('torch._tensor._rebuild_from_type_v2', args);
}

export const TORCH_GLOBALS: ReadonlyMap<string, AllowedGlobal> = (() => {
  const m = new Map<string, AllowedGlobal>(BASE_GLOBALS);
  m.set('torch._utils._rebuild_tensor', { call: (a) => rebuildTensor(a) });
  m.set('torch._utils._rebuild_tensor_v2', { call: (a) => rebuildTensor(a) });
  m.set('torch._utils._rebuild_tensor_v3', { call: (a) => rebuildTensor(a, a[6]) });
  m.set('torch._utils._rebuild_parameter', { call: unwrapParameter });
  m.set('torch._utils._rebuild_parameter_with_state', { call: unwrapParameter });
  m.set('torch._tensor._rebuild_from_type_v2', { call: rebuildFromType });
  m.set('torch._tensor._rebuild_from_type', { call: rebuildFromType });
  for (const [cls, dtype] of Object.entries(STORAGE_DTYPES)) {
    for (const mod of ['torch', 'torch.cuda'])
      m.set(`${mod}.${cls}`, { value: new StorageType(`${mod}.${cls}`, dtype) });
  }
  for (const name of ['torch.UntypedStorage', 'torch.storage.UntypedStorage', 'torch._UntypedStorage']) {
    m.set(name, { value: new StorageType(name, null) });
  }
  for (const [name, dtype] of Object.entries(TORCH_DTYPES))
    m.set(`torch.${name}`, { value: new TorchDType(dtype) });
  return m;
})();

export function loadStorage(pid: unknown, storages: Map<string, StorageRef>, file: string): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length !== 5) {
    throw new LoadError(file, `data.pkl refers to external data of an unknown kind (${describe(pid)})`);
  }
  const [, type, rawKey, location, numel] = pid as unknown[];
  const key = typeof rawKey === 'number' ? String(rawKey) : rawKey;
  if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
    throw new LoadError(file, `data.pkl names a storage by ${describe(rawKey)}`);
  }
  const n = toIndex(numel);
  if (n === undefined)
    throw new LoadError(file, `storage '${key}' has a size of ${describe(numel)} elements`);
  const loc = typeof location === 'string' ? location : String(location);
  const cached = storages.get(key);
  if (cached) return cached;
  let ref: StorageRef;
  if (type instanceof StorageType) ref = new StorageRef(key, type.dtype, loc, n);
  else {
    const name = type instanceof PyGlobal ? type.$global : describe(type);
    ref = new StorageRef(key, null, loc, n, `its storage type ${name} is not supported`);
  }
  storages.set(key, ref);
  return ref;
}

// ---------------------------------------------------------------------------------------------
// Finding the state_dict

interface Found {
  where: string;
  entries: [string, TensorRef][];
  skipped: string[];
}

function selectTensors(root: unknown, notes: string[], file: string): Found | undefined {
  if (root instanceof Map) {
    // The known keys come first: a training checkpoint may also hold a loose tensor (a metric, say).
    for (const key of STATE_DICT_KEYS) {
      if (!root.has(key)) continue;
      const inner = root.get(key);
      const noteAt = notes.length;
      const found =
        inner instanceof Map && hasTensorValue(inner)
          ? fromDict(inner, `'${key}'`)
          : isModule(inner)
            ? fromModule(inner as PyObject, notes, `'${key}'`, file)
            : undefined;
      if (!found) continue;
      const others = [...root.keys()].filter((k) => k !== key).map((k) => `'${keyName(k)}'`);
      notes.splice(
        noteAt,
        0,
        `read the model weights under '${key}' of a training checkpoint` +
          (others.length ? `; ignored ${listNames(others, 12)}` : ''),
      );
      return found;
    }
    if (hasTensorValue(root)) return fromDict(root, 'the state_dict');
    return undefined;
  }
  if (isModule(root)) return fromModule(root as PyObject, notes, 'the pickled module', file);
  return undefined;
}

function isTensorLike(v: unknown): boolean {
  return v instanceof TensorRef;
}

function hasTensorValue(m: Map<unknown, unknown>): boolean {
  for (const v of m.values()) if (isTensorLike(v)) return true;
  return false;
}

function fromDict(m: Map<unknown, unknown>, where: string): Found {
  const entries: [string, TensorRef][] = [];
  const skipped: string[] = [];
  for (const [k, v] of m) {
    if (typeof k === 'string' && v instanceof TensorRef) entries.push([k, v]);
    else skipped.push(`'${keyName(k)}' (${describe(v)})`);
  }
  return { where, entries, skipped };
}

function stateOf(obj: PyObject): Map<unknown, unknown> | undefined {
  // BUILD state is a dict, or (dict, slots) for classes with __slots__.
  const s = obj.state;
  if (s instanceof Map) return s;
  if (isTuple(s) && s[0] instanceof Map) return s[0];
  return undefined;
}

function isModule(v: unknown): boolean {
  if (!(v instanceof PyObject)) return false;
  const s = stateOf(v);
  return !!s && (isScripted(v) || s.has('_parameters') || s.has('_modules') || s.has('_buffers'));
}

/**
 * A TorchScript module (`torch.jit.save`): its classes live under `__torch__.` and its state is a
 * flat dict of attributes, parameters and sub-modules side by side.
 */
function isScripted(v: PyObject): boolean {
  return v.$global.startsWith('__torch__.');
}

/**
 * nn.Module → state_dict order: own parameters, own persistent buffers, then each child's subtree.
 * Iterative, and each module object is visited once: a pickle can make a module graph that is cyclic
 * or that shares children exponentially often.
 */
function fromModule(root: PyObject, notes: string[], where: string, file: string): Found {
  const entries: [string, TensorRef][] = [];
  const skipped: string[] = [];
  const seen = new Set<PyObject>();
  const work: { obj: PyObject; prefix: string; depth: number }[] = [{ obj: root, prefix: '', depth: 0 }];
  let shared = 0;
  while (work.length) {
    const { obj, prefix, depth } = work.pop()!;
    if (seen.has(obj)) {
      shared++;
      continue;
    }
    seen.add(obj);
    if (depth > MAX_MODULE_DEPTH)
      throw new LoadError(file, `modules nested more than ${MAX_MODULE_DEPTH} deep`);
    const state = stateOf(obj);
    if (!state) continue;
    if (isScripted(obj) && !state.has('_parameters')) {
      // Attribute order is registration order, as in state_dict(); tensors first, then sub-modules.
      const list: { obj: PyObject; prefix: string; depth: number }[] = [];
      for (const [k, v] of state) {
        if (v instanceof TensorRef) entries.push([prefix + keyName(k), v]);
        else if (v instanceof PyObject && isScripted(v)) {
          list.push({ obj: v, prefix: `${prefix}${keyName(k)}.`, depth: depth + 1 });
        }
      }
      for (let i = list.length - 1; i >= 0; i--) work.push(list[i]);
      continue;
    }
    const nonPersistent = state.get('_non_persistent_buffers_set');
    for (const group of ['_parameters', '_buffers']) {
      const items = state.get(group);
      if (!(items instanceof Map)) continue;
      for (const [k, v] of items) {
        if (v === null) continue; // e.g. bias=False
        if (group === '_buffers' && nonPersistent instanceof Set && nonPersistent.has(k)) continue;
        const name = prefix + keyName(k);
        if (v instanceof TensorRef) entries.push([name, v]);
        else skipped.push(`'${name}' (${describe(v)})`);
      }
    }
    const children = state.get('_modules');
    if (children instanceof Map) {
      const list: { obj: PyObject; prefix: string; depth: number }[] = [];
      for (const [k, v] of children) {
        if (v instanceof PyObject) list.push({ obj: v, prefix: `${prefix}${keyName(k)}.`, depth: depth + 1 });
      }
      for (let i = list.length - 1; i >= 0; i--) work.push(list[i]);
    }
  }
  const resave = 're-saving with `torch.save(model.state_dict(), path)` makes a smaller, safer file';
  notes.push(
    isScripted(root)
      ? `read a TorchScript archive (class ${root.$global.slice('__torch__.'.length)}) without running its ` +
          `code: only its tensors were taken; ${resave}`
      : `read a whole pickled module (class ${root.$global}) without running its code: only its parameters ` +
          `and buffers were taken; ${resave}`,
  );
  if (shared)
    notes.push(`${shared} sub-module reference(s) repeat a module already read; they were listed once`);
  return { where, entries, skipped };
}

function stripWrapperPrefixes(names: string[], notes: string[]): string[] {
  let out = names;
  for (let round = 0; round < 8; round++) {
    const hit = WRAPPER_PREFIXES.find(
      ([p]) => out.length > 0 && out.every((n) => n.startsWith(p) && n.length > p.length),
    );
    if (!hit) break;
    out = out.map((n) => n.slice(hit[0].length));
    notes.push(`removed the prefix '${hit[0]}' that all ${out.length} names had (${hit[1]})`);
  }
  return out;
}

function toIndex(v: unknown): number | undefined {
  const n = typeof v === 'bigint' ? Number(v) : v;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function toIndexList(v: unknown): number[] | undefined {
  if (!Array.isArray(v) || v.length > 64) return undefined;
  const out: number[] = [];
  for (const x of v) {
    const n = toIndex(x);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out;
}

function keyName(k: unknown): string {
  const s =
    typeof k === 'string' ? k : typeof k === 'number' || typeof k === 'bigint' ? String(k) : describe(k);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function listNames(names: readonly string[], max: number): string {
  return names.length > max
    ? `${names.slice(0, max).join(', ')} and ${names.length - max} more`
    : names.join(', ');
}

/** A one-line, non-recursive description of a pickled value for messages. */
function describe(v: unknown): string {
  if (v === null) return 'None';
  if (v === undefined) return 'nothing';
  if (v instanceof TensorRef) return 'a tensor';
  if (v instanceof StorageRef) return 'a storage';
  if (v instanceof PyObject) return `an object of class ${v.$global}`;
  if (v instanceof PyGlobal) return `the Python global ${v.$global}`;
  if (v instanceof TorchDType) return `dtype ${v.dtype}`;
  if (v instanceof StorageType) return v.name;
  if (v instanceof Map) {
    const keys = [...v.keys()]
      .slice(0, 10)
      .map((k) => `'${typeof k === 'string' ? k.slice(0, 40) : typeof k}'`);
    return v.size === 0 ? 'an empty dict' : `a dict with keys ${keys.join(', ')}${v.size > 10 ? ', …' : ''}`;
  }
  if (v instanceof Set) return `a set of ${v.size} items`;
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  if (Array.isArray(v)) return `a ${isTuple(v) ? 'tuple' : 'list'} of ${v.length} items`;
  if (typeof v === 'string') return `the string '${v.length > 40 ? v.slice(0, 40) + '…' : v}'`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return `the number ${String(v)}`;
}
