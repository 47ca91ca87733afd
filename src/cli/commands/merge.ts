/**
 * `jacscope merge PART... --out S.json|S.csv`: the partial results of sharded runs combined into
 * the single run's result — Sobol' partials (`jacscope sobol --shard`), sensitivity partials
 * (`jacscope sensitivity --shard`) or max |y| partials (`jacscope sensitivity --pass ymax`), told
 * apart by their "format". Parts may come in any order; every shard must be there exactly once.
 */
import { mergeSobol, parseSobolPartial, SOBOL_PARTIAL_FORMAT } from '../../engine/analysis/sobol';
import {
  STREAMING_PARTIAL_FORMAT,
  mergeStreaming,
  parseStreamingPartial,
} from '../../engine/analysis/streaming';
import { LoadError, ShapeError } from '../../engine/errors';
import { allowOnly, required, UsageError, type ParsedArgs } from '../args';
import { readBytes } from '../files';
import { outKind, writeJson } from '../analysis-common';

const KINDS: Record<string, string> = {
  [SOBOL_PARTIAL_FORMAT]: "Sobol'",
  [STREAMING_PARTIAL_FORMAT]: 'sensitivity',
  'jacscope-ymax-partial': 'max |y|',
};

export async function merge(args: ParsedArgs, parts: string[], log: (line: string) => void): Promise<void> {
  allowOnly(args, ['out']);
  const outPath = required(args, 'out');
  if (parts.length === 0)
    throw new UsageError('merge needs the partial results: jacscope merge PART... --out S.json');
  const texts = parts.map((f) => new TextDecoder().decode(readBytes(f)));
  const formats = texts.map((t, i) => {
    let o: { format?: unknown };
    try {
      o = JSON.parse(t);
    } catch (e) {
      throw new LoadError(parts[i], `not valid JSON (${(e as Error).message})`);
    }
    const f = typeof o === 'object' && o !== null ? o.format : undefined;
    if (typeof f !== 'string' || !(f in KINDS))
      throw new LoadError(
        parts[i],
        'is not a partial result (written by jacscope sobol --shard, sensitivity --shard or sensitivity --pass ymax)',
      );
    return f;
  });
  const kind = formats[0];
  formats.forEach((f, i) => {
    if (f !== kind)
      throw new ShapeError(
        `cannot merge ${parts[i]} (a ${KINDS[f]} partial) with ${parts[0]} (a ${KINDS[kind]} partial)`,
      );
  });
  if (kind === SOBOL_PARTIAL_FORMAT) {
    outKind(outPath, false);
    const r = mergeSobol(texts.map((t, i) => parseSobolPartial(t, parts[i])));
    const { writeSobolResult } = await import('./sobol');
    writeSobolResult(outPath, r);
    log(
      `Sobol' indices [${[...r.outShape, r.P]}] from ${parts.length} part${parts.length > 1 ? 's' : ''}, N = ${r.n} → ${outPath}`,
    );
    return;
  }
  const s = await import('./sensitivity');
  if (kind === STREAMING_PARTIAL_FORMAT) {
    outKind(outPath, false);
    const merged = mergeStreaming(texts.map((t, i) => parseStreamingPartial(t, parts[i])));
    const info = s.idInfo(merged.model);
    if (info) {
      const gaps = s.missing(merged.ranges, info.N);
      if (gaps.length)
        throw new ShapeError(
          `the parts cover only some of the ${info.N} samples (${gaps.join(', ')} are missing): merge every shard of the run`,
        );
    }
    const { T, O, P } = merged.dims;
    const timeAxis = info ? info.out.length === 2 : T > 1;
    s.writeSensitivityResult(outPath, merged.result(), merged.dims, merged.yAbsMax, timeAxis);
    log(
      `sensitivity of ${merged.B} samples, outputs [${timeAxis ? `${T},` : ''}${O}] × P = ${P} from ${parts.length} part${parts.length > 1 ? 's' : ''} → ${outPath}`,
    );
    return;
  }
  if (outKind(outPath, true) !== 'json') throw new LoadError(outPath, 'max |y| results are JSON');
  const ys = texts.map((t, i) => s.parseYmax(t, parts[i]));
  const m = s.mergeYmax(ys, parts);
  writeJson(outPath, s.ymaxJSON(m));
  const gaps = s.missing(m.ranges, m.N);
  log(
    `max |y| over ${gaps.length ? `samples ${m.ranges.map(([a, b]) => `${a}–${b - 1}`).join(', ')}` : `all ${m.N} samples`} → ${outPath}${gaps.length ? ` (still missing: ${gaps.join(', ')})` : ''}`,
  );
}
