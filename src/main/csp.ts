/**
 * The renderer's Content-Security-Policy, shared by the Electron main process (response header of the
 * app:// protocol) and the Vite builds (a <meta> tag in index.html). Pure: no Electron import.
 *
 * - 'wasm-unsafe-eval' lets the engine instantiate its WebAssembly GEMM; no 'unsafe-eval', no inline script.
 * - worker-src: the engine's module worker is a same-origin file; blob: covers a bundler-inlined worker.
 * - blob:/data: images: PNG export and canvas snapshots; connect-src 'self' lets the worker fetch a .wasm asset.
 */
export const CSP_DIRECTIVES: ReadonlyArray<readonly [string, string]> = [
  ['default-src', "'self'"],
  ['script-src', "'self' 'wasm-unsafe-eval'"],
  ['worker-src', "'self' blob:"],
  ['style-src', "'self'"],
  ['img-src', "'self' data: blob:"],
  ['font-src', "'self'"],
  ['connect-src', "'self'"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
];

/** The policy as a header value. `frame-ancestors` only works as a header, so the meta form leaves it out. */
export function cspString(form: 'header' | 'meta' = 'header'): string {
  const parts = CSP_DIRECTIVES.map(([k, v]) => `${k} ${v}`);
  if (form === 'header') parts.push("frame-ancestors 'none'");
  return parts.join('; ');
}
