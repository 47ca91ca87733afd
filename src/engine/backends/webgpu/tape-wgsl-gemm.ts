/**
 * A workgroup-tiled kernel for the tape's GEMM-shaped contractions: after canonicalisation one
 * summed dimension (k), one output dimension that only a reads (rows m), one that only b reads
 * (columns n) and at most one more output dimension (a batch, any strides). Most of a model's
 * arithmetic is such products (dense layers, 1×1 convolutions, spectral mixing, tangents).
 *
 * A workgroup of 256 threads computes a 64×64 output tile, each thread a 4×4 block, with 16 values
 * of k of the tile's a rows and b columns staged in workgroup memory at a time; every view is
 * strided, and edges (m, n, k past the sizes) read as zeros.
 * How the staging loads walk the tile follows which stride of a (and of b) is the smaller, so that
 * neighbouring threads read neighbouring elements; that choice is compiled in (four variants).
 * The generic kernel is kept for small products, and on software adapters for all but large ones
 * (gemmWorthTiling); gemm-choice.ts measures, once per hardware adapter, whether tiling pays.
 */
import type { Expr } from '../../graph/lower/expr';
import { exprKey } from '../../graph/lower/expr';
import type { ContractRec } from '../../graph/lower/tape';
import {
  bindingsOf,
  epilogueCode,
  type ContractShape,
  type KernelPlan,
  ParamBlock,
  storageDecls,
} from './tape-wgsl-kernels';
import { WORKGROUP_SIZE } from './wgsl-common';

const TM = 64;
const TN = 64;
const TK = 16;

/** A GEMM-shaped contraction: which canonical dimension is which (batch may be absent). */
export interface GemmDims {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly batch: number | null;
}

/** The dimensions of `cs` when it is GEMM-shaped, else null. */
export function gemmDims(cs: ContractShape): GemmDims | null {
  if (cs.sumDims.length !== 1 || cs.outDims.length < 2 || cs.outDims.length > 3) return null;
  const rows = cs.outDims.filter((d) => cs.a.strides[d] !== 0 && cs.b.strides[d] === 0);
  const cols = cs.outDims.filter((d) => cs.a.strides[d] === 0 && cs.b.strides[d] !== 0);
  if (rows.length === 0 || cols.length === 0) return null;
  // The largest row and column dimensions are the tile's; what is left over is the batch.
  const biggest = (ds: number[]) => ds.reduce((p, d) => (cs.shape[d] > cs.shape[p] ? d : p));
  const m = biggest(rows);
  const n = biggest(cols);
  const rest = cs.outDims.filter((d) => d !== m && d !== n);
  return { m, n, k: cs.sumDims[0], batch: rest.length ? rest[0] : null };
}

/**
 * Whether the tiled kernel is worth it. On a GPU: tiles mostly used and a sum long enough to
 * stage. On SwiftShader (measured, one product per run, against the generic kernel) it won only
 * with full tiles and a long sum — 2000×256×64: 117 vs 270 ms, 1000×64×128: 64 vs 94 ms — and lost
 * with a short sum or part-empty tiles (4000×16×64: 83 vs 43 ms; 20000×64×32: 496 vs 335 ms).
 */
export function gemmWorthTiling(cs: ContractShape, g: GemmDims | null, software: boolean): boolean {
  if (g === null) return false;
  const [M, N, K] = [cs.shape[g.m], cs.shape[g.n], cs.shape[g.k]];
  return software ? M >= TM && N >= TN && K >= 32 : M >= 16 && N >= 16 && K >= 8;
}

