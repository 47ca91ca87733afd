/**
 * Sharing GPU memory between a tape's buffers (tape-slots.ts): buffers whose lives do not overlap
 * share a slot, a later tenant that starts at zero gets its slot cleared first, and a run with
 * shared slots gives the float64 runner's values (WebGPU on SwiftShader here).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { E } from '../../../src/engine/graph/lower/expr';
import { runTape } from '../../../src/engine/graph/lower/run-tape';
import type { Access, BufInfo, Rec, Tape } from '../../../src/engine/graph/lower/tape';
import { WebGpuContext } from '../../../src/engine/backends/webgpu/context';
import { TapeRunner } from '../../../src/engine/backends/webgpu/tape-runner';
import { coversWhole, planSlots, plannedBytes } from '../../../src/engine/backends/webgpu/tape-slots';
import { relErr } from '../helpers';
import { nodeGpuWithAdapter } from '../webgpu-node';

const probe = await nodeGpuWithAdapter();
const context = 'gpu' in probe ? await WebGpuContext.create(probe.gpu) : null;
if (!context)
  console.warn(
    `[tape-slots.test] WebGPU runs did not run: ${'reason' in probe ? probe.reason : 'no adapter'}`,
  );
afterAll(() => context?.destroy());

const v = (buf: number, strides: number[], offset = 0): Access => ({ buf, strides, offset });

/**
 * x [8] → a = 2x (whole) → b[0:4] = a[0:4] + 1 (part of b) → y = b + a … then c = 3·y written whole,
 * z = c: a, b, c are made by the run; b starts at zero where it is not written.
 */
function tape(): Tape {
  const bufs: BufInfo[] = [
    { len: 8, init: { k: 'input', name: 'x' }, op: 'x' },
    { len: 8, init: { k: 'zero' }, op: 'a' },
    { len: 8, init: { k: 'zero' }, op: 'b' },
    { len: 8, init: { k: 'zero' }, op: 'c' },
    { len: 8, init: { k: 'zero' }, op: 'd' },
    { len: 8, init: { k: 'output', name: 'y' }, op: 'y' },
  ];
  const recs: Rec[] = [
    {
      kind: 'ewise',
      op: 'a',
      shape: [8],
      ins: [v(0, [1])],
      outs: [v(1, [1])],
      exprs: [E.mul(E.c(2), E.in(0))],
    },
    {
      kind: 'ewise',
      op: 'c',
      shape: [8],
      ins: [v(1, [1])],
      outs: [v(3, [1])],
      exprs: [E.mul(E.c(3), E.in(0))],
    },
    // a is dead from here: b (written in part) can take its slot, and must start at zero
    {
      kind: 'ewise',
      op: 'b',
      shape: [4],
      ins: [v(3, [1])],
      outs: [v(2, [1])],
      exprs: [E.add(E.in(0), E.c(1))],
    },
    {
      kind: 'ewise',
      op: 'd',
      shape: [8],
      ins: [v(2, [1]), v(3, [1])],
      outs: [v(4, [1])],
      exprs: [E.add(E.in(0), E.in(1))],
    },
    { kind: 'ewise', op: 'y', shape: [8], ins: [v(4, [1])], outs: [v(5, [1])], exprs: [E.in(0)] },
  ];
  return { bufs, recs, y: 5, J: null };
}

describe('tape slots', () => {
  it('knows a view that writes a whole buffer once', () => {
    expect(coversWhole([2, 3], v(0, [3, 1]), 6)).toBe(true);
    expect(coversWhole([3, 2], v(0, [1, 3]), 6)).toBe(true);
    expect(coversWhole([2, 3], v(0, [3, 1], 1), 7)).toBe(false);
    expect(coversWhole([2, 3], v(0, [4, 1]), 8)).toBe(false);
    expect(coversWhole([2, 3], v(0, [0, 1]), 3)).toBe(false);
  });

  it('shares slots between buffers that are not live at once, clearing for a tenant that starts at zero', () => {
    const t = tape();
    const plan = planSlots(t);
    // a and b share; so do c … no: c is live with b; d takes what is free then
    expect(plan.slotOf[0]).toBe(-1);
    expect(plan.slotOf[5]).toBe(-1);
    expect(plan.slotOf[2]).toBe(plan.slotOf[1]);
    expect(plan.slotOf[3]).not.toBe(plan.slotOf[2]);
    expect(plan.clearBefore.get(2)).toEqual([{ slot: plan.slotOf[2], len: 8 }]);
    expect(plannedBytes(t)).toBeLessThan(t.bufs.reduce((a, b) => a + b.len, 0) * 4);
  });

  it.runIf(!!context)('a run with shared slots gives the float64 runner values', async () => {
    const t = tape();
    const x = Float64Array.from({ length: 8 }, (_, i) => i - 3.5);
    const want = runTape(t, { inputs: new Map([['x', x]]), n: 1, P: 0 }).y;
    const runner = await TapeRunner.create(context!, t, 1, 0);
    try {
      for (let k = 0; k < 2; k++) {
        const y = new Float64Array(8).fill(NaN);
        await runner.run(new Map([['x', x]]), { y });
        expect(relErr(y, want)).toBeLessThan(1e-6);
      }
    } finally {
      runner.destroy();
    }
  });
});
