/**
 * What every kernel shares: the workgroup size, the flat thread index over a 2-D grid of
 * workgroups, and how a uniform parameter block is written.
 *
 * Every kernel here is "one thread per output element". The number of elements can be far more
 * than 65535 workgroups × 256 threads (one chunk of dense tangents of the seed model is ~10^7), and
 * the per-dimension limit on workgroups is 65535, so the grid is 2-D and the kernel rebuilds the
 * flat index from it.
 */

/** 256: on SwiftShader 3× faster than 64 for the same work; a common choice on GPUs too. */
export const WORKGROUP_SIZE = 256;

/** WebGPU's constants, spelled out so the engine needs no `GPUBufferUsage` global (Dawn in Node has none). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
} as const;
export const MapModeRead = 0x0001;
export const MapModeWrite = 0x0002;

/** The entry point's signature and the flat index `i`; the kernel body follows and returns when i ≥ total. */
export const ENTRY = /* wgsl */ `
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WORKGROUP_SIZE}u + lid;
  if (i >= u.total) { return; }
`;

/** Workgroups for `threads` threads: as many as allowed along x, the rest along y. */
export function dispatchGrid(threads: number, maxPerDim: number): [number, number] {
  const groups = Math.ceil(threads / WORKGROUP_SIZE);
  if (groups === 0) return [0, 0];
  const x = Math.min(groups, maxPerDim);
  const y = Math.ceil(groups / x);
  if (y > maxPerDim) throw new Error(`a kernel needs ${threads} threads, more than one dispatch can hold`);
  return [x, y];
}

/** A parameter word: u32 unless wrapped as f32. */
export type Word = number | { f32: number };

/** Uniform blocks are this many bytes (room for the largest kernel's parameters, a multiple of 16). */
export const UNIFORM_BYTES = 96;

export function packWords(words: readonly Word[]): ArrayBuffer {
  if (words.length * 4 > UNIFORM_BYTES) throw new Error('internal: too many kernel parameters');
  const buf = new ArrayBuffer(UNIFORM_BYTES);
  const u = new Uint32Array(buf);
  const f = new Float32Array(buf);
  words.forEach((w, k) => {
    if (typeof w === 'number') {
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff)
        throw new Error(`internal: bad u32 parameter ${w}`);
      u[k] = w;
    } else f[k] = w.f32;
  });
  return buf;
}

/** A WGSL float literal that round-trips a float64 (WGSL rounds it to f32 at compile time). */
export function wgslFloat(v: number): string {
  if (!Number.isFinite(v)) throw new Error(`internal: non-finite constant ${v}`);
  const s = v.toPrecision(17);
  return /[.eE]/.test(s) ? s : `${s}.0`;
}
