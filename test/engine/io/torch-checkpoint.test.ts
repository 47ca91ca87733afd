import { readFileSync } from 'node:fs';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { readTorchCheckpoint } from '../../../src/engine/io/torch-checkpoint';
import { readZip } from '../../../src/engine/io/zip';
import type { HostTensor } from '../../../src/engine/tensor';
import { float32Bytes, hostileBudgetMs, PickleWriter, torchZip } from './pickle-writer';

const FIXTURES = new URL('../../fixtures/fno/', import.meta.url);
const CASES = new URL('./cases/', import.meta.url);

function caseBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, CASES)));
}

/** Just enough safetensors to read the fixtures (F32, C64), independent of the engine's reader. */
function readSafetensorsMinimal(bytes: Uint8Array): Map<string, HostTensor> {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, HostTensor>();
  for (const [name, h] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const raw = bytes.slice(8 + n + h.data_offsets[0], 8 + n + h.data_offsets[1]);
    const f = new Float32Array(raw.buffer);
    if (h.dtype === 'F32') out.set(name, { dtype: 'float32', shape: h.shape, data: Float64Array.from(f) });
    else if (h.dtype === 'C64') {
      const re = new Float64Array(f.length / 2);
      const im = new Float64Array(f.length / 2);
      for (let i = 0; i < re.length; i++) {
        re[i] = f[2 * i];
        im[i] = f[2 * i + 1];
      }
      out.set(name, { dtype: 'complex64', shape: h.shape, data: re, imag: im });
    } else throw new Error(`fixture dtype ${h.dtype}`);
  }
  return out;
}

/** Element-by-element identity of the float64 values (NaN equal to NaN, -0 distinct from 0). */
function expectSameBits(actual: Float64Array | undefined, expected: ArrayLike<number>, what: string): void {
  expect(actual, what).toBeDefined();
  expect(actual!.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual![i], expected[i])) {
      throw new Error(`${what}[${i}] = ${actual![i]}, expected ${expected[i]}`);
    }
  }
}

function expectLoadError(fn: () => unknown, pattern?: RegExp): LoadError {
  const t0 = performance.now();
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(performance.now() - t0).toBeLessThan(hostileBudgetMs());
  expect(err, 'expected a LoadError').toBeInstanceOf(LoadError);
  if (pattern) expect((err as LoadError).message).toMatch(pattern);
  return err as LoadError;
}

/** Loads, or throws a LoadError: anything else (a TypeError, a hang, a huge allocation) is a bug. */
function loadOrLoadError(bytes: Uint8Array, file: string): void {
  try {
    readTorchCheckpoint(bytes, file);
  } catch (e) {
    if (!(e instanceof LoadError)) throw e;
  }
}

/** The archive's entries, with data.pkl replaced by `pkl`, zipped again (so its CRC is right). */
function withPickle(bytes: Uint8Array, pkl: (old: Uint8Array) => Uint8Array): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const e of readZip(bytes, 'x.pt')) {
    files[e.name] = e.name.endsWith('/data.pkl') ? pkl(e.read()) : e.read();
  }
  return zipSync(files, { level: 0 });
}

function dataPkl(bytes: Uint8Array): Uint8Array {
  return readZip(bytes, 'x.pt')
    .find((e) => e.name.endsWith('/data.pkl'))!
    .read();
}

describe('readTorchCheckpoint: the reference fixtures', () => {
  for (const name of ['seed-fno1d', 'deep-fno1d']) {
    it(`${name}/model.pt holds exactly the tensors of model.safetensors, bit for bit`, () => {
      const pt = readTorchCheckpoint(
        new Uint8Array(readFileSync(new URL(`${name}/model.pt`, FIXTURES))),
        'model.pt',
      );
      const st = readSafetensorsMinimal(
        new Uint8Array(readFileSync(new URL(`${name}/model.safetensors`, FIXTURES))),
      );
      expect([...pt.tensors.keys()]).toEqual([...st.keys()]);
      for (const [k, ref] of st) {
        const t = pt.tensors.get(k)!;
        expect(t.dtype, k).toBe(ref.dtype);
        expect(t.shape, k).toEqual(ref.shape);
        expectSameBits(t.data, ref.data, k);
        if (ref.imag) expectSameBits(t.imag, ref.imag, `${k}.imag`);
        else expect(t.imag).toBeUndefined();
      }
      expect(pt.notes).toEqual([]);
    });
  }
});

