/** Sets the V8 flags the engine wants in Node (see node-flags.mjs); call before any WebAssembly. */
export function enableRelaxedSimd(): void;
