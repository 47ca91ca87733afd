// The WebGPU tape runner (backends/webgpu/tape-runner.ts) against the float64 reference (graph/lower/run-tape.ts)
// on hand-built tapes, on the adapter Dawn finds (SwiftShader here): every expression function on its domain
// (large arguments included), broadcast, offset and permuted views, several outputs, in-place records, a
// constant that a record overwrites, contractions of every shape, a seeded Jacobian, short chunks, and the
// errors create() gives for what a device cannot hold.
import { afterAll, describe, expect, it } from 'vitest';
import { WebGpuContext } from '../../../src/engine/backends/webgpu/context';
import { TapeRunner, type TapeRunnerOptions } from '../../../src/engine/backends/webgpu/tape-runner';
import { gemmDims, gemmWorthTiling } from '../../../src/engine/backends/webgpu/tape-wgsl-gemm';
import {
  canonicalise,
  contractKernel,
  contractShape,
  ewiseKernel,
} from '../../../src/engine/backends/webgpu/tape-wgsl-kernels';
import { E, UNARY_FNS, type BinaryFn, type Expr, type UnaryFn } from '../../../src/engine/graph/lower/expr';
import { runTape } from '../../../src/engine/graph/lower/run-tape';
import type { Access, BufInfo, BufInit, Rec, Tape } from '../../../src/engine/graph/lower/tape';
import { randn, relErr, rng } from '../helpers';
import { nodeGpuWithAdapter } from '../webgpu-node';

const probe = await nodeGpuWithAdapter();
const context = 'gpu' in probe ? await WebGpuContext.create(probe.gpu) : null;
if (!context)
  console.warn(
    `[webgpu-tape.test] WebGPU tape tests did not run: ${'reason' in probe ? probe.reason : 'no adapter'}`,
  );
afterAll(() => context?.destroy());

/** A tape being written by hand. */
class Builder {
  readonly bufs: BufInfo[] = [];
  readonly recs: Rec[] = [];

  buf(len: number, init: BufInit = { k: 'zero' }): number {
    this.bufs.push({ len, init, op: `buf${this.bufs.length}` });
    return this.bufs.length - 1;
  }
  input(name: string, len: number): number {
    return this.buf(len, { k: 'input', name });
  }
  const(data: Float64Array): number {
    return this.buf(data.length, { k: 'const', data });
  }
  output(name: 'y' | 'J', len: number): number {
    return this.buf(len, { k: 'output', name });
  }
  ewise(shape: number[], ins: Access[], outs: Access[], exprs: Expr[]): void {
    this.recs.push({ kind: 'ewise', op: 'test', shape, ins, outs, exprs });
  }
  contract(shape: number[], a: Access, b: Access, out: Access, scale = 1, accumulate = false): void {
    this.recs.push({ kind: 'contract', op: 'test', shape, a, b, out, scale, accumulate });
  }
  tape(y: number, J: number | null = null): Tape {
    return { bufs: this.bufs, recs: this.recs, y, J };
  }
}

const view = (buf: number, strides: number[], offset = 0): Access => ({ buf, strides, offset });

