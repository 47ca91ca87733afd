/** HDF5's error stack as one line a scientist can act on. */
/** The most specific line of HDF5's error stack ("truncated file: eof = ..."), else the message. */
export function hdf5Reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const lines = msg.split('\n');
  const frames = lines
    .map((l) => /#\d+:.* in ([\w]+)\(\): (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null);
  if (frames.length === 0) {
    if (/memory|allocat|heap cap/i.test(msg))
      return 'the HDF5 library ran out of its memory allowance (corrupt or hostile data)';
    return `the HDF5 library failed: ${lines[0].slice(0, 300)}`;
  }
  const deepest = frames[frames.length - 1][2].trim();
  const trunc = /truncated file: eof = (\d+).*stored_eof = (\d+)/.exec(deepest);
  if (trunc) return `the file is truncated: it has ${trunc[1]} bytes but its header says ${trunc[2]}`;
  if (frames.some((f) => /filter returned failure|pipeline read failed/.test(f[2])))
    return (
      'a compressed chunk cannot be decompressed: the data is corrupt, or a chunk inflates past ' +
      'its declared size (a compression bomb)'
    );
  const nomem = lines.some((l) => /memory allocation failed|heap cap|Resource unavailable/i.test(l));
  let reason = `the HDF5 library could not read it: ${deepest}`;
  if (nomem) reason += ' (it ran out of its memory allowance: corrupt or hostile sizes)';
  return reason;
}
