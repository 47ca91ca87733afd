/**
 * NumPy `.npz` reader: a zip of `.npy` files (np.savez stores them, np.savez_compressed deflates them).
 * Arrays are keyed by entry name without the `.npy` suffix, in archive order.
 */
import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';
import { OpenBudget } from './budget';
import { readNpy } from './npy';
import { readZip } from './zip';

/**
 * Numeric arrays compress a few times at most; an archive claiming to expand 64× beyond its own size
 * is refused before anything is inflated, so a deflate bomb costs nothing.
 */
const MAX_EXPANSION = 64;

export function readNpz(
  bytes: Uint8Array,
  file: string,
  budget = new OpenBudget(file),
): Map<string, HostTensor> {
  const arrays = new Map<string, HostTensor>();
  let skipped = 0;
  const entries = readZip(bytes, file, budget);
  const total = entries.reduce((a, e) => a + e.uncompressedSize, 0);
  if (total > MAX_EXPANSION * bytes.length + (1 << 20)) {
    throw new LoadError(
      file,
      `would expand to ${total} bytes from ${bytes.length} (more than ${MAX_EXPANSION}×): refused as a possible zip bomb; if the data is real, save it uncompressed with np.savez`,
    );
  }
  for (const entry of entries) {
    // np.load only exposes .npy members as arrays; anything else (directories, stray files) is ignored.
    if (!entry.name.endsWith('.npy')) {
      skipped++;
      continue;
    }
    const key = entry.name.slice(0, -4);
    if (arrays.has(key)) throw new LoadError(file, `holds two arrays named '${key}'`);
    const data = entry.read(); // its LoadErrors already name the entry
    try {
      arrays.set(key, readNpy(data, file));
    } catch (e) {
      // Say which array is broken: "data.npz: array 'x' is truncated ...".
      if (e instanceof LoadError) throw new LoadError(file, `array '${key}' ${e.reason}`);
      throw e;
    }
  }
  if (arrays.size === 0)
    throw new LoadError(
      file,
      skipped > 0
        ? 'is a zip archive but holds no .npy arrays (is it really an .npz file?)'
        : 'holds no arrays',
    );
  return arrays;
}
