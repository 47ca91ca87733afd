/**
 * The memory budget for the whole J: above it the app keeps J per sample (computed on demand) and takes the
 * batch views from one streamed pass. Shared by the worker (which decides) and the UI (which names it).
 */

export const MB = 2 ** 20;
export const GB = 2 ** 30;

/** The budget when the browser does not say how much memory the device has. */
export const DEFAULT_J_BUDGET = 512 * MB;

/**
 * The budget for this device: an eighth of `navigator.deviceMemory` (GB, which browsers round and cap at 8),
 * between 256 MB and 1 GB; 512 MB when unknown. The worker copies J once to send it to the UI, so the
 * budget is about a quarter of what a J at the budget costs in all.
 */
export function deviceBudget(deviceMemoryGB: number | undefined): number {
  if (!deviceMemoryGB || !Number.isFinite(deviceMemoryGB) || deviceMemoryGB <= 0) return DEFAULT_J_BUDGET;
  return Math.min(GB, Math.max(256 * MB, (deviceMemoryGB * GB) / 8));
}

/** Bytes of J [B,T,O,P] in float64. */
export function jBytes(B: number, T: number, O: number, P: number): number {
  return B * T * O * P * 8;
}

/** 8.3 GB, 512 MB, 14 kB: powers of 1000 (as file sizes are shown), three significant digits at most. */
export function formatBytes(n: number): string {
  const units = ['bytes', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  if (u === 0) return `${Math.round(v)} bytes`;
  return `${Number(v.toPrecision(v >= 100 ? 3 : 2))} ${units[u]}`;
}

/** Whether an error is the engine or the browser running out of memory (a typed array that could not be had). */
export function isOutOfMemory(e: unknown): boolean {
  if (!(e instanceof RangeError)) return false;
  return /alloc|memory|invalid (typed )?array( buffer)? length|array buffer|out of memory/i.test(e.message);
}

/** "not enough memory for …", naming what did not fit. */
export function outOfMemoryText(what: string, bytes?: number): string {
  const size = bytes !== undefined && Number.isFinite(bytes) ? ` (${formatBytes(bytes)})` : '';
  return `not enough memory for ${what}${size}`;
}

/** How J is held: the whole of it, or per sample with the batch views from streamed aggregates. */
export interface JMemory {
  mode: 'whole' | 'sample';
  /** What J for every sample takes in float64. */
  jBytes: number;
  budgetBytes: number;
  /** x is read from disk as needed (a file opened lazily): J is kept per sample whatever its size. */
  lazyX?: boolean;
}

/** The data panel's sentence about J and the budget. */
export function jMemoryText(m: JMemory, B: number): string {
  const all = `J for all ${B.toLocaleString('en-US')} samples`;
  if (m.lazyX && m.jBytes <= m.budgetBytes)
    return `${all} would take ${formatBytes(m.jBytes)}, within the ${formatBytes(m.budgetBytes)} budget, but x is read from disk as needed: kept per sample (computed when shown), batch views from streamed aggregates`;
  if (m.mode === 'whole')
    return `${all} takes ${formatBytes(m.jBytes)}, within the ${formatBytes(m.budgetBytes)} budget: kept whole`;
  return `${all} would need ${formatBytes(m.jBytes)}, over the ${formatBytes(m.budgetBytes)} budget: kept per sample (computed when shown), batch views from streamed aggregates`;
}
