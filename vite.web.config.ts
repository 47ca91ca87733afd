import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { cspMetaPlugin } from './src/main/vite-csp-plugin';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The web build: the same renderer as the desktop app, run in a plain browser (used by the e2e tests). */
export default defineConfig({
  root: resolve(here, 'src/renderer'),
  base: './',
  plugins: [react(), cspMetaPlugin()],
  worker: { format: 'es' },
  build: {
    outDir: resolve(here, 'dist-web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: { host: '127.0.0.1' },
});
