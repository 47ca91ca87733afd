// End-to-end tests of the variance-based tab in the web build: the Ishigami and Sobol G TorchScript fixtures
// dropped on the window, a D.json given to the distribution table (a bad one first: one clear message), a run
// with small N, the bars against the analytic Sobol' indices of the fixtures' meta.json (loosely: within the
// shown 95% interval plus 0.05), the heatmap drawn, S.json and CSV exported, and a long run cancelled.
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
  repoRoot,
  saveDownload,
  waitForResult,
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

async function openWith(fixture) {
  const app = await openApp(browser, server.url);
  const files = await Promise.all(
    ['model.pt', 'p.npy'].map(async (name) => ({
      name,
      bytes: await readFile(resolve(graphDir, fixture, name)),
    })),
  );
  await dropFiles(app.page, files);
  await waitForResult(app.page, 2);
  await app.page.getByTestId('tab-variance').click();
  await app.page.getByTestId('sobol-dists').waitFor();
  return app;
}

async function analytic(fixture) {
  return JSON.parse(await readFile(resolve(graphDir, fixture, 'meta.json'), 'utf8')).sobol_indices;
}

/** Gives the table a D.json through its file input. */
async function giveDists(page, name, text) {
  await page
    .getByTestId('sobol-dist-file')
    .setInputFiles({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
}

const uniform = (low, high, P) =>
  JSON.stringify(Array.from({ length: P }, () => ({ dist: 'uniform', low, high })));

/** Runs with N base rows and waits for the bars; returns them as numbers by feature k. */
async function runAndRead(page, N) {
  await page.getByTestId('sobol-n').fill(String(N));
  await page.getByTestId('sobol-run').click();
  await page.waitForSelector('[data-testid="sobol-view"][data-ready="yes"][data-status="done"]', {
    timeout: 30_000,
  });
  await page.getByTestId('sobol-heatmap').waitFor();
  const rows = await page.$$eval('[data-testid="sobol-bars"] li.sobol-row', (els) =>
    els.map((el) => ({
      k: Number(el.dataset.k),
      s1: Number(el.dataset.s1),
      st: Number(el.dataset.st),
      s1Conf: Number(el.dataset.s1Conf),
      stConf: Number(el.dataset.stConf),
      bound: Number(el.dataset.bound),
      exceeds: Number(el.dataset.exceeds),
      label: el.getAttribute('aria-label'),
      focusable: el.tabIndex === 0,
    })),
  );
  return rows;
}

function checkAgainst(rows, want, what) {
  for (const r of rows) {
    const s1 = want.first_order[r.k];
    const st = want.total[r.k];
    console.log(
      `# ${what} k=${r.k}: S1 ${r.s1.toFixed(3)} ± ${r.s1Conf.toFixed(3)} (analytic ${s1.toFixed(3)}), ST ${r.st.toFixed(3)} ± ${r.stConf.toFixed(3)} (analytic ${st.toFixed(3)}), bound ${r.bound.toFixed(3)}`,
    );
    assert.ok(Math.abs(r.s1 - s1) <= r.s1Conf + 0.05, `${what} S1[${r.k}] = ${r.s1} vs ${s1}`);
    assert.ok(Math.abs(r.st - st) <= r.stConf + 0.05, `${what} ST[${r.k}] = ${r.st} vs ${st}`);
    assert.equal(r.exceeds, 0);
    assert.ok(r.focusable);
  }
}

/** Whether the canvas has more than one colour (something was drawn). */
async function drawn(page, testId) {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-testid="${id}"]`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const seen = new Set();
    for (let i = 0; i < d.length; i += 4 * 37) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    return seen.size;
  }, testId);
}

describe('variance-based tab (web build)', () => {
  test('1. Ishigami: D.json, run, bars and heatmap against the analytic indices, exports', async () => {
    await withApp(openWith('analytic-ishigami'), async ({ page }) => {
      assert.match(
        await page.getByTestId('sobol-dist-note').textContent(),
        /min…max over the 3 loaded samples/,
      );
      // A bad D.json: one message naming the entry; the table stays.
      await giveDists(
        page,
        'bad.json',
        '[{"dist":"uniform","low":1,"high":-1},{"dist":"normal","mean":0,"std":1},{"dist":"normal","mean":0,"std":1}]',
      );
      assert.equal(
        await page.getByTestId('sobol-dist-error').textContent(),
        'bad.json: distributions[0]: low (1) must be below high (-1)',
      );
      await giveDists(page, 'D.json', uniform(-Math.PI, Math.PI, 3));
      await page.waitForFunction(
        () => document.querySelector('[data-testid="sobol-dist-a-2"]')?.value === String(-Math.PI),
      );
      assert.equal(await page.getByTestId('sobol-dist-error').count(), 0);
      assert.match(await page.getByTestId('sobol-dist-note').textContent(), /From D\.json/);

      const rows = await runAndRead(page, 256);
      assert.equal(rows.length, 3);
      // Ranked by ST: p0 (0.558), p1 (0.442), p2 (0.244).
      assert.deepEqual(
        rows.map((r) => r.k),
        [0, 1, 2],
      );
      checkAgainst(rows, await analytic('analytic-ishigami'), 'Ishigami');
      assert.match(rows[0].label, /^p0: S1 .* ± .*, ST .*, DGSM bound on ST/);
      assert.ok((await drawn(page, 'sobol-heatmap')) > 3, 'the heatmap is drawn');
      assert.match(
        await page.getByTestId('sobol-summary').textContent(),
        /N = 256: 1,280 model evaluations and 256 Jacobians/,
      );

      const json = JSON.parse(
        await readFile(
          (await saveDownload(page, () => page.getByTestId('sobol-export-json').click())).path,
          'utf8',
        ),
      );
      assert.equal(json.format, 'jacscope-sobol');
      assert.deepEqual(json.outShape, [2]);
      assert.equal(json.S1.length, 2);
      assert.equal(json.ST_conf[0].length, 3);
      assert.equal(json.n, 256);
      assert.equal(json.evaluations, 256 * 5);
      assert.equal(json.distributions[1].low, -Math.PI);
      assert.ok(Math.abs(json.ST[0][0] - rows[0].st) < 1e-12);
      const csv = await readFile(
        (await saveDownload(page, () => page.getByTestId('sobol-export-csv').click())).path,
        'utf8',
      );
      assert.match(csv.split('\n')[0], /^o,output,k,feature,S1,S1_conf,ST,ST_conf,nu,dgsm_bound/);
      assert.equal(csv.trim().split('\n').length, 1 + 2 * 3);
      await page.screenshot({ path: resolve(outDir, 'e2e-sobol-ishigami.png'), fullPage: true });
    });
  });

  test("2. Sobol's G: six features; a long run is cancelled", async () => {
    await withApp(openWith('analytic-sobol-g'), async ({ page }) => {
      await giveDists(page, 'D.json', uniform(0, 1, 6));
      await page.waitForFunction(
        () => document.querySelector('[data-testid="sobol-dist-b-5"]')?.value === '1',
      );
      const rows = await runAndRead(page, 512);
      assert.equal(rows.length, 6);
      assert.deepEqual(
        rows.slice(0, 2).map((r) => r.k),
        [0, 1],
      );
      checkAgainst(rows, await analytic('analytic-sobol-g'), 'G');

      // Cancel: a run of 2^18 base rows (2 million evaluations) stops soon after the click.
      await page.getByTestId('sobol-n').fill(String(2 ** 18));
      await page.getByTestId('sobol-run').click();
      await page.waitForFunction(
        () => Number(document.querySelector('[data-testid="sobol-progress"]')?.value) > 0,
      );
      const t0 = Date.now();
      await page.getByTestId('sobol-cancel').click();
      await page.waitForSelector('[data-testid="sobol-view"][data-status="failed"]', { timeout: 10_000 });
      const ms = Date.now() - t0;
      console.log(`# cancelled in ${ms} ms`);
      assert.ok(ms < 3000, `cancel took ${ms} ms`);
      assert.match(await page.getByTestId('sobol-message').textContent(), /Cancelled/);
      // The engine is free again: the run button is back and a small run completes.
      await runAndRead(page, 64);
    });
  });
});
