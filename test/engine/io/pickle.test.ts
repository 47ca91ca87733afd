import { describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { unpickle } from '../../../src/engine/io/pickle';
import {
  BASE_GLOBALS,
  isTuple,
  PyGlobal,
  PyObject,
  pyAttributes,
} from '../../../src/engine/io/pickle-values';
import { hostileBudgetMs, PickleWriter } from './pickle-writer';

/**
 * `pickle.dumps(obj, protocol=p)` by CPython 3.11 for p = 0..5, where
 *   lst = [1, 2]
 *   obj = {'a': [1, -2, 300, 70000, -2**31, 2**40, 2**70, -2**65, 2.5, -0.0, 1e300, None, True, False],
 *          't': (1, (2, 3), (4, 5, 6), (), ('x',)), 's': 'héllo ☃ \U0001F600 \\u1234\n',
 *          'b': b'\x00\xffxy', 'ba': bytearray(b'ab'), 'set': {7}, 'fs': frozenset([8]),
 *          'od': OrderedDict([('k', 1)]), 'shared': [lst, lst], 5: 'int key'}
 */
const PYTHON_PICKLES: Record<number, string> = {
  0: '286470300a56610a70310a286c70320a49310a61492d320a61493330300a614937303030300a61492d323134373438333634380a614c313039393531313632373737364c0a614c313138303539313632303731373431313330333432344c0a614c2d33363839333438383134373431393130333233324c0a6146322e350a61462d302e300a614631652b3330300a614e614930310a614930300a617356740a70330a2849310a2849320a49330a7470340a2849340a49350a49360a7470350a28742856780a70360a7470370a7470380a7356730a70390a5668e96c6c6f205c7532363033205c553030303166363030205c753030356375313233345c75303030610a7031300a7356620a7031310a635f636f646563730a656e636f64650a7031320a28565c7530303030ff78790a7031330a566c6174696e310a7031340a747031350a527031360a735662610a7031370a635f5f6275696c74696e5f5f0a6279746561727261790a7031380a286731320a285661620a7031390a6731340a747032300a527032310a747032320a527032330a73567365740a7032340a635f5f6275696c74696e5f5f0a7365740a7032350a28286c7032360a49370a61747032370a527032380a735666730a7032390a635f5f6275696c74696e5f5f0a66726f7a656e7365740a7033300a28286c7033310a49380a61747033320a527033330a73566f640a7033340a63636f6c6c656374696f6e730a4f726465726564446963740a7033350a2874527033360a566b0a7033370a49310a7373567368617265640a7033380a286c7033390a286c7034300a49310a6149320a61616734300a617349350a56696e74206b65790a7034310a732e',
  1: '7d71002858010000006171015d7102284b014afeffffff4d2c014a701101004a000000804c313039393531313632373737364c0a4c313138303539313632303731373431313330333432344c0a4c2d33363839333438383134373431393130333233324c0a474004000000000000478000000000000000477e37e43c8800759c4e4930310a4930300a655801000000747103284b01284b024b03747104284b044b054b06747105292858010000007871067471077471085801000000737109581700000068c3a96c6c6f20e2988320f09f9880205c75313233340a710a580100000062710b635f636f646563730a656e636f64650a710c28580500000000c3bf7879710d58060000006c6174696e31710e74710f527110580200000062617111635f5f6275696c74696e5f5f0a6279746561727261790a711228680c28580200000061627113680e74711452711574711652711758030000007365747118635f5f6275696c74696e5f5f0a7365740a7119285d711a4b076174711b52711c58020000006673711d635f5f6275696c74696e5f5f0a66726f7a656e7365740a711e285d711f4b086174712052712158020000006f64712263636f6c6c656374696f6e730a4f726465726564446963740a71232952712458010000006b71254b0173580600000073686172656471265d7127285d7128284b014b02656828654b055807000000696e74206b65797129752e',
  2: '80027d71002858010000006171015d7102284b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000408a090000000000000000fe474004000000000000478000000000000000477e37e43c8800759c4e8889655801000000747103284b014b024b038671044b044b054b068771052958010000007871068571077471085801000000737109581700000068c3a96c6c6f20e2988320f09f9880205c75313233340a710a580100000062710b635f636f646563730a656e636f64650a710c580500000000c3bf7879710d58060000006c6174696e31710e86710f527110580200000062617111635f5f6275696c74696e5f5f0a6279746561727261790a7112680c580200000061627113680e86711452711585711652711758030000007365747118635f5f6275696c74696e5f5f0a7365740a71195d711a4b076185711b52711c58020000006673711d635f5f6275696c74696e5f5f0a66726f7a656e7365740a711e5d711f4b086185712052712158020000006f64712263636f6c6c656374696f6e730a4f726465726564446963740a71232952712458010000006b71254b0173580600000073686172656471265d7127285d7128284b014b02656828654b055807000000696e74206b65797129752e',
  3: '80037d71002858010000006171015d7102284b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000408a090000000000000000fe474004000000000000478000000000000000477e37e43c8800759c4e8889655801000000747103284b014b024b038671044b044b054b068771052958010000007871068571077471085801000000737109581700000068c3a96c6c6f20e2988320f09f9880205c75313233340a710a580100000062710b430400ff7879710c58020000006261710d636275696c74696e730a6279746561727261790a710e43026162710f85711052711158030000007365747112636275696c74696e730a7365740a71135d71144b0761857115527116580200000066737117636275696c74696e730a66726f7a656e7365740a71185d71194b086185711a52711b58020000006f64711c63636f6c6c656374696f6e730a4f726465726564446963740a711d2952711e58010000006b711f4b0173580600000073686172656471205d7121285d7122284b014b02656822654b055807000000696e74206b65797123752e',
  4: '80049531010000000000007d94288c0161945d94284b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000408a090000000000000000fe474004000000000000478000000000000000477e37e43c8800759c4e8889658c017494284b014b024b0386944b044b054b068794298c017894859474948c0173948c1768c3a96c6c6f20e2988320f09f9880205c75313233340a948c016294430400ff7879948c026261948c086275696c74696e73948c096279746561727261799493944302616294859452948c03736574948f94284b07908c02667394284b0891948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c06736861726564945d94285d94284b014b02656820654b058c07696e74206b657994752e',
  5: '8005951b010000000000007d94288c0161945d94284b014afeffffff4d2c014a701101004a000000808a060000000000018a090000000000000000408a090000000000000000fe474004000000000000478000000000000000477e37e43c8800759c4e8889658c017494284b014b024b0386944b044b054b068794298c017894859474948c0173948c1768c3a96c6c6f20e2988320f09f9880205c75313233340a948c016294430400ff7879948c026261949602000000000000006162948c03736574948f94284b07908c02667394284b0891948c026f64948c0b636f6c6c656374696f6e73948c0b4f726465726564446963749493942952948c016b944b01738c06736861726564945d94285d94284b014b0265681b654b058c07696e74206b657994752e',
};

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));
}

