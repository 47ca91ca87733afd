/**
 * The whole J of a dataset over the memory budget, exported in the desktop app: main's save dialog first, then
 * the worker computes J a chunk of samples at a time and sends the file's bytes in parts; each part is handed to
 * main and written to its temporary file before the worker sends the next. The job bar shows the samples done
 * and cancels. A cancel or a failure drops the save: main removes the temporary file, no partial file is left.
 * In the browser there is no save in parts, and the export of the whole J is refused up front with its size.
 */
import type { SaveStream } from '../host';
import type { StreamedJWhat } from '../worker/j-stream';
import type { FromWorker } from '../worker/protocol';
import { currentHost, newRequestId, send } from './engine-link';
import { useStore } from './index';

interface Streaming {
  stream: SaveStream;
  done: (error?: Error) => void;
}
const streaming = new Map<number, Streaming>();

/** Whether this host writes exports in parts (the desktop app). */
export function streamsWholeJ(): boolean {
  return !!currentHost()?.beginSave;
}

/** An error from main as its reason alone (Electron prefixes the channel and the error's class). */
export function ipcErrorText(e: unknown): string {
  return e instanceof Error
    ? e.message.replace(/^Error invoking remote method '[^']*': (\w*Error: )?/, '')
    : String(e);
}

/**
 * Exports the whole J of result `seq` in parts: resolves once the file is in place (or the dialog was
 * cancelled, or the export was), rejects with the reason it failed (nothing is left on disk then).
 */
export async function exportWholeJStreamed(what: StreamedJWhat, seq: number, B: number): Promise<void> {
  const host = currentHost();
  if (!host?.beginSave) throw new Error('this build cannot write a file in parts');
  if (useStore.getState().job) throw new Error('another job is running; export when it has finished');
  const kind = what === 'full-npy' ? 'npy' : what === 'full-h5' ? 'h5' : what === 'full-mat' ? 'mat' : 'csv';
  const name = kind === 'csv' ? 'J_long.csv' : `J.${kind}`;
  const begun = await host.beginSave(name, kind);
  if (!('append' in begun)) {
    if (begun.cancelled) return;
    throw new Error(begun.reason ?? 'not saved');
  }
  const stream = begun;
  const id = newRequestId();
  const finished = new Promise<void>((resolve, reject) =>
    streaming.set(id, { stream, done: (e) => (e ? reject(e) : resolve()) }),
  );
  useStore.setState({
    job: {
      id,
      label: stream.path.split(/[\\/]/).pop() ?? name,
      phase: 'exporting',
      startedAt: performance.now(),
      done: 0,
      total: B,
      cancelling: false,
    },
  });
  if (!send({ type: 'export-stream', id, seq, what })) {
    streaming.delete(id);
    useStore.setState((s) => ({ job: s.job?.id === id ? null : s.job }));
    await stream.abort();
    throw new Error('the engine is not running');
  }
  return finished;
}

/** Cancels the streamed export `id` (the job bar's Cancel). */
export function cancelStreamExport(id: number): void {
  send({ type: 'export-stream-cancel', id });
}

async function end(id: number, s: Streaming, m: Extract<FromWorker, { type: 'export-stream-end' }>) {
  streaming.delete(id);
  try {
    if (!m.ok) {
      await s.stream.abort();
      if (m.cancelled) useStore.setState({ lastExport: 'export cancelled: nothing was saved' });
      return s.done(m.cancelled ? undefined : new Error(m.message ?? 'the export failed'));
    }
    const r = await s.stream.commit();
    if (r.saved) {
      useStore.setState({ lastExport: `saved ${r.path}` });
      return s.done();
    }
    s.done(new Error(r.reason ?? 'not saved'));
  } catch (e) {
    await s.stream.abort();
    s.done(new Error(ipcErrorText(e)));
  } finally {
    useStore.setState((st) => ({ job: st.job?.id === id ? null : st.job }));
  }
}

/** Relays a streamed export's parts to main and settles it; false for other messages. */
export function streamExportMessage(m: FromWorker): boolean {
  if (m.type === 'export-part') {
    const s = streaming.get(m.id);
    if (!s) {
      send({ type: 'export-part-ack', id: m.id, error: 'the save is no longer open' });
      return true;
    }
    s.stream.append(m.bytes).then(
      () => send({ type: 'export-part-ack', id: m.id }),
      (e: unknown) => send({ type: 'export-part-ack', id: m.id, error: ipcErrorText(e) }),
    );
    return true;
  }
  if (m.type === 'export-stream-end') {
    const s = streaming.get(m.id);
    if (s) void end(m.id, s, m);
    return true;
  }
  return false;
}
