/**
 * The worker's side of a streamed export of the whole J (desktop app, sample mode): J is computed a chunk of
 * samples at a time (batch-chunks.ts) and the file's bytes go to the UI thread in parts (`export-part`); the UI
 * thread hands each to main and answers `export-part-ack` once it is written, and only then does the next part
 * go. `export-stream-end` says how it ended; the UI thread then commits or drops main's temporary file.
 */
import type { ComputedResult } from './result-info';
import type { FromWorker, ToWorker } from './protocol';
import { ChunkRunner, STEP_MS, float64Backend } from './batch-chunks';
import type { BatchBackend } from './engine-contract';
import type { SampleSource } from './sample-source';
import { streamWholeJ } from './j-stream';
import type { JChunks } from './j-stream';

type Post = (m: FromWorker, transfer?: Transferable[]) => void;

/** J of every sample of a sample-mode result, a chunk at a time, on `backend` or the CPU model. */
export function sampleChunks(
  src: SampleSource,
  backend: BatchBackend | null,
  meta: { yShape: number[]; timeAxis: boolean },
): JChunks {
  const run = new ChunkRunner(src, backend);
  const { T, O, P } = src.dims;
  return {
    yShape: meta.yShape,
    T,
    O,
    P,
    timeAxis: meta.timeAxis,
    stepMs: run.stepMs,
    ensure: (b0, b1) => src.ensure(b0, b1),
    chunk: async (b0, b1, signal) => (await run.evaluate(b0, b1, signal)).J,
  };
}

/** J held whole, handed out a chunk at a time. */
export function wholeChunks(r: ComputedResult): JChunks {
  const { T, O, P, yShape, timeAxis } = r.meta;
  const per = T * O * P;
  return {
    yShape,
    T,
    O,
    P,
    timeAxis,
    stepMs: STEP_MS,
    ensure: async () => {},
    chunk: async (b0, b1) => r.J.subarray(b0 * per, b1 * per),
  };
}

interface Running {
  controller: AbortController;
  ack: { resolve: () => void; reject: (e: Error) => void } | null;
}

export class StreamExports {
  private readonly running = new Map<number, Running>();

  constructor(
    private readonly session: {
      result: ComputedResult | null;
      batchBackend(): Promise<BatchBackend | null>;
    },
    private readonly post: Post,
    private readonly progress: (id: number) => (done: number, total: number) => void,
    private readonly describe: (e: unknown) => string,
  ) {}

  /** Handles the messages of streamed exports; false for others. */
  handle(msg: ToWorker): boolean {
    switch (msg.type) {
      case 'export-stream':
        void this.run(msg);
        return true;
      case 'export-part-ack': {
        const r = this.running.get(msg.id);
        const ack = r?.ack;
        if (r && ack) {
          r.ack = null;
          if (msg.error === undefined) ack.resolve();
          else ack.reject(new Error(msg.error));
        }
        return true;
      }
      case 'export-stream-cancel': {
        const r = this.running.get(msg.id);
        r?.controller.abort();
        return true;
      }
      default:
        return false;
    }
  }

  private async run(msg: Extract<ToWorker, { type: 'export-stream' }>): Promise<void> {
    const entry: Running = { controller: new AbortController(), ack: null };
    const { signal } = entry.controller;
    this.running.set(msg.id, entry);
    const write = (bytes: Uint8Array) =>
      new Promise<void>((resolve, reject) => {
        entry.ack = { resolve, reject };
        const own =
          bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
        this.post({ type: 'export-part', id: msg.id, bytes: own }, [own.buffer as ArrayBuffer]);
      });
    try {
      const r = this.session.result;
      const stale = () => this.session.result !== r || r?.meta.seq !== msg.seq;
      if (!r || stale()) throw new Error('the result changed since the export was asked for; export again');
      const backend = r.sample ? await float64Backend(this.session) : null;
      if (stale()) throw new Error('the result changed since the export was asked for; export again');
      const src = r.sample ? sampleChunks(r.sample, backend, r.meta) : wholeChunks(r);
      const out = await streamWholeJ(
        msg.what,
        src,
        { write },
        { dtype: msg.dtype, signal, onProgress: this.progress(msg.id) },
      );
      this.post({ type: 'export-stream-end', id: msg.id, ok: true, name: out.name, bytes: out.bytes });
    } catch (e) {
      const cancelled = signal.aborted;
      this.post({
        type: 'export-stream-end',
        id: msg.id,
        ok: false,
        cancelled,
        message: cancelled ? 'cancelled' : this.describe(e),
      });
    } finally {
      this.running.delete(msg.id);
    }
  }
}
