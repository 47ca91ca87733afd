/**
 * The full J [B,T,O,P] as computed: float64 on the CPU, float32 on WebGPU (which computes in
 * float32, so widening would only double the memory of a large batch).
 */
export type JArray = Float64Array | Float32Array;
