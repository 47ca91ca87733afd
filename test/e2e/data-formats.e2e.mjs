// End-to-end tests of data as scientists keep it, in the web build: a multi-variable HDF5 file (written here by
// jacscope's own HDF5 writer) opens the variable picker, a tree with shapes and dtypes; x and p chosen there
// give the deep fixture's PyTorch float64 J (≤ 1e-10); reopening a file of that name skips the picker (the
// choice is remembered); MATLAB v7.3 and torch.save tensors load; a broken file is one message and the result
// stays; J exported as .h5 reads back. The picker's screenshot goes to docs/data-picker.png.
// Run: node test/e2e/run.mjs
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { serveStatic } from './server.mjs';
import {
  deepFile,
  dropFiles,
  launchBrowser,
  openApp,
  outDir,
  parseNpy,
  relativeError,
  repoRoot,
  updateDocsPicture,
  saveDownload,
  waitForResult,
  waitIdle,
  webDist,
  withApp,
} from './helpers.mjs';

const dataDir = resolve(repoRoot, 'test/fixtures/data');
let server;
let browser;
/** jacscope's HDF5 reader and writer, bundled for Node from src/engine/io (the same code the app runs). */
let io;

before(async () => {
  const out = resolve(outDir, 'e2e-engine-io.mjs');
  await build({
    stdin: {
      contents: [
        "export { loadHdf5 } from './src/engine/io/hdf5';",
        "export { writeHdf5 } from './src/engine/io/hdf5-write';",
        "export { openDataSourceAsync } from './src/engine/io/variables';",
      ].join('\n'),
      resolveDir: repoRoot,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: out,
    logLevel: 'warning',
  });
  io = await import(pathToFileURL(out).href);
  await io.loadHdf5();
  server = await serveStatic(webDist);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function dataFile(name) {
  return { name, bytes: await readFile(resolve(dataDir, name)) };
}

/** x and p of the deep fixture under names that say nothing, beside two arrays that are neither. */
async function multiVariableH5(name) {
  const x = parseNpy(await readFile(resolve(repoRoot, 'test/fixtures/fno/deep-fno1d/x.npy')));
  const p = parseNpy(await readFile(resolve(repoRoot, 'test/fixtures/fno/deep-fno1d/p.npy')));
  const y = parseNpy(await readFile(resolve(repoRoot, 'test/fixtures/fno/deep-fno1d/y_f64.npy')));
  const t = (shape, data) => ({ dtype: 'float64', shape, data });
  const bytes = io.writeHdf5([
    { name: 'run/forcing', tensor: t(x.shape, x.data), axes: ['B', 'T', 'Xf'] },
    { name: 'run/params', tensor: t(p.shape, p.data), axes: ['B', 'P'] },
    { name: 'run/target', tensor: t(y.shape, y.data), axes: ['B', 'T', 'O'] },
    {
      name: 'grid',
      tensor: t(
        [256],
        Float64Array.from({ length: 256 }, (_, i) => i / 256),
      ),
    },
  ]);
  return { name, bytes };
}

/** The whole J exported as .npy against the deep fixture's PyTorch float64 reference. */
async function checkJ(page, label) {
  const saved = await saveDownload(page, () => page.getByTestId('export-full-npy').click());
  const J = parseNpy(await readFile(saved.path));
  const want = parseNpy(await readFile(resolve(repoRoot, 'test/fixtures/fno/deep-fno1d/jacobian_f64.npy')));
  assert.deepEqual(J.shape, want.shape);
  const e = relativeError(J.data, want.data);
  console.log(`# ${label}: J ${J.shape} relative error ${e.toExponential(2)}`);
  assert.ok(e <= 1e-10, `${label}: J relative error ${e}`);
  return J;
}

/** Records whether the picker shows at any moment from now on (window.__pickerSeen). */
async function watchPicker(page) {
  await page.evaluate(() => {
    window.__pickerSeen = false;
    const seen = () => {
      if (document.querySelector('[data-testid="data-picker"]')) window.__pickerSeen = true;
    };
    new MutationObserver(seen).observe(document.body, { childList: true, subtree: true });
    seen();
  });
}

const model = () => Promise.all([deepFile('model.pt'), deepFile('config.json')]);

describe('data formats in the web app', () => {
  test('a multi-variable HDF5 file: the picker tree, x and p chosen, J; reopened without the picker', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const multi = await multiVariableH5('runs.h5');
      await dropFiles(page, [...(await model()), multi]);
      const picker = page.getByTestId('data-picker');
      await picker.waitFor();
      await waitIdle(page);
      assert.match(
        await page.getByTestId('picker-format').textContent(),
        /^HDF5 · runs\.h5 holds 4 numeric arrays/,
      );
      // The tree: groups before their members, with shapes and dtypes.
      const rows = await page.locator('[data-testid="picker-tree"] tbody tr').evaluateAll((trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll('td')]
            .map((td) => td.textContent.trim())
            .filter(Boolean)
            .join(' | '),
        ),
      );
      assert.deepEqual(rows, [
        'grid | [256] | float64',
        'run/',
        'forcing | [2, 256, 5] | float64',
        'params | [2, 6] | float64',
        'target | [2, 256, 3] | float64',
        'none: from another file',
      ]);
      // The guess by shape is preselected; choose explicitly all the same.
      await page.getByTestId('pick-x:/run/forcing').check();
      await page.getByTestId('pick-p:/run/params').check();
      assert.equal(await page.getByTestId('pick-load').isEnabled(), true);
      await page.mouse.move(5, 5); // no row hovered in the picture
      await picker.screenshot({ path: resolve(outDir, 'e2e-data-picker.png') });
      await updateDocsPicture('e2e-data-picker.png', 'data-picker.png');
      // The same variable as x and p is refused until changed.
      await page.getByTestId('pick-p:/run/forcing').check();
      assert.equal(await page.getByTestId('pick-load').isEnabled(), false);
      await page.getByTestId('pick-p:/run/params').check();
      await page.getByTestId('pick-load').click();
      await waitForResult(page, 2);
      assert.equal(await picker.count(), 0);
      assert.equal(await page.getByTestId('j-shape').textContent(), '[2, 256, 3, 6]');
      const notes = await page.getByTestId('data-panel').textContent();
      assert.match(
        notes,
        /runs\.h5: HDF5; x = '\/run\/forcing', p = '\/run\/params' \(chosen in the picker\)/,
      );
      const J = await checkJ(page, 'runs.h5 (picked)');

      // J as HDF5 from the toolbar: one dataset, read back with jacscope's reader, the same numbers.
      await page.getByTestId('export-arrays').click();
      const h5 = await saveDownload(page, () => page.getByTestId('export-full-h5').click());
      assert.equal(h5.name, 'J.h5');
      const src = await io.openDataSourceAsync(new Uint8Array(await readFile(h5.path)), h5.name);
      assert.deepEqual(
        src.variables().map((v) => [v.name, v.shape]),
        [['/J', [2, 256, 3, 6]]],
      );
      assert.deepEqual(Array.from(src.read('/J').data), Array.from(J.data));
      src.close();

      // The choice is remembered per file name: the same name again loads without the picker.
      await watchPicker(page);
      await dropFiles(page, [await multiVariableH5('runs.h5')]);
      await waitForResult(page, 3);
      assert.equal(await page.evaluate(() => window.__pickerSeen), false, 'the picker showed again');
      await checkJ(page, 'runs.h5 (remembered)');

      // Leaving the file out: nothing changes, and the app says so.
      await dropFiles(page, [await multiVariableH5('other.h5')]);
      await picker.waitFor();
      await page.getByTestId('pick-cancel').click();
      await waitIdle(page);
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '3');
      assert.match(
        await page.getByTestId('message-list').textContent(),
        /other\.h5: not loaded \(no x or p chosen\)/,
      );
    });
  });

  test('MATLAB v7.3 and torch.save tensors load; a .pt list asks; a broken HDF5 file leaves the result', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      await dropFiles(page, [...(await model()), await dataFile('deep-v73.mat')]);
      await waitForResult(page, 2);
      assert.match(
        await page.getByTestId('data-panel').textContent(),
        /deep-v73\.mat: MATLAB v7\.3 \.mat \(HDF5\); x = 'x', p = 'p'/,
      );
      await checkJ(page, 'deep-v73.mat');

      // A .pt of tensors is data (the model .pt stays the model), and the app says which it recognised.
      await dropFiles(page, [await dataFile('deep-dict.pt')]);
      await waitForResult(page, 3);
      assert.equal(await page.getByTestId('model-file').textContent(), 'model.pt');
      assert.match(
        await page.getByTestId('data-panel').textContent(),
        /deep-dict\.pt: torch\.save tensors \(a dict of 2 entries\), read as data, not a model/,
      );
      await checkJ(page, 'deep-dict.pt');

      // A list [x, p] has no names to go by: the picker, with the guess by shape.
      await dropFiles(page, [await dataFile('deep-list.pt')]);
      await page.getByTestId('data-picker').waitFor();
      assert.match(await page.getByTestId('picker-format').textContent(), /^torch\.save data/);
      assert.equal(await page.getByTestId('pick-x:0').isChecked(), true);
      assert.equal(await page.getByTestId('pick-p:1').isChecked(), true);
      await page.getByTestId('pick-load').click();
      await waitForResult(page, 4);
      await checkJ(page, 'deep-list.pt');

      // A truncated HDF5 file: one error naming it; the result stays.
      const chunked = await dataFile('deep-chunked.h5');
      await dropFiles(page, [{ name: 'broken.h5', bytes: chunked.bytes.subarray(0, 20000) }]);
      const errorLines = page.locator('[data-testid="message-list"] [data-testid="message-error"]');
      await errorLines.first().waitFor();
      await waitIdle(page);
      const errors = await errorLines.allTextContents();
      assert.equal(errors.length, 1, errors.join('\n'));
      assert.match(errors[0], /broken\.h5: /);
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '4');
    });
  });
});
