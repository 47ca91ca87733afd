/**
 * WGSL kernels for the records of a tape (graph/lower/tape.ts), generated per record structure:
 *  - ewise: one thread per element of the shape, its index decomposed over the shape, each view's
 *    element found from its strides and offset;
 *  - contract: one thread per output element, nested loops over the summed dimensions.
 * Shapes, strides, offsets and the scale are parameters (a uniform block at binding 0), so records
 * that differ only in them share one pipeline; what is generated is the expressions, the rank and
 * which buffer each view reads or writes. Before that, each record is canonicalised (size-1
 * dimensions dropped, dimensions contiguous in every view merged), so ranks stay small.
 *
 * WebGPU forbids binding one buffer twice in a dispatch when one of the bindings is writable, so
 * every distinct buffer of a record is bound once: read_write if the record writes it.
 */
import type { Expr } from '../../graph/lower/expr';
import { exprKey } from '../../graph/lower/expr';
import type { Access, ContractRec, EwiseRec } from '../../graph/lower/tape';
import { exprsToWgsl } from './tape-wgsl-expr';
import { ENTRY } from './wgsl-common';

/** A strided view over a canonicalised shape. */
export interface View {
  readonly buf: number;
  readonly strides: readonly number[];
  readonly offset: number;
}

/**
 * The same iteration with size-1 dimensions dropped and adjacent dimensions merged where every
 * view is contiguous across them (stride_d = stride_{d+1}·size_{d+1}); null when the shape is
 * empty (a size-0 dimension: the record does nothing, as in run-tape.ts).
 */
export function canonicalise(
  shape: readonly number[],
  views: readonly Access[],
): { shape: number[]; views: View[] } | null {
  if (shape.some((d) => d === 0)) return null;
  const dims: number[] = [];
  const strides: number[][] = views.map(() => []);
  shape.forEach((size, d) => {
    if (size === 1) return;
    const last = dims.length - 1;
    if (last >= 0 && views.every((v, k) => strides[k][last] === v.strides[d] * size)) {
      dims[last] *= size;
      views.forEach((v, k) => (strides[k][last] = v.strides[d]));
      return;
    }
    dims.push(size);
    views.forEach((v, k) => strides[k].push(v.strides[d]));
  });
  return { shape: dims, views: views.map((v, k) => ({ buf: v.buf, strides: strides[k], offset: v.offset })) };
}

/** The lowest and highest element a view touches over `shape` (the shape non-empty). */
export function viewRange(shape: readonly number[], v: Access): [number, number] {
  let lo = v.offset;
  let hi = v.offset;
  shape.forEach((size, d) => {
    const span = v.strides[d] * (size - 1);
    if (span < 0) lo += span;
    else hi += span;
  });
  return [lo, hi];
}

/** A uniform parameter block being laid out: the WGSL struct and the values. */
export class ParamBlock {
  private readonly fields: string[] = [];
  private readonly values: [type: 'u32' | 'i32' | 'f32', v: number][] = [];

  add(name: string, type: 'u32' | 'i32' | 'f32', v: number): void {
    if (type !== 'f32' && !Number.isSafeInteger(v)) throw new Error(`internal: bad ${type} parameter ${v}`);
    if (type === 'u32' && (v < 0 || v > 0xffffffff)) throw new Error(`internal: bad u32 parameter ${v}`);
    if (type === 'i32' && (v < -0x80000000 || v > 0x7fffffff))
      throw new Error(`a tape index (${v}) does not fit WebGPU's 32-bit integers`);
    this.fields.push(`${name}: ${type}`);
    this.values.push([type, v]);
  }

  /** A strided view's offset and strides, named `${name}o` and `${name}${dim names}`. */
  addView(name: string, v: View, dims: readonly number[], dimNames: readonly string[]): void {
    this.add(`${name}o`, 'i32', v.offset);
    dims.forEach((d, j) => this.add(`${name}${dimNames[j]}`, 'i32', v.strides[d]));
  }

  struct(): string {
    return `struct Params { ${this.fields.join(', ')} }\n@group(0) @binding(0) var<uniform> u: Params;`;
  }

  /** The values, padded to a multiple of 16 bytes (a uniform binding's granularity). */
  bytes(): ArrayBuffer {
    const buf = new ArrayBuffer(Math.max(16, Math.ceil(this.values.length / 4) * 16));
    const u = new Uint32Array(buf);
    const i = new Int32Array(buf);
    const f = new Float32Array(buf);
    this.values.forEach(([type, v], k) => {
      if (type === 'u32') u[k] = v;
      else if (type === 'i32') i[k] = v;
      else f[k] = v;
    });
    return buf;
  }
}

