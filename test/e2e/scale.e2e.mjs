// End-to-end test of the app at dataset scale (sample mode): a dataset of 20,000 samples for a small TorchScript
// model (test/fixtures/graph/mlp-layernorm-noT), generated here into a temporary folder and never committed, is
// opened in the web build with a memory budget for J smaller than J (`?jBudgetMB=1`; J is 1.9 MB). The data
// panel names the budget and sample mode; sample 17,000's J is computed when the slider moves there and its
// slice export matches the engine run in Node on the same data; the whole-J export is refused with the size;
// the global sensitivity is streamed over every sample and its ν matches a direct float64 loop over every J
// computed in Node.
// Run: node test/e2e/run.mjs (or build, then node --test test/e2e/scale.e2e.mjs)
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { serveStatic } from './server.mjs';
import {
  dropFiles,
  launchBrowser,
  npyBytes,
  openApp,
  outDir,
  parseCsv,
  parseNpy,
  relativeError,
  repoRoot,
  saveDownload,
  waitForResult,
  webDist,
  withApp,
} from './helpers.mjs';

const B = 20_000;
const SAMPLE = 17_000;
const modelPath = resolve(repoRoot, 'test/fixtures/graph/mlp-layernorm-noT/model.pt');
let server;
let browser;
let dir;

