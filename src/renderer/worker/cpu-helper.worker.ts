/**
 * A helper thread of the parallel CPU backend, started by the engine worker (web-pool.ts): its own
 * float64 model, whole samples at a time.
 */
import { poolWorker } from '../../engine';
import type { PoolReply, PoolRequest } from '../../engine';

interface HelperScope {
  postMessage(message: PoolReply, transfer: Transferable[]): void;
  onmessage: ((ev: MessageEvent<PoolRequest>) => void) | null;
}
const scope = self as unknown as HelperScope;
const handle = poolWorker((msg, transfer) => scope.postMessage(msg, transfer));
scope.onmessage = (ev) => handle(ev.data);
