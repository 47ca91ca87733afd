import { describe, expect, it } from 'vitest';
import { addInto } from '../../../../src/engine/graph/kernels/layout';
import { GTensor } from '../../../../src/engine/graph/tensor';

// addInto copies or accumulates any strided view into another; transposing views go through tiles.
// Checked against the plain definition d[c,t] (+)= s · src[c,t], element by element.
describe('addInto', () => {
  /** A [B,C,T] view of a [B,T,C] array (a permuted linear output) and a [B,C,T] destination. */
  function transposed(B: number, C: number, T: number, dstT: number) {
    const src = Float64Array.from({ length: B * T * C }, (_, i) => Math.sin(i * 0.7) + i * 1e-3);
    const view = new GTensor([B, C, T], [T * C, 1, C], 0, src, null, 'float');
    const out = Float64Array.from({ length: B * C * dstT }, (_, i) => Math.cos(i * 0.3));
    const before = out.slice();
    const dst = new GTensor([B, C, T], [C * dstT, dstT, 1], 0, out, null, 'float');
    const at = (b: number, c: number, t: number) => src[b * T * C + t * C + c];
    return {
      view,
      dst,
      out,
      before,
      at,
      dstIndex: (b: number, c: number, t: number) => b * C * dstT + c * dstT + t,
    };
  }

  for (const [B, C, T] of [
    [2, 64, 601],
    [1, 17, 33],
    [3, 16, 16],
    [1, 5, 40],
  ])
    for (const accumulate of [false, true])
      it(`${accumulate ? 'accumulates' : 'copies'} a transposed [${B},${C},${T}] view, edges included`, () => {
        const dstT = T + 3; // the destination's rows are longer: only [0,T) of each is written
        const { view, dst, out, before, at, dstIndex } = transposed(B, C, T, dstT);
        addInto(dst, view, 1, accumulate);
        for (let b = 0; b < B; b++)
          for (let c = 0; c < C; c++) {
            for (let t = 0; t < T; t++) {
              const i = dstIndex(b, c, t);
              expect(out[i]).toBe(accumulate ? before[i] + at(b, c, t) : at(b, c, t));
            }
            for (let t = T; t < dstT; t++) expect(out[dstIndex(b, c, t)]).toBe(before[dstIndex(b, c, t)]);
          }
      });

  it('writes a contiguous source into a transposed destination (the other orientation)', () => {
    const C = 40;
    const T = 70;
    const src = Float64Array.from({ length: C * T }, (_, i) => i + 0.5);
    const out = new Float64Array(C * T);
    // dst [C,T] with c fastest in memory, src [C,T] row-major.
    addInto(
      new GTensor([C, T], [1, C], 0, out, null, 'float'),
      new GTensor([C, T], [T, 1], 0, src, null, 'float'),
      1,
      false,
    );
    for (let c = 0; c < C; c++) for (let t = 0; t < T; t++) expect(out[t * C + c]).toBe(src[c * T + t]);
  });
});