/** Row-major strides of `shape`. */
function dense(shape: number[]): number[] {
  const s = shape.map(() => 1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

/** Values uniform on [lo, hi], rounded to f32 (so that the runner's upload changes nothing). */
function uniform(r: () => number, len: number, lo: number, hi: number): Float64Array {
  return Float64Array.from({ length: len }, () => Math.fround(lo + (hi - lo) * r()));
}
function logUniform(r: () => number, len: number, lo: number, hi: number): Float64Array {
  return uniform(r, len, Math.log(lo), Math.log(hi)).map((v) => Math.fround(Math.exp(v)));
}
const f32 = (a: Float64Array) => a.map(Math.fround);

interface Check {
  n: number;
  P?: number;
  inputs: Record<string, Float64Array>;
  /** Samples actually given (the rest of the chunk zero-padded). */
  samples?: number;
  /** Runs of the same runner (each must give the reference). */
  runs?: number;
  tol?: number;
  gemm?: TapeRunnerOptions['gemm'];
}

/** Run `tape` on the GPU and in float64; expect y (and J) within `tol` of the reference. */
async function check(tape: Tape, c: Check): Promise<{ y: Float64Array; err: number }> {
  const ctx = context!;
  const { n, P = 1 } = c;
  const samples = c.samples ?? n;
  const runner = await TapeRunner.create(ctx, tape, n, P, { gemm: c.gemm });
  try {
    const padded = new Map<string, Float64Array>();
    const given = new Map<string, Float64Array>();
    for (const [name, v] of Object.entries(c.inputs)) {
      const part = v.slice(0, (v.length / n) * samples);
      given.set(name, part);
      const full = new Float64Array(v.length);
      full.set(part);
      padded.set(name, full);
    }
    const ref = runTape(tape, { inputs: padded, n, P });
    const yLen = (tape.bufs[tape.y].len / n) * samples;
    const jLen = tape.J === null ? 0 : (tape.bufs[tape.J].len / n) * samples;
    let err = 0;
    let y = new Float64Array(0);
    for (let k = 0; k < (c.runs ?? 1); k++) {
      y = new Float64Array(yLen).fill(NaN);
      const J = new Float32Array(jLen).fill(NaN);
      await runner.run(given, { y, J }, samples);
      for (const [got, want] of [
        [y, ref.y.subarray(0, yLen)],
        [J, (ref.J ?? new Float64Array(0)).subarray(0, jLen)],
      ] as const) {
        expect(got.every(Number.isFinite)).toBe(true);
        err = Math.max(err, relErr(got, want));
      }
    }
    expect(err).toBeLessThan(c.tol ?? 1e-5);
    return { y, err };
  } finally {
    runner.destroy();
  }
}

/** y = f(x) over [n, C], x from `gen`. */
async function checkUnary(f: UnaryFn, gen: (r: () => number, len: number) => Float64Array, seed = 1) {
  const n = 3;
  const C = 301;
  const b = new Builder();
  const x = b.input('x', n * C);
  const y = b.output('y', n * C);
  b.ewise([n, C], [view(x, [C, 1])], [view(y, [C, 1])], [E.un(f, E.in(0))]);
  return check(b.tape(y), { n, inputs: { x: gen(rng(seed), n * C) } });
}

type Gen = (r: () => number, len: number) => Float64Array;
const U =
  (lo: number, hi: number): Gen =>
  (r, len) =>
    uniform(r, len, lo, hi);
const LogU =
  (lo: number, hi: number): Gen =>
  (r, len) =>
    logUniform(r, len, lo, hi);

const UNARY: [UnaryFn, string, Gen][] = [
  ['neg', '[-10, 10]', U(-10, 10)],
  ['abs', '[-10, 10]', U(-10, 10)],
  ['exp', '[-10, 10]', U(-10, 10)],
  ['exp', '[-1e-3, 1e-3]', U(-1e-3, 1e-3)],
  ['expm1', '[-10, 5]', U(-10, 5)],
  ['expm1', '[-0.7, 0.7]', U(-0.7, 0.7)],
  ['expm1', '[-1e-4, 1e-4]', U(-1e-4, 1e-4)],
  ['log', '[1e-3, 1e3]', LogU(1e-3, 1e3)],
  ['log', '[0.5, 2]', U(0.5, 2)],
  ['log1p', '[-0.99, 10]', U(-0.99, 10)],
  ['log1p', '[-0.5, 0.5]', U(-0.5, 0.5)],
  ['log1p', '[-1e-4, 1e-4]', U(-1e-4, 1e-4)],
  ['sqrt', '[0, 100]', U(0, 100)],
  ['rsqrt', '[1e-3, 1e3]', LogU(1e-3, 1e3)],
  ['sin', '[-30, 30]', U(-30, 30)],
  ['sin', '[-1e-3, 1e-3]', U(-1e-3, 1e-3)],
  ['cos', '[-30, 30]', U(-30, 30)],
  ['cos', '[1.5, 1.64]', U(1.5, 1.64)],
  ['tan', '[-1.4, 1.4]', U(-1.4, 1.4)],
  ['atan', '[-50, 50]', U(-50, 50)],
  ['log2', '[1e-3, 1e3]', LogU(1e-3, 1e3)],
  ['log10', '[1e-3, 1e3]', LogU(1e-3, 1e3)],
  ['tanh', '[-100, 100]', U(-100, 100)],
  ['tanh', '[-2, 2]', U(-2, 2)],
  ['tanh', '[-1e-3, 1e-3]', U(-1e-3, 1e-3)],
  ['dtanh', '[-100, 100]', U(-100, 100)],
  ['dtanh', '[-2, 2]', U(-2, 2)],
  ['sigmoid', '[-100, 100]', U(-100, 100)],
  ['sigmoid', '[-5, 5]', U(-5, 5)],
  ['sigmoid', '[-30, -10]', U(-30, -10)],
  ['gelu', '[-100, 100]', U(-100, 100)],
  ['gelu', '[-3, 3]', U(-3, 3)],
  ['gelu', '[-8, -3]', U(-8, -3)],
  ['dgelu', '[-100, 100]', U(-100, 100)],
  ['dgelu', '[-3, 3]', U(-3, 3)],
  ['erf', '[-100, 100]', U(-100, 100)],
  ['erf', '[-1.5, 1.5]', U(-1.5, 1.5)],
  ['erf', '[-1e-3, 1e-3]', U(-1e-3, 1e-3)],
  ['floor', '[-10, 10]', U(-10, 10)],
  ['ceil', '[-10, 10]', U(-10, 10)],
  ['trunc', '[-10, 10]', U(-10, 10)],
  ['sign', '[-3, 3] with zeros', (r, len) => U(-3, 3)(r, len).map((v, i) => (i % 7 === 0 ? 0 : v))],
  ['recip', '±[0.1, 10]', (r, len) => LogU(0.1, 10)(r, len).map((v, i) => (i % 2 ? -v : v))],
];

describe.skipIf(!context)('WebGPU tape runner: expressions', () => {
  it('tries every unary function of the language', () => {
    expect(new Set(UNARY.map(([f]) => f))).toEqual(new Set(UNARY_FNS));
  });

  it.each(UNARY)('%s on %s', async (f, _domain, gen) => {
    await checkUnary(f, gen);
  });

  /** z = f(x, y), both [n, C]. */
  async function checkBinary(e: Expr, x: Float64Array, y: Float64Array) {
    const n = 2;
    const C = x.length / n;
    const b = new Builder();
    const bx = b.input('x', n * C);
    const by = b.input('w', n * C);
    const out = b.output('y', n * C);
    b.ewise([n, C], [view(bx, [C, 1]), view(by, [C, 1])], [view(out, [C, 1])], [e]);
    return check(b.tape(out), { n, inputs: { x, w: y } });
  }
  const r = rng(7);
  const len = 2 * 257;
  const small = () => Float64Array.from({ length: len }, () => Math.floor(r() * 5) - 2);
  const BIN: [BinaryFn, Float64Array, Float64Array][] = [
    ['add', uniform(r, len, -5, 5), uniform(r, len, -5, 5)],
    ['sub', uniform(r, len, -5, 5), uniform(r, len, -5, 5)],
    ['mul', uniform(r, len, -5, 5), uniform(r, len, -5, 5)],
    ['div', uniform(r, len, -5, 5), logUniform(r, len, 0.5, 4).map((v, i) => (i % 2 ? v : -v))],
    ['max', uniform(r, len, -5, 5), uniform(r, len, -5, 5)],
    ['min', uniform(r, len, -5, 5), uniform(r, len, -5, 5)],
    ['pow', logUniform(r, len, 0.1, 10), uniform(r, len, -3, 3)],
    ['pow', uniform(r, len, -3, 3), small().map((v) => v + (v >= 0 ? 1 : 0))],
    ['gt', small(), small()],
    ['ge', small(), small()],
    ['lt', small(), small()],
    ['le', small(), small()],
    ['eq', small(), small()],
    ['ne', small(), small()],
  ];
  it.each(BIN.map(([f, x, y], k) => [f, k, x, y] as const))('%s (case %i)', async (f, _k, x, y) => {
    await checkBinary(E.bin(f, E.in(0), E.in(1)), x, y);
  });

  it.each([2, 3, 4, -1, -2, 0.5, -0.5, 1.7, 0])('pow with the constant exponent %d', async (k) => {
    const x = uniform(rng(3), 2 * 129, -4, 4).map((v) => (Number.isInteger(k) ? v : Math.abs(v) + 0.1));
    await checkBinary(E.bin('pow', E.in(0), E.c(k)), f32(x), new Float64Array(x.length));
  });

  it('select, constants (-0, 3e38, -∞) and shared subexpressions', async () => {
    const x = E.in(0);
    const w = E.in(1);
    const t = E.un('tanh', E.mul(x, w));
    const e = E.add(
      E.select(E.bin('gt', x, E.c(0)), E.mul(t, t), E.un('exp', x)),
      E.add(E.bin('max', t, E.c(-Infinity)), E.mul(E.c(-0), E.div(E.c(3e38), E.c(3e38)))),
    );
    const r2 = rng(11);
    await checkBinary(e, uniform(r2, 600, -3, 3), uniform(r2, 600, -2, 2));
  });
});

describe.skipIf(!context)('WebGPU tape runner: views and records', () => {
  it('broadcast inputs (stride 0 along a dimension, and along all of them)', async () => {
    const [n, C] = [5, 37];
    const r = rng(21);
    const b = new Builder();
    const x = b.input('x', n * C);
    const w = b.const(f32(randn(r, C)));
    const s = b.const(Float64Array.of(Math.fround(0.75)));
    const y = b.output('y', n * C);
    b.ewise(
      [n, C],
      [view(x, [C, 1]), view(w, [0, 1]), view(s, [0, 0])],
      [view(y, [C, 1])],
      [E.add(E.mul(E.in(0), E.in(1)), E.in(2))],
    );
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * C)) } });
  });

  it('offsets and permuted strides, on inputs and outputs', async () => {
    const n = 3;
    const r = rng(22);
    const b = new Builder();
    const x = b.input('x', n * 4 * 6); // [n, 4, 6]
    const c = b.const(f32(randn(r, 32))); // read as [6, 4] from offset 5, strides (1, 7)
    const y = b.output('y', n * 2 * 6 * 4); // [n, 2, 6, 4]: two halves, one record each
    const ins = [view(x, [24, 1, 6]), view(c, [0, 1, 7], 5)];
    b.ewise([n, 6, 4], ins, [view(y, [48, 4, 1])], [E.add(E.in(0), E.in(1))]);
    b.ewise([n, 6, 4], ins, [view(y, [48, 4, 1], 24)], [E.mul(E.in(0), E.in(1))]);
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * 24)) } });
  });

  it('several outputs of one record, an in-place record, rank 4', async () => {
    const n = 4;
    const shape = [n, 2, 3, 5];
    const len = 30 * n;
    const r = rng(23);
    const b = new Builder();
    const x = b.input('x', len);
    const t1 = b.buf(len);
    const t2 = b.buf(len);
    const y = b.output('y', len);
    const d = dense(shape);
    // t2 is written transposed ([n, 5, 3, 2]), so no dimensions merge.
    const tr = [30, 1, 2, 6];
    b.ewise(
      shape,
      [view(x, d)],
      [view(t1, d), view(t2, tr)],
      [E.un('tanh', E.in(0)), E.mul(E.in(0), E.in(0))],
    );
    b.ewise(shape, [view(t1, d), view(t2, tr)], [view(t1, d)], [E.add(E.mul(E.in(0), E.in(1)), E.c(1))]);
    b.ewise(shape, [view(t1, d), view(t2, tr)], [view(y, d)], [E.sub(E.in(0), E.in(1))]);
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, len)) } });
  });

  it('a constant that a record overwrites starts every run as uploaded', async () => {
    const [n, C] = [3, 17];
    const r = rng(24);
    const b = new Builder();
    const x = b.input('x', n * C);
    const c = b.const(f32(randn(r, C)));
    const y = b.output('y', n * C);
    b.ewise([C], [view(c, [1]), view(x, [1])], [view(c, [1])], [E.add(E.mul(E.in(0), E.c(2)), E.in(1))]);
    b.ewise([n, C], [view(x, [C, 1]), view(c, [0, 1])], [view(y, [C, 1])], [E.add(E.in(0), E.in(1))]);
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * C)) }, runs: 3 });
  });

  it('an empty record does nothing; every output starts at zero each run', async () => {
    const n = 2;
    const b = new Builder();
    const x = b.input('x', n * 3);
    const y = b.output('y', n * 4);
    b.ewise([n, 0, 3], [view(x, [3, 1, 1])], [view(y, [4, 1, 1])], [E.un('exp', E.in(0))]);
    b.ewise([n, 3], [view(x, [3, 1])], [view(y, [4, 1], 1)], [E.un('exp', E.in(0))]);
    await check(b.tape(y), { n, inputs: { x: f32(randn(rng(25), n * 3)) }, runs: 2 });
  });
});

