import { describe, expect, it } from 'vitest';
import {
  fitView,
  initialView,
  stepForKey,
  togglePair,
  withAxes,
  withFixed,
} from '../../src/renderer/store/view';

const dims = { B: 3, T: 601, O: 15, P: 14 };

describe('view state', () => {
  it('is plain data that survives JSON', () => {
    expect(JSON.parse(JSON.stringify(initialView))).toEqual(initialView);
  });

  it('swaps the axes when the other side is chosen', () => {
    expect(withAxes(initialView, 'x', 'o')).toMatchObject({ xAxis: 'o', yAxis: 't' });
    expect(withAxes(initialView, 'y', 'k')).toMatchObject({ xAxis: 't', yAxis: 'k' });
  });

  it('clamps indices and drops the batch axis when B = 1', () => {
    const v = { ...initialView, xAxis: 'b' as const, fixed: { b: 9, t: 700, o: -3, k: 2.6 } };
    const f = fitView(v, { ...dims, B: 1 });
    expect(f.xAxis).not.toBe('b');
    expect(f.xAxis).not.toBe(f.yAxis);
    expect(f.fixed).toEqual({ b: 0, t: 600, o: 0, k: 3 });
    expect(withFixed(initialView, dims, 'k', 99).fixed.k).toBe(13);
  });

  it('steps the fixed axes with the arrow keys', () => {
    const v = { ...initialView, fixed: { b: 0, t: 0, o: 0, k: 5 } };
    expect(stepForKey(v, dims, 'ArrowRight', false)!.fixed.k).toBe(6);
    expect(stepForKey(v, dims, 'ArrowLeft', false)!.fixed.k).toBe(4);
    expect(stepForKey(v, dims, 'ArrowRight', true)!.fixed.k).toBe(13);
    expect(stepForKey(v, dims, 'ArrowUp', false)!.fixed.b).toBe(1);
    expect(stepForKey(v, { ...dims, B: 1 }, 'ArrowUp', false)).toBeNull();
    expect(stepForKey(v, dims, 'Enter', false)).toBeNull();
  });

  it('toggles line-plot pairs, keeping at most 8', () => {
    let v = initialView;
    for (let k = 0; k < 10; k++) v = togglePair(v, { o: 0, k });
    expect(v.pairs).toHaveLength(8);
    expect(togglePair(v, { o: 0, k: 9 }).pairs).toHaveLength(7);
  });
});
