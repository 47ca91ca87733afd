/**
 * The desktop app's ranged reads: the worker asks for bytes of a file main opened by ranges (`read-range`); the
 * UI thread asks main through the host and answers with the bytes or main's reason (`range-data`).
 */
import type { FromWorker } from '../worker/protocol';
import { currentHost, send } from './engine-link';

/** Relays a ranged read; false for other messages. */
export function relayRange(m: FromWorker): boolean {
  if (m.type !== 'read-range') return false;
  const host = currentHost();
  const answer = (r: { bytes?: ArrayBuffer; error?: string }) =>
    send({ type: 'range-data', rid: m.rid, ...r }, r.bytes ? [r.bytes] : []);
  if (!host?.readRange) {
    answer({ error: 'this build reads no files by ranges through the host' });
    return true;
  }
  host.readRange(m.path, m.offset, m.length).then(
    (b) => {
      const buf =
        b.byteOffset === 0 && b.byteLength === b.buffer.byteLength
          ? (b.buffer as ArrayBuffer)
          : (b.slice().buffer as ArrayBuffer);
      answer({ bytes: buf });
    },
    (e: unknown) =>
      answer({
        error:
          e instanceof Error
            ? e.message.replace(/^Error invoking remote method '[^']*': (\w*Error: )?/, '')
            : String(e),
      }),
  );
  return true;
}