function gemmParams(
  cs: ContractShape,
  g: GemmDims,
  scale: number,
  accumulate: boolean,
): { block: ParamBlock; tiles: number } {
  const size = (d: number | null) => (d === null ? 1 : cs.shape[d]);
  const stride = (s: readonly number[], d: number | null) => (d === null ? 0 : s[d]);
  const tilesM = Math.ceil(size(g.m) / TM);
  const tilesN = Math.ceil(size(g.n) / TN);
  const tiles = size(g.batch) * tilesM * tilesN;
  const block = new ParamBlock();
  block.add('total', 'u32', tiles);
  block.add('M', 'u32', size(g.m));
  block.add('N', 'u32', size(g.n));
  block.add('K', 'u32', size(g.k));
  block.add('tilesM', 'u32', tilesM);
  block.add('tilesN', 'u32', tilesN);
  block.add('scale', 'f32', scale);
  // A parameter, not compiled in: each variant of this kernel takes seconds to build on SwiftShader.
  block.add('accumulate', 'u32', accumulate ? 1 : 0);
  // Each view's offset and strides along batch, and two of m, n, k: ab, am, ak; bb, bn, bk; ob, om, on.
  for (const [name, v, dims] of [
    ['a', cs.a, { b: g.batch, m: g.m, k: g.k }],
    ['b', cs.b, { b: g.batch, n: g.n, k: g.k }],
    ['o', cs.out, { b: g.batch, m: g.m, n: g.n }],
  ] as const) {
    block.add(`${name}o`, 'i32', v.offset);
    for (const [dim, d] of Object.entries(dims)) block.add(`${name}${dim}`, 'i32', stride(v.strides, d));
  }
  // The epilogue's inputs, read at the output's element: e{k}o, e{k}b, e{k}m, e{k}n.
  cs.ep.forEach((v, k) => {
    block.add(`e${k}o`, 'i32', v.offset);
    for (const [dim, d] of Object.entries({ b: g.batch, m: g.m, n: g.n }))
      block.add(`e${k}${dim}`, 'i32', stride(v.strides, d));
  });
  return { block, tiles };
}

export interface GemmSpec {
  readonly writable: readonly boolean[];
  readonly a: number;
  readonly b: number;
  readonly out: number;
  /** Staging loads walk k fastest (a's k stride is its smaller), else rows (columns for b). */
  readonly aKFast: boolean;
  readonly bKFast: boolean;
  /** What is stored (tape.ts Epilogue), as in the generic kernel. */
  readonly epilogue?: { readonly expr: Expr; readonly ins: readonly number[] };
}

/** One operand's staging: names in the WGSL of its tile, bounds and strides. */
interface Stage {
  /** Workgroup array (k-major, TK × T) and the tile's extent T along x (rows of a, columns of b). */
  dst: string;
  T: number;
  /** Consecutive threads take consecutive k (else consecutive x). */
  kFast: boolean;
  /** The storage array, the view's element for this batch, the tile's first x and x's size. */
  src: string;
  base: string;
  x0: string;
  lim: string;
  /** The view's strides along x and k (uniform fields). */
  sx: string;
  sk: string;
}

/** One k step's staging of an operand, T·TK/256 values per thread; zero past the size or past K. */
function stage(s: Stage): string {
  const [kk, r] = s.kFast ? ['idx % TK', 'idx / TK'] : [`idx / ${s.T}u`, `idx % ${s.T}u`];
  return `    for (var e = 0u; e < ${(s.T * TK) / WORKGROUP_SIZE}u; e++) {
      let idx = lid + e * ${WORKGROUP_SIZE}u;
      let kk = ${kk};
      let r = ${r};
      let k = k0 + kk;
      let x = ${s.x0} + r;
      var v = 0.0;
      if (k < u.K && x < ${s.lim}) { v = ${s.src}[${s.base} + i32(x) * ${s.sx} + i32(k) * ${s.sk}]; }
      ${s.dst}[kk * ${s.T}u + r] = v;
    }`;
}