before(async () => {
  server = await serveStatic(webDist);
  browser = await launchBrowser();
  dir = await mkdtemp(join(tmpdir(), 'jacscope-scale-'));
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Deterministic values in [-1, 1) (a 32-bit LCG), so a failure can be reproduced. */
function values(n, seed) {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** The engine in Node on the same files (test/e2e/scale-reference.ts through tsx): J of one sample and ν. */
function reference(xPath, pPath, sample = SAMPLE) {
  return new Promise((resolvePromise, reject) => {
    const tsx = resolve(repoRoot, 'node_modules/.bin/tsx');
    const child = spawn(
      tsx,
      [resolve(repoRoot, 'test/e2e/scale-reference.ts'), modelPath, xPath, pPath, String(sample)],
      {
        cwd: repoRoot,
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolvePromise(JSON.parse(out)) : reject(new Error(`reference failed (${code}): ${err}`)),
    );
  });
}

test(
  '20,000 samples over the memory budget: sample views and streamed batch aggregates',
  { timeout: 180_000 },
  async () => {
    const t0 = Date.now();
    const x = { shape: [B, 10, 3], data: values(B * 30, 1) };
    const p = { shape: [B, 4], data: values(B * 4, 2).map((v) => 2 * v) };
    const xPath = join(dir, 'x.npy');
    const pPath = join(dir, 'p.npy');
    await writeFile(xPath, npyBytes(x.shape, x.data));
    await writeFile(pPath, npyBytes(p.shape, p.data));
    // The reference runs in a Node process beside the browser.
    const ref = reference(xPath, pPath);

    await withApp(openApp(browser, `${server.url}?jBudgetMB=1`), async ({ page }) => {
      const files = [
        { name: 'model.pt', bytes: await readFile(modelPath) },
        { name: 'x.npy', bytes: await readFile(xPath) },
        { name: 'p.npy', bytes: await readFile(pPath) },
      ];
      await dropFiles(page, files);
      await waitForResult(page, 2, 60_000);

      // The data panel names the size of the whole J, the budget and what sample mode means.
      const memory = page.getByTestId('j-memory');
      assert.equal(await memory.getAttribute('data-mode'), 'sample');
      const text = await memory.innerText();
      assert.match(text, /J for all 20,000 samples would need 1\.9 MB, over the memory budget of 1 MB/);
      assert.match(text, /computed per sample when shown/);
      assert.match(await page.getByTestId('j-shape').innerText(), /\[20000, 3, 4\]/);
      await page.getByTestId('data-panel').screenshot({ path: resolve(outDir, 'e2e-scale-data-panel.png') });

      // Sample 17,000: its J is computed when the slider gets there.
      await page.getByTestId('number-b').fill(String(SAMPLE));
      await page.waitForFunction(
        (b) => document.querySelector('[data-testid="sample-shown"]')?.textContent === `sample ${b}`,
        SAMPLE,
      );
      const slice = parseNpy(
        await readFile((await saveDownload(page, () => page.getByTestId('export-slice-npy').click())).path),
      );
      const r = await ref;
      assert.deepEqual(r.yShape, [B, 3]);
      const [O, P] = [3, 4];
      // The o × k slice, as rows of the horizontal axis (k) or of o: J[o,k] either way.
      const J = new Float64Array(O * P);
      assert.equal(slice.data.length, O * P);
      const byK = slice.shape[0] === P;
      for (let o = 0; o < O; o++)
        for (let k = 0; k < P; k++) J[o * P + k] = slice.data[byK ? k * O + o : o * P + k];
      assert.ok(relativeError(J, r.Jb) <= 1e-10, `J[${SAMPLE}]: ${relativeError(J, r.Jb)}`);

      // The whole J is refused up front, with its size.
      await page.getByTestId('export-full-npy').click();
      await page.getByText(/export: J for all 20,000 samples would need 1\.9 MB/).waitFor();

      // The global sensitivity streams over every sample.
      await page.getByTestId('tab-sensitivity').click();
      await page.waitForSelector('[data-testid="gsa-view"][data-ready="yes"][data-streamed="yes"]', {
        timeout: 120_000,
      });
      const nuCsv = await saveDownload(page, () => page.getByTestId('gsa-export-csv').click());
      const { rows } = parseCsv(await readFile(nuCsv.path, 'utf8'));
      const nu = rows.flatMap((row) => row.slice(2).map(Number));
      assert.ok(relativeError(nu, r.nu) <= 1e-10, `ν: ${relativeError(nu, r.nu)}`);
      await page.screenshot({ path: resolve(outDir, 'e2e-scale-sensitivity.png'), fullPage: true });
    });
    console.log(`scale e2e: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
);

test(
  'x opened lazily: rows read from disk as needed, views match the Node reference',
  { timeout: 90_000 },
  async () => {
    const t0 = Date.now();
    const n = 3000;
    const b = 2345;
    const x = { shape: [n, 10, 3], data: values(n * 30, 3) };
    const p = { shape: [n, 4], data: values(n * 4, 4).map((v) => 2 * v) };
    const xPath = join(dir, 'x-lazy.npy');
    const pPath = join(dir, 'p-lazy.npy');
    await writeFile(xPath, npyBytes(x.shape, x.data));
    await writeFile(pPath, npyBytes(p.shape, p.data));
    const ref = reference(xPath, pPath, b);

    // ?lazyMB=0: every .npy is opened by ranges (a File the worker reads a slice at a time), never read whole.
    await withApp(openApp(browser, `${server.url}?lazyMB=0`), async ({ page }) => {
      const files = [
        { name: 'model.pt', bytes: await readFile(modelPath) },
        { name: 'x-lazy.npy', bytes: await readFile(xPath) },
        { name: 'p-lazy.npy', bytes: await readFile(pPath) },
      ];
      await dropFiles(page, files);
      await waitForResult(page, 2, 60_000);
      const panel = await page.getByTestId('data-panel').innerText();
      assert.match(panel, /x-lazy\.npy: [\d.]+ kB, opened lazily: rows of x are read from disk as needed/);
      assert.equal(await page.getByTestId('j-memory').getAttribute('data-mode'), 'sample');
      await page
        .getByTestId('data-panel')
        .screenshot({ path: resolve(outDir, 'e2e-scale-lazy-data-panel.png') });

      await page.getByTestId('number-b').fill(String(b));
      await page.waitForFunction(
        (want) => document.querySelector('[data-testid="sample-shown"]')?.textContent === `sample ${want}`,
        b,
      );
      const slice = parseNpy(
        await readFile((await saveDownload(page, () => page.getByTestId('export-slice-npy').click())).path),
      );
      const r = await ref;
      const [O, P] = [3, 4];
      const J = new Float64Array(O * P);
      const byK = slice.shape[0] === P;
      for (let o = 0; o < O; o++)
        for (let k = 0; k < P; k++) J[o * P + k] = slice.data[byK ? k * O + o : o * P + k];
      assert.ok(relativeError(J, r.Jb) <= 1e-10, `J[${b}]: ${relativeError(J, r.Jb)}`);

      await page.getByTestId('tab-sensitivity').click();
      await page.waitForSelector('[data-testid="gsa-view"][data-ready="yes"][data-streamed="yes"]', {
        timeout: 60_000,
      });
      const nuCsv = await saveDownload(page, () => page.getByTestId('gsa-export-csv').click());
      const { rows } = parseCsv(await readFile(nuCsv.path, 'utf8'));
      const nu = rows.flatMap((row) => row.slice(2).map(Number));
      assert.ok(relativeError(nu, r.nu) <= 1e-10, `ν: ${relativeError(nu, r.nu)}`);
    });
    console.log(`scale e2e (lazy): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  },
);

test(
  'HDF5 opened lazily: x by hyperslabs from the dropped file, J of a sample as PyTorch computed it',
  { timeout: 90_000 },
  async () => {
    const deep = resolve(repoRoot, 'test/fixtures/fno/deep-fno1d');
    const Jref = parseNpy(await readFile(resolve(deep, 'jacobian_f64.npy')));
    const [, T, O, P] = Jref.shape;
    const b = 1;
    const k = 2;
    // ?lazyMB=0: the .h5 is opened by the HDF5 library over synchronous slices of the File, never read whole.
    await withApp(openApp(browser, `${server.url}?lazyMB=0`), async ({ page }) => {
      await dropFiles(page, [
        { name: 'model.pt', bytes: await readFile(resolve(deep, 'model.pt')) },
        { name: 'config.json', bytes: await readFile(resolve(deep, 'config.json')) },
        { name: 'deep.h5', bytes: await readFile(resolve(repoRoot, 'test/fixtures/data/deep.h5')) },
      ]);
      await waitForResult(page, 2, 60_000);
      const panel = await page.getByTestId('data-panel').innerText();
      assert.match(panel, /deep\.h5: HDF5; x = '\/x', p = '\/p'/);
      assert.match(panel, /deep\.h5: [\d.]+ kB, opened lazily: rows of x are read from disk as needed/);
      await page.getByTestId('number-b').fill(String(b));
      await page.waitForFunction(
        (want) => document.querySelector('[data-testid="sample-shown"]')?.textContent === `sample ${want}`,
        b,
      );
      await page.getByTestId('slider-k').fill(String(k));
      // The default slice: t × o at the chosen k.
      const slice = parseNpy(
        await readFile((await saveDownload(page, () => page.getByTestId('export-slice-npy').click())).path),
      );
      const want = new Float64Array(T * O);
      const byT = slice.shape[0] === T;
      for (let t = 0; t < T; t++)
        for (let o = 0; o < O; o++)
          want[byT ? t * O + o : o * T + t] = Jref.data[((b * T + t) * O + o) * P + k];
      assert.ok(relativeError(slice.data, want) <= 1e-9, `J[${b}]: ${relativeError(slice.data, want)}`);
    });
  },
);
