/**
 * Test helper: writes pickles opcode by opcode (to build the odd and hostile ones torch never
 * writes) and wraps them in torch.save's zip layout.
 */
import { zipSync } from 'fflate';

export class PickleWriter {
  private chunks: Uint8Array[] = [];
  private out: number[] = [];

  raw(...bytes: number[]): this {
    for (const b of bytes) this.out.push(b);
    return this;
  }
  /** Appends the same opcodes `n` times (for bombs). */
  repeat(n: number, bytes: number[]): this {
    this.flush();
    const block = new Uint8Array(n * bytes.length);
    block.set(bytes);
    // Doubling copies fill the block in log(n) steps.
    for (let filled = bytes.length; filled < block.length; filled *= 2) {
      block.copyWithin(filled, 0, Math.min(filled, block.length - filled));
    }
    this.chunks.push(block);
    return this;
  }
  private flush(): void {
    if (this.out.length) this.chunks.push(Uint8Array.from(this.out));
    this.out = [];
  }
  proto(v = 2): this {
    return this.raw(0x80, v);
  }
  stop(): this {
    return this.raw(0x2e);
  }
  mark(): this {
    return this.raw(0x28);
  }
  none(): this {
    return this.raw(0x4e);
  }
  bool(v: boolean): this {
    return this.raw(v ? 0x88 : 0x89);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    if (n >= 0 && n < 65536) return this.raw(0x4d, n & 0xff, n >> 8);
    if (n >= -(2 ** 31) && n < 2 ** 31) return this.raw(0x4a, ...le(n >>> 0, 4));
    // LONG1, two's complement little-endian
    let v = BigInt(n);
    const bytes: number[] = [];
    for (let i = 0; i < 8; i++) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.raw(0x8a, 8, ...bytes);
  }
  float(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, false);
    return this.raw(0x47, ...b);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(0x58, ...le(b.length, 4), ...b);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...ascii(`${module}\n${name}\n`));
  }
  emptyDict(): this {
    return this.raw(0x7d);
  }
  emptyList(): this {
    return this.raw(0x5d);
  }
  emptyTuple(): this {
    return this.raw(0x29);
  }
  tuple(): this {
    return this.raw(0x74);
  }
  tuple1(): this {
    return this.raw(0x85);
  }
  tuple2(): this {
    return this.raw(0x86);
  }
  append(): this {
    return this.raw(0x61);
  }
  appends(): this {
    return this.raw(0x65);
  }
  setitem(): this {
    return this.raw(0x73);
  }
  setitems(): this {
    return this.raw(0x75);
  }
  reduce(): this {
    return this.raw(0x52);
  }
  newobj(): this {
    return this.raw(0x81);
  }
  build(): this {
    return this.raw(0x62);
  }
  binpersid(): this {
    return this.raw(0x51);
  }
  put(i: number): this {
    return i < 256 ? this.raw(0x71, i) : this.raw(0x72, ...le(i, 4));
  }
  get(i: number): this {
    return i < 256 ? this.raw(0x68, i) : this.raw(0x6a, ...le(i, 4));
  }
  pop(): this {
    return this.raw(0x30);
  }
  /** A tuple of ints, via MARK ... TUPLE. */
  ints(values: readonly number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }
  /** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())`. */
  tensorV2(t: TensorSpec): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.storage(t);
    this.int(t.offset ?? 0)
      .ints(t.size)
      .ints(t.stride ?? contiguousStrides(t.size))
      .bool(false);
    this.global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }
  /** The persistent id `('storage', <type>, key, location, numel)` + BINPERSID. */
  storage(t: { storageType?: [string, string]; key: string; location?: string; numel: number }): this {
    const [mod, cls] = t.storageType ?? ['torch', 'FloatStorage'];
    return this.mark()
      .str('storage')
      .global(mod, cls)
      .str(t.key)
      .str(t.location ?? 'cpu')
      .int(t.numel)
      .tuple()
      .binpersid();
  }
  bytes(): Uint8Array {
    this.flush();
    const all = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const c of this.chunks) {
      all.set(c, at);
      at += c.length;
    }
    return all;
  }
}

export interface TensorSpec {
  storageType?: [string, string];
  key: string;
  location?: string;
  numel: number;
  offset?: number;
  size: number[];
  stride?: number[];
}

export function contiguousStrides(size: readonly number[]): number[] {
  const s = new Array<number>(size.length);
  let acc = 1;
  for (let i = size.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= size[i];
  }
  return s;
}

/** A torch.save-style archive: `<top>/data.pkl`, `<top>/data/<key>`, `<top>/version` (+ byteorder). */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array> = {},
  opts: { top?: string; byteorder?: string; deflate?: boolean } = {},
): Uint8Array {
  const top = opts.top ?? 'archive';
  const files: Record<string, Uint8Array> = { [`${top}/data.pkl`]: pickle };
  if (opts.byteorder !== undefined) files[`${top}/byteorder`] = ascii(opts.byteorder);
  for (const [k, v] of Object.entries(storages)) files[`${top}/data/${k}`] = v;
  files[`${top}/version`] = ascii('3\n');
  return zipSync(files, { level: opts.deflate ? 6 : 0 });
}

export function float32Bytes(values: readonly number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function le(n: number, width: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < width; i++) out.push(Math.floor(n / 2 ** (8 * i)) & 0xff);
  return out;
}

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

let budget: number | undefined;
/**
 * The time a hostile input may take: 2 s on an ordinary machine, scaled up on a slow or busy one
 * (shared CI runners run many times slower at moments), measured by a loop of plain allocations.
 */
export function hostileBudgetMs(): number {
  if (budget === undefined) {
    let best = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const a: unknown[] = [];
      for (let i = 0; i < 250_000; i++) a.push([]);
      best = Math.min(best, performance.now() - t0);
    }
    // About 10 ms on an idle desktop core.
    budget = 2000 * Math.max(1, best / 10);
  }
  return budget;
}
