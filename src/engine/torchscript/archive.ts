/**
 * TorchScript archives (`torch.jit.save` of a traced or scripted module), read without running
 * anything: `<top>/code/__torch__/**.py` (the code, parsed), `<top>/data.pkl` (the module tree with
 * its parameters, buffers and attributes), `<top>/constants.pkl` (the `CONSTANTS.cN` tensors, their
 * storages under `<top>/constants/`), `<top>/data/<key>` (storages), `<top>/version` or
 * `<top>/.data/version`, `<top>/byteorder` (PyTorch ≥ 2.1). The top folder's name is whatever the
 * file was called when saved (`archive` in some writers). `.debug_pkl` files are ignored.
 */
import { LoadError } from '../errors';
import { OpenBudget } from '../io/budget';
import { unpickle } from '../io/pickle';
import { checkFormat, loadStorage, readByteOrder } from '../io/torch-checkpoint';
import { Materializer, type StorageRef } from '../io/torch-tensors';
import { readZip, type ZipEntry } from '../io/zip';
import type { CodeFile } from './ast';
import { ArchiveConverter, type ArchiveValue, TORCHSCRIPT_GLOBALS, TsObject } from './archive-values';
import { type ClassInfo, type FunctionInfo, buildCodeTable } from './classes';
import { detectKind, type ArchiveKind } from './detect';
import { TorchScriptError } from './errors';
import { CODE_LIMITS, type CodeLimits } from './limits';
import { parseCode } from './parser';

export interface TorchScriptArchive {
  /** The file name every error starts with. */
  file: string;
  /** The module tree: the root module and, through its attributes, every sub-module. */
  root: TsObject;
  /** `CONSTANTS.c0`, `CONSTANTS.c1`, ... in order. */
  constants: readonly ArchiveValue[];
  /** Every parsed code file. */
  code: CodeFile[];
  /** Classes and free functions of the code by qualified name (`__torch__.torch.nn.modules.linear.Linear`). */
  classes: Map<string, ClassInfo>;
  functions: Map<string, FunctionInfo>;
  /** Traced or scripted, by the heuristic of `detect.ts`; `kindReason` says what decided it. */
  kind: ArchiveKind;
  kindReason: string;
  /** The archive's format version (`version` / `.data/version`), when present. */
  version: string | null;
  /** What the reader did that the user may want to know. */
  notes: string[];
}

