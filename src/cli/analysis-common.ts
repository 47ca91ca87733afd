/**
 * What the `sobol`, `sensitivity` and `merge` commands share: shards, the progress line, ids of
 * what a run measured (checked when shards merge), nested JSON arrays and the result writers' helpers.
 */
import { LoadError } from '../engine/errors';
import { UsageError } from './args';
import { writeAtomic } from './files';

/** `--shard i/n` (1 ≤ i ≤ n) → {index: i − 1, count: n}; undefined when absent. */
export function shardOption(v: string | undefined): { index: number; count: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(v);
  const i = m ? Number(m[1]) : NaN;
  const n = m ? Number(m[2]) : NaN;
  if (!m || !(n >= 1 && n <= 1e9) || !(i >= 1 && i <= n))
    throw new UsageError(`--shard must be i/n with 1 ≤ i ≤ n (e.g. --shard 2/4), got '${v}'`);
  return { index: i - 1, count: n };
}

/** A positive integer option (default when absent). */
export function intOption(name: string, v: string | undefined, def: number, min = 1, max = 2 ** 31): number {
  if (v === undefined) return def;
  if (!/^\d+$/.test(v.trim()) || !(Number(v) >= min && Number(v) <= max))
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got '${v}'`);
  return Number(v);
}

/** The output's kind from its name: a partial result must be JSON. */
export function outKind(path: string, partial: boolean): 'json' | 'csv' {
  if (/\.json$/i.test(path)) return 'json';
  if (/\.csv$/i.test(path)) {
    if (partial)
      throw new LoadError(
        path,
        'a shard writes a partial result, which is JSON: name it .json (merge it with `jacscope merge`)',
      );
    return 'csv';
  }
  throw new LoadError(path, `the output name must end in .json${partial ? '' : ' or .csv'}`);
}

/**
 * A progress line on stderr when a person is watching (a terminal): redrawn at most ten times a
 * second, cleared at the end. `unit` names what is counted.
 */
export function progressLine(
  what: string,
  unit: string,
): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const start = performance.now();
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && (now - start < 500 || now - last < 100)) return;
    last = now;
    const line = done < total ? `${what}: ${done}/${total} ${unit}` : '';
    process.stderr.write(`\r${line.padEnd(50)}\r${line}`);
    if (done === total) process.stderr.write('\r'.padEnd(51) + '\r');
  };
}

/** A 64-bit FNV-style hash (two lanes) as 16 hex digits: identifies a model file or inputs, not secure. */
export function hashBytes(bytes: Uint8Array, seed = 0): string {
  let h1 = 0x811c9dc5 ^ seed;
  let h2 = 0x1b873593 ^ seed;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
    h2 ^= h2 >>> 15;
  }
  const hex = (x: number) => (x >>> 0).toString(16).padStart(8, '0');
  return hex(h1) + hex(h2);
}

export function hashFloats(a: Float64Array): string {
  return hashBytes(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

export { axesOf, nest } from '../engine/analysis/sobol/result-json';

/** Numbers as CSV cells: full precision, NaN as NaN, null as empty. */
export function cell(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

/**
 * A long-format CSV: one row per index of `shape` (the axis columns), then the named columns
 * (flat arrays of that shape, or null for an empty column).
 */
export function writeLongCsv(
  path: string,
  axes: readonly string[],
  shape: readonly number[],
  columns: [string, ArrayLike<number> | null][],
): void {
  writeAtomic(path, (w) => {
    w(`${[...axes, ...columns.map(([n]) => n)].join(',')}\n`);
    const total = shape.reduce((a, b) => a * b, 1);
    const idx = new Array<number>(shape.length).fill(0);
    let buf = '';
    for (let i = 0; i < total; i++) {
      buf += `${idx.join(',')},${columns.map(([, c]) => (c ? cell(c[i]) : '')).join(',')}\n`;
      for (let a = shape.length - 1; a >= 0; a--) {
        if (++idx[a] < shape[a]) break;
        idx[a] = 0;
      }
      if (buf.length > 1 << 20) {
        w(buf);
        buf = '';
      }
    }
    w(buf);
  });
}

/** An object as JSON, one top-level key a line (arrays compact). */
export function writeJson(path: string, value: Record<string, unknown>): void {
  const body = Object.entries(value)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${JSON.stringify(k)}: ${JSON.stringify(v)}`)
    .join(',\n');
  writeAtomic(path, (w) => w(`{\n${body}\n}\n`));
}

/** Contiguous [start, end) of n shards over N rows, as even as N allows. */
export function shardRange(
  N: number,
  shard: { index: number; count: number } | undefined,
  what: string,
): [number, number] {
  if (!shard) return [0, N];
  if (shard.count > N)
    throw new UsageError(
      `--shard ${shard.index + 1}/${shard.count}: ${N} ${what} cannot be split into ${shard.count} shards`,
    );
  return [Math.floor((shard.index * N) / shard.count), Math.floor(((shard.index + 1) * N) / shard.count)];
}
