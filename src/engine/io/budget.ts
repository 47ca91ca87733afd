/**
 * One budget per opened file: whatever a reader inflates, builds or decodes is charged to it before
 * (or, where the size is only known after, as soon as) it is allocated, so that no path through the
 * readers — zip entries read again and again, a pickle copying one memoised list a thousand times,
 * tensor views decoded many times over — can make a small file cost more than the limits below.
 *
 * A model file is opened with one `OpenBudget` that travels zip → unpickler → tensor decoding; readers
 * of other formats of the same file (the TorchScript reader, say) take the same object.
 */
import { LoadError } from '../errors';

export interface OpenLimits {
  /** Bytes inflated from compressed zip entries: all entries, and every read of each, together. */
  maxInflated: number;
  /**
   * Values the unpickler creates: every value pushed, every container insertion, and every element
   * copied or merged by a constructor call (`list(x)`, `dict(x)`, a REDUCE's argument tuple, BUILD).
   * All pickles of the file together.
   */
  maxValues: number;
  /** Bytes allocated for decoded data: strings and bytes built by the unpickler, decoded tensors. */
  maxBytes: number;
}

const GiB = 2 ** 30;

/**
 * The defaults fit any real checkpoint under 4 GB: torch.save stores its entries (nothing to inflate)
 * and writes a few dozen values per tensor; 4 GB of float32 weights decode to 8 GiB of float64
 * (16 GiB is room for float16 data or complex weights beside them).
 */
export const OPEN_LIMITS: Readonly<OpenLimits> = Object.freeze({
  maxInflated: 8 * GiB,
  maxValues: 5_000_000,
  maxBytes: 16 * GiB,
});

/** The LoadError a spent budget throws; `what` says which limit, e.g. "more than 5000000 values". */
export class BudgetExceeded extends LoadError {
  constructor(
    file: string,
    readonly limit: keyof OpenLimits,
    readonly what: string,
  ) {
    super(file, `exceeds a safety limit: ${what}; no real file comes near that`);
  }
}

export class OpenBudget {
  readonly limits: Readonly<OpenLimits>;
  private inflated = 0;
  private valueCount = 0;
  private byteCount = 0;

  constructor(
    /** Named in every error. */
    readonly file: string,
    limits: Partial<OpenLimits> = {},
  ) {
    const l = { ...OPEN_LIMITS };
    for (const key of Object.keys(l) as (keyof OpenLimits)[]) {
      const v = limits[key];
      if (v === undefined) continue;
      if (!(v >= 0)) throw new RangeError(`OpenBudget: ${key} must be a non-negative number, got ${v}`);
      l[key] = v;
    }
    this.limits = Object.freeze(l);
  }

  /** What has been charged so far. */
  get used(): Readonly<OpenLimits> {
    return { maxInflated: this.inflated, maxValues: this.valueCount, maxBytes: this.byteCount };
  }

  /** Charges `n` bytes about to be inflated; throws BudgetExceeded past `maxInflated`. */
  inflate(n: number): void {
    this.inflated += n;
    if (this.inflated > this.limits.maxInflated) throw this.exceeded('maxInflated');
  }

  /** Charges `n` values about to be created or copied; throws BudgetExceeded past `maxValues`. */
  values(n: number): void {
    this.valueCount += n;
    if (this.valueCount > this.limits.maxValues) throw this.exceeded('maxValues');
  }

  /** Charges `n` bytes about to be allocated for decoded data; throws BudgetExceeded past `maxBytes`. */
  bytes(n: number): void {
    this.byteCount += n;
    if (this.byteCount > this.limits.maxBytes) throw this.exceeded('maxBytes');
  }

  /**
   * Throws BudgetExceeded, charging nothing, when `n` more of `limit` would not fit: for sizes that
   * are declared up front (a zip directory's uncompressed sizes) and refused before any work.
   */
  check(limit: keyof OpenLimits, n: number): void {
    if (this.used[limit] + n > this.limits[limit]) throw this.exceeded(limit, n);
  }

  private exceeded(limit: keyof OpenLimits, declared?: number): BudgetExceeded {
    const n = this.limits[limit];
    let what: string;
    if (limit === 'maxValues')
      what = `more than ${n} values, copies included${declared === undefined ? '' : ` (${declared} more declared)`}`;
    else if (limit === 'maxBytes')
      what =
        declared === undefined
          ? `more than ${formatBytes(n)} of decoded data`
          : `${declared} bytes of decoded data, more than ${formatBytes(n)}`;
    else
      what =
        declared === undefined
          ? `more than ${formatBytes(n)} inflated from its zip entries in total`
          : `its zip entries declare ${declared} bytes uncompressed in total, more than ${formatBytes(n)}`;
    return new BudgetExceeded(this.file, limit, what);
  }
}

function formatBytes(n: number): string {
  if (n >= GiB && n % GiB === 0) return `${n / GiB} GiB`;
  if (n >= 2 ** 20 && n % 2 ** 20 === 0) return `${n / 2 ** 20} MiB`;
  return `${n} bytes`;
}