/** Runs `fn`, requiring a LoadError (returned) within `ms` (2 s on an ordinary machine). */
function expectLoadError(fn: () => unknown, ms = hostileBudgetMs()): LoadError {
  const t0 = performance.now();
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  const dt = performance.now() - t0;
  expect(err, 'expected a LoadError').toBeInstanceOf(LoadError);
  expect(dt).toBeLessThan(ms);
  return err as LoadError;
}

describe('unpickle: what CPython writes', () => {
  for (const [proto, text] of Object.entries(PYTHON_PICKLES)) {
    it(`reads every value of a protocol ${proto} pickle`, () => {
      const { value, unknownGlobals } = unpickle(hex(text), 'x.pkl');
      expect(unknownGlobals).toEqual([]);
      const m = value as Map<unknown, unknown>;
      expect(m).toBeInstanceOf(Map);
      expect([...m.keys()]).toEqual(['a', 't', 's', 'b', 'ba', 'set', 'fs', 'od', 'shared', 5]);
      expect(m.get('a')).toEqual([
        1,
        -2,
        300,
        70000,
        -(2 ** 31),
        2 ** 40,
        2n ** 70n,
        -(2n ** 65n),
        2.5,
        -0,
        1e300,
        null,
        true,
        false,
      ]);
      const t = m.get('t') as unknown[];
      expect(t).toEqual([1, [2, 3], [4, 5, 6], [], ['x']]);
      expect(isTuple(t)).toBe(true);
      expect(isTuple(t[1])).toBe(true);
      expect(isTuple(m.get('a'))).toBe(false);
      expect(m.get('s')).toBe('héllo ☃ \u{1F600} \\u1234\n');
      expect(m.get('b')).toEqual(Uint8Array.from([0, 255, 120, 121]));
      expect(m.get('ba')).toEqual(Uint8Array.from([97, 98]));
      expect(m.get('set')).toEqual(new Set([7]));
      expect(m.get('fs')).toEqual(new Set([8]));
      expect(m.get('od')).toEqual(new Map([['k', 1]]));
      const shared = m.get('shared') as unknown[][];
      expect(shared).toEqual([
        [1, 2],
        [1, 2],
      ]);
      // The memo gives back the same object, as Python's does.
      expect(shared[0]).toBe(shared[1]);
      expect(m.get(5)).toBe('int key');
    });
  }
});

