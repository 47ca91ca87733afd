// End-to-end test of the WebGPU backend in the web build: Debian Chromium with WebGPU on (SwiftShader when there
// is no GPU), the backend chosen in the model panel, the seed fixture's J against the PyTorch float64 reference
// on WebGPU (float32) and again on the CPU (float64), and a TorchScript model on WebGPU the same way. Skips,
// saying so, where Chromium offers no adapter.
// Run: node test/e2e/run.mjs   (or: node --test test/e2e/webgpu.e2e.mjs after a web build)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { serveStatic } from './server.mjs';
import {
  withApp,
  repeatedSeedBatch,
  CHROMIUM,
  CHROMIUM_ARGS,
  dropFiles,
  launchBrowser,
  openApp,
  outDir,
  parseCsv,
  parseNpy,
  relativeError,
  repoRoot,
  saveDownload,
  seedDir,
  seedFile,
  waitForResult,
  waitIdle,
  webDist,
} from './helpers.mjs';

/** The other tests' flags, with the GPU process on and WebGPU enabled. */
const WEBGPU_ARGS = [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), '--enable-unsafe-webgpu'];

let server;
let browser;

before(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  await mkdir(outDir, { recursive: true });
  server = await serveStatic(webDist);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: WEBGPU_ARGS });
});

after(async () => {
  await browser?.close();
  await server?.close();
});

/** Exports the visible [T,O] slice at k as CSV and returns max|err|/max|ref| against jacobian_f64.npy. */
async function sliceError(page, k) {
  await page.getByTestId('select-k').selectOption(String(k));
  const { name, path } = await saveDownload(page, () => page.getByTestId('export-slice-csv').click());
  assert.match(name, new RegExp(`^J_k${k}-.*_t-by-o\\.csv$`));
  const { rows } = parseCsv(await readFile(path, 'utf8'));
  const ref = parseNpy(await readFile(resolve(seedDir, 'jacobian_f64.npy')));
  const [, T, O, P] = ref.shape;
  assert.equal(rows.length, T);
  let maxRef = 0;
  let maxErr = 0;
  for (let t = 0; t < T; t++)
    for (let o = 0; o < O; o++) {
      const want = ref.data[(t * O + o) * P + k];
      const got = Number(rows[t][1 + o]);
      assert.ok(Number.isFinite(got), `cell t=${t} o=${o} is a number`);
      maxRef = Math.max(maxRef, Math.abs(want));
      maxErr = Math.max(maxErr, Math.abs(got - want));
    }
  return { maxErr, rel: maxErr / maxRef };
}

/** The page's WebGPU adapter in words, or null where it has none. */
function pageAdapter(page) {
  return page.evaluate(async () => {
    if (!navigator.gpu) return null;
    const a = await navigator.gpu.requestAdapter();
    if (!a) return null;
    const i = a.info ?? {};
    return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unnamed';
  });
}

