import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules',
      'out',
      'dist',
      'dist-web',
      'test-output',
      // device-machine bundles (bench/device-pack.sh), git-ignored locally
      '.dev',
      '.gl',
      'src/engine/kernels/wasm/**',
      '**/*.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser, ...globals.worker } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  ...engineLayers(),
);

/**
 * Imports the engine forbids: anything outside itself everywhere, and per folder what lies above it.
 * Layers, bottom up; each may import those below it, never those above:
 *   errors.ts, tensor.ts
 *   kernels (GEMM), io (file readers and the open budget)
 *   dft, ad → ops → graph → torchscript (reads TorchScript archives with io, runs them on graph) → models
 *   analysis, backends
 * So nothing below backends imports a backend, readers never import models, kernels import nothing of
 * the engine but errors.ts and tensor.ts, and no layer imports the engine index (which re-exports all).
 */
function engineLayers() {
  const OUTSIDE = {
    group: [
      'node:*',
      'fs',
      'path',
      'os',
      'electron',
      'react',
      '../../main/*',
      '../../renderer/*',
      '../../cli/*',
    ],
    message: 'the engine runs in Node, workers and the renderer alike: it imports nothing outside itself',
  };
  const INDEX = ['..', '../index', '../..', '../../index'].map((name) => ({
    name,
    message: 'import the module itself: the engine index re-exports every layer, backends included',
  }));
  const rule = (patterns, paths = []) => ({ 'no-restricted-imports': ['error', { paths, patterns }] });
  /** Files in src/engine/<folder> may not import the sibling folders `above`. */
  const layer = (folder, above) => ({
    files: [`src/engine/${folder}/**/*.ts`],
    rules: rule(
      [
        OUTSIDE,
        {
          group: above.flatMap((n) => [`../${n}`, `../${n}/*`, `../../${n}`, `../../${n}/*`]),
          message: `${folder} may not import ${above.join(', ')}: the engine's layers depend one way (see eslint.config.js); move what both need down a layer`,
        },
      ],
      INDEX,
    ),
  });
  return [
    { files: ['src/engine/**/*.ts'], rules: rule([OUTSIDE]) },
    {
      files: ['src/engine/errors.ts', 'src/engine/tensor.ts'],
      rules: rule(
        [OUTSIDE, { group: ['./*/*'], message: 'errors.ts and tensor.ts are the bottom layer' }],
        ['.', './index'].map((name) => ({ name, message: 'errors.ts and tensor.ts are the bottom layer' })),
      ),
    },
    layer('kernels', ['io', 'dft', 'ad', 'ops', 'graph', 'models', 'torchscript', 'analysis', 'backends']),
    layer('io', ['kernels', 'dft', 'ad', 'ops', 'graph', 'models', 'torchscript', 'analysis', 'backends']),
    layer('dft', ['io', 'ad', 'ops', 'graph', 'models', 'torchscript', 'analysis', 'backends']),
    layer('ad', ['io', 'dft', 'ops', 'graph', 'models', 'torchscript', 'analysis', 'backends']),
    layer('ops', ['io', 'graph', 'models', 'torchscript', 'analysis', 'backends']),
    layer('graph', ['io', 'models', 'torchscript', 'analysis', 'backends']),
    layer('models', ['analysis', 'backends']),
    layer('torchscript', ['models', 'analysis', 'backends']),
  ];
}
