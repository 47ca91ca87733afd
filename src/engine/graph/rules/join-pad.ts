/**
 * Pads (constant, reflect, replicate, circular), flip and roll: copies into a new layout. A
 * constant pad on the right only (F.pad(x, [0, n]), how FNOs pad time) leaves the tangent's data as
 * it is, the padding lying outside its box; the other modes gather along the padded axes, run by
 * run, keeping stride-0 axes of the tangent at stride 0.
 */
import { ShapeError } from '../../errors';
import type { Args } from '../args';
import { assignInto, fillInto } from '../copy';
import type { Rule, RuleTable } from '../rule';
import { boxed, boxOf, type Tan } from '../tangent';
import { type GTensor, contiguousStrides, shapeString, sizeOf, zerosTensor } from '../tensor';
import { dimOf } from './shape-geo';
import { copyAs, dataView, fillBox, gatherAxis, raw, tReshape } from './shape-view';

/** (left, right) padding per axis from aten's flat list (last axis first). */
function padPairs(x: GTensor, pad: number[], op: string): [number, number][] {
  if (pad.length % 2 !== 0 || pad.length / 2 > x.rank)
    throw new ShapeError(
      `${op}: padding ${shapeString(pad)} must have an even length of at most twice the rank (${x.rank})`,
    );
  const pairs = x.shape.map((): [number, number] => [0, 0]);
  for (let k = 0; k < pad.length / 2; k++) pairs[x.rank - 1 - k] = [pad[2 * k], pad[2 * k + 1]];
  pairs.forEach(([l, r], i) => {
    if (x.shape[i] + l + r < 0)
      throw new ShapeError(
        `${op}: padding (${l}, ${r}) of dimension ${i} of ${shapeString(x.shape)} leaves a negative size`,
      );
  });
  return pairs;
}

/** Per axis: where the kept part starts in the input and in the output, and its length (for `box`). */
function padRegion(pairs: [number, number][], shape: readonly number[], box: readonly number[]) {
  return pairs.map(([l, r], i) => {
    const src = Math.max(0, -l);
    const dst = Math.max(0, l);
    return { src, dst, len: Math.max(0, Math.min(box[i] - src, shape[i] + l + r - dst)) };
  });
}

function constantPad(x: GTensor, pairs: [number, number][], value: number): GTensor {
  const out = zerosTensor(
    x.shape.map((s, i) => s + pairs[i][0] + pairs[i][1]),
    x.kind,
  );
  if (value !== 0) fillInto(out, value);
  const reg = padRegion(pairs, x.shape, x.shape);
  if (reg.some((g) => g.len === 0)) return out;
  const len = reg.map((g) => g.len);
  const dstOff = reg.reduce((o, g, i) => o + g.dst * out.strides[i], 0);
  const srcOff = reg.reduce((o, g, i) => o + g.src * x.strides[i], x.offset);
  assignInto(raw(out, len, [...out.strides], dstOff), raw(x, len, [...x.strides], srcOff));
  return out;
}

export function tConstantPad(t: Tan, pairs: [number, number][]): Tan {
  if (!t) return null;
  const d = t.data;
  const full = t.full.map((s, i) => s + pairs[i][0] + pairs[i][1]);
  const reg = padRegion(pairs, t.full, boxOf(t));
  if (reg.some((g) => g.len === 0)) return null;
  const newBox = reg.map((g) => g.dst + g.len);
  const srcOff = reg.reduce((o, g, i) => o + g.src * d.strides[i + 1], d.offset);
  const P = d.shape[0];
  const len = reg.map((g) => g.len);
  if (reg.every((g, i) => g.dst === 0 && g.src === 0 && g.len === d.shape[i + 1])) return boxed(d, full);
  if (reg.every((g) => g.dst === 0))
    return boxed(dataView(d, { shape: [P, ...len], strides: [...d.strides], offset: srcOff }), full);
  const flat = reg.map((g, i) => g.dst === 0 && g.len > 1 && d.strides[i + 1] === 0);
  const work = zerosTensor([P, ...newBox.map((n, i) => (flat[i] ? 1 : n))], d.kind);
  const part = [P, ...len.map((n, i) => (flat[i] ? 1 : n))];
  const dstOff = reg.reduce((o, g, i) => o + g.dst * work.strides[i + 1], 0);
  assignInto(raw(work, part, [...work.strides], dstOff), raw(d, part, [...d.strides], srcOff));
  const strides = work.strides.map((s, k) => (k > 0 && flat[k - 1] ? 0 : s));
  return boxed(raw(work, [P, ...newBox], strides, 0), full);
}

type PadMode = 'reflect' | 'replicate' | 'circular';

function padIndex(mode: PadMode, s: number, l: number, r: number, op: string): number[] {
  if (mode === 'reflect' && (l >= s || r >= s))
    throw new ShapeError(
      `${op}: reflect padding (${l}, ${r}) must be smaller than the dimension's size ${s}`,
    );
  if (mode === 'circular' && (l > s || r > s))
    throw new ShapeError(`${op}: circular padding (${l}, ${r}) must be at most the dimension's size ${s}`);
  if (s === 0) throw new ShapeError(`${op}: ${mode} padding of an empty dimension`);
  return Array.from({ length: s + l + r }, (_, o) => {
    const i = o - l;
    if (mode === 'replicate') return Math.min(Math.max(i, 0), s - 1);
    if (mode === 'circular') return ((i % s) + s) % s;
    return i < 0 ? -i : i >= s ? 2 * (s - 1) - i : i;
  });
}

