// Tensors of a torch.save checkpoint are checked when the file opens and decoded when first read:
// the values (against the same weights saved as .safetensors, an independent format and reader),
// and that a spread, a structured clone (a post to a worker) and an assignment see them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModelFile } from '../../../src/engine/io/model-file';

const dir = resolve(__dirname, '../../fixtures/fno/seed-fno1d');
const open = (name: string) => readModelFile(new Uint8Array(readFileSync(resolve(dir, name))), name);

describe('checkpoint tensors decoded on first read', () => {
  const pt = open('model.pt');
  const st = open('model.safetensors');

  it('hold the values the .safetensors file holds, complex weights included', () => {
    expect([...pt.tensors.keys()].sort()).toEqual([...st.tensors.keys()].sort());
    let complex = 0;
    for (const [name, t] of pt.tensors) {
      const u = st.tensors.get(name)!;
      expect(t.shape, name).toEqual(u.shape);
      expect(Array.from(t.data), name).toEqual(Array.from(u.data));
      if (u.imag) {
        complex++;
        expect(Array.from(t.imag!), name).toEqual(Array.from(u.imag));
      } else expect('imag' in t, name).toBe(false);
    }
    expect(complex).toBeGreaterThan(0);
  });

  it('are decoded lazily, and read like plain fields by a spread and a structured clone', () => {
    const fresh = open('model.pt');
    const [name, t] = [...fresh.tensors].find(([, v]) => v.imag)!;
    expect(typeof Object.getOwnPropertyDescriptor(t, 'data')?.get, 'data is an accessor').toBe('function');
    const want = st.tensors.get(name)!;
    const clone = structuredClone(t);
    expect(Object.getOwnPropertyDescriptor(clone, 'data')?.value).toBeInstanceOf(Float64Array);
    expect(Array.from(clone.data)).toEqual(Array.from(want.data));
    expect(Array.from(clone.imag!)).toEqual(Array.from(want.imag!));
    expect(Array.from({ ...t }.imag!)).toEqual(Array.from(want.imag!));
    // The first read is kept: the same array every time, and an assignment replaces it.
    expect(t.data).toBe(t.data);
    const other = new Float64Array(t.data.length);
    t.data = other;
    expect(t.data).toBe(other);
  });
});
