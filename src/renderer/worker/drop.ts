/**
 * Reading a drop (or an Open): every file by its kind (model, config.json, data), models and configs first so
 * that data files can be read knowing the model's Xf and P. A file that fails to read becomes a message naming it.
 */
import type { EngineAdapter, ParsedModel } from './engine-contract';
import type { Staged } from './fit';
import { pickFor } from './pick-check';
import type { PickRequest, VarChoice } from './pick-protocol';
import type { FileMessage } from './protocol';
import type { RangeReader } from './byte-reader';
import { openLazy } from './lazy-open';

export type FileKind = 'model' | 'config' | 'data' | 'unknown';

const MODEL_EXT = new Set(['pt', 'pth', 'bin', 'ckpt', 'safetensors']);
const DATA_EXT = new Set(['npy', 'npz', 'csv', 'h5', 'hdf5', 'he5', 'mat']);
/** Extensions torch.save uses for models and tensors alike: the content decides. */
const TORCH_EXT = /\.(pt|pth)$/i;

export function fileKind(name: string): FileKind {
  const ext = name.toLowerCase().split('.').pop() ?? '';
  if (MODEL_EXT.has(ext)) return 'model';
  if (ext === 'json') return 'config';
  if (DATA_EXT.has(ext)) return 'data';
  return 'unknown';
}

export interface ReadDrop {
  messages: FileMessage[];
  /** The data read (x and p; no model yet: the session builds it). */
  fresh: Staged;
  /** The model files read: the last one is used, with a warning when there were several. */
  models: ParsedModel[];
  explicit?: { file: string; config: Record<string, unknown> };
  /** A model or config.json failed to read. */
  modelFailed: boolean;
  /** A data file whose x and p the user is to choose: nothing of the drop was read. */
  pick?: Omit<PickRequest, 'pickId'>;
}

function addData(out: ReadDrop, file: string, parts: Awaited<ReturnType<EngineAdapter['readData']>>): void {
  const common = { file, notes: parts.notes };
  if (parts.x) out.fresh.x = { ...common, tensor: parts.x, asFiled: parts.xAsFiled, names: parts.xNames };
  if (parts.p) out.fresh.p = { ...common, tensor: parts.p, names: parts.pNames };
}

/**
 * `hint`: the current model's Xf and P, for data read when the drop holds no model. `choices`: x and p chosen
 * per data file name (the picker's answers, remembered). A data file with several candidates and no fitting
 * choice stops the drop before anything is read: `pick` says what to ask.
 */
export async function readDrop(
  engine: EngineAdapter,
  dropped: { name: string; bytes: Uint8Array; lazy?: RangeReader }[],
  hint: { Xf?: number; P?: number },
  choices: Record<string, VarChoice> = {},
): Promise<ReadDrop> {
  const out: ReadDrop = { messages: [], fresh: {}, models: [], modelFailed: false };
  // Files over the lazy threshold: x by rows from disk where the format allows, else read whole now.
  const files: { name: string; bytes: Uint8Array }[] = [];
  for (const f of dropped) {
    if (!f.lazy) {
      files.push(f);
      continue;
    }
    try {
      const opened = fileKind(f.name) === 'data' ? await openLazy(f.lazy, hint, choices[f.name]) : null;
      if (opened && 'parts' in opened) addData(out, f.name, opened.parts);
      else files.push({ name: f.name, bytes: opened ? opened.bytes : await f.lazy.read(0, f.lazy.size) });
    } catch (e) {
      if (engine.isCancelled(e)) throw e;
      out.messages.push({ file: f.name, level: 'error', text: engine.describeError(e) });
    }
  }
  // A .pt/.pth holds a model or tensors: its content says which, and the app says what it recognised.
  const kinds = new Map<string, FileKind>();
  for (const f of files) {
    let kind = fileKind(f.name);
    if (kind === 'model' && TORCH_EXT.test(f.name) && engine.torchKind(f.bytes, f.name)?.kind === 'data')
      kind = 'data';
    kinds.set(f.name, kind);
  }
  const kindOf = (name: string) => kinds.get(name) ?? fileKind(name);
  const listed = new Map<string, Awaited<ReturnType<typeof pickFor>>>();
  for (const f of files) {
    if (kindOf(f.name) !== 'data') continue;
    try {
      const r = await pickFor(engine, f, choices[f.name]);
      if (r.ask) {
        out.pick = r.ask;
        return out;
      }
      listed.set(f.name, r);
    } catch (e) {
      if (engine.isCancelled(e)) throw e;
      // Listing failed: reading it below says why.
    }
  }
  const rank = { model: 0, config: 1, data: 2, unknown: 3 };
  const ordered = [...files].sort((a, b) => rank[kindOf(a.name)] - rank[kindOf(b.name)]);
  for (const f of ordered) {
    const kind = kindOf(f.name);
    try {
      if (kind === 'model') {
        out.models.push(engine.readModel(f.bytes, f.name));
      } else if (kind === 'config') {
        out.explicit = { file: f.name, config: engine.readConfig(f.bytes, f.name) };
      } else if (kind === 'data') {
        // A new model is still to be recognised: nothing is known of its Xf and P yet.
        const chosen = listed.get(f.name)?.use;
        const parts = await engine.readData(f.bytes, f.name, out.models.length > 0 ? {} : hint, chosen);
        if (!parts.x && !parts.p) throw new Error(`${f.name}: holds neither x [B,T,Xf] nor p [B,P]`);
        addData(out, f.name, parts);
      } else {
        throw new Error(
          `${f.name}: not a file jacscope reads (models: .pt .safetensors; data: .npy .npz .csv .h5 .mat, .pt tensors; config: .json)`,
        );
      }
    } catch (e) {
      if (engine.isCancelled(e)) throw e;
      if (kind === 'model' || kind === 'config') out.modelFailed = true;
      out.messages.push({ file: f.name, level: 'error', text: engine.describeError(e) });
    }
  }
  if (out.models.length > 1) {
    const used = out.models[out.models.length - 1].file;
    out.messages.push({
      file: used,
      level: 'warning',
      text: `${out.models.length} model files dropped; using ${used}`,
    });
    out.models = out.models.slice(-1);
  }
  return out;
}
