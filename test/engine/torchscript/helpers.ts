/** Test helpers for the TorchScript front-end: committed cases, a tiny zip writer, value decoding. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { TorchScriptError, type Value, isTuple } from '../../../src/engine/torchscript';
import { FT, make, values } from './fake-host';

export { buildArchive, buildZip, dataPkl } from './zip-builder';

export const CASES = new URL('./cases/', import.meta.url);
export const GRAPH_FIXTURES = new URL('../../fixtures/graph/', import.meta.url);

export function caseBytes(name: string): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(new URL(`${name}.pt`, CASES))));
}

export function fixtureBytes(url: URL): Uint8Array {
  return new Uint8Array(readFileSync(fileURLToPath(url)));
}

type Encoded =
  { shape: number[]; dtype: string; data: number[] } | { tuple: Encoded[] } | Encoded[] | number | null;

export interface CaseRun {
  inputs: Encoded[];
  output: Encoded;
}

export function expectedRuns(name: string): CaseRun[] {
  const all = JSON.parse(readFileSync(fileURLToPath(new URL('expected.json', CASES)), 'utf8'));
  return all[name];
}

/** expected.json values → interpreter values (tensors as fake-host tensors). */
export function decode(e: Encoded): Value<FT> {
  if (e === null || typeof e === 'number') return e;
  if (Array.isArray(e)) return e.map(decode);
  if ('tuple' in e) return Object.freeze(e.tuple.map(decode));
  return make(e.shape, Float64Array.from(e.data), null, e.dtype);
}

/** Compares an interpreter result with an expected.json value (tensors to a relative tolerance). */
export function expectClose(got: unknown, want: Encoded, tol = 1e-5, path = 'output'): void {
  if (want === null || typeof want === 'number') {
    expect(got, path).toBe(want);
    return;
  }
  if (Array.isArray(want)) {
    expect(Array.isArray(got) && !isTuple(got), `${path} is a list`).toBe(true);
    expect((got as unknown[]).length, `${path} length`).toBe(want.length);
    want.forEach((w, i) => expectClose((got as unknown[])[i], w, tol, `${path}[${i}]`));
    return;
  }
  if ('tuple' in want) {
    expect(isTuple(got), `${path} is a tuple`).toBe(true);
    expect((got as unknown[]).length).toBe(want.tuple.length);
    want.tuple.forEach((w, i) => expectClose((got as unknown[])[i], w, tol, `${path}[${i}]`));
    return;
  }
  expect(got, `${path} is a tensor`).toBeInstanceOf(FT);
  const t = got as FT;
  expect(t.shape, `${path} shape`).toEqual(want.shape);
  const v = values(t).re;
  const scale = Math.max(1, ...want.data.map(Math.abs));
  const err = Math.max(0, ...want.data.map((w, i) => Math.abs(v[i] - w)));
  expect(err / scale, `${path} max relative error`).toBeLessThan(tol);
}

/** Runs fn; requires one TorchScriptError (a LoadError naming the file) and returns it. */
export function expectScriptError(fn: () => unknown, match?: RegExp): TorchScriptError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, 'expected a TorchScriptError').toBeInstanceOf(TorchScriptError);
  if (match) expect((err as Error).message).toMatch(match);
  return err as TorchScriptError;
}
