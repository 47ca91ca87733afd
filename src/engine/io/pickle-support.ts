/**
 * Helpers of the unpickler: nesting depth of a result, Python text/number decoding, the container
 * opcodes' insertions, and errors located in the pickle.
 */
import { LoadError } from '../errors';
import { BudgetExceeded } from './budget';
import { PyObject, attributes } from './pickle-values';

export const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown inside the loop, turned into a LoadError naming the position. */
export class PickleFault extends Error {
  constructor(
    message: string,
    /** A safety limit was exceeded (rather than the bytes being malformed). */
    readonly limit = false,
  ) {
    super(message);
  }
}

/**
 * The pickle's bytes and a read position. Every read checks the length first, so a field that
 * claims more than the buffer holds fails as "truncated" before anything is allocated.
 */
export class PickleBytes {
  pos = 0;
  readonly end: number;
  readonly view: DataView;
  constructor(readonly bytes: Uint8Array) {
    this.end = bytes.length;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  need(n: number): void {
    if (n > this.end - this.pos)
      throw new PickleFault(`truncated: needs ${n} more bytes but only ${this.end - this.pos} remain`);
  }
  u8(): number {
    this.need(1);
    return this.bytes[this.pos++];
  }
  u16(): number {
    this.need(2);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  u64(): number {
    this.need(8);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    this.pos += 8;
    // Any length above 2^53 is far beyond the buffer anyway; keep it a (huge) number so need() rejects it.
    return hi * 0x1_0000_0000 + lo;
  }
  take(n: number): Uint8Array {
    this.need(n);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  line(): string {
    // Text opcodes end in '\n'; a line never legitimately spans more than a short name or number.
    const nl = this.bytes.indexOf(0x0a, this.pos);
    if (nl < 0) throw new PickleFault('truncated: a text field has no end of line');
    const s = latin1(this.bytes.subarray(this.pos, nl));
    this.pos = nl + 1;
    return s;
  }
}

/**
 * A lower bound of the depth of what a call returned: an inert object keeps its arguments (as deep
 * as they are); an allow-listed call may return anything, so only its own level counts.
 */
export function resultDepth(v: unknown, argsDepth: number): number {
  if (v instanceof PyObject) return Math.max(argsDepth, 1);
  return isContainer(v) ? 1 : 0;
}

export function isContainer(v: unknown): v is object {
  return Array.isArray(v) || v instanceof Map || v instanceof Set || v instanceof PyObject;
}

export function childrenOf(v: object): unknown[] {
  let out: unknown[];
  if (Array.isArray(v)) out = v;
  else if (v instanceof Map) {
    out = [];
    for (const [k, x] of v) out.push(k, x);
  } else if (v instanceof Set) out = [...v];
  else {
    const o = v as PyObject;
    out = [...o.args, o.state];
    if (o.listItems) out.push(o.listItems);
    if (o.dictItems) out.push(o.dictItems);
    if (o.kwargs) out.push(o.kwargs);
  }
  const attrs = attributes.get(v);
  return attrs === undefined ? out : [...out, attrs];
}

/**
 * The longest chain of nested containers in `root`, by an iterative post-order walk in which every
 * container is expanded once (so a memo-shared "billion laughs" graph costs its size, not its
 * expansion) and an edge back into the current path (a cycle) is not followed.
 */
export function measureDepth(
  root: unknown,
  maxDepth: number,
  maxContainers: number,
): 'ok' | 'too-deep' | 'too-many' {
  if (!isContainer(root)) return 'ok';
  // 0 while on the current path; afterwards the height of the finished container.
  const height = new Map<object, number>();
  const path: { node: object; children: unknown[]; next: number; best: number }[] = [];
  const enter = (node: object): boolean => {
    if (path.length >= maxDepth) return false;
    height.set(node, 0);
    path.push({ node, children: childrenOf(node), next: 0, best: 0 });
    return true;
  };
  if (!enter(root)) return 'too-deep';
  while (path.length) {
    const f = path[path.length - 1];
    if (f.next < f.children.length) {
      const c = f.children[f.next++];
      if (!isContainer(c)) continue;
      const h = height.get(c);
      if (h === undefined) {
        if (height.size >= maxContainers) return 'too-many';
        if (!enter(c)) return 'too-deep';
      } else {
        // A finished container reached again: its chain hangs below the current path.
        if (path.length + h > maxDepth) return 'too-deep';
        if (h > f.best) f.best = h;
      }
      continue;
    }
    path.pop();
    const h = f.best + 1;
    height.set(f.node, h);
    if (path.length) {
      const parent = path[path.length - 1];
      if (h > parent.best) parent.best = h;
    }
  }
  return 'ok';
}

export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

export function latin1(b: Uint8Array): string {
  let s = '';
  // Chunked: String.fromCharCode.apply on a huge array would overflow the argument limit.
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

export function decodeUtf8(b: Uint8Array): string {
  if (b.length <= 64) {
    let ascii = true;
    for (let i = 0; i < b.length; i++) if (b[i] >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode(...b);
  }
  try {
    return utf8.decode(b);
  } catch {
    throw new PickleFault('a string is not valid UTF-8');
  }
}

/** Little-endian two's complement, as LONG1/LONG4 store it. */
export function decodeLong(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + b[i];
    if (b[n - 1] & 0x80) v -= 2 ** (8 * n);
    return v;
  }
  let hex = '';
  for (let i = n - 1; i >= 0; i--) hex += b[i].toString(16).padStart(2, '0');
  let v = BigInt('0x' + hex);
  if (b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
  return Number.isSafeInteger(Number(v)) && BigInt(Number(v)) === v ? Number(v) : v;
}

export function parseIntText(s: string): number | bigint | undefined {
  const t = s.trim();
  if (!/^[-+]?\d{1,4000}$/.test(t)) return undefined;
  const n = Number(t);
  if (Number.isSafeInteger(n)) return n;
  return BigInt(t);
}

export function parseIndex(s: string): number | undefined {
  return /^\d{1,10}$/.test(s.trim()) ? Number(s.trim()) : undefined;
}

export function rawUnicodeEscape(s: string): string {
  return s.replace(
    /\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g,
    (_m, a: string | undefined, b: string | undefined) => {
      const cp = parseInt((a ?? b)!, 16);
      if (cp > 0x10ffff) throw new PickleFault('bad \\U escape');
      return String.fromCodePoint(cp);
    },
  );
}

/** The repr of a Python 2 str, as protocol 0's STRING writes it: 'abc' or "abc" with backslash escapes. */
export function pythonStringRepr(s: string): string | undefined {
  const t = s.trimEnd();
  if (t.length < 2 || (t[0] !== "'" && t[0] !== '"') || t[t.length - 1] !== t[0]) return undefined;
  const body = t.slice(1, -1);
  const simple: Record<string, string> = {
    n: '\n',
    r: '\r',
    t: '\t',
    '\\': '\\',
    "'": "'",
    '"': '"',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
    '0': '\0',
  };
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]+$/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return simple[e] ?? `\\${e}`;
  });
}

/** SETITEM(S) into a dict, or into the dict part of an inert object. */
export function setItem(target: unknown, k: unknown, v: unknown): void {
  if (target instanceof Map) target.set(k, v);
  else if (target instanceof PyObject) (target.dictItems ??= new Map()).set(k, v);
  else throw new PickleFault('SETITEM on a value that is not a dict');
}

/** APPEND(S) to a list, a set (protocol 4's ADDITEMS), or the list part of an inert object; charged. */
export function appendItems(count: (n: number) => void, target: unknown, items: unknown[]): void {
  let list: unknown[];
  if (Array.isArray(target) && !Object.isFrozen(target)) list = target;
  else if (target instanceof PyObject) list = target.listItems ??= [];
  else if (target instanceof Set) {
    count(items.length);
    for (const it of items) target.add(it);
    return;
  } else throw new PickleFault('APPEND on a value that is not a list');
  count(items.length);
  for (const it of items) list.push(it);
}

/** An error thrown while reading, as the caller should see it: where in which pickle. */
export function located(e: unknown, file: string, label: string, at: number): unknown {
  // The file's budget is spent: say where in which pickle.
  if (e instanceof BudgetExceeded)
    return new BudgetExceeded(file, e.limit, `${e.what} (${label}, at byte ${at})`);
  if (e instanceof PickleFault) {
    const what = e.limit ? 'exceeds a safety limit' : 'is corrupt';
    return new LoadError(file, `${label} ${what}: ${e.message} (at byte ${at})`);
  }
  if (e instanceof RangeError && /call stack|Invalid array length|allocation/i.test(e.message))
    return new LoadError(file, `${label} is too large or too deeply nested to read (${e.message})`);
  return e;
}
