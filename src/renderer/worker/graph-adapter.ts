/**
 * TorchScript models behind the session's GraphNet interface: the engine's GraphModel (the graph engine, on the
 * CPU in float64; on WebGPU through graph-backend.ts) with the archive's description. A file is a graph model
 * only when it is a TorchScript archive (code/ and constants.pkl in the zip); bare weights stay with fno1d-scalar
 * recognition.
 */
import { GraphModel, LoadError, openModel, readNpy, shapeString } from '../../engine';
import type { TorchScriptModel } from '../../engine';
import { RULES } from '../../engine/graph/table';
import { isTorchScriptFile } from '../../engine/models/open-model';
import { graphHost } from '../../engine/torchscript/graph-host';
import type { DataParts, EngineModel, GraphNet, GraphRoles, ParsedModel } from './engine-contract';
import { selectGraphBackend } from './graph-backend';
import { CpuGraph, evaluateOnCpu, inputsFor, type ThreadOptions } from './graph-cpu';

/** Ops whose derivative jumps somewhere: the derivative check then takes one small step (see explore.ts). */
const KINKED =
  /^aten::(relu6?|leaky_relu|rrelu|prelu|hardtanh|hardswish|hardsigmoid|threshold|abs|sign|sgn|clamp\w*|clip|max|min|maximum|minimum|fmax|fmin|amax|amin|floor|ceil|round|trunc|frac|fmod|remainder|where|max_pool\w*|adaptive_max_pool\w*|topk|sort|argsort|median|gather)_?$/;

export function hasKinks(ops: readonly { op: string }[]): boolean {
  return ops.some((o) => KINKED.test(o.op));
}

/** The explore tools' model: the same GraphModel, a batch of samples per call. */
function engineModel(model: GraphModel, roles: GraphRoles, params: { real: number; complex: number }) {
  const opts = { wrt: roles.wrt };
  const m: EngineModel = {
    parameterCount: () => params,
    forward: (x, p, B) => model.forward(inputsFor(roles, x, p, B), opts).y,
    jacobian: (x, p, B) => model.evaluate(inputsFor(roles, x, p, B), opts).J!,
    evaluate: (x, p, B, _T, out) => {
      const r = model.evaluate(inputsFor(roles, x, p, B), opts);
      if (!out || out.y.length !== r.y.length || out.J.length !== r.J!.length) return { y: r.y, J: r.J! };
      out.y.set(r.y);
      out.J.set(r.J!);
      return out;
    },
    jacobianAsync: async (x, p, B, _T, hooks) =>
      (await model.evaluateAsync(inputsFor(roles, x, p, B), { ...opts, ...hooks })).J!,
  };
  return m;
}

/** `gpu`: the WebGPU to offer when a backend is chosen (asked then, as the worker's navigator may have none). */
function graphNet(
  m: TorchScriptModel,
  bytes: Uint8Array,
  gpu: () => GPU | null,
  threads: ThreadOptions,
): GraphNet {
  const model = new GraphModel(m.program, graphHost, RULES);
  const d = m.description;
  const tensorArgs = model.tensorArgs();
  if (tensorArgs.length === 0)
    throw new LoadError(m.file, 'its forward takes no tensor argument, so there is nothing to differentiate');
  const params = {
    real: d.parameters.real + d.buffers.real,
    complex: d.parameters.complex + d.buffers.complex,
  };
  return {
    kind: d.kind,
    kindReason: d.kindReason,
    rootType: d.rootType,
    args: d.forward?.params ?? model.program.signature.map((a) => ({ name: a.name, type: a.type })),
    returns: d.forward?.returns ?? 'Tensor',
    tensorArgs,
    ops: d.ops,
    parameters: d.parameters,
    buffers: d.buffers,
    modules: d.modules,
    kinked: hasKinks(d.ops),
    notes: [...m.archive.notes],
    evaluate: async (roles, x, p, hooks) => {
      const r = await evaluateOnCpu(
        new CpuGraph(model, null),
        inputsFor(roles, x, p.data, p.shape[0]),
        roles.wrt,
        hooks,
      );
      return { y: r.y, yShape: r.yShape, J: r.J };
    },
    engineModel: (roles) => engineModel(model, roles, params),
    // Each backend has its own CPU side (its helper threads go with it when the choice or the model changes).
    selectBackend: (want) =>
      selectGraphBackend(
        new CpuGraph(model, { bytes, file: m.file }, threads),
        want,
        want === 'cpu' ? null : gpu(),
      ),
  };
}

/** The model in `bytes` when it is a TorchScript archive (null otherwise: read it as weights). */
export function readGraphModel(
  bytes: Uint8Array,
  file: string,
  gpu: () => GPU | null,
  threads: ThreadOptions = { count: 1 },
): ParsedModel | null {
  if (!isTorchScriptFile(bytes, file)) return null;
  const m = openModel(bytes, file);
  if (m.kind !== 'torchscript') return null;
  const graph = graphNet(m, bytes, gpu, threads);
  return {
    file,
    format: 'TorchScript archive',
    tensorCount: graph.parameters.tensors + graph.buffers.tensors,
    raw: m,
    graph,
  };
}

/**
 * An .npy named like x (x.npy, x_test.npy) that is not 3-D: a 2-D array is one sample x [1,T,Xf] for
 * fno1d-scalar and x [B,F] as it is for a graph model; 4-D and up is x as it is (a graph model's input).
 * Null for anything the usual data reader settles (3-D, 1-D, a single number).
 */
export function readXArray(bytes: Uint8Array, file: string): DataParts | null {
  const t = readNpy(bytes, file);
  const s = t.shape;
  if (s.length === 3 || s.length < 2) return null;
  if (t.imag) throw new LoadError(file, `holds complex numbers (${t.dtype}); x must be real`);
  const real = { dtype: t.dtype, shape: s.slice(), data: t.data };
  if (s.length > 3)
    return {
      x: real,
      notes: [`${file}: read as x ${shapeString(s)} (from its name); fno1d-scalar takes x [B,T,Xf]`],
    };
  return {
    x: { ...real, shape: [1, s[0], s[1]] },
    xAsFiled: real,
    notes: [
      `${file}: ${shapeString(s)} read as x (from its name): one sample [1,${s[0]},${s[1]}] for fno1d-scalar, [B,F] as it is for a TorchScript model`,
    ],
  };
}
