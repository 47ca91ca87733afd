/**
 * Partial Sobol' results as JSON text (what `--shard i/n` writes and a merge reads). Numbers are
 * written as JavaScript writes doubles — the shortest text that reads back to the same double — so
 * a partial survives the round trip bit for bit.
 */
import { LoadError } from '../../errors';
import { type SobolPartial, elementsOf, statCount } from './partial';
import { type ResolvedSobolSettings, resolveSobolSettings, sobolFingerprint } from './settings';

export const SOBOL_PARTIAL_FORMAT = 'jacscope-sobol-partial';

/** The partial as JSON text. */
export function sobolPartialToJSON(p: SobolPartial): string {
  return JSON.stringify({
    format: SOBOL_PARTIAL_FORMAT,
    version: 1,
    fingerprint: p.fingerprint,
    settings: p.settings,
    outShape: p.outShape,
    ranges: p.ranges,
    centre: Array.from(p.centre),
    sums: Array.from(p.sums),
    comp: Array.from(p.comp),
    blockLo: p.blockLo,
    blockSums: Array.from(p.blockSums),
    evaluations: p.evaluations,
    centreEvaluations: p.centreEvaluations,
    jacobians: p.jacobians,
  });
}

/** Read a partial written by sobolPartialToJSON; a LoadError naming `file` and the problem otherwise. */
export function parseSobolPartial(text: string, file = 'partial result'): SobolPartial {
  const fail = (why: string): never => {
    throw new LoadError(file, why);
  };
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof o !== 'object' || o === null || o.format !== SOBOL_PARTIAL_FORMAT)
    return fail(`not a partial Sobol' result (no "format": "${SOBOL_PARTIAL_FORMAT}")`);
  if (o.version !== 1) return fail(`partial result version ${String(o.version)} is not supported (1 is)`);
  const st = o.settings as Record<string, unknown> | undefined;
  if (typeof st !== 'object' || st === null) return fail('no settings');
  let settings: ResolvedSobolSettings;
  try {
    settings = resolveSobolSettings(
      {
        N: st.N as number,
        distributions: st.distributions as never,
        seed: st.seed as number,
        sampling: st.sampling as never,
        blocks: st.blocks as number,
        resamples: st.resamples as number,
        model: st.model as string,
      },
      st.dgsm === true,
    );
  } catch (e) {
    return fail(`settings: ${(e as Error).message}`);
  }
  if (st.P !== settings.P || st.blocks !== settings.blocks || typeof st.dgsm !== 'boolean')
    return fail('settings are inconsistent (P, blocks or dgsm)');
  const outShape = o.outShape;
  if (!Array.isArray(outShape) || !outShape.every((d) => Number.isInteger(d) && d >= 1))
    return fail('outShape must be a list of positive integers');
  if (o.fingerprint !== sobolFingerprint(settings, outShape))
    return fail('its fingerprint does not match its settings: the file was edited or corrupted');
  const E = elementsOf(outShape);
  const S = statCount(settings.P, settings.dgsm);
  const numbers = (key: string, length?: number, multipleOf?: number): Float64Array => {
    const v = o[key];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x)))
      return fail(`${key} must be a list of finite numbers`);
    if (length !== undefined && v.length !== length)
      return fail(`${key} has ${v.length} numbers, not ${length}`);
    if (multipleOf !== undefined && v.length % multipleOf !== 0)
      return fail(`${key} has ${v.length} numbers, not a multiple of ${multipleOf}`);
    return Float64Array.from(v as number[]);
  };
  const count = (key: string): number => {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      return fail(`${key} must be a non-negative integer`);
    return v;
  };
  const rangesIn = o.ranges;
  if (!Array.isArray(rangesIn)) return fail('ranges must be a list of [start, end] pairs');
  const ranges: [number, number][] = [];
  let prev = 0;
  for (const r of rangesIn) {
    if (!Array.isArray(r) || r.length !== 2 || !Number.isInteger(r[0]) || !Number.isInteger(r[1]))
      return fail('ranges must be a list of [start, end] pairs');
    if (!(r[0] >= prev && r[1] > r[0] && r[1] <= settings.N))
      return fail(`range [${r}] is not within 0..${settings.N} after the previous one`);
    ranges.push([r[0], r[1]]);
    prev = r[1];
  }
  const blockLo = count('blockLo');
  const blockSums = numbers('blockSums', undefined, E * S);
  if (blockLo + blockSums.length / (E * S) > settings.blocks) return fail('blockSums go past the last block');
  return {
    settings,
    outShape,
    fingerprint: o.fingerprint as string,
    ranges,
    centre: numbers('centre', E),
    sums: numbers('sums', E * S),
    comp: numbers('comp', E * S),
    blockLo,
    blockSums,
    evaluations: count('evaluations'),
    centreEvaluations: count('centreEvaluations'),
    jacobians: count('jacobians'),
  };
}
