/**
 * Runs a tape (tape.ts) in float64 on the CPU: the reference semantics of the lowered program, which
 * the lowering checks itself against (a tape must give what the graph engine gives) and which the
 * WebGPU tape runner is tested against.
 */
import { contract } from '../kernels/contract';
import { GTensor } from '../tensor';
import { compileExpr } from './expr';
import type { Access, ContractRec, EwiseRec, Tape } from './tape';

/** The values a run starts from: inputs by name ([n, ...] row-major) and, for Jacobians, P. */
export interface TapeInputs {
  readonly inputs: ReadonlyMap<string, Float64Array>;
  /** Samples in the batch (the seed is [P, n, P]). */
  readonly n: number;
  readonly P: number;
}

/** Run `tape`; returns the output buffers (y, and J when the tape has one). */
export function runTape(tape: Tape, io: TapeInputs): { y: Float64Array; J: Float64Array | null } {
  const bufs = tape.bufs.map((b) => {
    const init = b.init;
    switch (init.k) {
      case 'const':
        return init.data.slice();
      case 'input': {
        const v = io.inputs.get(init.name);
        if (!v || v.length !== b.len) throw new Error(`internal: input ${init.name} needs ${b.len} values`);
        return Float64Array.from(v);
      }
      case 'seed': {
        const { n, P } = io;
        if (b.len !== P * n * P) throw new Error('internal: the seed is not [P, n, P]');
        const eye = new Float64Array(b.len);
        for (let k = 0; k < P; k++) for (let s = 0; s < n; s++) eye[(k * n + s) * P + k] = 1;
        return eye;
      }
      default:
        return new Float64Array(b.len);
    }
  });
  for (const r of tape.recs) {
    if (r.kind === 'ewise') runEwise(r, bufs);
    else runContract(r, bufs);
  }
  return { y: bufs[tape.y], J: tape.J === null ? null : bufs[tape.J] };
}

/** Visit every index of `shape` (row-major), with each access's element offset. */
function odometer(
  shape: readonly number[],
  accs: readonly Access[],
  f: (offs: Int32Array | number[]) => void,
): void {
  const r = shape.length;
  if (shape.some((d) => d === 0)) return;
  const idx = new Array<number>(r).fill(0);
  const offs = accs.map((a) => a.offset);
  for (;;) {
    f(offs);
    let d = r - 1;
    for (; d >= 0; d--) {
      idx[d]++;
      for (let k = 0; k < accs.length; k++) offs[k] += accs[k].strides[d];
      if (idx[d] < shape[d]) break;
      for (let k = 0; k < accs.length; k++) offs[k] -= accs[k].strides[d] * shape[d];
      idx[d] = 0;
    }
    if (d < 0) return;
  }
}

function runEwise(r: EwiseRec, bufs: Float64Array[]): void {
  const fs = r.exprs.map(compileExpr);
  const ins = r.ins.map((a) => bufs[a.buf]);
  const outs = r.outs.map((a) => bufs[a.buf]);
  const nin = ins.length;
  const vals = new Float64Array(Math.max(nin, 1));
  const res = new Float64Array(outs.length);
  odometer(r.shape, [...r.ins, ...r.outs], (offs) => {
    for (let k = 0; k < nin; k++) vals[k] = ins[k][offs[k]];
    for (let j = 0; j < fs.length; j++) res[j] = fs[j](vals);
    for (let j = 0; j < outs.length; j++) outs[j][offs[nin + j]] = res[j];
  });
}

/**
 * A product through the engine's own product kernel (kernels/contract.ts: GEMMs in WebAssembly),
 * every dimension a label, the summed ones those the output has stride 0 along; then the
 * epilogue, element by element over the output.
 */
function runContract(r: ContractRec, bufs: Float64Array[]): void {
  const labels = r.shape.map((_, d) => d);
  const outDims = labels.filter((d) => r.out.strides[d] !== 0 || r.shape[d] === 1);
  const view = (a: Access, dims: number[]) =>
    new GTensor(
      dims.map((d) => r.shape[d]),
      dims.map((d) => a.strides[d]),
      a.offset,
      bufs[a.buf],
      null,
      'float',
    );
  const a = { t: view(r.a, labels), labels };
  const b = { t: view(r.b, labels), labels };
  const out = view(r.out, outDims);
  const ep = r.epilogue;
  if (!ep) {
    contract(a, b, outDims, { out, accumulate: r.accumulate, scale: r.scale });
    return;
  }
  const v = contract(a, b, outDims, { scale: r.scale });
  const f = compileExpr(ep.expr);
  const E = ep.ins.map((e) => bufs[e.buf]);
  const O = bufs[r.out.buf];
  const vals = new Float64Array(1 + E.length);
  const at = (x: Access | { strides: readonly number[]; offset: number }, dims: number[]) => ({
    buf: 0,
    strides: dims.map((d) => x.strides[d]),
    offset: x.offset,
  });
  const outShape = outDims.map((d) => r.shape[d]);
  const vv = v.re;
  odometer(
    outShape,
    [
      { buf: 0, strides: v.strides, offset: v.offset },
      at(r.out, outDims),
      ...ep.ins.map((e) => at(e, outDims)),
    ],
    (offs) => {
      const io = offs[1];
      vals[0] = r.accumulate ? O[io] + vv[offs[0]] : vv[offs[0]];
      for (let k = 0; k < E.length; k++) vals[k + 1] = E[k][offs[2 + k]];
      O[io] = f(vals);
    },
  );
}