/** Gather along each axis with an index map; the tangent's box is filled along those axes first. */
function gatherAxes(x: GTensor, maps: (number[] | null)[]): GTensor {
  return maps.reduce((y, idx, ax) => (idx ? gatherAxis(y, ax, idx) : y), x);
}

export function tGatherAxes(t: Tan, maps: (number[] | null)[]): Tan {
  if (!t) return null;
  const axes = maps.flatMap((m, i) => (m ? [i] : []));
  let u = fillBox(t, axes);
  for (const ax of axes) {
    const full = [...u.full];
    full[ax] = maps[ax]!.length;
    if (sizeOf(full) === 0) return null;
    u = { data: gatherAxis(u.data, ax + 1, maps[ax]!, true), full };
  }
  return u;
}

function padMaps(x: GTensor, pairs: [number, number][], mode: PadMode, op: string): (number[] | null)[] {
  return pairs.map(([l, r], i) => (l === 0 && r === 0 ? null : padIndex(mode, x.shape[i], l, r, op)));
}

function padMode(m: string | number, op: string): 'constant' | PadMode {
  const names = ['constant', 'reflect', 'replicate', 'circular'] as const;
  const mode = typeof m === 'number' ? names[m] : m;
  if (!names.includes(mode as (typeof names)[number]))
    throw new ShapeError(`${op}: unsupported padding mode '${m}' (constant, reflect, replicate or circular)`);
  return mode as 'constant' | PadMode;
}

function padRule(params: string[], modeOf: (a: Args) => 'constant' | PadMode, padParam = 'pad'): Rule {
  return {
    params,
    forward(a) {
      const x = a.tensor('self');
      const pairs = padPairs(x, a.ints(padParam), a.op);
      const mode = modeOf(a);
      if (mode === 'constant') return constantPad(x, pairs, a.number('value', 0));
      return gatherAxes(x, padMaps(x, pairs, mode, a.op));
    },
    jvp(a, _out, t) {
      const x = a.tensor('self');
      const pairs = padPairs(x, a.ints(padParam), a.op);
      const mode = modeOf(a);
      if (mode === 'constant') return tConstantPad(t(x), pairs);
      return tGatherAxes(t(x), padMaps(x, pairs, mode, a.op));
    },
  };
}

function flipMaps(a: Args, x: GTensor): (number[] | null)[] {
  const dims = new Set(a.ints('dims').map((d) => dimOf(d, x.rank, a.op)));
  return x.shape.map((s, i) => (dims.has(i) ? Array.from({ length: s }, (_, o) => s - 1 - o) : null));
}

function rollMaps(a: Args, shape: readonly number[], dims: number[]): (number[] | null)[] {
  const shifts = a.ints('shifts');
  if (shifts.length !== dims.length)
    throw new ShapeError(`${a.op}: ${shifts.length} shifts for ${dims.length} dims`);
  const maps: (number[] | null)[] = shape.map(() => null);
  dims.forEach((d, k) => {
    const ax = dimOf(d, shape.length, a.op);
    const s = shape[ax];
    const prev = maps[ax];
    maps[ax] = Array.from({ length: s }, (_, o) => {
      const i = (((o - shifts[k]) % s) + s) % s;
      return prev ? prev[i] : i;
    });
  });
  return maps;
}

const roll: Rule = {
  params: ['self', 'shifts', 'dims='],
  forward(a) {
    const x = a.tensor('self');
    const dims = a.ints('dims', []);
    if (dims.length) return gatherAxes(x, rollMaps(a, x.shape, dims));
    const flat = gatherAxes(copyAs(x, [x.numel]), rollMaps(a, [x.numel], [0]));
    return raw(flat, [...x.shape], contiguousStrides(x.shape), 0);
  },
  jvp(a, _out, t) {
    const x = a.tensor('self');
    const dims = a.ints('dims', []);
    if (dims.length) return tGatherAxes(t(x), rollMaps(a, x.shape, dims));
    const u = tGatherAxes(tReshape(t(x), [x.numel]), rollMaps(a, [x.numel], [0]));
    return tReshape(u, [...x.shape]);
  },
};

export const padRules = {
  'aten::constant_pad_nd': padRule(['self', 'pad', 'value='], () => 'constant'),
  'aten::pad': padRule(['self', 'pad', 'mode=', 'value='], (a) =>
    padMode(a.string('mode', 'constant'), a.op),
  ),
  'aten::_pad_enum': padRule(['self', 'pad', 'mode', 'value='], (a) => padMode(a.int('mode'), a.op)),
  'aten::_pad_circular': padRule(['self', 'pad'], () => 'circular'),
  'aten::reflection_pad1d': padRule(['self', 'padding'], () => 'reflect', 'padding'),
  'aten::reflection_pad2d': padRule(['self', 'padding'], () => 'reflect', 'padding'),
  'aten::reflection_pad3d': padRule(['self', 'padding'], () => 'reflect', 'padding'),
  'aten::replication_pad1d': padRule(['self', 'padding'], () => 'replicate', 'padding'),
  'aten::replication_pad2d': padRule(['self', 'padding'], () => 'replicate', 'padding'),
  'aten::replication_pad3d': padRule(['self', 'padding'], () => 'replicate', 'padding'),
  'aten::flip': {
    params: ['self', 'dims'],
    forward: (a) => gatherAxes(a.tensor('self'), flipMaps(a, a.tensor('self'))),
    jvp: (a, _out, t) => tGatherAxes(t(a.tensor('self')), flipMaps(a, a.tensor('self'))),
  },
  'aten::roll': roll,
} satisfies RuleTable;