/** A record ready to dispatch: its kernel, what it binds and its parameters. */
export interface KernelPlan {
  /** The kernel's text, which is also its pipeline's cache key. */
  readonly wgsl: string;
  /** Tape buffers bound at bindings 1, 2, ... (each once). */
  readonly bufs: readonly number[];
  /** The uniform parameter block (binding 0). */
  readonly params: ArrayBuffer;
  /** Threads to dispatch (ENTRY's flat index runs over them). */
  readonly threads: number;
}

/** The distinct buffers of a record, in order of first use, and which of them it writes. */
export function bindingsOf(reads: readonly number[], writes: readonly number[], maxBindings: number) {
  const bufs: number[] = [];
  for (const b of [...reads, ...writes]) if (!bufs.includes(b)) bufs.push(b);
  // One storage binding per distinct buffer; the parameters are a uniform, not counted here.
  if (bufs.length > maxBindings)
    throw new Error(
      `a tape record binds ${bufs.length} distinct buffers, more than this device's ${maxBindings} storage buffers per kernel`,
    );
  return { bufs, writable: bufs.map((b) => writes.includes(b)) };
}

/** `@binding(1 + k)` declarations `g${k}` of the bound buffers. */
export function storageDecls(writable: readonly boolean[]): string {
  return writable
    .map(
      (w, k) => `@group(0) @binding(${k + 1}) var<storage, ${w ? 'read_write' : 'read'}> g${k}: array<f32>;`,
    )
    .join('\n');
}

/** Statements decomposing the flat index `i` over sizes u.${names} (row-major) into i32 `${idx}${j}`. */
function decompose(names: readonly string[], idx: string): string[] {
  const r = names.length;
  if (r === 0) return [];
  if (r === 1) return [`let ${idx}0 = i32(i);`];
  const lines = ['var q = i;'];
  for (let d = r - 1; d >= 1; d--)
    lines.push(`let ${idx}${d} = i32(q % u.${names[d]}); q = q / u.${names[d]};`);
  lines.push(`let ${idx}0 = i32(q);`);
  return lines;
}

/** The element index of a view: u.${name}o + Σ idx_j · u.${name}${dimNames[j]}. */
function position(name: string, dimNames: readonly string[], idx: readonly string[]): string {
  return [`u.${name}o`, ...dimNames.map((d, j) => `${idx[j]} * u.${name}${d}`)].join(' + ');
}

/** What an ewise kernel's text depends on (the rest are parameters). */
export interface EwiseSpec {
  readonly exprs: readonly Expr[];
  /** Per bound buffer (binding 1 + k): does the record write it? */
  readonly writable: readonly boolean[];
  /** The bound buffer (0-based) each input / output view reads / writes. */
  readonly ins: readonly number[];
  readonly outs: readonly number[];
  readonly rank: number;
}

/**
 * Parameters: total, n0..n{r-1} (sizes), then per view (inputs, then outputs) v{k}o and
 * v{k}s{d}. Every input is read before any output is written, so in-place records are fine.
 */
