/**
 * The helper thread's side of the parallel CPU runners: platform entry points (a Web Worker
 * module, a worker_threads file) hand each message to the function this returns.
 */
import { ShapeError } from '../../errors';
import { RULES } from '../../graph/table';
import { Fno1dScalar } from '../../models/fno1d-scalar';
import { GraphModel } from '../../models/graph-model';
import { openModel } from '../../models/open-model';
import { graphHost } from '../../torchscript/graph-host';
import type { PoolModel, PoolReply, PoolRequest } from './pool-protocol';

function modelOf(spec: PoolModel): GraphModel {
  if (spec.kind === 'fno1d-scalar') return new Fno1dScalar(spec.config, new Map(spec.tensors)).graph;
  const opened = openModel(spec.bytes, spec.file);
  if (opened.kind !== 'torchscript') throw new Error(`${spec.file} is not a TorchScript archive`);
  return new GraphModel(opened.program, graphHost, RULES);
}

export function poolWorker(
  post: (msg: PoolReply, transfer: ArrayBuffer[]) => void,
): (msg: PoolRequest) => void {
  let model: GraphModel | undefined;
  return (msg) => {
    if (msg.type === 'init') {
      try {
        model = modelOf(msg.model);
        post({ type: 'ready' }, []);
      } catch (e) {
        post({ type: 'failed', id: -1, message: e instanceof Error ? e.message : String(e) }, []);
      }
      return;
    }
    const { id, mode, wrt, output, independent } = msg;
    try {
      if (!model) throw new Error('the helper thread has no model');
      const inputs = new Map(msg.inputs);
      if (mode === 'forward') {
        const { y, yShape } = model.forward(inputs, { wrt, output });
        post({ type: 'done', id, y, yShape }, [y.buffer as ArrayBuffer]);
        return;
      }
      const run = model.prepare(inputs, { wrt, output, independent });
      model.samples(run, 0, run.B);
      const { y, yShape, J } = run.result();
      post({ type: 'done', id, y, yShape, J: J! }, [y.buffer as ArrayBuffer, J!.buffer as ArrayBuffer]);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      post({ type: 'failed', id, message, shape: e instanceof ShapeError }, []);
    }
  };
}
