/** The session's result of a computed combination: what the panels say about the model, the data and the run. */
import { defaultNames } from '../lib/axes';
import type { JArray } from '../lib/j-array';
import { pRanges } from '../lib/p-range';
import type { PRange } from '../lib/p-range';
import { computeSummary } from '../lib/summary';
import type { Summary } from '../lib/summary';
import type { Combination } from './fit';
import { graphInfo } from './graph-run';
import type { Evaluation } from './graph-run';
import type { JMemory } from '../lib/memory-budget';
import type { SampleSource } from './sample-source';
import type { BackendWant, DataInfo, ModelInfo, ResultMeta } from './protocol';

export interface ComputedResult {
  model: ModelInfo;
  data: DataInfo;
  meta: ResultMeta;
  J: JArray;
  y: Float64Array;
  /** p [B,P] as loaded, and the what-if sliders' ranges. */
  p: Float64Array;
  pRanges: PRange[];
  /** [B,O,P]; in sample mode [1,O,P], of sample `sampleB`. */
  summary: Summary;
  /**
   * Sample mode (J for every sample over the memory budget): the samples' y and J on demand, and which
   * sample J and y above hold ([T,O,P] and [T,O]). Null when J [B,T,O,P] and y [B,T,O] are whole.
   */
  sample: SampleSource | null;
  sampleB: number | null;
}

function modelInfo(c: Combination, ev: Evaluation): ModelInfo {
  const m = c.model;
  if (m.kind === 'graph') {
    const g = m.graph;
    return {
      file: m.parsed.file,
      format: m.parsed.format,
      architecture: `module ${g.rootType}`,
      config: {},
      origin: {},
      notes: g.notes,
      params: { real: g.parameters.real + g.buffers.real, complex: g.parameters.complex + g.buffers.complex },
      tensorCount: m.parsed.tensorCount,
      graph: graphInfo(m, c.x, c.p, ev.yShape),
    };
  }
  return {
    file: m.parsed.file,
    format: m.parsed.format,
    architecture: m.rec.architecture,
    config: m.rec.config,
    origin: m.rec.origin,
    notes: m.rec.notes,
    params: m.net.parameterCount(),
    tensorCount: m.parsed.tensorCount,
    configFile: m.configFile,
  };
}

export function buildResult(
  c: Combination,
  ev: Evaluation,
  opts: {
    want: BackendWant;
    seq: number;
    checkNotes: string[];
    memory: JMemory;
    /** Sample mode: where the samples come from; ev holds sample 0. */
    sample?: SampleSource;
  },
): ComputedResult {
  const [B, P] = c.p.tensor.shape;
  const { T, O } = ev;
  const xShape = c.x ? c.x.tensor.shape.slice() : null;
  const Xf = xShape && xShape.length > 1 ? xShape[xShape.length - 1] : 0;
  const dims = { B, T, O, P };
  const pNames = c.p.names && c.p.names.length === P ? c.p.names : defaultNames('p', P);
  const xNames = c.x?.names && c.x.names.length === Xf ? c.x.names : defaultNames('x', Xf);
  const data: DataInfo = {
    xFile: c.x?.file ?? '',
    pFile: c.p.file,
    xShape,
    B,
    T,
    Xf,
    P,
    xDtype: c.x?.tensor.dtype ?? '',
    pDtype: c.p.tensor.dtype,
    xNames,
    pNames,
    notes: [...new Set([...(c.x?.notes ?? []), ...(c.p.notes ?? []), ...opts.checkNotes])],
    memory: opts.memory,
  };
  const meta: ResultMeta = {
    B,
    T,
    O,
    P,
    yShape: ev.yShape.slice(),
    timeAxis: ev.timeAxis,
    backend: ev.backend.description,
    backendKind: ev.backend.kind,
    backendWant: opts.want,
    backendNote: ev.backend.note,
    ms: ev.ms,
    setupMs: ev.setupMs,
    yNames: defaultNames('y', O),
    pNames,
    seq: opts.seq,
  };
  return {
    model: modelInfo(c, ev),
    data,
    meta,
    J: ev.J,
    y: ev.y,
    p: c.p.tensor.data,
    pRanges: pRanges(c.p.tensor.data, B, P),
    summary: computeSummary(ev.J, opts.sample ? { ...dims, B: 1 } : dims),
    sample: opts.sample ?? null,
    sampleB: opts.sample ? 0 : null,
  };
}
