/**
 * The store's links to the outside: the engine worker (requests are numbered here) and the host (where saved
 * files go). Shared by the load/export effects (./actions.ts) and the explore effects (./explore-actions.ts).
 */
import type { EngineClient } from '../engine-client';
import type { Host } from '../host';
import type { SaveKind } from '../../preload/contract';
import type { FromWorker, ToWorker } from '../worker/protocol';
import { useStore } from './index';

let engine: EngineClient | null = null;
let host: Host | null = null;
let nextId = 1;

export function connect(e: EngineClient, h: Host): void {
  engine = e;
  host = h;
}

export function currentHost(): Host | null {
  return host;
}

export function isConnected(): boolean {
  return engine !== null;
}

export function newRequestId(): number {
  return nextId++;
}

/** Sends a message to the worker; false when it is not running. */
export function send(message: ToWorker, transfer: Transferable[] = []): boolean {
  if (!engine) return false;
  engine.send(message, transfer);
  return true;
}

type ExportRequest =
  | Omit<Extract<ToWorker, { type: 'export' }>, 'id'>
  | Omit<Extract<ToWorker, { type: 'export-data' }>, 'id'>
  | Omit<Extract<ToWorker, { type: 'export-explore' }>, 'id'>
  | Omit<Extract<ToWorker, { type: 'export-sobol' }>, 'id'>;

const exportsPending = new Map<
  number,
  { resolve: (r: { name: string; bytes: Uint8Array }) => void; reject: (e: Error) => void }
>();

/** Asks the worker for export bytes (it formats them, so large exports never block the UI). */
export function requestExport(request: ExportRequest): Promise<{ name: string; bytes: Uint8Array }> {
  return new Promise((resolve, reject) => {
    if (!engine) return reject(new Error('the engine is not running'));
    const id = newRequestId();
    exportsPending.set(id, { resolve, reject });
    engine.send({ ...request, id } as ToWorker);
  });
}

/** Settles an export's promise; false for other messages. */
export function settleExport(m: FromWorker): boolean {
  if (m.type === 'exported') {
    exportsPending.get(m.id)?.resolve({ name: m.name, bytes: m.bytes });
    exportsPending.delete(m.id);
    return true;
  }
  if (m.type === 'export-failed') {
    exportsPending.get(m.id)?.reject(new Error(m.message));
    exportsPending.delete(m.id);
    return true;
  }
  return false;
}

/** Saves bytes through the host (a dialog on the desktop, a download in the browser). */
export async function save(name: string, kind: SaveKind, bytes: Uint8Array): Promise<void> {
  if (!host) return;
  const r = await host.save(name, kind, bytes);
  if (r.saved) useStore.setState({ lastExport: `saved ${r.path}` });
  else if (!r.cancelled) throw new Error(r.reason ?? 'not saved');
}
