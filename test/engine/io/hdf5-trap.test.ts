// A trap inside WebAssembly (here a real one: the HDF5 library writing through a pointer outside
// its memory) is caught and reported as a LoadError, and HDF5 reads are refused from then on with a
// message saying why. In its own file: vitest gives each test file a fresh module graph, so the
// stopped library does not leak into the other HDF5 tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LoadError } from '../../../src/engine/errors';
import { hdf5Call, loadHdf5, openHdf5 } from '../../../src/engine/io/hdf5';
import { readDataFile } from '../../../src/engine/io/dataset';
import { expectLoadError } from './helpers';

const DATA = fileURLToPath(new URL('../../fixtures/data/', import.meta.url));
const bytes = new Uint8Array(readFileSync(DATA + 'deep.h5'));

describe('HDF5: a WebAssembly trap', () => {
  it('is reported as one LoadError, never a crash; later HDF5 opens say the library stopped', async () => {
    await loadHdf5();
    expect(readDataFile(bytes, 'deep.h5', { Xf: 5, P: 6 }).x!.shape).toEqual([2, 256, 5]);
    let err: unknown;
    try {
      hdf5Call('evil.h5', 0, (M, lib) => {
        M.FS.writeFile('/trap.h5', bytes);
        const f = new lib.File('/trap.h5', 'r');
        // Read /x into an address past the end of the library's memory: a trap in wasm code.
        M.get_dataset_data(f.file_id, '/x', null, null, null, BigInt(2 ** 31 - 64));
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LoadError);
    expect((err as LoadError).message).toMatch(
      /^evil\.h5: crashed the HDF5 library \(WebAssembly trap: memory access out of bounds\); the file is corrupt/,
    );
    expectLoadError(
      () => openHdf5(bytes, 'next.h5'),
      /^next\.h5: cannot be read: the HDF5 library stopped after it crashed on evil\.h5 .*restart jacscope/,
    );
    // Other formats are unaffected.
    expect(readDataFile(new Uint8Array(readFileSync(DATA + 'deep-v5.mat')), 'deep-v5.mat').x!.shape).toEqual([
      2, 256, 5,
    ]);
  });
});