describe('unpickle: globals', () => {
  it('never calls an unknown global: os.system becomes an inert, named placeholder', () => {
    const p = new PickleWriter()
      .proto(2)
      .global('os', 'system')
      .str('rm -rf /')
      .tuple1()
      .reduce()
      .stop()
      .bytes();
    const { value, unknownGlobals } = unpickle(p, 'evil.pkl');
    expect(value).toBeInstanceOf(PyObject);
    expect((value as PyObject).$global).toBe('os.system');
    expect((value as PyObject).args).toEqual(['rm -rf /']);
    expect(unknownGlobals).toEqual(['os.system']);
  });

  it('STACK_GLOBAL builtins.eval, NEWOBJ, BUILD and dict/list items stay inert', () => {
    const p = new PickleWriter()
      .proto(4)
      .raw(0x8c, 8, ...Buffer.from('builtins'), 0x8c, 4, ...Buffer.from('eval'), 0x93) // STACK_GLOBAL
      .str('__import__("os").system("x")')
      .tuple1()
      .reduce()
      .put(0)
      .global('__main__', 'Evil')
      .emptyTuple()
      .newobj()
      .emptyDict()
      .str('payload')
      .get(0)
      .setitem()
      .build()
      .str('k')
      .int(1)
      .setitem()
      .int(9)
      .append()
      .tuple2()
      .stop()
      .bytes();
    const { value, unknownGlobals } = unpickle(p, 'evil.pkl');
    expect(unknownGlobals).toEqual(['builtins.eval', '__main__.Evil']);
    const [ev, obj] = value as [PyObject, PyObject];
    expect(ev.$global).toBe('builtins.eval');
    expect(obj.$global).toBe('__main__.Evil');
    expect((obj.state as Map<string, unknown>).get('payload')).toBe(ev);
    expect(obj.dictItems).toEqual(new Map([['k', 1]]));
    expect(obj.listItems).toEqual([9]);
  });

  it('resolves allow-listed names, maps Python 2 names, and passes constants through', () => {
    const globals = new Map(BASE_GLOBALS);
    globals.set('mylib.answer', { value: 42 });
    globals.set('mylib.add', { call: (a) => (a[0] as number) + (a[1] as number) });
    const p = new PickleWriter()
      .proto(2)
      .mark()
      .global('mylib', 'answer')
      .global('mylib', 'add')
      .int(2)
      .int(3)
      .tuple2()
      .reduce()
      .global('__builtin__', 'set')
      .emptyList()
      .int(4)
      .append()
      .tuple1()
      .reduce()
      .global('mylib', 'unlisted')
      .tuple()
      .stop()
      .bytes();
    const { value, unknownGlobals } = unpickle(p, 'x.pkl', { globals });
    const [answer, sum, set, ref] = value as unknown[];
    expect(answer).toBe(42);
    expect(sum).toBe(5);
    expect(set).toEqual(new Set([4]));
    expect(ref).toBeInstanceOf(PyGlobal);
    expect(unknownGlobals).toEqual(['mylib.unlisted']);
  });

  it('a handler that rejects its arguments gives a LoadError naming the global', () => {
    const p = new PickleWriter().proto(2).global('builtins', 'set').int(3).tuple1().reduce().stop().bytes();
    expect(expectLoadError(() => unpickle(p, 'x.pkl')).message).toMatch(/builtins\.set/);
  });

  it('BUILD on a dict keeps the state aside (state_dict _metadata)', () => {
    const p = new PickleWriter()
      .proto(2)
      .global('collections', 'OrderedDict')
      .emptyTuple()
      .reduce()
      .emptyDict()
      .str('_metadata')
      .int(1)
      .setitem()
      .build()
      .stop()
      .bytes();
    const { value } = unpickle(p, 'x.pkl');
    expect(value).toEqual(new Map());
    expect(pyAttributes(value as object)).toEqual(new Map([['_metadata', 1]]));
  });

  it('persistent ids go to persistentLoad, and are an error without one', () => {
    const p = new PickleWriter().proto(2).str('id').binpersid().stop().bytes();
    expect(unpickle(p, 'x.pkl', { persistentLoad: (pid) => ({ loaded: pid }) }).value).toEqual({
      loaded: 'id',
    });
    expect(expectLoadError(() => unpickle(p, 'x.pkl')).message).toMatch(/persistent/);
  });
});