export interface ReadTorchScriptOptions {
  /** Shared with the other readers of the same file (a fresh one with default limits otherwise). */
  budget?: OpenBudget;
  limits?: Partial<CodeLimits>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether zip entries look like a TorchScript archive: a `code/` folder and `constants.pkl` beside data.pkl. */
export function isTorchScriptEntries(names: readonly string[]): boolean {
  return names.some((n) => /(^|\/)constants\.pkl$/.test(n)) && names.some((n) => /(^|\/)code\//.test(n));
}

export function readTorchScript(
  bytes: Uint8Array,
  file: string,
  options: ReadTorchScriptOptions = {},
): TorchScriptArchive {
  const budget = options.budget ?? new OpenBudget(file);
  const limits = { ...CODE_LIMITS, ...options.limits };
  checkFormat(bytes, file);
  const entries = readZip(bytes, file, budget);
  const byName = new Map<string, ZipEntry>();
  for (const e of entries) byName.set(e.name, e);

  const pkl = shallowest(entries, 'data.pkl');
  if (!pkl) {
    if (shallowest(entries, 'model.json'))
      throw new LoadError(
        file,
        'a TorchScript archive of PyTorch ≤ 1.3 (model.json), which jacscope does not read; ' +
          're-save it with a newer PyTorch: torch.jit.save(torch.jit.load(path), path)',
      );
    throw new LoadError(file, 'not a TorchScript archive: it has no data.pkl');
  }
  const prefix = pkl.name.slice(0, pkl.name.length - 'data.pkl'.length);
  const constantsPkl = byName.get(prefix + 'constants.pkl');
  const codeEntries = entries.filter(
    (e) => e.name.startsWith(prefix + 'code/') && e.name.endsWith('.py') && !e.name.endsWith('/'),
  );
  if (!constantsPkl || codeEntries.length === 0) {
    throw new LoadError(
      file,
      'not a TorchScript archive (no code/ folder and constants.pkl beside data.pkl): a torch.save ' +
        'checkpoint holds weights only; save the model with torch.jit.save(torch.jit.script(model), path) ' +
        'or torch.jit.trace',
    );
  }
  const notes: string[] = [];
  const little = readByteOrder(byName.get(prefix + 'byteorder'), file, notes);
  const versionEntry = byName.get(prefix + 'version') ?? byName.get(prefix + '.data/version');
  const version = versionEntry ? readSmallText(versionEntry, file) : null;

  // --- code
  if (codeEntries.length > limits.maxFiles)
    throw new LoadError(file, `${codeEntries.length} code files, more than the ${limits.maxFiles} allowed`);
  // Sizes are checked from the zip directory before anything is inflated or parsed.
  let codeBytes = 0;
  for (const e of codeEntries) {
    const path = e.name.slice(prefix.length);
    if (e.uncompressedSize > limits.maxFileBytes) {
      throw new LoadError(
        file,
        `${path} is ${e.uncompressedSize} bytes, more than the ${limits.maxFileBytes} allowed`,
      );
    }
    codeBytes += e.uncompressedSize;
  }
  if (codeBytes > limits.maxCodeBytes)
    throw new LoadError(
      file,
      `its code files hold ${codeBytes} bytes, more than the ${limits.maxCodeBytes} allowed`,
    );
  const code: CodeFile[] = [];
  for (const e of codeEntries) {
    const path = e.name.slice(prefix.length);
    let text: string;
    try {
      text = utf8.decode(e.read());
    } catch (err) {
      if (err instanceof LoadError) throw err;
      throw new TorchScriptError(file, `${path} is not valid UTF-8 text`);
    }
    budget.bytes(text.length * 2);
    code.push(parseCode(text, path, file, limits));
  }
  const table = buildCodeTable(code, file);

  // --- data.pkl and constants.pkl
  const read = (entry: ZipEntry, storagePrefix: string): { value: unknown; materializer: Materializer } => {
    const storages = new Map<string, StorageRef>();
    const result = unpickle(entry.read(), file, {
      label: entry.name.slice(prefix.length),
      budget,
      globals: TORCHSCRIPT_GLOBALS,
      persistentLoad: (pid) => loadStorage(pid, storages, file),
    });
    const unknown = result.unknownGlobals.filter((g) => !g.startsWith('__torch__.'));
    if (unknown.length) {
      const names = unknown.slice(0, 8).join(', ') + (unknown.length > 8 ? ', …' : '');
      throw new LoadError(
        file,
        `${entry.name.slice(prefix.length)} refers to Python globals jacscope does not read (nothing is run): ${names}`,
      );
    }
    // Storages of constants.pkl live under constants/; the materializer looks under data/.
    const storageEntries =
      storagePrefix === 'data/' ? byName : remap(entries, prefix + storagePrefix, prefix + 'data/', byName);
    return {
      value: result.value,
      materializer: new Materializer(file, storageEntries, prefix, little, budget),
    };
  };

  const data = read(pkl, 'data/');
  const root = new ArchiveConverter(file, 'data.pkl', data.materializer, table).convert(data.value, '');
  if (!(root instanceof TsObject)) {
    throw new LoadError(file, 'data.pkl does not hold a TorchScript module (an object of a __torch__ class)');
  }
  const consts = read(constantsPkl, 'constants/');
  const constValue = new ArchiveConverter(file, 'constants.pkl', consts.materializer, table).convert(
    consts.value,
    'CONSTANTS',
  );
  if (!Array.isArray(constValue))
    throw new LoadError(file, 'constants.pkl does not hold a tuple of constants');

  const kind = detectKind(table, root.type);
  return {
    file,
    root,
    constants: constValue,
    code,
    classes: table.classes,
    functions: table.functions,
    kind: kind.kind,
    kindReason: kind.reason,
    version,
    notes,
  };
}

function shallowest(entries: readonly ZipEntry[], base: string): ZipEntry | undefined {
  let best: ZipEntry | undefined;
  for (const e of entries) {
    if (!(e.name === base || e.name.endsWith('/' + base))) continue;
    if (!best || e.name.split('/').length < best.name.split('/').length) best = e;
  }
  return best;
}

function remap(
  entries: readonly ZipEntry[],
  from: string,
  to: string,
  byName: Map<string, ZipEntry>,
): Map<string, ZipEntry> {
  const out = new Map(byName);
  for (const e of entries) if (e.name.startsWith(from)) out.set(to + e.name.slice(from.length), e);
  return out;
}

function readSmallText(entry: ZipEntry, file: string): string {
  if (entry.uncompressedSize > 64)
    throw new LoadError(file, `${entry.name} is ${entry.uncompressedSize} bytes long`);
  return String.fromCharCode(...entry.read()).trim();
}
