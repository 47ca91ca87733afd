/**
 * x and p of an fno1d-scalar `forward` or `jacobian`, a block of samples at a time (see
 * blockwise.ts). Data files up to STREAM_ABOVE_BYTES are read whole, with every format and
 * convenience of loadInputs (CSV, MATLAB, torch tensors, a 2-D x read as [B,T,1], notes before the
 * run). Larger ones, which need not fit in memory, are read by rows from .npy, .npz or HDF5 (the
 * readers `sensitivity` streams with): plain arrays x [B,T,Xf] and p [B,P]; samples holding NaN or
 * Inf are found as their rows are read and told after the run.
 */
import { statSync } from 'node:fs';
import { firstNonFinite, skippedNote } from '../engine/io/dataset';
import type { FnoConfig } from '../engine/models/config';
import type { ParsedArgs } from './args';
import { checkedFnoStreams } from './fno-streams';
import { loadInputs } from './load';
import { StreamFiles, loadHdf5For } from './stream-npy';

/**
 * Data files larger than this in all (bytes on disk) are read by rows. JACSCOPE_STREAM_ABOVE_BYTES
 * sets another size (the tests read small files by rows with it).
 */
export const STREAM_ABOVE_BYTES = Number(process.env.JACSCOPE_STREAM_ABOVE_BYTES ?? 512 * 2 ** 20);

export interface InputRows {
  readonly B: number;
  readonly T: number;
  /** x [n,T,Xf] and p [n,P] of samples [b0, b0+n), and which of them (0…n−1) hold only finite values. */
  rows(b0: number, n: number): { x: Float64Array; p: Float64Array; finite: number[] };
  /** What to say once every row has been read (streamed: the samples left out). */
  notesAfter(): string[];
  close(): void;
}

/** The files a spec names (`FILE`, `FILE.npz:NAME`, `FILE.h5:/PATH`) when all of them can be read by rows. */
function streamedFile(spec: string | undefined): string | null {
  if (spec === undefined) return null;
  const h = /^(.*\.(?:h5|hdf5))(?::.+)?$/i.exec(spec) ?? /^(.*\.npz)(?::[^/\\]+)?$/i.exec(spec);
  if (h) return h[1];
  return /\.npy$/i.test(spec) ? spec : null;
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * The inputs of `args` (--x and --p, or --data) for `config`; `note` hears what is known before the
 * run. `streamAbove`: the size from which files are read by rows.
 */
export async function inputRows(
  args: ParsedArgs,
  config: FnoConfig,
  note: (line: string) => void,
  streamAbove = STREAM_ABOVE_BYTES,
): Promise<InputRows> {
  const o = args.options;
  const specs = o.has('data') ? [o.get('data')] : [o.get('x'), o.get('p')];
  const files = specs.map(streamedFile);
  const total = files.reduce((a, f) => a + (f ? sizeOf(f) : 0), 0);
  if (files.every((f) => f !== null) && total > streamAbove) return streamed(args, config, note);
  const inputs = await loadInputs({ x: o.get('x'), p: o.get('p'), data: o.get('data') }, config);
  for (const n of inputs.notes) note(`note: ${n}`);
  const { x, p, B, T } = inputs;
  const xs = x.data.length / Math.max(B, 1);
  const ps = p.data.length / Math.max(B, 1);
  const finite = new Uint8Array(B);
  for (const b of inputs.finite) finite[b] = 1;
  return {
    B,
    T,
    rows(b0, n) {
      const ok: number[] = [];
      for (let i = 0; i < n; i++) if (finite[b0 + i]) ok.push(i);
      return {
        x: x.data.subarray(b0 * xs, (b0 + n) * xs),
        p: p.data.subarray(b0 * ps, (b0 + n) * ps),
        finite: ok,
      };
    },
    notesAfter: () => [],
    close() {},
  };
}

async function streamed(
  args: ParsedArgs,
  config: FnoConfig,
  note: (line: string) => void,
): Promise<InputRows> {
  await loadHdf5For(args);
  const files = new StreamFiles();
  try {
    const { x, p, T } = checkedFnoStreams(files, args.options, config, note);
    const B = x.rows;
    const bad: string[] = [];
    let read = 0;
    return {
      B,
      T,
      rows(b0, n) {
        const xs = x.readRows(b0, n);
        const ps = p.readRows(b0, n);
        const finite: number[] = [];
        for (let i = 0; i < n; i++) {
          const b = b0 + i;
          const where =
            firstNonFinite(xs.subarray(i * x.rowValues, (i + 1) * x.rowValues), x.shape, 'x', b) ??
            firstNonFinite(ps.subarray(i * p.rowValues, (i + 1) * p.rowValues), p.shape, 'p', b);
          if (where) bad.push(`sample ${b} (${where})`);
          else finite.push(i);
        }
        read += n;
        return { x: xs, p: ps, finite };
      },
      notesAfter: () => (bad.length > 0 ? [skippedNote(bad, B, read - bad.length, true)] : []),
      close: () => files.close(),
    };
  } catch (e) {
    files.close();
    throw e;
  }
}