interface ExpectedTensor {
  dtype: string;
  shape: number[];
  data: (number | string)[];
  imag?: (number | string)[];
}
interface Expected {
  cases: Record<string, { tensorSet?: string; notes?: string[]; error?: string }>;
  tensorSets: Record<string, Record<string, ExpectedTensor>>;
}
const expected = JSON.parse(readFileSync(new URL('expected.json', CASES), 'utf8')) as Expected;

function numbers(values: (number | string)[]): number[] {
  return values.map((v) =>
    v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : (v as number),
  );
}

describe('readTorchCheckpoint: checkpoints written by PyTorch (test/engine/io/make-torch-cases.py)', () => {
  for (const [file, c] of Object.entries(expected.cases)) {
    if (c.error) {
      it(`${file} is refused: ${c.error}`, () => {
        expectLoadError(() => readTorchCheckpoint(caseBytes(file), file), new RegExp(c.error!));
      });
      continue;
    }
    it(`${file} loads every tensor exactly`, () => {
      const { tensors, notes } = readTorchCheckpoint(caseBytes(file), file);
      const want = expected.tensorSets[c.tensorSet!];
      expect([...tensors.keys()]).toEqual(Object.keys(want));
      for (const [name, e] of Object.entries(want)) {
        const t = tensors.get(name)!;
        expect(t.dtype, name).toBe(e.dtype);
        expect(t.shape, name).toEqual(e.shape);
        expectSameBits(t.data, numbers(e.data), name);
        if (e.imag) expectSameBits(t.imag, numbers(e.imag), `${name}.imag`);
        else expect(t.imag, name).toBeUndefined();
      }
      for (const n of c.notes ?? []) expect(notes.join('\n')).toContain(n);
    });
  }

  it('the legacy format error says how to re-save', () => {
    const e = expectLoadError(() => readTorchCheckpoint(caseBytes('legacy.pt'), 'legacy.pt'));
    expect(e.message).toBe(
      "legacy.pt: this is PyTorch's legacy (pre-1.6, non-zip) checkpoint format, which jacscope does not read; " +
        're-save it with PyTorch ≥ 1.6: `torch.save(model.state_dict(), path)`',
    );
  });

  it('views share one storage and come back C-contiguous', () => {
    const { tensors } = readTorchCheckpoint(caseBytes('views.pt'), 'views.pt');
    const base = tensors.get('base')!;
    const t = tensors.get('transposed')!;
    expect(t.shape).toEqual([6, 5]);
    for (let i = 0; i < 6; i++)
      for (let j = 0; j < 5; j++) expect(t.data[i * 5 + j]).toBe(base.data[j * 6 + i]);
    expect(tensors.get('offset')!.data[0]).toBe(base.data[1 * 6 + 2]);
  });

  it('the whole-module pickle reads the same weights as its state_dict', () => {
    const a = readTorchCheckpoint(caseBytes('whole-module.pt'), 'whole-module.pt');
    const b = readTorchCheckpoint(caseBytes('dataparallel.pth'), 'dataparallel.pth');
    expect(a.tensors).toEqual(b.tensors);
    expect(a.notes.join('\n')).toMatch(/whole pickled module \(class fno_model\.FNO1d\)/);
  });

  it('files and the case set stay small enough to commit', () => {
    let total = 0;
    for (const f of [...Object.keys(expected.cases), 'expected.json']) {
      const n = caseBytes(f).length;
      expect(n, f).toBeLessThan(50_000);
      total += n;
    }
    expect(total).toBeLessThan(500_000);
  });
});

/** A state_dict pickle `{name: tensor, ...}` from tensor specs. */
function stateDict(entries: [string, (w: PickleWriter) => PickleWriter][], proto = 2): Uint8Array {
  const w = new PickleWriter().proto(proto).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const [name, value] of entries) value(w.str(name));
  return w.setitems().stop().bytes();
}

