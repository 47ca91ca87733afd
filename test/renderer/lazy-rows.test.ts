// Files opened lazily: the .npy/.npz layouts read from the header (and the zip directory) alone, rows read by
// ranges from a Blob, checked against the engine's whole-file readers; bad ranges refused; and a Session that
// opens x by rows computing the same J as PyTorch (the committed fixture's float64 Jacobian).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readNpy, writeNpy } from '../../src/engine';
import { readNpz } from '../../src/engine/io/npz';
import { blobReader, checkRange, remoteReader } from '../../src/renderer/worker/byte-reader';
import { npyLayout, npzLayouts } from '../../src/renderer/worker/lazy-layout';
import { openLazy } from '../../src/renderer/worker/lazy-open';
import { LazyRows } from '../../src/renderer/worker/lazy-rows';
import { createEngineAdapter, analysisFns } from '../../src/renderer/worker/engine-adapter';
import { Explorer } from '../../src/renderer/worker/explore';
import { Session } from '../../src/renderer/worker/session';
import { allOfJ } from '../../src/renderer/lib/all-of-j';
import { relErr } from '../engine/helpers';

function seq(n: number, f: (i: number) => number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => f(i));
}

const B = 40;
const T = 16;
const Xf = 3;
const xData = seq(B * T * Xf, (i) => Math.sin(i * 0.37) * 10 + i * 1e-3);
const pData = seq(B * 2, (i) => i * 0.5 - 3);
const xNpy = writeNpy({ shape: [B, T, Xf], data: xData }, 'float32');
const pNpy = writeNpy({ shape: [B, 2], data: pData }, 'float64');

