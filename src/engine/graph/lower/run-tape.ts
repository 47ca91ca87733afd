/**
 * Runs a tape (tape.ts) in float64 on the CPU: the reference semantics of the lowered program, which
 * the lowering checks itself against (a tape must give what the graph engine gives) and which the
 * WebGPU tape runner is tested against.
 */
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

function runContract(r: ContractRec, bufs: Float64Array[]): void {
  const outDims: number[] = [];
  const sumDims: number[] = [];
  r.shape.forEach((d, i) => (r.out.strides[i] === 0 && d > 1 ? sumDims : outDims).push(i));
  const sub = (a: Access, dims: number[], offset: number): Access => ({
    buf: a.buf,
    strides: dims.map((i) => a.strides[i]),
    offset,
  });
  const A = bufs[r.a.buf];
  const B = bufs[r.b.buf];
  const O = bufs[r.out.buf];
  const { scale, accumulate } = r;
  // The summed dimensions as one loop over their flattened index: offsets into a and b precomputed.
  const sumShape = sumDims.map((i) => r.shape[i]);
  const count = sumShape.reduce((x, y) => x * y, 1);
  const offA = new Int32Array(count);
  const offB = new Int32Array(count);
  let k = 0;
  odometer(sumShape, [sub(r.a, sumDims, 0), sub(r.b, sumDims, 0)], (o) => {
    offA[k] = o[0];
    offB[k++] = o[1];
  });
  const outShape = outDims.map((i) => r.shape[i]);
  const ep = r.epilogue;
  const f = ep ? compileExpr(ep.expr) : null;
  const E = ep ? ep.ins.map((a) => bufs[a.buf]) : [];
  const vals = new Float64Array(1 + E.length);
  odometer(
    outShape,
    [
      sub(r.a, outDims, r.a.offset),
      sub(r.b, outDims, r.b.offset),
      sub(r.out, outDims, r.out.offset),
      ...(ep ? ep.ins.map((a) => sub(a, outDims, a.offset)) : []),
    ],
    (offs) => {
      const ia = offs[0];
      const ib = offs[1];
      let acc = 0;
      for (let j = 0; j < count; j++) acc += A[ia + offA[j]] * B[ib + offB[j]];
      const io = offs[2];
      const v = accumulate ? O[io] + scale * acc : scale * acc;
      if (!f) {
        O[io] = v;
        return;
      }
      vals[0] = v;
      for (let k = 0; k < E.length; k++) vals[k + 1] = E[k][offs[3 + k]];
      O[io] = f(vals);
    },
  );
}
