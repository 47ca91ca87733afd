/** Recognising an HDF5 file (or a MATLAB v7.3 file, which is HDF5 behind a 512-byte user block). */
const SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** Where the HDF5 superblock starts (0, or after a user block of 512·2^k bytes), or -1. */
export function hdf5SignatureOffset(bytes: Uint8Array): number {
  for (let at = 0; at + 8 <= bytes.length; at = at === 0 ? 512 : at * 2) {
    if (SIGNATURE.every((b, i) => bytes[at + i] === b)) return at;
    if (at >= 2 ** 30) break;
  }
  return -1;
}

export function isHdf5(bytes: Uint8Array): boolean {
  return hdf5SignatureOffset(bytes) >= 0;
}