describe('readTorchCheckpoint: what newer or other writers produce', () => {
  it('reads _rebuild_tensor_v3 with an UntypedStorage and a dtype global (torch 2.x)', () => {
    const f64 = new Uint8Array(new Float64Array([1.5, -2, 3.25, 4]).buffer);
    const w = new PickleWriter().proto(2).emptyDict().str('w');
    w.global('torch._utils', '_rebuild_tensor_v3').mark();
    w.storage({ storageType: ['torch.storage', 'UntypedStorage'], key: '0', numel: 32 });
    w.int(1).ints([3]).ints([1]).bool(false);
    w.global('collections', 'OrderedDict').emptyTuple().reduce();
    w.global('torch', 'float64').tuple().reduce().setitem().stop();
    const { tensors } = readTorchCheckpoint(torchZip(w.bytes(), { '0': f64 }), 'v3.pt');
    expect(tensors.get('w')).toEqual({
      dtype: 'float64',
      shape: [3],
      data: Float64Array.from([-2, 3.25, 4]),
    });
  });

  it('unwraps _rebuild_parameter_with_state and _rebuild_from_type_v2', () => {
    const pkl = stateDict([
      [
        'p',
        (w) =>
          w
            .global('torch._utils', '_rebuild_parameter_with_state')
            .mark()
            .tensorV2({ key: '0', numel: 2, size: [2] })
            .bool(true)
            .global('collections', 'OrderedDict')
            .emptyTuple()
            .reduce()
            .emptyDict()
            .tuple()
            .reduce(),
      ],
      [
        'q',
        (w) =>
          w
            .global('torch._tensor', '_rebuild_from_type_v2')
            .mark()
            .global('torch._utils', '_rebuild_tensor_v2')
            .global('torch.nn.parameter', 'Parameter')
            .mark()
            .storage({ key: '0', numel: 2 })
            .int(1)
            .ints([1])
            .ints([1])
            .bool(false)
            .global('collections', 'OrderedDict')
            .emptyTuple()
            .reduce()
            .tuple()
            .emptyDict()
            .tuple()
            .reduce(),
      ],
    ]);
    const { tensors } = readTorchCheckpoint(torchZip(pkl, { '0': float32Bytes([7, 8]) }), 'p.pt');
    expect(tensors.get('p')!.data).toEqual(Float64Array.from([7, 8]));
    expect(tensors.get('q')!.data).toEqual(Float64Array.from([8]));
  });

  it('takes the weights under "net", reads deflated entries and any top folder name', () => {
    const pkl = new PickleWriter()
      .proto(2)
      .emptyDict()
      .str('net')
      .emptyDict()
      .str('a.weight')
      .tensorV2({ key: '0', numel: 3, size: [3] })
      .setitem()
      .setitem()
      .str('step')
      .int(10)
      .setitem()
      .stop()
      .bytes();
    const bytes = torchZip(pkl, { '0': float32Bytes([1, 2, 3]) }, { top: 'my run 3', deflate: true });
    const { tensors, notes } = readTorchCheckpoint(bytes, 'x.pth');
    expect([...tensors.keys()]).toEqual(['a.weight']);
    expect(notes).toEqual(["read the model weights under 'net' of a training checkpoint; ignored 'step'"]);
  });

  it('strips nested wrapper prefixes only when every name has them', () => {
    const t = (w: PickleWriter) => w.tensorV2({ key: '0', numel: 1, size: [] });
    const all = readTorchCheckpoint(
      torchZip(
        stateDict([
          ['module.model.a', t],
          ['module.model.b', t],
        ]),
        { '0': float32Bytes([1]) },
      ),
      'x.pt',
    );
    expect([...all.tensors.keys()]).toEqual(['a', 'b']);
    expect(all.notes).toHaveLength(2);
    const some = readTorchCheckpoint(
      torchZip(
        stateDict([
          ['module.a', t],
          ['b', t],
        ]),
        { '0': float32Bytes([1]) },
      ),
      'x.pt',
    );
    expect([...some.tensors.keys()]).toEqual(['module.a', 'b']);
    expect(some.notes).toEqual([]);
  });

  it('notes tensors saved on a GPU and entries that are not tensors', () => {
    const pkl = stateDict([
      ['w', (w) => w.tensorV2({ key: '0', numel: 1, size: [], location: 'cuda:0' })],
      ['_extra_state', (w) => w.str('hello')],
    ]);
    const { tensors, notes } = readTorchCheckpoint(torchZip(pkl, { '0': float32Bytes([5]) }), 'x.pt');
    expect([...tensors.keys()]).toEqual(['w']);
    expect(notes.join('\n')).toMatch(/_extra_state/);
    expect(notes.join('\n')).toMatch(/saved on cuda:0/);
  });

  it('ignores an unsupported storage type in state it does not need (optimizer state)', () => {
    const pkl = new PickleWriter()
      .proto(2)
      .emptyDict()
      .str('best_metric')
      .tensorV2({ key: '2', numel: 1, size: [] })
      .setitem()
      .str('model_state_dict')
      .emptyDict()
      .str('w')
      .tensorV2({ key: '0', numel: 1, size: [] })
      .setitem()
      .setitem()
      .str('optimizer')
      .emptyDict()
      .str('state')
      .emptyDict()
      .int(0)
      .emptyDict()
      .str('exp_avg')
      .tensorV2({ key: '1', numel: 1, size: [], storageType: ['torch', 'QInt8Storage'] })
      .setitem()
      .setitem()
      .setitem()
      .setitem()
      .stop()
      .bytes();
    const storages = { '0': float32Bytes([5]), '1': Uint8Array.of(1), '2': float32Bytes([0.5]) };
    const { tensors, notes } = readTorchCheckpoint(torchZip(pkl, storages), 'x.pt');
    expect([...tensors]).toEqual([['w', { dtype: 'float32', shape: [], data: Float64Array.of(5) }]]);
    expect(notes).toEqual([
      "read the model weights under 'model_state_dict' of a training checkpoint; ignored 'best_metric', 'optimizer'",
    ]);
  });
});