describe.skipIf(!context)('WebGPU tape runner: contractions', () => {
  /** y [n, N] = scale · x [n, K] @ W [K, N] (+ y). */
  function matmul(
    b: Builder,
    x: number,
    W: number,
    y: number,
    n: number,
    K: number,
    N: number,
    scale = 1,
    acc = false,
  ) {
    b.contract([n, N, K], view(x, [K, 0, 1]), view(W, [0, 1, N]), view(y, [N, 1, 0]), scale, acc);
  }

  it('matmul accumulating into the zeroed output, then with a negative scale; run twice', async () => {
    const [n, K, N] = [37, 19, 23];
    const r = rng(31);
    const b = new Builder();
    const x = b.input('x', n * K);
    const W = b.const(f32(randn(r, K * N)));
    const W2 = b.const(f32(randn(r, K * N)));
    const y = b.output('y', n * N);
    matmul(b, x, W, y, n, K, N, 1, true);
    matmul(b, x, W2, y, n, K, N, -0.5, true);
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * K)) }, runs: 2 });
  });

  it('batched matmul with permuted strides in every view', async () => {
    const [n, K, M, N] = [6, 13, 9, 11];
    const r = rng(32);
    const b = new Builder();
    const x = b.input('x', n * K * M); // [n, K, M]
    const w = b.input('w', n * N * K); // [n, N, K]
    const y = b.output('y', n * N * M); // [n, N, M]
    // Dimensions (K, M, n, N).
    b.contract(
      [K, M, n, N],
      view(x, [M, 1, K * M, 0]),
      view(w, [1, 0, N * K, K]),
      view(y, [0, 1, N * M, M]),
      1.5,
    );
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * K * M)), w: f32(randn(r, n * N * K)) } });
  });

  it('a summed dimension broadcast in one operand (stride 0)', async () => {
    const [n, K, N] = [7, 29, 5];
    const r = rng(33);
    const b = new Builder();
    const x = b.input('x', n * K);
    const v = b.const(f32(randn(r, N)));
    const y = b.output('y', n * N);
    b.contract([n, N, K], view(x, [K, 0, 1]), view(v, [0, 1, 0]), view(y, [N, 1, 0]));
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * K)) } });
  });

  it('several summed dimensions, not adjacent', async () => {
    const [n, J, O, K] = [5, 7, 3, 11];
    const r = rng(34);
    const b = new Builder();
    const x = b.input('x', n * J * K);
    const W = b.const(f32(randn(r, J * O * K)));
    const y = b.output('y', n * O);
    b.contract([n, J, O, K], view(x, [J * K, K, 0, 1]), view(W, [0, O * K, K, 1]), view(y, [O, 0, 1, 0]));
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * J * K)) } });
  });

  it('a sum of squares (a and b one buffer) and an outer product (nothing summed), at offsets', async () => {
    const [n, K] = [9, 31];
    const r = rng(35);
    const b = new Builder();
    const x = b.input('x', n * K);
    const y = b.output('y', n * (1 + K * 2)); // per sample: the sum, then [K, 2]
    const u = b.const(Float64Array.of(1.5, -2));
    b.contract([n, K], view(x, [K, 1]), view(x, [K, 1]), view(y, [1 + 2 * K, 0]));
    b.contract([n, K, 2], view(x, [K, 1, 0]), view(u, [0, 0, 1]), view(y, [1 + 2 * K, 2, 1], 1));
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * K)) } });
  });

  it.each(['generic', 'tiled'] as const)('a GEMM-shaped product 1000×64×64, %s kernel', async (gemm) => {
    const [n, K, N] = [1000, 64, 64];
    const r = rng(36);
    const b = new Builder();
    const x = b.input('x', n * K);
    const W = b.const(f32(randn(r, K * N)));
    const y = b.output('y', n * N);
    matmul(b, x, W, y, n, K, N);
    await check(b.tape(y), { n, inputs: { x: f32(randn(r, n * K)) }, gemm });
  });

  // An epilogue (a bias broadcast over rows, an activation, a second input at the output's element)
  // stored by either kernel, with accumulation, in a batched product.
  it.each(['generic', 'tiled'] as const)('a product with an epilogue, %s kernel', async (gemm) => {
    const [nb, M, K, N] = [2, 70, 33, 66];
    const r = rng(41);
    const b = new Builder();
    const x = b.input('x', nb * M * K);
    const W = b.const(f32(randn(r, K * N)));
    const bias = b.const(f32(randn(r, N)));
    const g = b.input('g', nb * M * N);
    const y = b.output('y', nb * M * N);
    const out = view(y, [M * N, N, 1, 0]);
    b.contract([nb, M, N, K], view(x, [M * K, K, 0, 1]), view(W, [0, 0, 1, N]), out, 0.5);
    b.recs.push({
      kind: 'contract',
      op: 'test',
      shape: [nb, M, N, K],
      a: view(x, [M * K, K, 0, 1]),
      b: view(W, [0, 0, 1, N]),
      out,
      scale: 2,
      accumulate: true,
      epilogue: {
        ins: [view(bias, [0, 0, 1, 0]), view(g, [M * N, N, 1, 0])],
        expr: E.mul(E.un('tanh', E.add(E.in(0), E.in(1))), E.in(2)),
      },
    });
    await check(b.tape(y), {
      n: nb,
      inputs: { x: f32(randn(r, nb * M * K)), g: f32(randn(r, nb * M * N)) },
      gemm,
    });
  });

  // The tiled kernel at the edges of its 64×64 tiles and 16-deep k steps, each staging order
  // (a k-fast or m-fast, b k-fast or n-fast), with a batch, offsets, scale and accumulation.
  const TILED: [M: number, K: number, N: number, aKFast: boolean, bKFast: boolean, batch: number][] = [
    [5, 7, 3, true, false, 1],
    [64, 16, 64, true, false, 1],
    [65, 17, 65, false, true, 1],
    [130, 33, 15, true, true, 3],
    [47, 100, 129, false, false, 2],
  ];
  it.each(TILED)(
    'tiled GEMM %i×%i×%i (a k-fast %s, b k-fast %s, batch %i)',
    async (M, K, N, akf, bkf, nb) => {
      const r = rng(M * 7 + K * 5 + N);
      const b = new Builder();
      // a [nb, M, K] or [nb, K, M]; b [nb, N, K] or [nb, K, N] and y [nb, N, M], both after padding.
      const a = b.input('a', nb * M * K);
      const w = b.input('w', nb * (K * N + 3));
      const y = b.output('y', nb * (N * M + 2));
      const aS = akf ? [M * K, K, 1] : [M * K, 1, M]; // strides of (batch, m, k)
      const bS = bkf ? [K * N, K, 1] : [K * N, 1, N]; // (batch, n, k)
      // Dimensions (m, batch, k, n).
      const shape = [M, nb, K, N];
      const av = view(a, [aS[1], aS[0], aS[2], 0]);
      const bv = view(w, [0, bS[0], bS[2], bS[1]], 3);
      const ov = view(y, [1, N * M, 0, M], 2);
      b.contract(shape, av, bv, ov, 0.75);
      b.contract(shape, av, bv, ov, -2, true);
      const tape = b.tape(y);
      const rec = tape.recs[0];
      const cs = rec.kind === 'contract' ? contractShape(rec) : null;
      expect(cs && gemmDims(cs)).not.toBeNull();
      const inputs = { a: f32(randn(r, nb * M * K)), w: f32(randn(r, nb * (K * N + 3))) };
      await check(tape, { n: nb, inputs, gemm: 'tiled', runs: 2 });
    },
  );
});

