/** The desktop host: everything goes through the preload's small typed API (`window.jacscope`). */
import type { JacscopeApi, OpenResult } from '../../preload/contract';
import type { Host, HostOpenResult, SaveStream } from './host';

/**
 * `dropped`: the File objects of a drop. A file main opened by ranges that is one of them (by its unique name
 * and size) is read from the File itself: no round trip through main, and synchronously where the reader needs
 * it (HDF5 by rows).
 */
export function toHost(r: OpenResult, dropped: readonly File[] = []): HostOpenResult {
  const blobFor = (name: string, size: number): File | undefined => {
    const same = dropped.filter((f) => f.name === name);
    return same.length === 1 && same[0].size === size ? same[0] : undefined;
  };
  return {
    files: [
      ...r.files.map((f) => ({ name: f.name, bytes: f.bytes })),
      ...(r.ranged ?? []).map((f) => {
        const blob = blobFor(f.name, f.size);
        return blob
          ? { name: f.name, bytes: new Uint8Array(0), blob }
          : { name: f.name, bytes: new Uint8Array(0), remote: { path: f.path, size: f.size } };
      }),
    ],
    failures: r.failures.map((f) => ({ name: f.name, reason: f.reason })),
    cancelled: r.cancelled,
  };
}

export function createElectronHost(api: JacscopeApi): Host {
  return {
    kind: 'electron',
    readDropped: async (files) => toHost(await api.openDropped(files), files),
    openDialog: async () => toHost(await api.openDialog()),
    recent: {
      list: () => api.listRecent(),
      open: async (path) => toHost(await api.openRecent(path)),
    },
    readRange: (path, offset, length) => api.readRange(path, offset, length),
    save: (suggestedName, kind, bytes) => api.save({ suggestedName, kind, bytes }),
    beginSave: async (suggestedName, kind) => {
      const r = await api.saveBegin({ suggestedName, kind });
      if (!r.started) return { saved: false, cancelled: r.cancelled, reason: r.reason };
      const { token, path } = r;
      const stream: SaveStream = {
        path,
        append: (bytes) => api.saveAppend(token, bytes),
        commit: () => api.saveCommit(token),
        abort: () => api.saveAbort(token).catch(() => {}),
      };
      return stream;
    },
    onFilesOpened: (listener) => api.onFilesOpened((r) => listener(toHost(r))),
    onMenuCommand: (listener) => api.onMenuCommand(listener),
  };
}
