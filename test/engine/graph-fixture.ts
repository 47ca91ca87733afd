/**
 * The committed TorchScript fixtures (test/fixtures/graph/NAME: model.pt, meta.json, each tensor
 * argument's .npy, PyTorch's float64 y_f64.npy and J_f64.npy), opened as the engine opens them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RULES } from '../../src/engine/graph/table';
import { readNpy } from '../../src/engine/io/npy';
import { GraphModel, type InputArray } from '../../src/engine/models/graph-model';
import { readTorchScript } from '../../src/engine/torchscript/archive';
import { graphHost } from '../../src/engine/torchscript/graph-host';
import { torchScriptProgram } from '../../src/engine/torchscript/program';
import type { HostTensor } from '../../src/engine/tensor';

export const GRAPH_ROOT = fileURLToPath(new URL('../fixtures/graph/', import.meta.url));
/** Every fixture's name. */
export const GRAPH_CASES = readdirSync(GRAPH_ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

/** An .npy of fixture `name`. */
export function graphNpy(name: string, file: string): HostTensor {
  return readNpy(new Uint8Array(readFileSync(`${GRAPH_ROOT}${name}/${file}`)), file);
}

/** A GraphModel of an archive's bytes. */
export function graphModelOf(bytes: Uint8Array, file = 'model.pt'): GraphModel {
  return new GraphModel(torchScriptProgram(readTorchScript(bytes, file)), graphHost, RULES);
}

export interface GraphFixture {
  dir: string;
  meta: Record<string, unknown> & { wrt: string; kind?: string };
  /** model.pt's bytes (helper threads open them again). */
  bytes: Uint8Array;
  model: GraphModel;
  /** Each tensor argument's data, by name. */
  inputs: Map<string, InputArray>;
  /** The tuple element that is y, when the fixture names one. */
  output?: number;
}

export function loadGraphFixture(name: string): GraphFixture {
  const dir = GRAPH_ROOT + name;
  const meta = JSON.parse(readFileSync(`${dir}/meta.json`, 'utf8'));
  const bytes = new Uint8Array(readFileSync(`${dir}/model.pt`));
  const model = graphModelOf(bytes);
  const inputs = new Map<string, InputArray>();
  for (const arg of model.tensorArgs()) {
    const t = graphNpy(name, `${arg}.npy`);
    inputs.set(arg, { shape: t.shape, data: t.data });
  }
  const output = typeof meta.output_index === 'number' ? meta.output_index : undefined;
  return { dir, meta, bytes, model, inputs, output };
}
