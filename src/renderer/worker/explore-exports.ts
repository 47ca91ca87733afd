/** Export files of the explore views, built from what the worker holds (the last sweep, the sensitivity). */
import { outputByParamCsv, rankCsv, rankParams, sweepCsv, sweepFileName } from '../lib/explore-format';
import type { Explorer } from './explore';
import type { NpyWriter } from './exports';
import type { GsaMeasure, ToWorker } from './protocol';
import type { ComputedResult } from './session';

const MEASURE_FILE: Record<GsaMeasure, string> = {
  nu: 'dgsm_nu',
  index: 'dgsm_index',
  elasticity: 'elasticity',
};

const MEASURE_LABEL: Record<GsaMeasure, string> = {
  nu: 'nu = mean J^2',
  index: 'nu*Var(p)/Var(y)',
  elasticity: 'mean |J*p/y|',
};

export function exploreExportBytes(
  explorer: Explorer,
  result: ComputedResult | null,
  msg: Extract<ToWorker, { type: 'export-explore' }>,
  npy: NpyWriter,
): { name: string; bytes: Uint8Array } {
  if (!result) throw new Error('nothing computed yet');
  const { yNames, pNames } = result.meta;
  if (msg.what.startsWith('sweep')) {
    const c = explorer.sweepCache;
    if (!c || c.seq !== result.meta.seq)
      throw new Error('no sweep of the current data to export; run one first');
    const N = c.values.length;
    const { T, O, P } = c;
    const ySample = result.meta.yShape.length > 1 ? result.meta.yShape.slice(1) : [T, O];
    const valueLabel = pNames[c.k] === `p${c.k}` ? pNames[c.k] : `${pNames[c.k]} (p${c.k})`;
    const name = (what: 'y' | 'J', o: number | null, j: number | null, ext: string) =>
      sweepFileName(c.k, pNames[c.k], what, o, yNames[o ?? 0], j, pNames[j ?? 0], ext);
    switch (msg.what) {
      case 'sweep-y-csv':
      case 'sweep-y-npy':
      case 'sweep-J-csv':
      case 'sweep-J-npy': {
        const s = explorer.sweepSlice(c.id, msg.o, msg.j);
        const isY = msg.what.startsWith('sweep-y');
        const data = isY ? s.y : s.J;
        const j = isY ? null : msg.j;
        if (msg.what.endsWith('csv'))
          return {
            name: name(isY ? 'y' : 'J', msg.o, j, 'csv'),
            bytes: sweepCsv(valueLabel, c.values, data, T),
          };
        return {
          name: name(isY ? 'y' : 'J', msg.o, j, 'npy'),
          bytes: npy.writeNpy({ shape: [N, T], data }, 'float64'),
        };
      }
      // y and J of every point in the model's own shape: [N,T,O] and [N,T,O,P], or [N,O] and [N,O,P] without time.
      case 'sweep-all-y-npy':
        return {
          name: name('y', null, null, 'npy'),
          bytes: npy.writeNpy({ shape: [N, ...ySample], data: c.y }, 'float64'),
        };
      case 'sweep-all-J-npy':
        return {
          name: name('J', null, null, 'npy'),
          bytes: npy.writeNpy({ shape: [N, ...ySample, P], data: c.J }, 'float64'),
        };
    }
  }
  const g = explorer.lastSensitivity();
  if (!g) throw new Error('no global sensitivity of the current data to export; open its view first');
  const { O, P, T } = result.meta;
  const measure = msg.measure ?? 'nu';
  const m = measure === 'nu' ? g.nu : measure === 'index' ? g.index : g.elasticity;
  if (!m) throw new Error('the normalised index needs at least two samples whose p differ');
  switch (msg.what) {
    case 'gsa-csv':
      return { name: `${MEASURE_FILE[measure]}.csv`, bytes: outputByParamCsv(m, yNames, pNames) };
    case 'gsa-npy':
      return {
        name: `${MEASURE_FILE[measure]}.npy`,
        bytes: npy.writeNpy({ shape: [O, P], data: m }, 'float64'),
      };
    case 'gsa-rank-csv': {
      const o = msg.o;
      const rows = rankParams(m, O, P, o);
      const which = o >= 0 ? `o${o}` : 'mean-over-o';
      return {
        name: `${MEASURE_FILE[measure]}_ranked_${which}.csv`,
        bytes: rankCsv(rows, pNames, MEASURE_LABEL[measure]),
      };
    }
    case 'gsa-t-npy':
      return { name: 'dgsm_nu_t.npy', bytes: npy.writeNpy({ shape: [T, O, P], data: g.nuT }, 'float64') };
  }
  throw new Error(`unknown export ${msg.what}`);
}
