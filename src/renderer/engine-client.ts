/** The UI thread's handle on the engine worker: starts it and passes messages both ways. */
import type { FromWorker, ToWorker } from './worker/protocol';

export interface EngineClient {
  send(message: ToWorker, transfer?: Transferable[]): void;
}

export function startEngineWorker(
  onMessage: (m: FromWorker) => void,
  onCrash: (text: string) => void,
): EngineClient {
  const worker = new Worker(new URL('./worker/engine.worker.ts', import.meta.url), { type: 'module' });
  worker.onmessage = (ev: MessageEvent<FromWorker>) => onMessage(ev.data);
  worker.onerror = (ev: ErrorEvent) => {
    ev.preventDefault();
    onCrash(ev.message || 'the engine worker stopped');
  };
  worker.onmessageerror = () => onCrash('a message from the engine worker could not be read');
  return { send: (message, transfer = []) => worker.postMessage(message, transfer) };
}