export function ewiseWgsl(spec: EwiseSpec): string {
  const dims = Array.from({ length: spec.rank }, (_, d) => `s${d}`);
  const sizes = Array.from({ length: spec.rank }, (_, d) => `n${d}`);
  const idx = Array.from({ length: spec.rank }, (_, d) => `i${d}`);
  const zero: View = { buf: 0, strides: new Array<number>(spec.rank).fill(0), offset: 0 };
  const block = ewiseParams(
    new Array<number>(spec.rank).fill(1),
    new Array<View>(spec.ins.length + spec.outs.length).fill(zero),
  );
  const code = exprsToWgsl(spec.exprs, (i) => `x${i}`);
  const body = [
    ...decompose(sizes, 'i'),
    ...code.inputs.map((i) => `let x${i} = g${spec.ins[i]}[${position(`v${i}`, dims, idx)}];`),
    ...code.lines,
    ...spec.outs.map(
      (b, j) => `g${b}[${position(`v${spec.ins.length + j}`, dims, idx)}] = ${code.values[j]};`,
    ),
  ];
  return [
    `// tape ewise rank ${spec.rank}: ${spec.exprs.map(exprKey).join('; ')}`,
    block.struct(),
    storageDecls(spec.writable),
    code.functions,
    ENTRY.trim(),
    ...body.map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n');
}

/** The ewise parameter block (the layout ewiseWgsl declares). */
function ewiseParams(shape: readonly number[], views: readonly View[]): ParamBlock {
  const block = new ParamBlock();
  block.add(
    'total',
    'u32',
    shape.reduce((p, d) => p * d, 1),
  );
  shape.forEach((s, d) => block.add(`n${d}`, 'u32', s));
  const all = shape.map((_, d) => d);
  const names = all.map((d) => `s${d}`);
  views.forEach((v, k) => block.addView(`v${k}`, v, all, names));
  return block;
}

/** An ewise record's kernel, or null when it has nothing to do. */
export function ewiseKernel(r: EwiseRec, maxBindings: number): KernelPlan | null {
  if (r.exprs.length !== r.outs.length)
    throw new Error(`internal: ${r.op}: ${r.exprs.length} expressions, ${r.outs.length} outputs`);
  const c = canonicalise(r.shape, [...r.ins, ...r.outs]);
  if (!c) return null;
  const used = exprsToWgsl(r.exprs, (i) => `x${i}`).inputs;
  if (used.some((i) => i >= r.ins.length))
    throw new Error(
      `internal: ${r.op}: an expression reads input ${used[used.length - 1]} of ${r.ins.length}`,
    );
  const reads = used.map((i) => r.ins[i].buf);
  const { bufs, writable } = bindingsOf(
    reads,
    r.outs.map((o) => o.buf),
    maxBindings,
  );
  const spec: EwiseSpec = {
    exprs: r.exprs,
    writable,
    ins: r.ins.map((a) => bufs.indexOf(a.buf)),
    outs: r.outs.map((a) => bufs.indexOf(a.buf)),
    rank: c.shape.length,
  };
  const block = ewiseParams(c.shape, c.views);
  const total = c.shape.reduce((p, d) => p * d, 1);
  return { wgsl: ewiseWgsl(spec), bufs, params: block.bytes(), threads: total };
}

/** What a generic contract kernel's text depends on. */
export interface ContractSpec {
  readonly writable: readonly boolean[];
  /** The bound buffer (0-based) of a, b and out. */
  readonly a: number;
  readonly b: number;
  readonly out: number;
  /** Output and summed dimensions after canonicalisation. */
  readonly rankOut: number;
  readonly rankSum: number;
  readonly accumulate: boolean;
  /** What is stored (tape.ts Epilogue): its expression and the bound buffer of each input view. */
  readonly epilogue?: { readonly expr: Expr; readonly ins: readonly number[] };
}

/**
 * The statements that turn a product's value `v` into what is stored, for an epilogue reading its
 * inputs at `pos(k)`: [declarations, the stored value, module-level functions].
 */
export function epilogueCode(
  ep: { readonly expr: Expr; readonly ins: readonly number[] } | undefined,
  pos: (k: number) => string,
): { lines: string[]; value: string; functions: string } {
  if (!ep) return { lines: [], value: 'v', functions: '' };
  const code = exprsToWgsl([ep.expr], (i) => (i === 0 ? 'v' : `e${i - 1}`), 'ep');
  const lines = code.inputs
    .filter((i) => i > 0)
    .map((i) => `let e${i - 1} = g${ep.ins[i - 1]}[${pos(i - 1)}];`);
  return { lines: [...lines, ...code.lines], value: code.values[0], functions: code.functions };
}

/**
 * Parameters: total, n{j} (output sizes), m{d} (summed sizes), scale, then a's, b's offset and
 * strides (ao, an{j}, am{d}; bo, ...) and out's (oo, on{j}). The sum runs in row-major order of
 * the summed dimensions, as in run-tape.ts, each view's element advanced by its stride.
 */
export function contractWgsl(spec: ContractSpec): string {
  const nOut = Array.from({ length: spec.rankOut }, (_, j) => `n${j}`);
  const outDims = nOut.map((_, j) => j);
  const sumDims = Array.from({ length: spec.rankSum }, (_, d) => spec.rankOut + d);
  const zero: View = { buf: 0, strides: new Array<number>(spec.rankOut + spec.rankSum).fill(0), offset: 0 };
  const shape = new Array<number>(spec.rankOut + spec.rankSum).fill(1);
  const epViews = (spec.epilogue?.ins ?? []).map(() => zero);
  const block = contractParams({ shape, a: zero, b: zero, out: zero, ep: epViews, outDims, sumDims }, 0);
  const idx = nOut.map((_, j) => `i${j}`);
  const body = [
    ...decompose(nOut, 'i'),
    `let pa = ${position('a', nOut, idx)};`,
    `let pb = ${position('b', nOut, idx)};`,
    `let po = ${position('o', nOut, idx)};`,
  ];
  if (spec.rankSum === 0) body.push(`let acc = g${spec.a}[pa] * g${spec.b}[pb];`);
  else {
    body.push('var acc = 0.0;');
    // Nested loops, outermost first; each level's element pointers restart from its parent's.
    let ind = '';
    for (let d = 0; d < spec.rankSum; d++) {
      const [pa, pb] = d === 0 ? ['pa', 'pb'] : [`qa${d - 1}`, `qb${d - 1}`];
      body.push(`${ind}var qa${d} = ${pa};`, `${ind}var qb${d} = ${pb};`);
      body.push(`${ind}for (var k${d} = 0u; k${d} < u.m${d}; k${d}++) {`);
      ind += '  ';
    }
    const last = spec.rankSum - 1;
    body.push(`${ind}acc += g${spec.a}[qa${last}] * g${spec.b}[qb${last}];`);
    for (let d = last; d >= 0; d--) {
      body.push(`${ind}qa${d} += u.am${d};`, `${ind}qb${d} += u.bm${d};`);
      ind = ind.slice(2);
      body.push(`${ind}}`);
    }
  }
  const o = `g${spec.out}[po]`;
  body.push(spec.accumulate ? `let v = ${o} + u.scale * acc;` : `let v = u.scale * acc;`);
  const ep = epilogueCode(spec.epilogue, (k) => position(`e${k}`, nOut, idx));
  body.push(...ep.lines, `${o} = ${ep.value};`);
  const what = spec.epilogue ? `, storing ${exprKey(spec.epilogue.expr)}` : '';
  return [
    `// tape contract, ${spec.rankOut} output and ${spec.rankSum} summed dims${spec.accumulate ? ', accumulating' : ''}${what}`,
    block.struct(),
    storageDecls(spec.writable),
    ep.functions,
    ENTRY.trim(),
    ...body.map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n');
}

/** A contract record, canonicalised and split into output and summed dimensions. */
export interface ContractShape {
  readonly shape: readonly number[];
  readonly a: View;
  readonly b: View;
  readonly out: View;
  /** The epilogue's input views (tape.ts Epilogue), none without one. */
  readonly ep: readonly View[];
  /** Dimensions of `shape`: the output ones (out stride ≠ 0) and the summed ones. */
  readonly outDims: readonly number[];
  readonly sumDims: readonly number[];
}

export function contractShape(r: ContractRec): ContractShape | null {
  const c = canonicalise(r.shape, [r.a, r.b, r.out, ...(r.epilogue?.ins ?? [])]);
  if (!c) return null;
  const [a, b, out, ...ep] = c.views;
  const outDims: number[] = [];
  const sumDims: number[] = [];
  c.shape.forEach((_, d) => (out.strides[d] === 0 ? sumDims : outDims).push(d));
  return { shape: c.shape, a, b, out, ep, outDims, sumDims };
}

/** The generic contract kernel's parameter block (the layout contractWgsl declares). */
function contractParams(cs: ContractShape, scale: number): ParamBlock {
  const nOut = cs.outDims.map((_, j) => `n${j}`);
  const nSum = cs.sumDims.map((_, d) => `m${d}`);
  const block = new ParamBlock();
  block.add(
    'total',
    'u32',
    cs.outDims.reduce((p, d) => p * cs.shape[d], 1),
  );
  cs.outDims.forEach((d, j) => block.add(nOut[j], 'u32', cs.shape[d]));
  cs.sumDims.forEach((d, j) => block.add(nSum[j], 'u32', cs.shape[d]));
  block.add('scale', 'f32', scale);
  const dims = [...cs.outDims, ...cs.sumDims];
  block.addView('a', cs.a, dims, [...nOut, ...nSum]);
  block.addView('b', cs.b, dims, [...nOut, ...nSum]);
  block.addView('o', cs.out, cs.outDims, nOut);
  cs.ep.forEach((v, k) => block.addView(`e${k}`, v, cs.outDims, nOut));
  return block;
}

/** A contract record's generic kernel (one thread per output element). */
export function contractKernel(r: ContractRec, cs: ContractShape, maxBindings: number): KernelPlan {
  const epIns = r.epilogue?.ins ?? [];
  const { bufs, writable } = bindingsOf(
    [r.a.buf, r.b.buf, ...(r.accumulate ? [r.out.buf] : []), ...epIns.map((a) => a.buf)],
    [r.out.buf],
    maxBindings,
  );
  const spec: ContractSpec = {
    writable,
    a: bufs.indexOf(r.a.buf),
    b: bufs.indexOf(r.b.buf),
    out: bufs.indexOf(r.out.buf),
    rankOut: cs.outDims.length,
    rankSum: cs.sumDims.length,
    accumulate: r.accumulate,
    epilogue: r.epilogue && { expr: r.epilogue.expr, ins: epIns.map((a) => bufs.indexOf(a.buf)) },
  };
  const total = cs.outDims.reduce((p, d) => p * cs.shape[d], 1);
  const block = contractParams(cs, r.scale);
  return { wgsl: contractWgsl(spec), bufs, params: block.bytes(), threads: total };
}
