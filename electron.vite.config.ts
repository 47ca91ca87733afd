import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import { cspMetaPlugin } from './src/main/vite-csp-plugin';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  main: {
    build: { rolldownOptions: { input: resolve(here, 'src/main/index.ts') } },
  },
  preload: {
    // A sandboxed preload cannot be an ES module: build one self-contained CommonJS file.
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: resolve(here, 'src/preload/index.ts'),
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(here, 'src/renderer'),
    plugins: [react(), cspMetaPlugin()],
    worker: { format: 'es' },
    build: { rolldownOptions: { input: resolve(here, 'src/renderer/index.html') } },
  },
});
