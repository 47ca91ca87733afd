// What the tests of the whole J written in parts share: the deep fixture loaded in sample mode (a tiny
// memory budget), and a sink that keeps the parts.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { expect } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine';
import { createEngineAdapter } from '../../src/renderer/worker/engine-adapter';
import { Session } from '../../src/renderer/worker/session';
import type { LoadOutcome } from '../../src/renderer/worker/session';

export const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
export const graph = resolve(__dirname, '../fixtures/graph/mlp-layernorm-noT');
export const bytesOf = (dir: string, name: string) => new Uint8Array(readFileSync(resolve(dir, name)));
export const npy = (dir: string, name: string) => readNpy(bytesOf(dir, name), name);

export function relErr(a: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(a.length).toBe(want.length);
  let e = 0;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    e = Math.max(e, Math.abs(a[i] - want[i]));
    m = Math.max(m, Math.abs(want[i]));
  }
  return e / m;
}

export function computed(o: LoadOutcome) {
  if (o.kind !== 'computed')
    throw new Error(`expected a result, got ${o.kind}: ${JSON.stringify(o.messages)}`);
  return o.result;
}

import { tile } from '../engine/helpers';
export { tile };

/** The deep fixture's 4 samples `reps` times over, loaded with memory budget `budget`. */
export async function deepSession(budget: number, reps = 1) {
  const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: budget });
  const x = npy(deep, 'x4.npy');
  const p = npy(deep, 'p4.npy');
  const data =
    reps === 1
      ? [
          { name: 'x4.npy', bytes: bytesOf(deep, 'x4.npy') },
          { name: 'p4.npy', bytes: bytesOf(deep, 'p4.npy') },
        ]
      : [
          {
            name: 'x.npy',
            bytes: writeNpy(
              { shape: [x.shape[0] * reps, ...x.shape.slice(1)], data: tile(x.data, reps) },
              'float64',
            ),
          },
          {
            name: 'p.npy',
            bytes: writeNpy({ shape: [p.shape[0] * reps, p.shape[1]], data: tile(p.data, reps) }, 'float64'),
          },
        ];
  const model = ['model.pt', 'config.json'].map((name) => ({ name, bytes: bytesOf(deep, name) }));
  const r = computed(await s.load([...model, ...data]));
  return { s, r };
}

/** A sink that keeps every part (each within `cap` bytes) and the whole file. */
export function collector(cap = Infinity) {
  const parts: Uint8Array[] = [];
  return {
    parts,
    sink: {
      write: async (b: Uint8Array) => {
        expect(b.length).toBeLessThanOrEqual(cap);
        parts.push(b.slice());
        await new Promise((r) => setTimeout(r, 0));
      },
    },
    file(): Uint8Array {
      const n = parts.reduce((a, p) => a + p.length, 0);
      const out = new Uint8Array(n);
      let off = 0;
      for (const p of parts) {
        out.set(p, off);
        off += p.length;
      }
      return out;
    },
  };
}
