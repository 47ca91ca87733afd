// End-to-end tests of graph models (TorchScript archives run from their own code) in the web build: the
// committed graph fixtures dropped on the window, y and J exported through the UI against PyTorch's float64
// references (≤ 1e-10), the model panel (traced/scripted, signature with shapes, p, ops, parameters), a model
// without a time axis, a model that takes p alone, what-if and check derivatives, the choice of p and backend.
// Run: node test/e2e/run.mjs
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveStatic } from './server.mjs';
import {
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

const graphDir = resolve(repoRoot, 'test/fixtures/graph');
let server;
let browser;

before(async () => {
  server = await serveStatic(webDist);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function graphFile(fixture, name) {
  return { name, bytes: await readFile(resolve(graphDir, fixture, name)) };
}

async function reference(fixture, name) {
  return parseNpy(await readFile(resolve(graphDir, fixture, name)));
}

/** Opens the app (the demo is result 1) and drops a graph fixture's files: result 2. */
async function openWith(fixture, names = ['model.pt', 'x.npy', 'p.npy'], opts = {}) {
  const app = await openApp(browser, server.url, opts);
  await dropFiles(app.page, await Promise.all(names.map((n) => graphFile(fixture, n))));
  await waitForResult(app.page, 2);
  return app;
}

/** The whole J (toolbar) and the batch's y (data menu) as .npy, against the fixture's float64 references. */
async function checkExports(page, fixture) {
  const J = parseNpy(
    await readFile((await saveDownload(page, () => page.getByTestId('export-full-npy').click())).path),
  );
  const wantJ = await reference(fixture, 'J_f64.npy');
  assert.deepEqual(J.shape, wantJ.shape);
  const eJ = relativeError(J.data, wantJ.data);
  await page.getByTestId('export-data').click();
  const y = parseNpy(
    await readFile((await saveDownload(page, () => page.getByTestId('export-y-all-npy').click())).path),
  );
  const wantY = await reference(fixture, 'y_f64.npy');
  assert.deepEqual(y.shape, wantY.shape);
  const eY = relativeError(y.data, wantY.data);
  console.log(`# ${fixture}: J ${J.shape} relative error ${eJ.toExponential(2)}, y ${eY.toExponential(2)}`);
  assert.ok(eJ <= 1e-10, `J relative error ${eJ}`);
  assert.ok(eY <= 1e-10, `y relative error ${eY}`);
}

/** Runs a sweep of p_k over [lo, lo + 1] with n points on sample 0 and waits for it. */
async function sweepFrom(page, k, lo, n) {
  await page.getByTestId('tab-sweep').click();
  await page.getByTestId('sweep-k').selectOption(String(k));
  for (const [id, v] of [
    ['sweep-lo', lo],
    ['sweep-hi', lo + 1],
    ['sweep-n', n],
  ]) {
    await page.getByTestId(id).fill(String(v));
    await page.getByTestId(id).press('Enter');
  }
  await page.getByTestId('sweep-run').click();
  await page.waitForSelector('[data-testid="sweep-view"][data-status="done"]', { timeout: 60_000 });
}

async function runCheck(page) {
  await page.getByTestId('tab-check').click();
  await page.getByTestId('check-run').click();
  await page.getByTestId('check-verdict').waitFor({ timeout: 60_000 });
  return Number(await page.getByTestId('check-max-rel').getAttribute('data-value'));
}

describe('graph models (web build)', () => {
  test('1. a scripted model with a time axis: model panel, y and J exported match PyTorch to 1e-10', async () => {
    await withApp(openWith('fno1d-li-grid'), async ({ page }) => {
      const info = page.getByTestId('graph-info');
      assert.equal(await info.getAttribute('data-kind'), 'scripted');
      assert.match(await page.getByTestId('graph-kind').textContent(), /scripted/);
      const sig = await page.getByTestId('graph-signature').textContent();
      assert.match(sig, /x\s*Tensor\s*\[2, 24, 2\]\s*← x/);
      assert.match(sig, /p\s*Tensor\s*\[2, 3\]\s*← p/);
      assert.equal(await page.getByTestId('graph-y-shape').textContent(), '[2, 24, 2]');
      assert.equal(await page.getByTestId('graph-wrt').getAttribute('data-wrt'), 'p');
      assert.match(await page.getByTestId('graph-ops').textContent(), /ops: \d+ kinds/);
      assert.match(await page.getByTestId('param-count').textContent(), /in \d+ tensors \(/);
      assert.equal(await page.getByTestId('j-shape').textContent(), '[2, 24, 2, 3]');
      // No WebGPU adapter in this browser (GPU off): auto computes on the CPU and has nothing to say about it.
      assert.match(await page.getByTestId('backend').textContent(), /CPU \(graph engine, float64\)/);
      assert.equal(await page.getByTestId('backend-note').count(), 0);
      // The time views as for fno1d-scalar: t across, o down, the line plot drawn.
      assert.equal(await page.getByTestId('axis-x').inputValue(), 't');
      await page.getByTestId('plot-canvas').waitFor();
      await checkExports(page, 'fno1d-li-grid');

      // A sweep of p1 from its loaded value: its first point is the loaded sample's J.
      const p = await reference('fno1d-li-grid', 'p.npy');
      const wantJ = await reference('fno1d-li-grid', 'J_f64.npy');
      await sweepFrom(page, 1, p.data[1], 5);
      const sweepJ = parseNpy(
        await readFile((await saveDownload(page, () => page.getByTestId('sweep-export-all-J').click())).path),
      );
      assert.deepEqual(sweepJ.shape, [5, 24, 2, 3]);
      const n0 = 24 * 2 * 3;
      assert.ok(relativeError(sweepJ.data.subarray(0, n0), wantJ.data.subarray(0, n0)) <= 1e-10);
      await page.getByTestId('tab-jacobian').click();

      // WebGPU chosen where there is none: the panel says why, and the CPU's result stays.
      await page.getByTestId('backend-choice').selectOption('webgpu');
      const err = page.getByTestId('backend-error');
      await err.waitFor({ timeout: 60_000 });
      await waitIdle(page);
      assert.match(await err.textContent(), /WebGPU .*could not be used: WebGPU is .*choose auto or CPU/);
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '2');
      assert.equal(await page.getByTestId('backend').getAttribute('data-kind'), 'cpu');
    });
  });

  test('2. a traced model returning a tuple: the panel picture, and the choice of p', async () => {
    // Twice the pixels: the model panel's picture goes into the docs.
    const files = ['model.pt', 'x.npy', 'p.npy'];
    await withApp(openWith('attention', files, { deviceScaleFactor: 2 }), async ({ page }) => {
      assert.equal(await page.getByTestId('graph-info').getAttribute('data-kind'), 'traced');
      assert.match(await page.getByTestId('graph-signature').textContent(), /Tuple\[Tensor, Tensor\]/);
      await checkExports(page, 'attention');
      const panel = page.getByTestId('model-panel');
      await panel.screenshot({ path: resolve(outDir, 'e2e-graph-model-panel.png') });
      await updateDocsPicture('e2e-graph-model-panel.png', 'graph-model.png');

      // p = x: the p data would go to x and x to p, which this model cannot run; the result and p stay.
      const wrt = page.getByTestId('graph-wrt');
      assert.deepEqual(await wrt.locator('option').allTextContents(), ['x', 'p']);
      await wrt.selectOption('x');
      await waitIdle(page);
      await page
        .getByText(/computing J failed/)
        .first()
        .waitFor();
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '2');
      assert.equal(await wrt.inputValue(), 'p');
    });
  });

  test('3. y [B,O] without a time axis: an O × P heatmap, the time views say so, the check passes', async () => {
    await withApp(openWith('mlp-layernorm-noT'), async ({ page }) => {
      assert.equal(await page.getByTestId('j-shape').textContent(), '[3, 3, 4]');
      assert.equal(await page.getByTestId('y-shape').textContent(), '[3, 3]');
      assert.match(await page.getByTestId('graph-no-time').textContent(), /no time axis/);
      assert.equal(await page.getByTestId('axis-x').inputValue(), 'k');
      assert.equal(await page.getByTestId('axis-y').inputValue(), 'o');
      assert.equal(await page.locator('[data-testid="axis-x"] option[value="t"]').count(), 0);
      assert.match(await page.getByTestId('plot-no-time').textContent(), /output has no time axis/);
      assert.equal(await page.getByTestId('export-plot-png').isDisabled(), true);
      await page.screenshot({ path: resolve(outDir, 'e2e-graph-3-noT-jacobian.png'), fullPage: true });
      await checkExports(page, 'mlp-layernorm-noT');
      // The visible O × P slice as CSV: rows k, one column per output.
      const slice = await saveDownload(page, () => page.getByTestId('export-slice-csv').click());
      assert.equal(slice.name, 'J_b0_k-by-o.csv');
      const rows = (await readFile(slice.path, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => l.split(','));
      assert.deepEqual(rows[0], ['k (parameter)', 'name', 'y0', 'y1', 'y2']);
      assert.equal(rows.length, 1 + 4);
      const want = await reference('mlp-layernorm-noT', 'J_f64.npy');
      const got = new Float64Array(3 * 4);
      for (let k = 0; k < 4; k++) for (let o = 0; o < 3; o++) got[o * 4 + k] = Number(rows[1 + k][2 + o]);
      assert.ok(relativeError(got, want.data.subarray(0, 12)) <= 1e-10);

      // A sweep: one row per picture, and the all-points export in the model's shape [N,O,P].
      await sweepFrom(page, 2, -1, 4);
      assert.match(await page.getByTestId('sweep-no-time').textContent(), /no time axis/);
      await page.getByTestId('sweep-J-canvas').waitFor();
      const all = parseNpy(
        await readFile((await saveDownload(page, () => page.getByTestId('sweep-export-all-J').click())).path),
      );
      assert.deepEqual(all.shape, [4, 3, 4]);

      // Global sensitivity over the batch: the matrix, no ν over time.
      await page.getByTestId('tab-sensitivity').click();
      await page.getByTestId('gsa-matrix-canvas').waitFor();
      assert.match(await page.getByTestId('gsa-no-time').textContent(), /no time axis/);
      const err = await runCheck(page);
      console.log(`# check derivatives on mlp-layernorm-noT: ${err.toExponential(2)}`);
      assert.ok(err <= 1e-6, `largest relative error ${err}`);
      await page.screenshot({ path: resolve(outDir, 'e2e-graph-3-noT.png'), fullPage: true });
    });
  });

  test('4. a model that takes p alone: p only, what-if against the formula, check at the what-if point', async () => {
    await withApp(openWith('analytic-ishigami', ['model.pt', 'p.npy']), async ({ page }) => {
      assert.match(await page.getByTestId('no-x').textContent(), /forward takes p alone/);
      assert.match(await page.getByTestId('graph-wrt').textContent(), /only tensor argument/);
      await checkExports(page, 'analytic-ishigami');

      // What-if: p of sample 0 set exactly; y of the sample exported, against Ishigami's formula.
      for (const [k, v] of [
        [0, '0.5'],
        [1, '-1.25'],
        [2, '2'],
      ]) {
        await page.getByTestId(`whatif-number-${k}`).fill(v);
        await page.getByTestId(`whatif-number-${k}`).press('Enter');
        await page.waitForSelector('[data-testid="what-if"][data-busy="no"]');
      }
      await page.waitForFunction(
        () =>
          document.querySelector('[data-testid="what-if"]')?.getAttribute('data-shown-p') === '0.5,-1.25,2',
      );
      await page.getByTestId('export-data').click();
      const y = parseNpy(
        await readFile(
          (await saveDownload(page, () => page.getByTestId('export-y-sample-npy').click())).path,
        ),
      );
      const [p0, p1, p2] = [0.5, -1.25, 2];
      const ishigami = Math.sin(p0) + 7 * Math.sin(p1) ** 2 + 0.1 * p2 ** 4 * Math.sin(p0);
      console.log(`# what-if y0 = ${y.data[0]}, Ishigami formula ${ishigami}`);
      assert.deepEqual(y.shape, [2]);
      assert.ok(Math.abs(y.data[0] - ishigami) <= 1e-12 * Math.abs(ishigami));
      const err = await runCheck(page);
      assert.match(await page.getByTestId('check-details').textContent(), /what-if p/);
      console.log(`# check derivatives on analytic-ishigami at the what-if point: ${err.toExponential(2)}`);
      assert.ok(err <= 1e-6, `largest relative error ${err}`);
    });
  });
});