describe('readTorchCheckpoint: errors a scientist can act on', () => {
  const one = (spec: Parameters<PickleWriter['tensorV2']>[0]) =>
    stateDict([['spect1.weights1', (w) => w.tensorV2(spec)]]);

  it('not a checkpoint at all', () => {
    expectLoadError(() => readTorchCheckpoint(new Uint8Array(0), 'e.pt'), /^e\.pt: the file is empty$/);
    expectLoadError(
      () => readTorchCheckpoint(new TextEncoder().encode('{"a": 1}'), 'a.pt'),
      /does not start like one/,
    );
    expectLoadError(
      () => readTorchCheckpoint(new PickleWriter().proto(2).emptyDict().stop().bytes(), 'p.pt'),
      /a bare Python pickle/,
    );
    expectLoadError(
      () => readTorchCheckpoint(zipSync({ 'a.txt': Uint8Array.of(1) }), 'z.pt'),
      /without data\.pkl.*a\.txt/,
    );
  });

  it('a view reaching past its storage names the tensor', () => {
    expectLoadError(
      () =>
        readTorchCheckpoint(
          torchZip(one({ key: '0', numel: 4, size: [2, 3] }), { '0': float32Bytes([1, 2, 3, 4]) }),
          'm.pt',
        ),
      /m\.pt: tensor 'spect1\.weights1': .*reaches element 5 but its storage data\/0 holds 4 float32 elements/,
    );
    expectLoadError(
      () =>
        readTorchCheckpoint(
          torchZip(one({ key: '0', numel: 4, size: [2], stride: [3], offset: 1 }), {
            '0': float32Bytes([1, 2, 3, 4]),
          }),
          'm.pt',
        ),
      /reaches element 4/,
    );
  });

  it('a storage that claims a huge number of elements is refused before anything is allocated', () => {
    expectLoadError(
      () =>
        readTorchCheckpoint(
          torchZip(one({ key: '0', numel: 2 ** 52, size: [4] }), { '0': float32Bytes([1, 2, 3, 4]) }),
          'm.pt',
        ),
      /says its storage holds 4503599627370496 elements.*truncated or corrupt/,
    );
    expectLoadError(
      () =>
        readTorchCheckpoint(
          torchZip(one({ key: '0', numel: 4, size: [2 ** 40, 2 ** 40] }), {
            '0': float32Bytes([1, 2, 3, 4]),
          }),
          'm.pt',
        ),
      /too many elements|reaches element/,
    );
  });

  it('an expanded (stride 0) view too large to read is refused', () => {
    expectLoadError(
      () =>
        readTorchCheckpoint(
          torchZip(one({ key: '0', numel: 1, size: [2 ** 30], stride: [0] }), { '0': float32Bytes([1]) }),
          'm.pt',
        ),
      /expanded view of 1073741824 elements/,
    );
  });

  it('many views of one storage cannot multiply memory', () => {
    // Later tensors reuse the memoized rebuild-call arguments through the pickle memo.
    const w = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    w.str('t0')
      .tensorV2({ key: '0', numel: 1 << 18, size: [1 << 18] })
      .put(1);
    for (let i = 1; i < 200; i++) w.str(`t${i}`).get(1);
    const pkl = w.setitems().stop().bytes();
    expectLoadError(
      () => readTorchCheckpoint(torchZip(pkl, { '0': new Uint8Array(4 << 18) }), 'm.pt'),
      /many times larger than the data in the file/,
    );
  });

  it('missing storage data and unsupported dtypes name the tensor', () => {
    expectLoadError(
      () => readTorchCheckpoint(torchZip(one({ key: '7', numel: 1, size: [] })), 'm.pt'),
      /tensor 'spect1\.weights1': its data \(archive\/data\/7\) is missing/,
    );
    expectLoadError(
      () =>
        readTorchCheckpoint(
          torchZip(one({ key: '0', numel: 1, size: [], storageType: ['torch', 'QUInt8Storage'] }), {
            '0': Uint8Array.of(1),
          }),
          'm.pt',
        ),
      /tensor 'spect1\.weights1': its storage type torch\.QUInt8Storage is not supported/,
    );
  });

  it('a pickle calling os.system is not run, and the error names it', () => {
    const pkl = new PickleWriter()
      .proto(2)
      .global('os', 'system')
      .str('touch /tmp/pwned')
      .tuple1()
      .reduce()
      .stop()
      .bytes();
    expectLoadError(
      () => readTorchCheckpoint(torchZip(pkl), 'evil.pt'),
      /no tensors found: the checkpoint holds an object of class os\.system; it refers to Python classes or functions jacscope does not read \(not run\): os\.system/,
    );
  });

  it('builtins.eval inside a state_dict stays inert; the tensors still load', () => {
    const pkl = stateDict([
      ['w', (w) => w.tensorV2({ key: '0', numel: 1, size: [] })],
      ['x', (w) => w.global('builtins', 'eval').str('1+1').tuple1().reduce()],
    ]);
    const { tensors, notes } = readTorchCheckpoint(torchZip(pkl, { '0': float32Bytes([2]) }), 'x.pt');
    expect([...tensors.keys()]).toEqual(['w']);
    expect(notes.join('\n')).toMatch(/'x' \(an object of class builtins\.eval\)/);
  });

  it('tensors of an unknown type: the error lists the unknown globals', () => {
    const pkl = stateDict([
      ['w', (w) => w.global('torch._utils', '_rebuild_qtensor').mark().int(1).tuple().reduce()],
    ]);
    expectLoadError(
      () => readTorchCheckpoint(torchZip(pkl), 'q.pt'),
      /no tensors found: the checkpoint holds a dict with keys 'w'; .*torch\._utils\._rebuild_qtensor/,
    );
  });

  it('a training checkpoint without a recognisable state_dict lists its keys', () => {
    const pkl = new PickleWriter()
      .proto(2)
      .emptyDict()
      .str('epoch')
      .int(3)
      .setitem()
      .str('weights')
      .emptyList()
      .setitem()
      .stop();
    expectLoadError(() => readTorchCheckpoint(torchZip(pkl.bytes()), 'c.pt'), /keys 'epoch', 'weights'/);
  });
});