describe('unpickle: corrupt and hostile input', () => {
  const good = hex(PYTHON_PICKLES[2]);

  it('every truncation is a LoadError', () => {
    for (let cut = 0; cut < good.length; cut++) {
      expectLoadError(() => unpickle(good.subarray(0, cut), 'x.pkl'));
    }
  });

  it('bit flips load or give a LoadError, never anything else', () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let i = 0; i < 3000; i++) {
      const b = good.slice();
      const at = Math.floor(rand() * b.length);
      b[at] ^= 1 << Math.floor(rand() * 8);
      if (rand() < 0.3) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
      try {
        unpickle(b, 'x.pkl');
      } catch (e) {
        expect(e).toBeInstanceOf(LoadError);
      }
    }
  });

  it('messages say where and what', () => {
    const e = expectLoadError(() =>
      unpickle(Uint8Array.from([0x80, 2, 0xff]), 'm.pt', { label: 'archive/data.pkl' }),
    );
    expect(e.message).toBe('m.pt: archive/data.pkl is corrupt: unknown opcode 0xff (at byte 2)');
    expect(expectLoadError(() => unpickle(Uint8Array.from([0x80, 2, 0x2e]), 'm.pt')).message).toMatch(
      /underflow/,
    );
    expect(expectLoadError(() => unpickle(Uint8Array.from([0x68, 7, 0x2e]), 'm.pt')).message).toMatch(
      /memo entry 7 is used before/,
    );
  });

  it('huge length fields are refused without allocating', () => {
    const cases = [
      [0x58, 0xff, 0xff, 0xff, 0xff], // BINUNICODE 4 GiB
      [0x8d, 0, 0, 0, 0, 0, 0, 0, 0x10], // BINUNICODE8 2^60
      [0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // BINUNICODE8 2^64-1
      [0x42, 0xff, 0xff, 0xff, 0x7f], // BINBYTES
      [0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // BINBYTES8
      [0x96, 0, 0, 0, 0, 0, 0, 0, 1], // BYTEARRAY8
      [0x8b, 0xff, 0xff, 0xff, 0x7f], // LONG4
      [0x54, 0xff, 0xff, 0xff, 0xff], // BINSTRING negative
      [0x95, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // FRAME
    ];
    for (const c of cases)
      expectLoadError(() => unpickle(Uint8Array.from([0x80, 4, ...c, 0x2e]), 'x.pkl'), 100);
  });

  it('a million nested lists (EMPTY_LIST ×10^6, APPEND ×10^6) stops at the depth limit', () => {
    const p = new PickleWriter().proto(2).repeat(1_000_000, [0x5d]).repeat(999_999, [0x61]).stop().bytes();
    expect(expectLoadError(() => unpickle(p, 'bomb.pkl')).message).toMatch(
      // It stops at the 1000th APPEND, without reading on.
      /bomb\.pkl: pickle exceeds a safety limit: values nested more than 1000 levels deep.*\(at byte 1001001\)$/,
    );
  });

  it('a million nested tuples via MARK is refused', () => {
    const p = new PickleWriter().proto(2).repeat(1_000_000, [0x28]).repeat(1_000_000, [0x74]).stop().bytes();
    expect(expectLoadError(() => unpickle(p, 'bomb.pkl')).message).toMatch(/MARKs nested more than/);
  });

  it('nesting within the limits is fine, and the limit is configurable', () => {
    const p = new PickleWriter().proto(2).repeat(500, [0x5d]).repeat(499, [0x61]).stop().bytes();
    let v = unpickle(p, 'x.pkl').value;
    let depth = 0;
    while (Array.isArray(v)) {
      depth++;
      v = v[0];
    }
    expect(depth).toBe(500);
    expectLoadError(() => unpickle(p, 'x.pkl', { maxDepth: 100 }));
  });

  it('"billion laughs" through the memo stays a small shared graph', () => {
    // L0 = ['lol'×10]; L(k+1) = [Lk ×10] via BINGET: 10^40 leaves if expanded, 40 lists in memory.
    const w = new PickleWriter().proto(2).emptyList().mark();
    for (let i = 0; i < 10; i++) w.str('lol');
    w.appends().put(0);
    for (let k = 1; k <= 40; k++) {
      w.emptyList().mark();
      for (let i = 0; i < 10; i++) w.get(k - 1);
      w.appends().put(k);
    }
    const t0 = performance.now();
    const { value } = unpickle(w.stop().bytes(), 'laughs.pkl');
    expect(performance.now() - t0).toBeLessThan(hostileBudgetMs());
    const top = value as unknown[][];
    expect(top).toHaveLength(10);
    expect(top[0]).toBe(top[9]);
  });

  it('a chain built bottom-up through the memo (constant stack) stops at the depth limit', () => {
    // memo[0] = [memo[0]], a million times: L(k+1) = [Lk].
    const w = new PickleWriter().proto(2).emptyList().put(0).pop();
    w.repeat(1_000_000, [0x5d, 0x68, 0, 0x61, 0x71, 0, 0x30]);
    expect(expectLoadError(() => unpickle(w.none().stop().bytes(), 'chain.pkl')).message).toMatch(
      /levels deep/,
    );
  });

  it('a chain deepened top-down through the memo (constant stack) is measured at the end', () => {
    // prev = memo[0]; new = []; prev.append(new); memo[0] = new: each list is appended while still
    // empty, so only the final measurement sees the depth.
    const w = new PickleWriter().proto(2).emptyList().put(0);
    w.repeat(300_000, [0x68, 0, 0x5d, 0x71, 1, 0x61, 0x30, 0x68, 1, 0x71, 0, 0x30]);
    expect(expectLoadError(() => unpickle(w.stop().bytes(), 'chain.pkl')).message).toMatch(/levels deep/);
    // Within the limit it reads, and the depth is exactly what was built.
    const ok = new PickleWriter().proto(2).emptyList().put(0).put(2).pop();
    ok.repeat(999, [0x68, 0, 0x5d, 0x71, 1, 0x61, 0x30, 0x68, 1, 0x71, 0, 0x30]);
    let v = unpickle(ok.get(2).stop().bytes(), 'chain.pkl').value;
    let depth = 0;
    while (Array.isArray(v)) {
      depth++;
      v = v[0];
    }
    expect(depth).toBe(1000);
  });

  it('depth is measured along the longest path, even when a short path reaches a shared part first', () => {
    // X = 600 nested lists (via the memo), A = 500-deep chain ending in X, root = [[X], A].
    const w = new PickleWriter().proto(2).emptyList().put(0).pop();
    w.repeat(599, [0x5d, 0x68, 0, 0x61, 0x71, 0, 0x30]); // memo[0] = X (600 deep)
    w.get(0).put(1).pop(); // memo[1] = X
    w.repeat(500, [0x5d, 0x68, 1, 0x61, 0x71, 1, 0x30]); // memo[1] = A (1100 deep)
    w.emptyList().emptyList().get(0).append().append().get(1).append().stop();
    expect(expectLoadError(() => unpickle(w.bytes(), 'x.pkl')).message).toMatch(/levels deep/);
  });

  it('too many values or memo entries are refused', () => {
    const many = new PickleWriter().proto(2).emptyList().repeat(400_000, [0x4e, 0x61]).stop().bytes();
    expect(expectLoadError(() => unpickle(many, 'x.pkl', { maxObjects: 300_000 })).message).toMatch(
      /more than 300000 values/,
    );
    // NONE, then LONG_BINPUT 0..1.1e6, then STOP.
    const n = 110_000;
    const memo = new Uint8Array(3 + 5 * n + 1);
    memo.set([0x80, 2, 0x4e]);
    for (let i = 0; i < n; i++) memo.set([0x72, i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0], 3 + 5 * i);
    memo[memo.length - 1] = 0x2e;
    expect(expectLoadError(() => unpickle(memo, 'x.pkl', { maxMemo: 100_000 })).message).toMatch(
      /more than 100000 memo entries/,
    );
  });

  it('a BINGET fan-out (one list holding itself 10^6 times) stops at the value limit', () => {
    const w = new PickleWriter()
      .proto(2)
      .emptyList()
      .put(0)
      .mark()
      .repeat(1_000_000, [0x68, 0])
      .appends()
      .stop();
    expectLoadError(() => unpickle(w.bytes(), 'x.pkl', { maxObjects: 300_000 }));
  });

  it('a cyclic structure (a list containing itself) is read as a cycle', () => {
    const p = new PickleWriter().proto(2).emptyList().put(0).get(0).append().stop().bytes();
    const v = unpickle(p, 'x.pkl').value as unknown[];
    expect(v[0]).toBe(v);
  });
});
