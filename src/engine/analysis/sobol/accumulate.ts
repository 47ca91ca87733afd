/**
 * Accumulates the sums of partial.ts over chunks of base rows of one range (a run or a shard), row
 * by row in order: the totals with compensation, each bootstrap block's plainly. Memory is the sums
 * alone, whatever the number of rows.
 */
import { ShapeError } from '../../errors';
import { type SobolPartial, addCompensated, elementsOf, statCount } from './partial';
import { type ResolvedSobolSettings, blockOf, sobolFingerprint } from './settings';

export class SobolAccumulator {
  readonly E: number;
  readonly S: number;
  private readonly sums: Float64Array;
  private readonly comp: Float64Array;
  private readonly blockLo: number;
  private readonly blockSums: Float64Array;
  private next: number;
  evaluations = 0;
  centreEvaluations = 0;
  jacobians = 0;

  constructor(
    readonly settings: ResolvedSobolSettings,
    readonly outShape: readonly number[],
    readonly start: number,
    readonly end: number,
    /** y at the distributions' centre [E]. */
    readonly centre: Float64Array,
  ) {
    this.E = elementsOf(outShape);
    this.S = statCount(settings.P, settings.dgsm);
    if (centre.length !== this.E)
      throw new ShapeError(`the centre's output has ${centre.length} values, not ${this.E}`);
    this.sums = new Float64Array(this.E * this.S);
    this.comp = new Float64Array(this.E * this.S);
    const { N, blocks } = settings;
    this.blockLo = end > start ? blockOf(start, N, blocks) : 0;
    const blockHi = end > start ? blockOf(end - 1, N, blocks) + 1 : 0;
    this.blockSums = new Float64Array((blockHi - this.blockLo) * this.E * this.S);
    this.next = start;
  }

  /**
   * Base rows [row0, row0 + rows) — the next ones of the range — with their outputs
   * y [(P+2)·rows, E] in saltelliRows' order, and the Jacobians at A [rows, E, P] with the DGSM bound.
   */
  add(row0: number, rows: number, y: Float64Array | Float32Array, J?: Float64Array | Float32Array): void {
    const { P, N, blocks, dgsm } = this.settings;
    const { E, S, sums, comp, centre } = this;
    if (row0 !== this.next || row0 + rows > this.end)
      throw new ShapeError(
        `rows ${row0}..${row0 + rows - 1} are not the next of ${this.start}..${this.end - 1}`,
      );
    if (y.length !== (P + 2) * rows * E)
      throw new ShapeError(
        `the model returned ${y.length} values for ${(P + 2) * rows} samples of ${E} outputs`,
      );
    if (dgsm && (!J || J.length !== rows * E * P))
      throw new ShapeError(
        `the Jacobian has ${J?.length ?? 0} values for ${rows} samples of [${this.outShape}, ${P}]`,
      );
    for (let r = 0; r < rows; r++) {
      const j = row0 + r;
      const blk = this.blockSums;
      const bo = (blockOf(j, N, blocks) - this.blockLo) * E * S;
      for (let e = 0; e < E; e++) {
        const fA = y[r * E + e];
        const gA = fA - centre[e];
        const gB = y[(rows + r) * E + e] - centre[e];
        const o = e * S;
        const b = bo + o;
        addCompensated(sums, comp, o, gA);
        addCompensated(sums, comp, o + 1, gB);
        addCompensated(sums, comp, o + 2, gA * gA);
        addCompensated(sums, comp, o + 3, gB * gB);
        blk[b] += gA;
        blk[b + 1] += gB;
        blk[b + 2] += gA * gA;
        blk[b + 3] += gB * gB;
        for (let i = 0; i < P; i++) {
          const D = y[((2 + i) * rows + r) * E + e] - fA;
          const q = o + 4 + 3 * i;
          const bq = b + 4 + 3 * i;
          addCompensated(sums, comp, q, gB * D);
          addCompensated(sums, comp, q + 1, D);
          addCompensated(sums, comp, q + 2, D * D);
          blk[bq] += gB * D;
          blk[bq + 1] += D;
          blk[bq + 2] += D * D;
        }
        if (dgsm)
          for (let k = 0; k < P; k++) {
            const v = J![(r * E + e) * P + k];
            addCompensated(sums, comp, o + 4 + 3 * P + k, v * v);
            blk[b + 4 + 3 * P + k] += v * v;
          }
      }
    }
    this.next += rows;
    this.evaluations += (P + 2) * rows;
    if (dgsm) this.jacobians += rows;
  }

  /** The range's sums so far (complete once every row was added). */
  partial(): SobolPartial {
    if (this.next !== this.end)
      throw new ShapeError(
        `rows ${this.next}..${this.end - 1} of ${this.start}..${this.end - 1} were not computed`,
      );
    return {
      settings: this.settings,
      outShape: [...this.outShape],
      fingerprint: sobolFingerprint(this.settings, this.outShape),
      ranges: this.end > this.start ? [[this.start, this.end]] : [],
      centre: this.centre,
      sums: this.sums,
      comp: this.comp,
      blockLo: this.blockLo,
      blockSums: this.blockSums,
      evaluations: this.evaluations,
      centreEvaluations: this.centreEvaluations,
      jacobians: this.jacobians,
    };
  }
}
