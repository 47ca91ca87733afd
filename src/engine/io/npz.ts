/**
 * NumPy `.npz` reader: a zip of `.npy` files (np.savez stores them, np.savez_compressed deflates them).
 * Arrays are keyed by entry name without the `.npy` suffix, in archive order.
 */
import { LoadError } from '../errors';
import type { HostTensor } from '../tensor';
import { readNpy } from './npy';
import { readZip } from './zip';

export function readNpz(bytes: Uint8Array, file: string): Map<string, HostTensor> {
  const arrays = new Map<string, HostTensor>();
  let skipped = 0;
  for (const entry of readZip(bytes, file)) {
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
