import type { Plugin } from 'vite';
import { cspString } from './csp';

/**
 * Adds the CSP <meta> tag to the built index.html. Only at build time: the dev server injects inline
 * scripts (React refresh) that a strict policy would block.
 */
export function cspMetaPlugin(): Plugin {
  return {
    name: 'jacscope-csp-meta',
    apply: 'build',
    transformIndexHtml() {
      return [
        {
          tag: 'meta',
          attrs: { 'http-equiv': 'Content-Security-Policy', content: cspString('meta') },
          injectTo: 'head-prepend',
        },
      ];
    },
  };
}
