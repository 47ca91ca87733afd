/**
 * Partial results of streaming sensitivity (one per `--shard`): read back from JSON, and merged
 * into what one pass over all their samples gives — ν's and the elasticity's sums added with
 * compensation, the variances combined by Chan's formula, in the order of the parts' first rows.
 */
import { LoadError, ShapeError } from '../../errors';
import {
  STATE_ARRAYS,
  STREAMING_PARTIAL_FORMAT,
  type StreamingDims,
  StreamingSensitivity,
  add2,
  chan,
} from './accumulator';

/** Read StreamingSensitivity.toJSON's text; a LoadError naming `file` and the problem otherwise. */
export function parseStreamingPartial(text: string, file = 'partial result'): StreamingSensitivity {
  try {
    const o = JSON.parse(text);
    if (o?.format !== STREAMING_PARTIAL_FORMAT)
      throw new Error(`not a partial sensitivity result (no "format": "${STREAMING_PARTIAL_FORMAT}")`);
    if (o.version !== 1) throw new Error(`version ${String(o.version)} is not supported (1 is)`);
    if (typeof o.dims !== 'object' || o.dims === null) throw new Error('dims must be {T, O, P}');
    const s = new StreamingSensitivity(o.dims as StreamingDims, {
      relFloor: o.relFloor,
      yAbsMax: o.yAbsMax ?? undefined,
      model: o.model,
    });
    if (!Number.isSafeInteger(o.B) || o.B < 0) throw new Error('B must be a non-negative integer');
    s.B = o.B;
    const ranges = o.ranges;
    if (
      !Array.isArray(ranges) ||
      !ranges.every(
        (r) => Array.isArray(r) && r.length === 2 && Number.isInteger(r[0]) && r[0] >= 0 && r[1] > r[0],
      )
    )
      throw new Error('ranges must be a list of [start, end] pairs');
    s.ranges = ranges.map((r: number[]) => [r[0], r[1]]);
    if (o.xPerSample !== null && !Number.isInteger(o.xPerSample))
      throw new Error('xPerSample must be an integer or null');
    s.xPerSample = o.xPerSample;
    for (const k of STATE_ARRAYS) {
      const v = o[k];
      if (
        !Array.isArray(v) ||
        v.length !== s.a[k].length ||
        !v.every((x) => typeof x === 'number' && Number.isFinite(x))
      )
        throw new Error(`${k} must be ${s.a[k].length} finite numbers`);
      s.a[k].set(v);
    }
    return s;
  } catch (e) {
    throw new LoadError(file, (e as Error).message);
  }
}

/** Parts (shards) of one dataset merged into one accumulator: its result() is the single pass's. */
export function mergeStreaming(parts: readonly StreamingSensitivity[]): StreamingSensitivity {
  if (parts.length === 0) throw new ShapeError('nothing to merge: no partial results');
  const first = parts[0];
  const settings = (s: StreamingSensitivity) =>
    [
      ['dims', JSON.stringify(s.dims)],
      ['relFloor', String(s.relFloor)],
      ['yAbsMax', s.yAbsMax ? `[${Array.from(s.yAbsMax)}]` : 'none'],
      ['model', JSON.stringify(s.model)],
    ] as const;
  parts.forEach((p, i) => {
    const a = settings(first);
    settings(p).forEach(([name, v], j) => {
      if (v !== a[j][1])
        throw new ShapeError(
          `cannot merge sensitivity parts of different runs: part ${i + 1} has ${name} ${v} where part 1 has ${a[j][1]}`,
        );
    });
    if ((p.ranges.length === 0) !== (first.ranges.length === 0))
      throw new ShapeError(
        `part ${i + 1} and part 1 do not both name the rows they cover: give every shard its rows`,
      );
  });
  const order = [...parts].sort((a, b) => (a.ranges[0]?.[0] ?? 0) - (b.ranges[0]?.[0] ?? 0));
  const ranges = order.flatMap((p) => p.ranges).sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++)
    if (ranges[i][0] < ranges[i - 1][1])
      throw new ShapeError(
        `cannot merge: two parts both cover rows from ${ranges[i][0]} (the same shard twice?)`,
      );
  const out = new StreamingSensitivity(first.dims, {
    relFloor: first.relFloor,
    yAbsMax: first.yAbsMax ?? undefined,
    model: first.model,
  });
  const { T } = first.dims;
  for (const p of order) {
    if (p.xPerSample !== null && out.xPerSample !== null && p.xPerSample !== out.xPerSample)
      throw new ShapeError(`the parts' x differ: ${p.xPerSample} vs ${out.xPerSample} values per sample`);
    out.xPerSample ??= p.xPerSample;
    for (const [s, c] of [
      ['nuS', 'nuC'],
      ['eS', 'eC'],
    ] as const)
      for (let i = 0; i < p.a[s].length; i++) {
        add2(out.a[s], out.a[c], i, p.a[s][i]);
        out.a[c][i] += p.a[c][i];
      }
    for (let i = 0; i < p.a.eCount.length; i++) out.a.eCount[i] += p.a.eCount[i];
    chan(out.a.pMean, out.a.pM2, out.B, p.a.pMean, p.a.pM2, p.B);
    chan(out.a.yMean, out.a.yM2, out.B * T, p.a.yMean, p.a.yM2, p.B * T);
    out.B += p.B;
  }
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && last[1] === r[0]) last[1] = r[1];
    else merged.push([r[0], r[1]]);
  }
  out.ranges = merged;
  return out;
}
