/** The browser host: files through the File API, exports as downloads. */
import { RANGED_EXTENSIONS, type SaveKind, type SaveResult } from '../../preload/contract';
import type { Host, HostOpenResult } from './host';

const MIME: Record<SaveKind, string> = {
  csv: 'text/csv',
  npy: 'application/octet-stream',
  png: 'image/png',
  json: 'application/json',
  h5: 'application/x-hdf5',
  mat: 'application/octet-stream',
};
const ACCEPT = '.pt,.pth,.bin,.ckpt,.safetensors,.json,.npy,.npz,.csv,.h5,.hdf5,.mat';

/** .npy/.npz/HDF5 files larger than this are read by ranges in the worker (`?lazyMB=N` in the address sets another). */
export const LAZY_OPEN_BYTES = 256 * 2 ** 20;

export function lazyBytesFromAddress(search: string | undefined): number {
  const v = new URLSearchParams(search ?? '').get('lazyMB');
  const n = v === null ? NaN : Number(v);
  return Number.isFinite(n) && n >= 0 ? n * 2 ** 20 : LAZY_OPEN_BYTES;
}

async function readAll(files: File[], lazyBytes: number): Promise<HostOpenResult> {
  const out: HostOpenResult = { files: [], failures: [] };
  await Promise.all(
    files.map(async (f) => {
      const ext = f.name.toLowerCase().split('.').pop() ?? '';
      if (f.size > lazyBytes && (RANGED_EXTENSIONS as readonly string[]).includes(ext)) {
        out.files.push({ name: f.name, bytes: new Uint8Array(0), blob: f });
        return;
      }
      try {
        out.files.push({ name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) });
      } catch (e) {
        out.failures.push({
          name: f.name,
          reason: `could not be read (${e instanceof Error ? e.message : String(e)})`,
        });
      }
    }),
  );
  // Keep the order the user gave.
  const order = new Map(files.map((f, i) => [f.name, i]));
  out.files.sort((a, b) => (order.get(a.name) ?? 0) - (order.get(b.name) ?? 0));
  return out;
}

function pickFiles(): Promise<File[] | null> {
  return new Promise((resolve) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.accept = ACCEPT;
    input.addEventListener('change', () => resolve(input.files ? Array.from(input.files) : []), {
      once: true,
    });
    input.addEventListener('cancel', () => resolve(null), { once: true });
    input.click();
  });
}

export function createWebHost(lazyBytes = LAZY_OPEN_BYTES): Host {
  return {
    kind: 'web',
    readDropped: (files) => readAll(files, lazyBytes),
    async openDialog() {
      const files = await pickFiles();
      if (!files || files.length === 0) return { files: [], failures: [], cancelled: true };
      return readAll(files, lazyBytes);
    },
    recent: null,
    async save(suggestedName: string, kind: SaveKind, bytes: Uint8Array): Promise<SaveResult> {
      const blob = new Blob([bytes as BlobPart], { type: MIME[kind] });
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = suggestedName;
      a.rel = 'noopener';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      return { saved: true, path: suggestedName };
    },
    onFilesOpened: () => () => {},
    onMenuCommand: () => () => {},
  };
}