describe.skipIf(!context)('WebGPU tape runner: Jacobians, chunks, limits', () => {
  /** y = tanh(x W), J = ∂y/∂x by forward mode from the seed: x [n, P], W [P, C]. */
  function jacobianTape(n: number, P: number, C: number, W: Float64Array): Tape {
    const b = new Builder();
    const x = b.input('x', n * P);
    const w = b.const(W);
    const sd = b.buf(P * n * P, { k: 'seed' });
    const h = b.buf(n * C);
    const dh = b.buf(P * n * C); // [P, n, C]
    const y = b.output('y', n * C);
    const J = b.output('J', n * C * P); // [n, C, P]
    b.contract([n, C, P], view(x, [P, 0, 1]), view(w, [0, 1, C]), view(h, [C, 1, 0]));
    b.ewise([n, C], [view(h, [C, 1])], [view(y, [C, 1])], [E.un('tanh', E.in(0))]);
    // Dimensions (k, s, c, p): dh[k, s, c] = Σ_p seed[k, s, p] W[p, c].
    b.contract([P, n, C, P], view(sd, [n * P, P, 0, 1]), view(w, [0, 0, 1, C]), view(dh, [n * C, C, 1, 0]));
    // Dimensions (s, c, k): J[s, c, k] = dtanh(h[s, c]) · dh[k, s, c].
    b.ewise(
      [n, C, P],
      [view(h, [C, 1, 0]), view(dh, [C, 1, n * C])],
      [view(J, [C * P, P, 1])],
      [E.mul(E.un('dtanh', E.in(0)), E.in(1))],
    );
    return b.tape(y, J);
  }

  it('a seeded Jacobian, whole and short chunks', async () => {
    const [n, P, C] = [8, 5, 12];
    const r = rng(41);
    const tape = jacobianTape(n, P, C, f32(randn(r, P * C, 0.5)));
    const x = f32(randn(r, n * P));
    await check(tape, { n, P, inputs: { x } });
    await check(tape, { n, P, inputs: { x }, samples: 3 });
    await check(tape, { n, P, inputs: { x }, samples: 0 });
  });

  it('short chunks are zero-padded: a run after a full one sees zeros, not the old values', async () => {
    const [n, C] = [6, 10];
    const b = new Builder();
    const x = b.input('x', n * C);
    const y = b.output('y', n * C);
    const s = b.output('J', n); // per-sample sums, over the whole chunk
    b.contract([n, C], view(x, [C, 1]), view(x, [0, 1]), view(s, [1, 0]));
    b.ewise([n, C], [view(x, [C, 1]), view(s, [0, 0], n - 1)], [view(y, [C, 1])], [E.add(E.in(0), E.in(1))]);
    const tape = b.tape(y, s);
    const ctx = context!;
    const runner = await TapeRunner.create(ctx, tape, n, 1);
    try {
      const x = f32(randn(rng(42), n * C));
      const out = new Float32Array(n * C);
      await runner.run(new Map([['x', x]]), { y: out });
      const short = x.slice(0, 2 * C);
      await runner.run(new Map([['x', short]]), { y: out }, 2);
      // y reads the last sample's sum, which must be the one of a zero-padded chunk.
      const padded = new Float64Array(n * C);
      padded.set(short);
      const ref = runTape(tape, { inputs: new Map([['x', padded]]), n, P: 1 }).y;
      expect(relErr(out.subarray(0, 2 * C), ref.subarray(0, 2 * C))).toBeLessThan(1e-5);
      await expect(runner.run(new Map([['x', short]]), { y: out }, 3)).rejects.toThrow(/samples of it are/);
      await expect(runner.run(new Map(), { y: out })).rejects.toThrow(/needs the input 'x'/);
      await expect(runner.run(new Map([['x', x]]), { y: new Float32Array(3) })).rejects.toThrow(
        /output array/,
      );
    } finally {
      runner.destroy();
    }
    await expect(runner.run(new Map(), {})).rejects.toThrow(/destroyed/);
  });

  it('create() refuses a buffer the device cannot hold, naming its size', async () => {
    const b = new Builder();
    const big = b.buf(2 ** 31);
    const y = b.output('y', 2);
    b.ewise([2], [view(big, [1])], [view(y, [1])], [E.in(0)]);
    await expect(TapeRunner.create(context!, b.tape(y), 2, 1)).rejects.toThrow(/needs 8589934592 bytes/);
  });

  it('create() refuses a record binding more buffers than a kernel may, and a view outside its buffer', async () => {
    const max = context!.device.limits.maxStorageBuffersPerShaderStage;
    const b = new Builder();
    const ins = Array.from({ length: max }, () => view(b.input('x', 4), [1]));
    const y = b.output('y', 4);
    const sum = ins.slice(1).reduce<Expr>((e, _, k) => E.add(e, E.in(k + 1)), E.in(0));
    b.ewise([4], ins, [view(y, [1])], [sum]);
    await expect(TapeRunner.create(context!, b.tape(y), 4, 1)).rejects.toThrow(
      new RegExp(`binds ${max + 1} distinct buffers, more than this device's ${max}`),
    );
    const c = new Builder();
    const x = c.input('x', 4);
    const y2 = c.output('y', 4);
    c.ewise([4], [view(x, [1], 1)], [view(y2, [1])], [E.in(0)]);
    await expect(TapeRunner.create(context!, c.tape(y2), 4, 1)).rejects.toThrow(/reaches elements 1..4/);
  });
});