export function gemmWgsl(spec: GemmSpec): string {
  const zero = { buf: 0, strides: [0, 0, 0, 0], offset: 0 };
  const cs: ContractShape = {
    shape: [1, 1, 1, 1],
    a: zero,
    b: zero,
    out: zero,
    ep: (spec.epilogue?.ins ?? []).map(() => zero),
    outDims: [0, 1, 2],
    sumDims: [3],
  };
  const { block } = gemmParams(cs, { batch: 0, m: 1, n: 2, k: 3 }, 0, false);
  const A = `g${spec.a}`;
  const B = `g${spec.b}`;
  const O = `g${spec.out}`;
  const ep = epilogueCode(
    spec.epilogue,
    (k) => `u.e${k}o + batch * u.e${k}b + i32(row) * u.e${k}m + i32(col) * u.e${k}n`,
  );
  const store = [
    `let v = select(u.scale * s[j], ${O}[p] + u.scale * s[j], u.accumulate != 0u);`,
    ...ep.lines,
    `${O}[p] = ${ep.value};`,
  ]
    .map((l) => `      ${l}`)
    .join('\n');
  const what = spec.epilogue ? `, storing ${exprKey(spec.epilogue.expr)}` : '';
  return `// tape contract, GEMM tiled ${TM}x${TN}x${TK} (a ${spec.aKFast ? 'k' : 'm'}-fast, b ${spec.bKFast ? 'k' : 'n'}-fast)${what}
${block.struct()}
${storageDecls(spec.writable)}
${ep.functions}
const TK = ${TK}u;
var<workgroup> As: array<f32, ${TM * TK}>;
var<workgroup> Bs: array<f32, ${TN * TK}>;

fn put(row: u32, col0: u32, batch: i32, s: vec4<f32>) {
  if (row >= u.M) { return; }
  let base = u.oo + batch * u.ob + i32(row) * u.om;
  for (var j = 0u; j < 4u; j++) {
    let col = col0 + j;
    if (col < u.N) {
      let p = base + i32(col) * u.on;
${store}
    }
  }
}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  // The tile index is uniform over the workgroup, so this return leaves the barriers uniform.
  let tile = wid.y * nwg.x + wid.x;
  if (tile >= u.total) { return; }
  let perBatch = u.tilesM * u.tilesN;
  let batch = i32(tile / perBatch);
  let t = tile % perBatch;
  let rowT = (t / u.tilesN) * ${TM}u;
  let colT = (t % u.tilesN) * ${TN}u;
  let pa = u.ao + batch * u.ab;
  let pb = u.bo + batch * u.bb;
  let tx = lid % 16u;
  let ty = lid / 16u;
  var s0 = vec4<f32>(0.0);
  var s1 = vec4<f32>(0.0);
  var s2 = vec4<f32>(0.0);
  var s3 = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < u.K; k0 += TK) {
${stage({ dst: 'As', T: TM, kFast: spec.aKFast, src: A, base: 'pa', x0: 'rowT', lim: 'u.M', sx: 'u.am', sk: 'u.ak' })}
${stage({ dst: 'Bs', T: TN, kFast: spec.bKFast, src: B, base: 'pb', x0: 'colT', lim: 'u.N', sx: 'u.bn', sk: 'u.bk' })}
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      let ar = kk * ${TM}u + ty * 4u;
      let br = kk * ${TN}u + tx * 4u;
      let w = vec4<f32>(Bs[br], Bs[br + 1u], Bs[br + 2u], Bs[br + 3u]);
      s0 = fma(vec4<f32>(As[ar]), w, s0);
      s1 = fma(vec4<f32>(As[ar + 1u]), w, s1);
      s2 = fma(vec4<f32>(As[ar + 2u]), w, s2);
      s3 = fma(vec4<f32>(As[ar + 3u]), w, s3);
    }
    workgroupBarrier();
  }
  let r0 = rowT + ty * 4u;
  let c0 = colT + tx * 4u;
  put(r0, c0, batch, s0);
  put(r0 + 1u, c0, batch, s1);
  put(r0 + 2u, c0, batch, s2);
  put(r0 + 3u, c0, batch, s3);
}
`;
}

/** The tiled kernel of a GEMM-shaped contraction (one workgroup per 64×64 tile of each batch). */
export function gemmKernel(r: ContractRec, cs: ContractShape, g: GemmDims, maxBindings: number): KernelPlan {
  const epIns = r.epilogue?.ins ?? [];
  const { bufs, writable } = bindingsOf(
    [r.a.buf, r.b.buf, ...(r.accumulate ? [r.out.buf] : []), ...epIns.map((a) => a.buf)],
    [r.out.buf],
    maxBindings,
  );
  const spec: GemmSpec = {
    writable,
    a: bufs.indexOf(r.a.buf),
    b: bufs.indexOf(r.b.buf),
    out: bufs.indexOf(r.out.buf),
    aKFast: Math.abs(cs.a.strides[g.k]) <= Math.abs(cs.a.strides[g.m]),
    bKFast: Math.abs(cs.b.strides[g.k]) <= Math.abs(cs.b.strides[g.n]),
    epilogue: r.epilogue && { expr: r.epilogue.expr, ins: epIns.map((a) => bufs.indexOf(a.buf)) },
  };
  const { block, tiles } = gemmParams(cs, g, r.scale, r.accumulate);
  return { wgsl: gemmWgsl(spec), bufs, params: block.bytes(), threads: tiles * WORKGROUP_SIZE };
}