describe('readTorchCheckpoint: hostile module graphs', () => {
  /** `torch.save(module)`-like pickle: each level's `_modules` holds the level below twice. */
  function moduleBomb(levels: number, cyclic = false): Uint8Array {
    const w = new PickleWriter().proto(2);
    // Leaf: Linear with one parameter.
    const module = (params: (w: PickleWriter) => void, children: (w: PickleWriter) => void) => {
      w.global('torch.nn.modules.linear', 'Linear').emptyTuple().newobj().put(200).emptyDict();
      w.str('_parameters').global('collections', 'OrderedDict').emptyTuple().reduce();
      params(w);
      w.setitem().str('_modules').global('collections', 'OrderedDict').emptyTuple().reduce();
      children(w);
      w.setitem().build();
    };
    module(
      (x) => x.mark().str('weight').tensorV2({ key: '0', numel: 1, size: [] }).setitems(),
      () => undefined,
    );
    w.put(0).pop();
    for (let i = 1; i <= levels; i++) {
      module(
        () => undefined,
        (x) => {
          x.mark().str('a').get(0).str('b').get(0);
          if (cyclic) x.str('self').get(200);
          x.setitems();
        },
      );
      w.put(0).pop();
    }
    return w.get(0).stop().bytes();
  }

  it('a module shared 2^60 ways is read once, quickly', () => {
    const t0 = performance.now();
    const { tensors, notes } = readTorchCheckpoint(
      torchZip(moduleBomb(60), { '0': float32Bytes([1]) }),
      'bomb.pt',
    );
    expect(performance.now() - t0).toBeLessThan(hostileBudgetMs());
    expect([...tensors.keys()]).toEqual([`${'a.'.repeat(60)}weight`]);
    expect(notes.join('\n')).toMatch(/repeat a module already read/);
  });

  it('a module that contains itself does not loop', () => {
    const { tensors } = readTorchCheckpoint(
      torchZip(moduleBomb(3, true), { '0': float32Bytes([1]) }),
      'cycle.pt',
    );
    expect(tensors.size).toBe(1);
  });
});

