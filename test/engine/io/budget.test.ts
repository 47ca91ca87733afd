/**
 * One budget per opened file (src/engine/io/budget.ts): every copy the unpickler makes, every byte a
 * zip inflates across all its entries, and every decoded tensor is charged to it, so that a file of a
 * few MB is refused before it costs gigabytes. Each hole gets a hostile file built here, and the
 * refusal must be a LoadError naming the file and the limit, within a bound on time and memory.
 */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { BudgetExceeded, OPEN_LIMITS, OpenBudget } from '../../../src/engine/io/budget';
import { readModelFile } from '../../../src/engine/io/model-file';
import { readNpz } from '../../../src/engine/io/npz';
import { unpickle } from '../../../src/engine/io/pickle';
import { readSafetensors } from '../../../src/engine/io/safetensors';
import { readTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { crc32, readZip } from '../../../src/engine/io/zip';
import { hostileBudgetMs, PickleWriter, torchZip } from './pickle-writer';

const MB = 2 ** 20;
/** What a refusal may cost: heap and buffers left behind, and growth of the process's peak memory. */
const MEMORY_BOUND = 200 * MB;

/**
 * Runs `fn` on an input built beforehand and requires a LoadError, within hostileBudgetMs() (2 s on an
 * ordinary machine) and MEMORY_BOUND: the peak resident size may not grow by more (forks run one test
 * file each, so the peak is this file's), nor what is left on the heap and in array buffers.
 */
function refusedWithinBounds(fn: () => unknown): LoadError {
  const peak0 = process.resourceUsage().maxRSS * 1024;
  const m0 = process.memoryUsage();
  const t0 = performance.now();
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  const ms = performance.now() - t0;
  const m1 = process.memoryUsage();
  const peakGrowth = process.resourceUsage().maxRSS * 1024 - peak0;
  expect(err, `expected a LoadError, got ${String(err)}`).toBeInstanceOf(LoadError);
  expect(ms).toBeLessThan(hostileBudgetMs());
  expect(peakGrowth).toBeLessThan(MEMORY_BOUND);
  expect(m1.heapUsed - m0.heapUsed + (m1.arrayBuffers - m0.arrayBuffers)).toBeLessThan(MEMORY_BOUND);
  return err as LoadError;
}

// ---------------------------------------------------------------------------------------------
// Pickles that copy a memoised container over and over

/**
 * Items of the memoised containers. Small enough that building them stays well inside the time bound
 * on a busy machine; the attacks call a constructor on them often enough that, uncounted, what they keep
 * alive would pass the memory bound several times over.
 */
const N = 300_000;

/** PROTO 2; memo[0] = a list of N Nones (300 KB of pickle); memo[1] = an empty list, the result. */
const bigList = new PickleWriter()
  .proto(2)
  .emptyList()
  .put(0)
  .mark()
  .repeat(N, [0x4e])
  .appends()
  .pop()
  .emptyList()
  .put(1)
  .bytes();

/** PROTO 2; memo[0] = a dict of N_DICT distinct int keys (600 KB of pickle); memo[1] = an empty result list. */
const N_DICT = 100_000;
const bigDict = ((): Uint8Array => {
  const head = new PickleWriter().proto(2).emptyDict().put(0).mark().bytes();
  const tail = new PickleWriter().raw(0x75).pop().emptyList().put(1).bytes();
  const out = new Uint8Array(head.length + 6 * N_DICT + tail.length);
  out.set(head);
  const dv = new DataView(out.buffer);
  for (let i = 0, o = head.length; i < N_DICT; i++, o += 6) {
    out[o] = 0x4a; // BININT i
    dv.setInt32(o + 1, i, true);
    out[o + 5] = 0x4e; // NONE
  }
  out.set(tail, head.length + 6 * N_DICT);
  return out;
})();

/** A pickle that goes on from `prefix` (which leaves its stack empty but for memo[1], pushed last). */
function after(prefix: Uint8Array, w: PickleWriter): Uint8Array {
  const rest = w.bytes();
  const out = new Uint8Array(prefix.length + rest.length);
  out.set(prefix);
  out.set(rest, prefix.length);
  return out;
}

/** `prefix`, then `times` × (GET 1, <call>, APPEND), then GET 1, STOP: every result is kept. */
function calls(prefix: Uint8Array, times: number, call: number[]): Uint8Array {
  return after(
    prefix,
    new PickleWriter()
      .repeat(times, [0x68, 1, ...call, 0x61])
      .get(1)
      .stop(),
  );
}

/** bigList, then memo[2] = (None,) * N. */
const bigTuple = after(bigList, new PickleWriter().mark().repeat(N, [0x4e]).tuple().put(2).pop());

/** GLOBAL module\nname\n as opcodes. */
function global(module: string, name: string): number[] {
  return [0x63, ...new TextEncoder().encode(`${module}\n${name}\n`)];
}

describe('the unpickler counts every copy against the value limit', () => {
  // f(memo[0]) 500 times: without counting, 500 × 300,000 slots (1.2 GB and more) stay alive.
  for (const ctor of ['list', 'tuple', 'set', 'frozenset', 'bytearray', 'bytes']) {
    it(`builtins.${ctor}(a memoised list of 300,000 items) ×500`, () => {
      const p = calls(bigList, 500, [...global('builtins', ctor), 0x68, 0, 0x85, 0x52]);
      expect(p.length).toBeLessThan(MB);
      const e = refusedWithinBounds(() => unpickle(p, 'copies.pkl'));
      expect(e.message).toMatch(/^copies\.pkl: exceeds a safety limit: more than 5000000 values/);
      expect(e.message).toMatch(/\(pickle, at byte \d+\)/);
    });
  }

  for (const ctor of [
    ['builtins', 'dict'],
    ['collections', 'OrderedDict'],
    ['builtins', 'list'],
  ]) {
    it(`${ctor.join('.')}(a memoised dict of 100,000 items) ×1000`, () => {
      const p = calls(bigDict, 1000, [...global(ctor[0], ctor[1]), 0x68, 0, 0x85, 0x52]);
      expect(p.length).toBeLessThan(MB);
      refusedWithinBounds(() => unpickle(p, 'dicts.pkl'));
    });
  }

  it('REDUCE of an inert global on a memoised 300,000-tuple ×500 (the argument tuple is copied)', () => {
    // memo[2] = (None,) * N; each call builds PyObject(args=<a copy of it>).
    const p = calls(bigTuple, 500, [...global('evil', 'Thing'), 0x68, 2, 0x52]);
    const e = refusedWithinBounds(() => unpickle(p, 'reduce.pkl'));
    expect(e).toBeInstanceOf(BudgetExceeded);
    expect((e as BudgetExceeded).limit).toBe('maxValues');
  });

  it('BUILD merging a memoised 100,000-item dict into an object ×10,000', () => {
    // obj = evil.Thing(); obj.__setstate__({}); then BUILD with memo[0] a thousand times.
    const p = after(
      bigDict,
      new PickleWriter()
        .global('evil', 'Thing')
        .emptyTuple()
        .newobj()
        .emptyDict()
        .build()
        .repeat(10_000, [0x68, 0, 0x62])
        .stop(),
    );
    const e = refusedWithinBounds(() => unpickle(p, 'build.pkl'));
    expect(e.message).toMatch(/more than 5000000 values/);
  });

  it('torch._tensor._rebuild_from_type_v2 copying a memoised 300,000-tuple ×10,000', () => {
    // _rebuild_from_type_v2(_rebuild_parameter, None, <big tuple>, None): the inner args are copied.
    const pkl = calls(bigTuple, 10_000, [
      ...global('torch._tensor', '_rebuild_from_type_v2'),
      0x28,
      ...global('torch._utils', '_rebuild_parameter'),
      0x4e,
      0x68,
      2,
      0x4e,
      0x74,
      0x52,
    ]);
    const e = refusedWithinBounds(() => readTorchCheckpoint(torchZip(pkl), 'rebuild.pt'));
    expect(e.message).toMatch(/^rebuild\.pt: exceeds a safety limit: more than 5000000 values/);
    expect(e.message).toMatch(/archive\/data\.pkl, at byte/);
  });

  it('a realistic number of values, copies included, is well inside the limit', () => {
    const p = calls(new PickleWriter().proto(2).emptyList().put(0).emptyList().put(1).bytes(), 100, [
      ...global('builtins', 'list'),
      0x68,
      0,
      0x85,
      0x52,
    ]);
    expect((unpickle(p, 'ok.pkl').value as unknown[]).length).toBe(100);
  });
});

// ---------------------------------------------------------------------------------------------
// Zip archives: a total across entries

interface RawEntry {
  name: string;
  method: 0 | 8;
  /** The entry's data as stored in the archive (compressed for method 8). */
  body: Uint8Array;
  size: number;
  crc: number;
  /** Point the directory entry at another entry's local header instead of writing one. */
  sameDataAs?: number;
}

/** A zip archive written field by field, so that entries can share one compressed stream. */
function rawZip(entries: RawEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    if (e.sameDataAs !== undefined) {
      offsets.push(offsets[e.sameDataAs]);
      continue;
    }
    const name = enc.encode(e.name);
    const h = new Uint8Array(30 + name.length);
    const v = new DataView(h.buffer);
    v.setUint32(0, 0x04034b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(8, e.method, true);
    v.setUint32(14, e.crc, true);
    v.setUint32(18, e.body.length, true);
    v.setUint32(22, e.size, true);
    v.setUint16(26, name.length, true);
    h.set(name, 30);
    offsets.push(at);
    parts.push(h, e.body);
    at += h.length + e.body.length;
  }
  const cdOffset = at;
  entries.forEach((e, i) => {
    const name = enc.encode(e.name);
    const c = new Uint8Array(46 + name.length);
    const v = new DataView(c.buffer);
    v.setUint32(0, 0x02014b50, true);
    v.setUint16(4, 20, true);
    v.setUint16(6, 20, true);
    v.setUint16(10, e.method, true);
    v.setUint32(16, e.crc, true);
    v.setUint32(20, e.body.length, true);
    v.setUint32(24, e.size, true);
    v.setUint16(28, name.length, true);
    v.setUint32(42, offsets[i], true);
    c.set(name, 46);
    parts.push(c);
    at += c.length;
  });
  const end = new Uint8Array(22);
  const v = new DataView(end.buffer);
  v.setUint32(0, 0x06054b50, true);
  v.setUint16(8, entries.length, true);
  v.setUint16(10, entries.length, true);
  v.setUint32(12, at - cdOffset, true);
  v.setUint32(16, cdOffset, true);
  parts.push(end);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** 16 MiB of zeros, deflated (≈16 KB): each entry alone passes the per-entry ratio and size caps. */
const ZEROS = 16 * MB;
const zerosDeflated = deflateSync(new Uint8Array(ZEROS), { level: 9 });
const zerosCrc = crc32(new Uint8Array(ZEROS));
const zerosEntry = (name: string): RawEntry => ({
  name,
  method: 8,
  body: zerosDeflated,
  size: ZEROS,
  crc: zerosCrc,
});

/** A torch.save layout whose state_dict has `n` float32 tensors of ZEROS bytes, one storage each. */
function checkpointOfZeros(n: number, storage: (i: number) => RawEntry): Uint8Array {
  const w = new PickleWriter().proto(2).emptyDict().mark();
  for (let i = 0; i < n; i++)
    w.str(`w${i}`).tensorV2({ key: String(i), numel: ZEROS / 4, size: [ZEROS / 4] });
  const pkl = w.raw(0x75).stop().bytes();
  const entries: RawEntry[] = [
    { name: 'archive/data.pkl', method: 0, body: pkl, size: pkl.length, crc: crc32(pkl) },
  ];
  for (let i = 0; i < n; i++) entries.push(storage(i));
  return rawZip(entries);
}

describe('zip archives have a total budget of inflated bytes across entries', () => {
  it('600 deflated storages of 16 MiB each (9.6 GB from a 10 MB file) are refused before inflating', () => {
    const file = checkpointOfZeros(600, (i) => zerosEntry(`archive/data/${i}`));
    expect(file.length).toBeLessThan(12 * MB);
    const e = refusedWithinBounds(() => readTorchCheckpoint(file, 'bomb.pt'));
    expect(e.message).toMatch(
      /^bomb\.pt: exceeds a safety limit: its zip entries declare 10066329600 bytes uncompressed in total, more than 8 GiB/,
    );
    expect((e as BudgetExceeded).limit).toBe('maxInflated');
  });

  it('entries sharing one compressed stream (the overlapping zip bomb) are refused', () => {
    // One 16 KB stream listed 1000 times: 16 GB if each listing were inflated.
    const entries: RawEntry[] = [zerosEntry('archive/data/0')];
    for (let i = 1; i < 1000; i++) entries.push({ ...zerosEntry(`archive/data/${i}`), sameDataAs: 0 });
    const file = rawZip(entries);
    const e = refusedWithinBounds(() => readZip(file, 'overlap.zip'));
    expect(e.message).toMatch(/^overlap\.zip: .*'archive\/data\/0' and 'archive\/data\/1' share their data/);
    // The same through the checkpoint reader, storages pointing at one stream.
    const ckpt = checkpointOfZeros(200, (i) => ({
      ...zerosEntry(`archive/data/${i}`),
      sameDataAs: i ? 1 : undefined,
    }));
    refusedWithinBounds(() => readTorchCheckpoint(ckpt, 'overlap.pt'));
  });

  it('every read is charged: reading one entry again and again runs out', () => {
    const budget = new OpenBudget('again.zip', { maxInflated: 40 * MB });
    const [entry] = readZip(rawZip([zerosEntry('z')]), 'again.zip', budget);
    entry.read();
    entry.read();
    const e = refusedWithinBounds(() => entry.read());
    expect(e.message).toBe(
      'again.zip: exceeds a safety limit: more than 40 MiB inflated from its zip entries in total; no real file comes near that',
    );
  });

  it('a deflated .npz over a given budget is refused before inflating', () => {
    const file = rawZip([zerosEntry('a.npy'), zerosEntry('b.npy'), zerosEntry('c.npy')]);
    const e = refusedWithinBounds(() =>
      readNpz(file, 'd.npz', new OpenBudget('d.npz', { maxInflated: 32 * MB })),
    );
    expect(e.message).toMatch(/^d\.npz: .*declare 50331648 bytes uncompressed in total, more than 32 MiB/);
  });
});

// ---------------------------------------------------------------------------------------------
// One budget for the whole open

describe('one budget per opened model file', () => {
  const small = (): Uint8Array => {
    const w = new PickleWriter().proto(2).emptyDict().mark();
    for (let i = 0; i < 4; i++) w.str(`w${i}`).tensorV2({ key: String(i), numel: 65536, size: [256, 256] });
    const storages: Record<string, Uint8Array> = {};
    for (let i = 0; i < 4; i++) storages[String(i)] = new Uint8Array(4 * 65536);
    return torchZip(w.raw(0x75).stop().bytes(), storages, { deflate: true });
  };

  it('the defaults read a checkpoint', () => {
    const budget = new OpenBudget('ok.pt');
    const m = readModelFile(small(), 'ok.pt', budget);
    expect(m.tensors.size).toBe(4);
    // Charged: the inflated storages (and data.pkl), the decoded float64 tensors, the pickle's values.
    expect(budget.used.maxInflated).toBeGreaterThanOrEqual(4 * 4 * 65536);
    expect(budget.used.maxBytes).toBeGreaterThanOrEqual(4 * 8 * 65536);
    expect(budget.used.maxValues).toBeGreaterThan(4 * 10);
    expect(budget.used.maxValues).toBeLessThan(1000);
  });

  it('zip, unpickler and decoded tensors draw on the same budget', () => {
    // The pickle's values.
    expect(() => readModelFile(small(), 'm.pt', new OpenBudget('m.pt', { maxValues: 40 }))).toThrow(
      /^m\.pt: exceeds a safety limit: more than 40 values/,
    );
    // Decoded tensors: 4 × 512 KiB of float64 against 1 MiB.
    const e = refusedWithinBounds(() =>
      readModelFile(small(), 'm.pt', new OpenBudget('m.pt', { maxBytes: MB })),
    );
    expect(e.message).toMatch(/^m\.pt: exceeds a safety limit: more than 1 MiB of decoded data/);
    // Inflated bytes: the four storages need 1 MiB.
    expect(() => readModelFile(small(), 'm.pt', new OpenBudget('m.pt', { maxInflated: MB / 2 }))).toThrow(
      /declare \d+ bytes uncompressed in total, more than 524288 bytes/,
    );
    // A shared budget already partly spent by another reader of the same file.
    const shared = new OpenBudget('m.pt', { maxBytes: 3 * MB });
    shared.bytes(2 * MB);
    expect(() => readModelFile(small(), 'm.pt', shared)).toThrow(/more than 3 MiB of decoded data/);
  });

  it('safetensors: one data region listed 1000 times is refused before decoding', () => {
    const n = 262_144; // 1 MiB of float32
    const header: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) header[`t${i}`] = { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] };
    const text = new TextEncoder().encode(JSON.stringify(header));
    const file = new Uint8Array(8 + text.length + 4 * n);
    new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
    file.set(text, 8);
    const e = refusedWithinBounds(() => readSafetensors(file, 'shared.safetensors'));
    expect(e.message).toMatch(
      /^shared\.safetensors: its tensors together read 1048576000 bytes from a data section of 1048576/,
    );
    // Within the budget's bytes limit too: the decoded tensors are charged.
    const h = new TextEncoder().encode(
      JSON.stringify({ t: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }).padEnd(96),
    );
    const one = new Uint8Array(8 + h.length + 4 * n);
    new DataView(one.buffer).setBigUint64(0, BigInt(h.length), true);
    one.set(h, 8);
    expect(() =>
      readSafetensors(one, 'one.safetensors', new OpenBudget('one.safetensors', { maxBytes: MB })),
    ).toThrow(/^one\.safetensors: exceeds a safety limit: more than 1 MiB of decoded data/);
  });
});

