/**
 * x by sample: rows [b0, b1) of x [B, …], held in memory or read from disk when a sample or a streamed chunk
 * needs them (lazy-rows.ts). `ensure` makes rows ready (async: a ranged read); `get` hands them out synchronously
 * to the code that computes.
 */

export interface XRows {
  readonly B: number;
  /** Values per sample. */
  readonly per: number;
  /** Whether rows come from disk as needed (the data panel says so). */
  readonly lazy: boolean;
  /** Reads rows [b0, b1) when they are not at hand. */
  ensure(b0: number, b1: number): Promise<void>;
  /** Rows [b0, b1) as one array (do not modify it); throws when they were not made ready and cannot be read now. */
  get(b0: number, b1: number): Float64Array;
}

/** Throws unless [b0, b1) is a range of samples of 0…B. */
export function checkRows(B: number, b0: number, b1: number): void {
  if (!Number.isInteger(b0) || !Number.isInteger(b1) || b0 < 0 || b1 < b0 || b1 > B)
    throw new RangeError(`samples ${b0}…${b1} are not a range of 0…${B}`);
}

/** Rows of an x held whole in memory (`per` values each; an empty x for models that take p alone). */
export function memoryRows(x: Float64Array, B: number): XRows {
  const per = B > 0 ? x.length / B : 0;
  return {
    B,
    per,
    lazy: false,
    ensure: async () => {},
    get(b0, b1) {
      checkRows(B, b0, b1);
      return x.subarray(b0 * per, b1 * per);
    },
  };
}
