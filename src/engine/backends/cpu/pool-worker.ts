/**
 * The helper thread's side of the parallel CPU backend: platform entry points (a Web Worker
 * module, a worker_threads file) hand each message to the function this returns.
 */
import { Fno1dScalar } from '../../models/fno1d-scalar';
import type { PoolReply, PoolRequest } from './pool-protocol';

export function poolWorker(
  post: (msg: PoolReply, transfer: ArrayBuffer[]) => void,
): (msg: PoolRequest) => void {
  let model: Fno1dScalar | undefined;
  return (msg) => {
    if (msg.type === 'init') {
      try {
        model = new Fno1dScalar(msg.config, new Map(msg.tensors));
        post({ type: 'ready' }, []);
      } catch (e) {
        post({ type: 'failed', id: -1, message: e instanceof Error ? e.message : String(e) }, []);
      }
      return;
    }
    const { id, mode, x, p, B, T } = msg;
    try {
      if (!model) throw new Error('the helper thread has no model');
      if (mode === 'forward') {
        const y = model.forward(x, p, B, T);
        post({ type: 'done', id, y }, [y.buffer as ArrayBuffer]);
      } else if (mode === 'jacobian') {
        const J = model.jacobian(x, p, B, T);
        post({ type: 'done', id, J }, [J.buffer as ArrayBuffer]);
      } else {
        const { y, J } = model.evaluate(x, p, B, T);
        post({ type: 'done', id, y, J }, [y.buffer as ArrayBuffer, J.buffer as ArrayBuffer]);
      }
    } catch (e) {
      post({ type: 'failed', id, message: e instanceof Error ? e.message : String(e) }, []);
    }
  };
}