describe('OpenBudget', () => {
  it('charges, refuses past each limit with a LoadError naming the file and the limit', () => {
    const b = new OpenBudget('f.bin', { maxValues: 10, maxBytes: 100, maxInflated: 1000 });
    b.values(10);
    b.bytes(100);
    b.inflate(1000);
    expect(b.used).toEqual({ maxValues: 10, maxBytes: 100, maxInflated: 1000 });
    for (const [charge, limit, text] of [
      [() => b.values(1), 'maxValues', 'more than 10 values'],
      [() => b.bytes(1), 'maxBytes', 'more than 100 bytes of decoded data'],
      [() => b.inflate(1), 'maxInflated', 'more than 1000 bytes inflated from its zip entries in total'],
    ] as const) {
      let e: unknown;
      try {
        charge();
      } catch (x) {
        e = x;
      }
      expect(e).toBeInstanceOf(LoadError);
      expect(e).toBeInstanceOf(BudgetExceeded);
      expect((e as BudgetExceeded).file).toBe('f.bin');
      expect((e as BudgetExceeded).limit).toBe(limit);
      expect((e as LoadError).message).toContain(text);
    }
  });

  it('check() refuses a declared size without charging it', () => {
    const b = new OpenBudget('g.zip', { maxInflated: 100 });
    b.check('maxInflated', 100);
    expect(() => b.check('maxInflated', 101)).toThrow(
      /declare 101 bytes uncompressed in total, more than 100 bytes/,
    );
    expect(b.used.maxInflated).toBe(0);
  });

  it('defaults fit a checkpoint under 4 GB; limits must be non-negative numbers', () => {
    expect(OPEN_LIMITS.maxInflated).toBeGreaterThanOrEqual(4 * 2 ** 30);
    expect(OPEN_LIMITS.maxBytes).toBeGreaterThanOrEqual(8 * 2 ** 30); // 4 GB of float32 as float64
    expect(new OpenBudget('x').limits).toEqual(OPEN_LIMITS);
    expect(() => new OpenBudget('x', { maxValues: NaN })).toThrow(RangeError);
    expect(() => new OpenBudget('x', { maxBytes: -1 })).toThrow(RangeError);
  });
});