describe('jacscope web build on WebGPU', () => {
  test('WebGPU chosen in the model panel computes the seed J to 1e-5; the CPU to 1e-10', async (t) => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const adapter = await pageAdapter(page);
      if (!adapter) {
        console.log('# NOT RUN: no WebGPU adapter in this Chromium');
        t.skip('NOT RUN: no WebGPU adapter in this Chromium');
        return;
      }
      console.log(`# adapter in the page: ${adapter}`);
      // auto skips a software adapter and says why.
      if (/swiftshader|llvmpipe|warp/i.test(adapter)) {
        assert.equal(await page.getByTestId('backend').getAttribute('data-kind'), 'cpu');
        assert.match(await page.getByTestId('backend-note').textContent(), /software renderer/);
        await page.screenshot({ path: resolve(outDir, 'e2e-webgpu-auto.png'), fullPage: true });
      }

      await page.getByTestId('backend-choice').selectOption('webgpu');
      await waitForResult(page, 2, 180_000);
      const onGpu = page.getByTestId('backend');
      assert.equal(await onGpu.getAttribute('data-kind'), 'webgpu');
      const gpuName = await onGpu.textContent();
      assert.match(gpuName, /^WebGPU: \S/);
      console.log(`# model panel: computed on ${gpuName}`);

      await dropFiles(page, [await seedFile('model.pt'), await seedFile('x.npy'), await seedFile('p.npy')]);
      await waitForResult(page, 3, 180_000);
      assert.equal(await page.getByTestId('model-file').textContent(), 'model.pt');
      assert.equal(await onGpu.getAttribute('data-kind'), 'webgpu');
      assert.equal(await onGpu.textContent(), gpuName);
      const gpuTime = await page.getByTestId('compute-time').textContent();
      const k = 5;
      const gpu = await sliceError(page, k);
      console.log(
        `# WebGPU (${gpuTime}): slice k=${k} max |err| ${gpu.maxErr.toExponential(2)}, relative ${gpu.rel.toExponential(2)}`,
      );
      assert.ok(gpu.rel <= 1e-5, `WebGPU relative error ${gpu.rel} ≤ 1e-5`);
      // J is kept as computed (float32), the data panel says so, and hover prints float32 digits.
      assert.match(await page.getByTestId('data-panel').textContent(), /\[1, 601, 15, 14\] float32/);
      const canvas = page.getByTestId('heatmap-canvas');
      const box = await canvas.boundingBox();
      await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.3);
      const readout = page.getByTestId('hover-readout');
      await page.waitForFunction(() =>
        /J = /.test(document.querySelector('[data-testid="hover-readout"]')?.textContent ?? ''),
      );
      const shown = (await readout.textContent()).match(/J = (\S+)/)[1];
      const v = Number(shown);
      console.log(`# WebGPU hover: J = ${shown}`);
      const digits = shown.replace(/e.*$|[-.]/g, '').replace(/^0+/, '').length;
      assert.ok(digits <= 9, `${shown}: at most 9 significant digits`);
      // It is the float32 value, rounded to those digits (not its float64 expansion).
      assert.equal(Number(Math.fround(v).toPrecision(digits)), v, `${shown} is a float32 in its own digits`);
      await page.screenshot({ path: resolve(outDir, 'e2e-webgpu.png'), fullPage: true });
      // "Check derivatives" on the WebGPU J: float32 against float64 differences, held to 1e-4.
      await page.getByTestId('tab-check').click();
      await page.getByTestId('check-run').click();
      const verdict = page.getByTestId('check-verdict');
      await verdict.waitFor({ timeout: 60_000 });
      const checkErr = Number(await page.getByTestId('check-max-rel').getAttribute('data-value'));
      console.log(
        `# check derivatives on the WebGPU J: ${(await verdict.textContent()).replace(/\s+/g, ' ').trim()}`,
      );
      assert.ok(checkErr > 1e-9 && checkErr <= 1e-4, `float32 J against differences: ${checkErr}`);
      assert.equal(await verdict.getAttribute('data-ok'), 'yes');
      assert.match(await page.getByTestId('check-view').textContent(), /computed in float32 on WebGPU/);
      await page.getByTestId('tab-jacobian').click();

      // Progress and cancel on WebGPU: a 160-sample batch (the batch-of-4 inputs repeated), cancelled midway.
      const { B, x, p } = await repeatedSeedBatch(40, 'big');
      await dropFiles(page, [x, p]);
      await page.waitForFunction(
        (total) =>
          new RegExp(`[1-9]\\d*/${total} samples`).test(
            document.querySelector('[data-testid="job"]')?.textContent ?? '',
          ),
        B,
        { timeout: 60_000 },
      );
      console.log(`# WebGPU progress: ${await page.getByTestId('job').textContent()}`);
      await page.getByTestId('cancel').click();
      await waitIdle(page);
      await page
        .getByText(/computation cancelled/)
        .first()
        .waitFor();
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '3');
      assert.equal(await onGpu.getAttribute('data-kind'), 'webgpu');

      await page.getByTestId('backend-choice').selectOption('cpu');
      await waitForResult(page, 4, 180_000);
      assert.equal(await onGpu.getAttribute('data-kind'), 'cpu');
      assert.match(await onGpu.textContent(), /^CPU \(.*float64(, \d+ threads)?\)$/);
      const cpuTime = await page.getByTestId('compute-time').textContent();
      const cpu = await sliceError(page, k);
      console.log(
        `# CPU (${cpuTime}): slice k=${k} max |err| ${cpu.maxErr.toExponential(2)}, relative ${cpu.rel.toExponential(2)}`,
      );
      assert.ok(cpu.rel <= 1e-10, `CPU relative error ${cpu.rel} ≤ 1e-10`);
      assert.equal(await page.getByTestId('backend-error').count(), 0);
      await page.screenshot({ path: resolve(outDir, 'e2e-webgpu-cpu.png'), fullPage: true });
    });
  });

  test('a TorchScript model: auto skips a software adapter, WebGPU chosen computes its J to 1e-5', async (t) => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const adapter = await pageAdapter(page);
      if (!adapter) {
        console.log('# NOT RUN: no WebGPU adapter in this Chromium');
        t.skip('NOT RUN: no WebGPU adapter in this Chromium');
        return;
      }
      const dir = resolve(repoRoot, 'test/fixtures/graph/film-mlp');
      const files = await Promise.all(
        ['model.pt', 'x.npy', 'p.npy'].map(async (name) => ({
          name,
          bytes: await readFile(resolve(dir, name)),
        })),
      );
      await dropFiles(page, files);
      await waitForResult(page, 2, 180_000);
      const onGpu = page.getByTestId('backend');
      if (/swiftshader|llvmpipe|warp/i.test(adapter)) {
        assert.equal(await onGpu.getAttribute('data-kind'), 'cpu');
        assert.match(await page.getByTestId('backend-note').textContent(), /software renderer/);
      }
      await page.getByTestId('backend-choice').selectOption('webgpu');
      await waitForResult(page, 3, 180_000);
      assert.equal(await onGpu.getAttribute('data-kind'), 'webgpu');
      assert.match(await onGpu.textContent(), /^WebGPU: \S/);
      assert.equal(await page.getByTestId('backend-note').count(), 0);
      const J = parseNpy(
        await readFile((await saveDownload(page, () => page.getByTestId('export-full-npy').click())).path),
      );
      const want = parseNpy(await readFile(resolve(dir, 'J_f64.npy')));
      assert.deepEqual(J.shape, want.shape);
      const e = relativeError(J.data, want.data);
      console.log(`# film-mlp on ${await onGpu.textContent()}: J relative error ${e.toExponential(2)}`);
      assert.ok(e <= 1e-5, `WebGPU relative error ${e} ≤ 1e-5`);
      await page.screenshot({ path: resolve(outDir, 'e2e-webgpu-graph.png'), fullPage: true });
    });
  });

  test('WebGPU forced where Chromium has none: the reason is shown and the previous result stays', async () => {
    // The other tests' browser (GPU off): navigator.gpu offers no adapter there.
    const plain = await launchBrowser();
    try {
      await withApp(openApp(plain, server.url), async ({ page }) => {
        const time = await page.getByTestId('compute-time').textContent();
        await page.getByTestId('backend-choice').selectOption('webgpu');
        const err = page.getByTestId('backend-error');
        await err.waitFor({ timeout: 60_000 });
        await waitIdle(page);
        const text = await err.textContent();
        console.log(`# forced WebGPU without an adapter: ${text}`);
        assert.match(text, /WebGPU .*could not be used: WebGPU is .*choose auto or CPU/);
        assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '1');
        assert.equal(await page.getByTestId('backend').getAttribute('data-kind'), 'cpu');
        assert.equal(await page.getByTestId('compute-time').textContent(), time);
        assert.ok((await page.getByTestId('heatmap-canvas').count()) === 1, 'the heatmap is still there');
        await page.screenshot({ path: resolve(outDir, 'e2e-webgpu-forced-none.png'), fullPage: true });
        await page.getByTestId('backend-choice').selectOption('cpu');
        await waitForResult(page, 2);
        assert.equal(await err.count(), 0);
      });
    } finally {
      await plain.close();
    }
  });
});