describe('readTorchCheckpoint: corrupt files', () => {
  const good = caseBytes('state-dict.pt');
  const pkl = dataPkl(good);

  it('every truncation of data.pkl is a LoadError', () => {
    for (let cut = 0; cut < pkl.length; cut++) {
      const bytes = withPickle(good, (p) => p.subarray(0, cut));
      expect(() => readTorchCheckpoint(bytes, 'cut.pt'), `cut at ${cut}`).toThrow(LoadError);
    }
  });

  it('truncating the file anywhere gives a LoadError', () => {
    for (let cut = 0; cut < good.length; cut += 7) {
      expect(() => readTorchCheckpoint(good.subarray(0, cut), 'cut.pt'), `cut at ${cut}`).toThrow(LoadError);
    }
  });

  it('bit flips in data.pkl or anywhere in the file load or give a LoadError', () => {
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    const t0 = performance.now();
    for (let i = 0; i < 1500; i++) {
      const p = pkl.slice();
      p[Math.floor(rand() * p.length)] ^= 1 << Math.floor(rand() * 8);
      if (rand() < 0.3) p[Math.floor(rand() * p.length)] = Math.floor(rand() * 256);
      loadOrLoadError(
        withPickle(good, () => p),
        'flip.pt',
      );
    }
    for (let i = 0; i < 1500; i++) {
      const b = good.slice();
      b[Math.floor(rand() * b.length)] ^= 1 << Math.floor(rand() * 8);
      loadOrLoadError(b, 'flip.pt');
    }
    // 3000 corrupt files, each far below the per-file budget.
    expect(performance.now() - t0).toBeLessThan(10 * hostileBudgetMs());
  });

  it('every single-byte change of the pickle opcodes and arguments loads or gives a LoadError', () => {
    for (let at = 0; at < pkl.length; at++) {
      for (const v of [0x00, 0x7f, 0x80, 0xff]) {
        const p = pkl.slice();
        p[at] = v;
        loadOrLoadError(
          withPickle(good, () => p),
          'byte.pt',
        );
      }
    }
  });
});
