import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

// Hostile and broken input: every kind of file jacscope reads, mutated 10,000+ times with a fixed
// seed — truncations at every structural boundary, bit flips, swapped bytes, inflated length and
// shape fields, deflate bombs — must either load or throw LoadError with a message, within 2 s,
// allocating at most a small multiple of the input's size (a header claiming 10^12 elements must be
// refused before any allocation). Allocations are counted by wrapping the typed-array and
// ArrayBuffer constructors *before* the readers (and fflate) are imported.

let allocated = 0;
const tracked = [
  'ArrayBuffer',
  'Uint8Array',
  'Int8Array',
  'Uint16Array',
  'Int16Array',
  'Uint32Array',
  'Int32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
] as const;
for (const name of tracked) {
  const g = globalThis as unknown as Record<string, new (...a: unknown[]) => object>;
  const Orig = g[name] as unknown as { new (...a: unknown[]): object; BYTES_PER_ELEMENT?: number };
  const per = Orig.BYTES_PER_ELEMENT ?? 1;
  g[name] = class extends (Orig as new (...a: unknown[]) => object) {
    constructor(...args: unknown[]) {
      if (typeof args[0] === 'number') allocated += args[0] * per;
      super(...args);
    }
  } as never;
}

const { LoadError } = await import('../../../src/engine/errors');
const { readModelFile } = await import('../../../src/engine/io/model-file');
const { readDataFile } = await import('../../../src/engine/io/dataset');
const { recognizeFno } = await import('../../../src/engine/models/recognize');
const { writeNpy } = await import('../../../src/engine/io/npy');
const { writeSafetensors } = await import('../../../src/engine/io/safetensors');
const { zipSync } = await import('fflate');
const { fixturePath } = await import('../fixtures');
const { rng } = await import('../helpers');

type Kind = 'model' | 'data';
interface Sample {
  name: string;
  kind: Kind;
  bytes: Uint8Array;
  /** Byte offsets where the format's structure changes (headers, field starts, entry starts). */
  boundaries: number[];
  mutations: number;
}

function load(s: Sample, bytes: Uint8Array): void {
  if (s.kind === 'model') recognizeFno(readModelFile(bytes, s.name));
  else readDataFile(bytes, s.name, { Xf: 5, P: 6 });
}

function boundariesOf(bytes: Uint8Array): number[] {
  const b = new Set<number>([0, 1, 2, 4, 6, 8, 9, 10, 12, 16, bytes.length - 1]);
  // zip local/central/end records, JSON/npy header punctuation, newlines in CSV
  for (let i = 0; i < bytes.length - 3; i++) {
    if (bytes[i] === 0x50 && bytes[i + 1] === 0x4b) for (let d = 0; d <= 46; d += 2) b.add(i + d);
    if (i < 4096 && (bytes[i] === 0x7b || bytes[i] === 0x7d || bytes[i] === 0x2c || bytes[i] === 0x0a))
      b.add(i);
  }
  return [...b].filter((x) => x >= 0 && x < bytes.length).sort((a, c) => a - c);
}

const read = (p: string) => new Uint8Array(readFileSync(p));
const tiny = (shape: number[], f = (i: number) => Math.sin(i)) => ({
  dtype: 'float64' as const,
  shape,
  data: Float64Array.from({ length: shape.reduce((a, c) => a * c, 1) }, (_, i) => f(i)),
});

function samples(): Sample[] {
  const out: Sample[] = [];
  const add = (name: string, kind: Kind, bytes: Uint8Array, mutations: number) =>
    out.push({ name, kind, bytes, boundaries: boundariesOf(bytes), mutations });
  add('deep/model.pt', 'model', read(fixturePath('deep-fno1d', 'model.pt')), 300);
  add('deep/model.safetensors', 'model', read(fixturePath('deep-fno1d', 'model.safetensors')), 300);
  add('deep/x.npy', 'data', read(fixturePath('deep-fno1d', 'x.npy')), 600);
  add('deep/p4.npy', 'data', read(fixturePath('deep-fno1d', 'p4.npy')), 1000);
  const cases = new URL('./cases/', import.meta.url);
  for (const f of readdirSync(cases).filter((n) => /\.(pt|pth|ckpt)$/.test(n))) {
    add(`cases/${f}`, 'model', read(new URL(f, cases).pathname), 250);
  }
  add(
    'small.safetensors',
    'model',
    writeSafetensors(
      new Map([
        ['linear_p.weight', { ...tiny([4, 5]), dtype: 'float32' }],
        [
          'spect1.weights1',
          { dtype: 'complex64', shape: [2, 2, 3], data: tiny([12]).data, imag: tiny([12], Math.cos).data },
        ],
      ]),
      { width: '4' },
    ),
    1200,
  );
  const xn = writeNpy(tiny([2, 8, 5]), 'float32');
  const pn = writeNpy(tiny([2, 6]), 'float64');
  add('stored.npz', 'data', zipSync({ 'x.npy': xn, 'p.npy': pn }, { level: 0 }), 1200);
  add('deflated.npz', 'data', zipSync({ 'func_inp.npy': xn, 'scalar_inp.npy': pn }, { level: 9 }), 1200);
  add('p.csv', 'data', new TextEncoder().encode('a,b,c,d,e,f\n1,2,3,4,5,6\n0.5,-1e-3,nan,7,8,9\n'), 800);
  add(
    'x.csv',
    'data',
    new TextEncoder().encode('batch,u,v,w,q,r\n0,1,2,3,4,5\n0,1,2,3,4,5\n1,1,2,3,4,5\n1,6,7,8,9,0\n'),
    800,
  );
  // deflate bomb: 64 MB of zeros in a few kB, named as x
  add('bomb.npz', 'data', zipSync({ 'x.npy': new Uint8Array(64 << 20) }, { level: 9 }), 200);
  return out;
}