/** A big-endian float64 .npy of [rows, cols] (np.save of a '>f8' array). */
function bigEndianNpy(rows: number, cols: number, f: (i: number) => number): Uint8Array {
  const head = `{'descr': '>f8', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const pad = 64 - ((10 + head.length + 1) % 64);
  const h = head + ' '.repeat(pad) + '\n';
  const out = new Uint8Array(10 + h.length + rows * cols * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, h.length & 0xff, h.length >> 8]);
  out.set(new TextEncoder().encode(h), 10);
  const v = new DataView(out.buffer, 10 + h.length);
  for (let i = 0; i < rows * cols; i++) v.setFloat64(i * 8, f(i), false);
  return out;
}

const reader = (bytes: Uint8Array, name: string) => blobReader(new Blob([bytes as BlobPart]), name);

describe('lazy .npy and .npz layouts', () => {
  it('reads rows of a .npy by ranges, equal to the whole-file reader', async () => {
    const r = reader(xNpy, 'x.npy');
    const l = await npyLayout(r);
    if ('reason' in l) throw new Error(l.reason);
    expect(l.ok.shape).toEqual([B, T, Xf]);
    const whole = readNpy(xNpy, 'x.npy').data;
    const rows = new LazyRows(r, l.ok);
    const per = T * Xf;
    await rows.ensure(5, 9);
    expect(Array.from(rows.get(5, 9))).toEqual(Array.from(whole.subarray(5 * per, 9 * per)));
    expect(Array.from(rows.get(6, 7))).toEqual(Array.from(whole.subarray(6 * per, 7 * per)));
    await rows.ensure(B - 1, B);
    expect(Array.from(rows.get(B - 1, B))).toEqual(Array.from(whole.subarray((B - 1) * per)));
    // Rows not read yet (and no synchronous reads in Node): refused, never zeros.
    expect(() => rows.get(0, 1)).toThrow(/not read from disk yet/);
  });

  it('decodes big-endian rows', async () => {
    const bytes = bigEndianNpy(7, 5, (i) => i * 1.25 - 4);
    const r = reader(bytes, 'be.npy');
    const l = await npyLayout(r);
    if ('reason' in l) throw new Error(l.reason);
    const rows = new LazyRows(r, l.ok);
    await rows.ensure(2, 4);
    expect(Array.from(rows.get(2, 4))).toEqual(Array.from(readNpy(bytes, 'be.npy').data.subarray(10, 20)));
  });

  it('refuses bad ranges and files that cannot be read by rows', async () => {
    const r = reader(xNpy, 'x.npy');
    const l = await npyLayout(r);
    if ('reason' in l) throw new Error(l.reason);
    const rows = new LazyRows(r, l.ok);
    await expect(rows.ensure(-1, 2)).rejects.toThrow(/not a range/);
    await expect(rows.ensure(3, B + 1)).rejects.toThrow(/not a range/);
    await expect(rows.ensure(2.5, 3)).rejects.toThrow(/not a range/);
    await expect(r.read(xNpy.length - 4, 8)).rejects.toThrow(/past the end/);
    await expect(r.read(-1, 8)).rejects.toThrow(/bad byte range/);
    expect(() => checkRange('f', 10, 0, Number.NaN)).toThrow(/bad byte range/);
    // A reader that answers short is an error, not padding.
    const short = remoteReader('s.npy', 100, async (_o, n) => new Uint8Array(n - 1));
    await expect(short.read(0, 10)).rejects.toThrow(/9 bytes came back where 10/);
    // Fortran order: rows are not contiguous.
    const fortran = new Uint8Array(xNpy);
    const at = new TextDecoder('latin1').decode(fortran.subarray(0, 128)).indexOf('False');
    fortran.set(new TextEncoder().encode('True '), at);
    const f = await npyLayout(reader(fortran, 'f.npy'));
    expect('reason' in f && f.reason).toMatch(/Fortran order/);
    // Truncated: the shape needs more bytes than follow.
    const cut = await npyLayout(reader(xNpy.subarray(0, xNpy.length - 10), 'cut.npy'));
    expect('reason' in cut && cut.reason).toMatch(/truncated/);
  });

  it('reads a stored .npz member by rows and its p whole; a compressed one is read whole instead', async () => {
    const npz = zipSync({ 'x.npy': [xNpy, { level: 0 }], 'p.npy': [pNpy, { level: 0 }] });
    const whole = readNpz(npz, 'd.npz');
    const xs = whole.get('x')!.data;
    const ps = whole.get('p')!.data;
    const all = await npzLayouts(reader(npz, 'd.npz'));
    if ('reason' in all) throw new Error(all.reason);
    expect([...all.ok.keys()].sort()).toEqual(['p', 'x']);
    const opened = await openLazy(reader(npz, 'd.npz'), {});
    if (!('parts' in opened)) throw new Error('expected lazy parts');
    const { x, p, notes } = opened.parts;
    expect(x!.shape).toEqual([B, T, Xf]);
    expect(x!.data.length).toBe(0);
    await x!.rows!.ensure(10, 12);
    expect(Array.from(x!.rows!.get(10, 12))).toEqual(Array.from(xs.subarray(10 * T * Xf, 12 * T * Xf)));
    expect(Array.from(p!.data)).toEqual(Array.from(ps));
    expect(notes.join('\n')).toMatch(/opened lazily: rows of x are read from disk as needed/);

    const deflated = zipSync({ 'x.npy': [xNpy, { level: 6 }], 'p.npy': [pNpy, { level: 6 }] });
    const d = await openLazy(reader(deflated, 'z.npz'), {});
    expect('bytes' in d && d.bytes.length).toBe(deflated.length);
  });
});

describe('a session with x opened by rows', () => {
  const deep = resolve(__dirname, '../fixtures/fno/deep-fno1d');
  const bytes = (name: string) => new Uint8Array(readFileSync(resolve(deep, name)));
  const Jref = readNpy(bytes('jacobian4_f64.npy'), 'j.npy');
  const [Bj, Tj, O, P] = Jref.shape;
  const per = Tj * O * P;

  it('keeps J per sample, reads rows as needed, and matches PyTorch for each sample', async () => {
    const s = new Session(createEngineAdapter({ gpu: null }), { jBudgetBytes: 2 ** 30 });
    const files = ['model.pt', 'config.json', 'p4.npy'].map((name) => ({ name, bytes: bytes(name) }));
    const x = bytes('x4.npy');
    const lazy = reader(x, 'x4.npy');
    const o = await s.load([...files, { name: 'x4.npy', bytes: new Uint8Array(0), lazy }]);
    if (o.kind !== 'computed') throw new Error(JSON.stringify(o.messages));
    const r = o.result;
    expect(r.data.memory.mode).toBe('sample');
    expect(r.data.memory.lazyX).toBe(true);
    expect(r.data.notes.join('\n')).toMatch(
      /x4\.npy: .* opened lazily: rows of x are read from disk as needed/,
    );
    expect(relErr(r.J, Jref.data.subarray(0, per))).toBeLessThan(1e-9);
    const ex = new Explorer(s, analysisFns);
    const a = s.activeInputs()!;
    for (let b = 1; b < Bj; b++) {
      await a.xRows.ensure(b, b + 1);
      const v = ex.sampleView(r.meta.seq, b);
      expect(relErr(v.J, Jref.data.subarray(b * per, (b + 1) * per))).toBeLessThan(1e-9);
    }
    // The streamed pass reads its chunks itself.
    const g = await ex.sensitivityOf(r.meta.seq);
    const nu = new Float64Array(per);
    for (let b = 0; b < Bj; b++) for (let i = 0; i < per; i++) nu[i] += Jref.data[b * per + i] ** 2 / Bj;
    // ν over time: the mean of J² over the samples, per (t, o, k).
    expect(relErr(g.nuT, nu)).toBeLessThan(1e-9);
    // The true max |J| over every sample (the heatmap's "all of J" scale in sample mode).
    const jMax = Jref.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const streamedMax = (g as { jAbsMax?: number }).jAbsMax!;
    expect(Math.abs(streamedMax - jMax) / jMax).toBeLessThan(1e-9);
    const all = allOfJ(0.5 * jMax, r, { seq: r.meta.seq, jAbsMax: streamedMax });
    expect(all).toEqual({ limit: streamedMax, everySample: true });
    expect(allOfJ(0.5 * jMax, r, null)).toEqual({ limit: 0.5 * jMax, everySample: false });
    expect(allOfJ(0.5 * jMax, r, { seq: r.meta.seq + 1, jAbsMax: streamedMax }).everySample).toBe(false);
    expect(allOfJ(3, { sampleB: null, meta: { seq: 1 } }, null)).toEqual({ limit: 3, everySample: true });
  });
});
