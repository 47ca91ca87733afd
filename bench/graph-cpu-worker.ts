/**
 * One helper thread of bench/graph-gpu-bench.ts's "CPU, all cores" column: the graph engine's
 * GraphModel (float64, the CPU backend of TorchScript models) on its share of the batch. The engine
 * has no multi-threaded path for graph models (src/engine/backends/cpu/parallel-backend.ts is
 * fno1d-scalar's), so the bench splits the batch over these threads itself.
 *
 * Messages: workerData { graphBench: true, bytes, file } (the archive); in: { id, inputs: [name, shape, data][], wrt,
 * output, blocks }, out: { id, J, y } (float64, transferred) or { id, error }. With `blocks`, the
 * samples run as GraphModel.evaluate runs them (JACOBIAN_RUN independent samples per program run);
 * without, one sample per program run (GraphModel.sample): the same J, and for large per-sample
 * tangents (the scaled attention: [P,H,T+1,T+1]) a quarter of the memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { enableRelaxedSimd } from '../bin/node-flags.mjs';
import { RULES } from '../src/engine/graph/table';
import { GraphModel, type GraphResult, type InputArray } from '../src/engine/models/graph-model';
import { readTorchScript } from '../src/engine/torchscript/archive';
import { graphHost } from '../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../src/engine/torchscript/program';

export interface WorkerRun {
  id: number;
  inputs: [string, number[], Float64Array][];
  wrt: string;
  output?: number;
  blocks: boolean;
}
export type WorkerReply = { id: number; J: Float64Array; y: Float64Array } | { id: number; error: string };

/** J of every sample, one sample per program run. */
export function oneByOne(
  model: GraphModel,
  inputs: ReadonlyMap<string, InputArray>,
  opts: { wrt: string; output?: number },
): GraphResult {
  const run = model.prepare(inputs, opts);
  for (let b = 0; b < run.B; b++) model.sample(run, b);
  return run.result();
}

// A thread of the bench (graph-gpu-bench.ts imports oneByOne from here too, on its own thread).
if (parentPort && (workerData as { graphBench?: boolean } | null)?.graphBench) {
  enableRelaxedSimd();
  const { bytes, file } = workerData as { bytes: Uint8Array; file: string };
  const model = new GraphModel(torchScriptProgram(readTorchScript(bytes, file)), graphHost, RULES);
  const port = parentPort;
  port.on('message', (m: WorkerRun) => {
    try {
      const inputs = new Map<string, InputArray>(m.inputs.map(([k, shape, data]) => [k, { shape, data }]));
      const opts = { wrt: m.wrt, output: m.output };
      const r = m.blocks ? model.evaluate(inputs, opts) : oneByOne(model, inputs, opts);
      const reply: WorkerReply = { id: m.id, J: r.J!, y: r.y };
      port.postMessage(reply, [r.J!.buffer as ArrayBuffer, r.y.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ id: m.id, error: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
    }
  });
  port.postMessage({ id: -1, ready: true });
}