describe('tape kernels: canonical records and shared kernels', () => {
  it('drops size-1 dimensions and merges dimensions contiguous in every view', () => {
    const d = dense([2, 1, 3, 4]);
    expect(canonicalise([2, 1, 3, 4], [view(0, d), view(1, d, 5)])).toEqual({
      shape: [24],
      views: [view(0, [1]), view(1, [1], 5)],
    });
    // A broadcast view merges where its zeros line up; a transposed one keeps its dimensions apart.
    expect(canonicalise([2, 3, 4], [view(0, [12, 4, 1]), view(1, [0, 0, 1])])?.shape).toEqual([6, 4]);
    expect(canonicalise([2, 3, 4], [view(0, [12, 4, 1]), view(1, [12, 1, 3])])?.shape).toEqual([2, 3, 4]);
    expect(canonicalise([2, 0, 4], [view(0, [0, 4, 1])])).toBeNull();
  });

  it('records differing only in sizes, strides and offsets share one kernel text', () => {
    const ew = (shape: number[], strides: number[], offset: number): Rec => ({
      kind: 'ewise',
      op: 't',
      shape,
      ins: [view(0, strides, offset)],
      outs: [view(1, dense(shape))],
      exprs: [E.un('gelu', E.in(0))],
    });
    const k1 = ewiseKernel(ew([3, 5], [1, 3], 0) as never, 8)!;
    const k2 = ewiseKernel(ew([7, 2], [1, 7], 4) as never, 8)!;
    expect(k1.wgsl).toBe(k2.wgsl);
    expect(new Uint32Array(k1.params)).not.toEqual(new Uint32Array(k2.params));
    const mm = (M: number, K: number, N: number) => {
      const r: Rec = {
        kind: 'contract',
        op: 'mm',
        shape: [M, N, K],
        a: view(0, [K, 0, 1]),
        b: view(1, [0, 1, N]),
        out: view(2, [N, 1, 0]),
        scale: 1,
        accumulate: false,
      };
      const cs = contractShape(r)!;
      return { r, cs, g: gemmDims(cs) };
    };
    const a = mm(100, 20, 30);
    const b = mm(100, 3, 7);
    expect(contractKernel(a.r as never, a.cs, 8).wgsl).toBe(contractKernel(b.r as never, b.cs, 8).wgsl);
    expect(a.g).toEqual({ m: 0, n: 1, k: 2, batch: null });
    expect(gemmWorthTiling(a.cs, a.g, false)).toBe(true);
    expect(gemmWorthTiling(a.cs, a.g, true)).toBe(false);
    expect(gemmWorthTiling(b.cs, b.g, false)).toBe(false);
  });
});
