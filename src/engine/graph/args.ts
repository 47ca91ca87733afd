/**
 * Arguments of one op call, bound to the aten schema's names (positional and keyword alike), with
 * typed readers that fail with a message naming the op and the argument.
 */
import { ShapeError } from '../errors';
import { GTensor, item } from './tensor';

/** A dtype or device constant as the TorchScript front-end passes it. */
export interface DTypeValue {
  readonly dtype: string;
}

export class UnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedError';
  }
}

export class Args {
  constructor(
    readonly op: string,
    private readonly values: Map<string, unknown>,
  ) {}

  /** Bind positional and keyword arguments to a schema (see Rule.params). */
  static bind(
    op: string,
    params: readonly string[],
    args: readonly unknown[],
    kwargs: Readonly<Record<string, unknown>>,
  ): Args {
    const values = new Map<string, unknown>();
    let i = 0;
    for (const raw of params) {
      const rest = raw.startsWith('*');
      const name = raw.replace(/^\*/, '').replace(/=$/, '');
      if (rest) {
        values.set(name, args.slice(i));
        i = args.length;
        continue;
      }
      if (i < args.length) values.set(name, args[i++]);
    }
    if (i < args.length)
      throw new ShapeError(
        `${op}: ${args.length} positional arguments, the op takes at most ${params.length}`,
      );
    for (const [k, v] of Object.entries(kwargs)) {
      if (!params.some((p) => p.replace(/^\*/, '').replace(/=$/, '') === k))
        throw new UnsupportedError(`${op}: unsupported argument '${k}'`);
      values.set(k, v);
    }
    for (const raw of params) {
      const name = raw.replace(/^\*/, '').replace(/=$/, '');
      if (!raw.endsWith('=') && !raw.startsWith('*') && !values.has(name))
        throw new ShapeError(`${op}: missing argument '${name}'`);
    }
    return new Args(op, values);
  }

  has(name: string): boolean {
    const v = this.values.get(name);
    return v !== undefined && v !== null;
  }

  raw(name: string): unknown {
    return this.values.get(name);
  }

  private fail(name: string, want: string): never {
    const v = this.values.get(name);
    const got = v instanceof GTensor ? `a tensor ${v}` : (JSON.stringify(v) ?? String(v));
    throw new ShapeError(`${this.op}: argument '${name}' must be ${want}, got ${got}`);
  }

  tensor(name: string): GTensor {
    const v = this.values.get(name);
    if (v instanceof GTensor) return v;
    return this.fail(name, 'a tensor');
  }

  optTensor(name: string): GTensor | null {
    const v = this.values.get(name);
    if (v === undefined || v === null) return null;
    return this.tensor(name);
  }

  /** A tensor, or a Python number wrapped as a 0-d tensor (aten's Scalar arguments). */
  tensorOrScalar(name: string): GTensor | number {
    const v = this.values.get(name);
    if (v instanceof GTensor) return v;
    if (typeof v === 'number' || typeof v === 'boolean') return Number(v);
    return this.fail(name, 'a tensor or a number');
  }

  tensors(name: string): GTensor[] {
    const v = this.values.get(name);
    if (Array.isArray(v) && v.every((t) => t instanceof GTensor)) return v as GTensor[];
    return this.fail(name, 'a list of tensors');
  }

  number(name: string, fallback?: number): number {
    const v = this.values.get(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return this.fail(name, 'a number');
    }
    if (typeof v === 'number') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v instanceof GTensor && v.numel === 1) return item(v);
    return this.fail(name, 'a number');
  }

  optNumber(name: string): number | null {
    const v = this.values.get(name);
    return v === undefined || v === null ? null : this.number(name);
  }

  int(name: string, fallback?: number): number {
    const n = this.number(name, fallback);
    if (!Number.isInteger(n)) return this.fail(name, 'an integer');
    return n;
  }

  optInt(name: string): number | null {
    const v = this.values.get(name);
    return v === undefined || v === null ? null : this.int(name);
  }

  bool(name: string, fallback?: boolean): boolean {
    const v = this.values.get(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return this.fail(name, 'a bool');
    }
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0;
    return this.fail(name, 'a bool');
  }

  /** A list of ints (an int alone counts as a list of one, as aten's int[] arguments allow). */
  ints(name: string, fallback?: number[]): number[] {
    const v = this.values.get(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return this.fail(name, 'a list of integers');
    }
    const list = Array.isArray(v) ? v : [v];
    const out: number[] = [];
    for (const e of list) {
      const n = e instanceof GTensor && e.numel === 1 ? item(e) : e;
      if (typeof n !== 'number' || !Number.isInteger(n)) return this.fail(name, 'a list of integers');
      out.push(n);
    }
    return out;
  }

  optInts(name: string): number[] | null {
    const v = this.values.get(name);
    return v === undefined || v === null ? null : this.ints(name);
  }

  string(name: string, fallback?: string): string {
    const v = this.values.get(name);
    if (v === undefined || v === null) {
      if (fallback !== undefined) return fallback;
      return this.fail(name, 'a string');
    }
    if (typeof v === 'string') return v;
    return this.fail(name, 'a string');
  }

  optString(name: string): string | null {
    const v = this.values.get(name);
    return v === undefined || v === null ? null : this.string(name);
  }
}
