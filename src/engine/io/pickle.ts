/**
 * A restricted unpickler for the pickles that `torch.save` writes (protocols 2–5, plus the text
 * opcodes of protocols 0/1 so that old files give a clear answer instead of a crash).
 *
 * Nothing in a pickle is ever executed. A global (`module.name`) is resolved only through the
 * caller's allow-list; any other global becomes an inert `PyGlobal`, and calling it (REDUCE, NEWOBJ,
 * OBJ, INST) builds an inert `PyObject { $global, args, state }` that just records what the pickle
 * asked for. The names of such globals are collected so that callers can name them in errors.
 *
 * The reader is a single loop with an explicit value stack: a hostile pickle cannot reach the JS
 * call stack. Every length field is checked against the buffer before anything is allocated, and the
 * number of memo entries and the nesting depth are capped. Every value pushed, inserted, copied (by an
 * allowed constructor such as `list(x)`, or a REDUCE's argument tuple) or merged (BUILD) is charged to
 * the file's OpenBudget, and so are the bytes of decoded strings: a few MB of pickle cannot make it
 * build more than the budget allows, however often it reuses a memoised value.
 *
 * Python values map to JS as: None → null, bool → boolean, int → number (bigint beyond 2^53),
 * float → number, str → string, bytes/bytearray → Uint8Array, list → array, tuple → frozen array,
 * dict → Map, set/frozenset → Set.
 *
 * When the pickle is read, the nesting depth of the result is measured (the longest chain of containers,
 * shared sub-structures counted once, cycles — which Python allows — not followed), so callers may walk
 * the value recursively as long as they do not re-enter a cycle.
 */

import { LoadError } from '../errors';
import { OpenBudget } from './budget';
import {
  PyGlobal,
  PyObject,
  type UnpickleOptions,
  type UnpickleResult,
  attributes,
  globalName,
  BASE_GLOBALS,
} from './pickle-values';
import {
  resultDepth,
  isContainer,
  measureDepth,
  clip,
  latin1,
  decodeUtf8,
  decodeLong,
  parseIntText,
  parseIndex,
  rawUnicodeEscape,
  pythonStringRepr,
  PickleFault,
  PickleBytes,
  appendItems,
  located,
  setItem,
} from './pickle-support';

/** Pickles a few hundred levels deep are already absurd for checkpoints; the limit only has to be generous. */
const DEFAULTS = { maxDepth: 1000, maxMemo: 1_000_000, maxContainers: 1_000_000 };