/** Overwrite digits in the text header with a huge number (shapes, lengths, data_offsets). */
function inflateNumber(bytes: Uint8Array, r: () => number): Uint8Array {
  const out = bytes.slice();
  const head = Math.min(out.length, 4096);
  const starts: number[] = [];
  for (let i = 0; i < head; i++)
    if (out[i] >= 0x30 && out[i] <= 0x39 && !(out[i - 1] >= 0x30 && out[i - 1] <= 0x39)) starts.push(i);
  if (starts.length === 0) return out;
  let i = starts[Math.floor(r() * starts.length)];
  while (i < head && out[i] >= 0x30 && out[i] <= 0x39) out[i++] = 0x39; // 9999…
  return out;
}

function mutate(s: Sample, r: () => number, n: number): Uint8Array {
  const b = s.bytes;
  switch (n % 6) {
    case 0: {
      const cut = s.boundaries[Math.floor(r() * s.boundaries.length)];
      return b.slice(0, cut);
    }
    case 1: {
      const out = b.slice();
      const flips = 1 + Math.floor(r() * 8);
      for (let k = 0; k < flips; k++) {
        const i = r() < 0.7 ? Math.floor(r() * Math.min(b.length, 512)) : Math.floor(r() * b.length);
        out[i] ^= 1 << Math.floor(r() * 8);
      }
      return out;
    }
    case 2: {
      const out = b.slice();
      const i = s.boundaries[Math.floor(r() * s.boundaries.length)];
      const j = Math.min(b.length - 1, i + 1 + Math.floor(r() * 8));
      [out[i], out[j]] = [out[j], out[i]];
      return out;
    }
    case 3:
      return inflateNumber(b, r);
    case 4: {
      // a length field at a boundary set to all ones (zip sizes, safetensors header length, npy header length)
      const out = b.slice();
      const i = s.boundaries[Math.floor(r() * s.boundaries.length)];
      for (let k = 0; k < 4 && i + k < out.length; k++) out[i + k] = 0xff;
      return out;
    }
    default:
      return b.slice(0, Math.floor(r() * b.length));
  }
}

describe('hostile input fuzz (seeded)', () => {
  const all = samples();
  const total = all.reduce((a, s) => a + s.mutations, 0);
  it(`has at least 10,000 mutations (${total})`, () => expect(total).toBeGreaterThanOrEqual(10_000));

  it.each(all.map((s) => [s.name, s] as const))('%s', (_name, s) => {
    const r = rng(s.bytes.length * 31 + s.mutations);
    let loaded = 0;
    let refused = 0;
    let worstMs = 0;
    let worstAlloc = 0;
    for (let n = 0; n < s.mutations; n++) {
      const bytes = mutate(s, r, n);
      allocated = 0;
      const t0 = performance.now();
      try {
        load(s, bytes);
        loaded++;
      } catch (e) {
        if (!(e instanceof LoadError)) {
          throw new Error(`mutation ${n} of ${s.name} threw ${(e as Error)?.name}: ${(e as Error)?.message}`);
        }
        expect(e.message.length).toBeGreaterThan(s.name.length + 3);
        refused++;
      }
      const ms = performance.now() - t0;
      worstMs = Math.max(worstMs, ms);
      // what a reader may allocate: the float64 copy of the data (≤ 8× the bytes) and working space
      const budget = 24 * bytes.length + (1 << 20);
      worstAlloc = Math.max(worstAlloc, allocated / Math.max(bytes.length, 1));
      if (allocated > budget)
        throw new Error(
          `mutation ${n} of ${s.name} allocated ${allocated} bytes for a ${bytes.length}-byte input`,
        );
      if (ms > 2000) throw new Error(`mutation ${n} of ${s.name} took ${ms.toFixed(0)} ms`);
    }
    console.log(
      `${s.name}: ${loaded} loaded, ${refused} refused, worst ${worstMs.toFixed(1)} ms, worst ${worstAlloc.toFixed(1)}× input allocated`,
    );
    expect(loaded + refused).toBe(s.mutations);
  });
});