export function unpickle(bytes: Uint8Array, file: string, options: UnpickleOptions = {}): UnpickleResult {
  const label = options.label ?? 'pickle';
  const maxDepth = options.maxDepth ?? DEFAULTS.maxDepth;
  const budget =
    options.budget ??
    new OpenBudget(file, options.maxObjects === undefined ? {} : { maxValues: options.maxObjects });
  const maxMemo = options.maxMemo ?? DEFAULTS.maxMemo;
  const maxContainers = options.maxContainers ?? DEFAULTS.maxContainers;
  const globals = options.globals ?? BASE_GLOBALS;
  const unknown = new Set<string>();

  const r = new PickleBytes(bytes);
  let opStart = 0;

  const stack: unknown[] = [];
  // Beside each stack slot, a lower bound of its value's nesting depth (0 = leaf). It stops the usual
  // bombs (a million EMPTY_LISTs, then a million APPENDs) early; measureDepth() at STOP is the exact check.
  const depths: number[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  // Depth lower bounds of memo entries, only where above 1.
  const memoDepth = new Map<number, number>();
  // Depth of the value that pop() returned, and the deepest item that popMark() returned.
  let popped = 0;
  let marked = 0;

  const fail = (msg: string): never => {
    throw new PickleFault(msg);
  };
  const overLimit = (what: string): never => {
    throw new PickleFault(`${what}; no real checkpoint comes near that`, true);
  };

  const push = (v: unknown, depth = 0): void => {
    budget.values(1);
    if (depth > maxDepth) tooDeep();
    stack.push(v);
    depths.push(depth);
  };
  const pop = (): unknown => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    popped = depths.pop()!;
    return stack.pop();
  };
  /** The value on top now holds something `depth` deep. */
  const deepenTop = (depth: number): void => {
    const i = depths.length - 1;
    if (depth > depths[i]) {
      if (depth > maxDepth) tooDeep();
      depths[i] = depth;
    }
  };
  const tooDeep = (): never => overLimit(`values nested more than ${maxDepth} levels deep`);
  const top = (): unknown => {
    const floor = marks.length ? marks[marks.length - 1] : 0;
    if (stack.length <= floor) fail('stack underflow');
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) fail('MARK expected');
    marked = 0;
    for (const d of depths.splice(m as number)) if (d > marked) marked = d;
    return stack.splice(m as number);
  };
  const count = (n: number): void => budget.values(n);
  /** A string decoded from `n` bytes of the pickle. */
  const text = (n: number): number => {
    r.need(n);
    budget.bytes(n);
    return n;
  };
  const tuple = (items: unknown[]): readonly unknown[] => Object.freeze(items);
  const memoPut = (idx: number): void => {
    const v = top();
    if (memo.size >= maxMemo && !memo.has(idx)) overLimit(`more than ${maxMemo} memo entries`);
    memo.set(idx, v);
    const d = depths[depths.length - 1];
    if (d > 1) memoDepth.set(idx, d);
    else if (memoDepth.size) memoDepth.delete(idx);
  };
  const memoGet = (idx: number): void => {
    // Nothing stored is ever undefined, so one lookup tells both.
    const v = memo.get(idx);
    if (v === undefined) fail(`memo entry ${idx} is used before it is defined`);
    push(v, memoDepth.get(idx) ?? (isContainer(v) ? 1 : 0));
  };
  const resolveGlobal = (module: string, name: string): unknown => {
    const full = globalName(module, name);
    const allowed = globals.get(full);
    if (allowed) {
      if (allowed.value !== undefined) return allowed.value;
      return new PyGlobal(full, allowed.call);
    }
    unknown.add(full);
    return new PyGlobal(full);
  };
  /** Calls `fn` on a copy of `items` (an argument tuple, possibly memoised and reused): the copy is charged. */
  const callable = (fn: unknown, items: readonly unknown[], kwargs?: Map<unknown, unknown>): unknown => {
    count(items.length);
    const args = [...items];
    if (fn instanceof PyGlobal) {
      if (fn.call) {
        try {
          return fn.call(args, budget);
        } catch (e) {
          if (e instanceof LoadError) throw e;
          return fail(`${fn.$global} was given arguments it cannot take (${(e as Error).message})`);
        }
      }
      return new PyObject(fn.$global, args, kwargs);
    }
    // Calling something that is not a global (an inert object's method, say): stay inert.
    return new PyObject(fn instanceof PyObject ? `${fn.$global}()` : '<call>', args, kwargs);
  };
  try {
    for (;;) {
      opStart = r.pos;
      if (r.pos >= r.end) fail('truncated: the pickle ends before its STOP opcode');
      const op = bytes[r.pos++];
      switch (op) {
        case 0x80: // PROTO
          if (r.u8() > 5) fail('pickle protocol newer than 5');
          break;
        case 0x95: {
          // FRAME: framing is only a hint for buffered readers; check the length and read on.
          const n = r.u64();
          if (n > r.end - r.pos) fail('truncated: a frame is longer than the data left');
          break;
        }
        case 0x2e: {
          // STOP
          if (marks.length) fail('STOP inside an unfinished MARK');
          const value = pop();
          const deepest = measureDepth(value, maxDepth, maxContainers);
          if (deepest === 'too-many')
            overLimit(`more than ${maxContainers} lists, tuples, dicts and objects`);
          if (deepest === 'too-deep') tooDeep();
          return { value, unknownGlobals: [...unknown] };
        }

        // -- constants and numbers
        case 0x4e: // NONE
          push(null);
          break;
        case 0x88: // NEWTRUE
          push(true);
          break;
        case 0x89: // NEWFALSE
          push(false);
          break;
        case 0x4a: // BININT
          r.need(4);
          push(r.view.getInt32(r.pos, true));
          r.pos += 4;
          break;
        case 0x4b: // BININT1
          push(r.u8());
          break;
        case 0x4d: // BININT2
          push(r.u16());
          break;
        case 0x8a: // LONG1
          push(decodeLong(r.take(r.u8())));
          break;
        case 0x8b: {
          // LONG4
          const n = r.u32();
          if (n > 4096) overLimit(`an integer of ${n} bytes`);
          push(decodeLong(r.take(n)));
          break;
        }
        case 0x49: {
          // INT (text); I00/I01 are protocol 0's False/True
          const s = r.line();
          if (s === '00') push(false);
          else if (s === '01') push(true);
          else push(parseIntText(s) ?? fail(`bad INT '${clip(s)}'`));
          break;
        }
        case 0x4c: {
          // LONG (text)
          const s = r.line();
          push(parseIntText(s.endsWith('L') ? s.slice(0, -1) : s) ?? fail(`bad LONG '${clip(s)}'`));
          break;
        }
        case 0x47: // BINFLOAT (big-endian)
          r.need(8);
          push(r.view.getFloat64(r.pos, false));
          r.pos += 8;
          break;
        case 0x46: {
          // FLOAT (text)
          const s = r.line();
          const v = Number(s);
          if (s.trim() === '' || (Number.isNaN(v) && !/^[-+]?nan$/i.test(s.trim())))
            fail(`bad FLOAT '${clip(s)}'`);
          push(v);
          break;
        }

        // -- strings and bytes
        case 0x58: // BINUNICODE
          push(decodeUtf8(r.take(text(r.u32()))));
          break;
        case 0x8d: // BINUNICODE8
          push(decodeUtf8(r.take(text(r.u64()))));
          break;
        case 0x8c: // SHORT_BINUNICODE
          push(decodeUtf8(r.take(text(r.u8()))));
          break;
        case 0x56: // UNICODE (raw-unicode-escape, text)
          push(rawUnicodeEscape(r.line()));
          break;
        case 0x55: // SHORT_BINSTRING (Python 2 str): bytes read as latin-1
          push(latin1(r.take(text(r.u8()))));
          break;
        case 0x54: {
          // BINSTRING
          r.need(4);
          const n = r.view.getInt32(r.pos, true);
          r.pos += 4;
          if (n < 0) fail('negative string length');
          push(latin1(r.take(text(n))));
          break;
        }
        case 0x53: // STRING (quoted repr, text)
          push(pythonStringRepr(r.line()) ?? fail('bad STRING'));
          break;
        case 0x43: // SHORT_BINBYTES
          push(r.take(r.u8()));
          break;
        case 0x42: // BINBYTES
          push(r.take(r.u32()));
          break;
        case 0x8e: // BINBYTES8
        case 0x96: // BYTEARRAY8
          push(r.take(r.u64()));
          break;
        case 0x97: // NEXT_BUFFER
          fail('the pickle uses out-of-band buffers (protocol 5), which a file cannot supply');
          break;
        case 0x98: // READONLY_BUFFER: a no-op on the value
          top();
          break;

        // -- containers
        case 0x28: // MARK
          if (marks.length >= maxDepth) overLimit(`MARKs nested more than ${maxDepth} deep`);
          marks.push(stack.length);
          break;
        case 0x29: // EMPTY_TUPLE
          push(Object.freeze([]), 1);
          break;
        case 0x85: {
          // TUPLE1
          const a = pop();
          push(tuple([a]), popped + 1);
          break;
        }
        case 0x86: {
          // TUPLE2
          const b = pop();
          const db = popped;
          const a = pop();
          push(tuple([a, b]), Math.max(popped, db) + 1);
          break;
        }
        case 0x87: {
          // TUPLE3
          const c = pop();
          const dc = popped;
          const b = pop();
          const db = popped;
          const a = pop();
          push(tuple([a, b, c]), Math.max(popped, db, dc) + 1);
          break;
        }
        case 0x74: {
          // TUPLE
          const items = popMark();
          push(tuple(items), marked + 1);
          break;
        }
        case 0x5d: // EMPTY_LIST
          push([], 1);
          break;
        case 0x6c: {
          // LIST
          const items = popMark();
          const l: unknown[] = [];
          push(l, marked + 1);
          appendItems(count, l, items);
          break;
        }
        case 0x61: {
          // APPEND
          const v = pop();
          const list = top();
          if (Array.isArray(list) && !Object.isFrozen(list)) {
            count(1);
            list.push(v);
          } else appendItems(count, list, [v]);
          deepenTop(popped + 1);
          break;
        }
        case 0x65: {
          // APPENDS
          const items = popMark();
          appendItems(count, top(), items);
          deepenTop(marked + 1);
          break;
        }
        case 0x7d: // EMPTY_DICT
          push(new Map(), 1);
          break;
        case 0x64: {
          // DICT
          const items = popMark();
          if (items.length % 2) fail('DICT with an odd number of items');
          const m = new Map<unknown, unknown>();
          push(m, marked + 1);
          for (let i = 0; i < items.length; i += 2) setItem(m, items[i], items[i + 1]);
          count(items.length / 2);
          break;
        }
        case 0x73: {
          // SETITEM
          const v = pop();
          const dv = popped;
          const k = pop();
          setItem(top(), k, v);
          count(1);
          deepenTop(Math.max(popped, dv) + 1);
          break;
        }
        case 0x75: {
          // SETITEMS
          const items = popMark();
          if (items.length % 2) fail('SETITEMS with an odd number of items');
          const target = top();
          for (let i = 0; i < items.length; i += 2) setItem(target, items[i], items[i + 1]);
          count(items.length / 2);
          deepenTop(marked + 1);
          break;
        }
        case 0x8f: // EMPTY_SET
          push(new Set(), 1);
          break;
        case 0x90: {
          // ADDITEMS
          const items = popMark();
          const s = top();
          if (!(s instanceof Set)) fail('ADDITEMS on a value that is not a set');
          appendItems(count, s, items);
          deepenTop(marked + 1);
          break;
        }
        case 0x91: {
          // FROZENSET
          const items = popMark();
          const s = new Set<unknown>();
          push(s, marked + 1);
          appendItems(count, s, items);
          break;
        }

        // -- stack manipulation
        case 0x30: // POP
          if (marks.length && stack.length === marks[marks.length - 1]) marks.pop();
          else pop();
          break;
        case 0x31: // POP_MARK
          popMark();
          break;
        case 0x32: {
          // DUP
          const v = top();
          push(v, depths[depths.length - 1]);
          break;
        }

        // -- memo
        case 0x71: // BINPUT
          memoPut(r.u8());
          break;
        case 0x72: // LONG_BINPUT
          memoPut(r.u32());
          break;
        case 0x94: // MEMOIZE
          memoPut(memo.size);
          break;
        case 0x70: // PUT (text)
          memoPut(parseIndex(r.line()) ?? fail('bad PUT index'));
          break;
        case 0x68: // BINGET
          memoGet(r.u8());
          break;
        case 0x6a: // LONG_BINGET
          memoGet(r.u32());
          break;
        case 0x67: // GET (text)
          memoGet(parseIndex(r.line()) ?? fail('bad GET index'));
          break;

        // -- globals and objects
        case 0x63: {
          // GLOBAL
          const module = r.line();
          const name = r.line();
          push(resolveGlobal(module, name));
          break;
        }
        case 0x93: {
          // STACK_GLOBAL
          const name = pop();
          const module = pop();
          if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
          push(resolveGlobal(module as string, name as string));
          break;
        }
        case 0x52: {
          // REDUCE
          const args = pop();
          const da = popped;
          const fn = pop();
          if (!Array.isArray(args)) fail('REDUCE arguments are not a tuple');
          const v = callable(fn, args as unknown[]);
          push(v, resultDepth(v, da));
          break;
        }
        case 0x81: {
          // NEWOBJ: cls.__new__(cls, *args)
          const args = pop();
          const da = popped;
          const cls = pop();
          if (!Array.isArray(args)) fail('NEWOBJ arguments are not a tuple');
          const v = callable(cls, args as unknown[]);
          push(v, resultDepth(v, da));
          break;
        }
        case 0x92: {
          // NEWOBJ_EX
          const kwargs = pop();
          const dk = popped;
          const args = pop();
          const da = Math.max(popped, dk);
          const cls = pop();
          if (!Array.isArray(args) || !(kwargs instanceof Map)) fail('NEWOBJ_EX needs a tuple and a dict');
          const v = callable(cls, args as unknown[], kwargs as Map<unknown, unknown>);
          push(v, resultDepth(v, da));
          break;
        }
        case 0x6f: {
          // OBJ: MARK cls args... OBJ
          const items = popMark();
          if (items.length === 0) fail('OBJ without a class');
          const v = callable(items[0], items.slice(1));
          push(v, resultDepth(v, marked));
          break;
        }
        case 0x69: {
          // INST: MARK args... INST module\nname\n
          const module = r.line();
          const name = r.line();
          const args = popMark();
          const v = callable(resolveGlobal(module, name), args);
          push(v, resultDepth(v, marked));
          break;
        }
        case 0x62: {
          // BUILD: obj.__setstate__(state) — for an inert object, just remember the state.
          const state = pop();
          const obj = top();
          deepenTop(popped + 1);
          if (obj instanceof PyObject) {
            if (obj.state instanceof Map && state instanceof Map) {
              // A merge copies every item (key and value), however often the same state is applied.
              count(2 * state.size);
              for (const [k, v] of state) obj.state.set(k, v);
            } else obj.state = state;
          } else if (typeof obj === 'object' && obj !== null) {
            attributes.set(obj, state);
          } else fail('BUILD on a value that is not an object');
          break;
        }
        case 0x51: {
          // BINPERSID
          const pid = pop();
          const v = persistent(pid);
          push(v, isContainer(v) ? 1 : 0);
          break;
        }
        case 0x50: {
          // PERSID (text)
          const v = persistent(r.line());
          push(v, isContainer(v) ? 1 : 0);
          break;
        }
        case 0x82: // EXT1
        case 0x83: // EXT2
        case 0x84: {
          // EXT4: the copyreg extension registry is process state a file cannot rely on
          const code = op === 0x82 ? r.u8() : op === 0x83 ? r.u16() : r.u32();
          const name = `copyreg.extension[${code}]`;
          unknown.add(name);
          push(new PyGlobal(name));
          break;
        }
        default:
          fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')}`);
      }
    }
  } catch (e) {
    throw located(e, file, label, opStart);
  }

  function persistent(pid: unknown): unknown {
    if (!options.persistentLoad)
      fail('the pickle refers to external data (persistent ids) and none is available');
    return options.persistentLoad!(pid);
  }
}
