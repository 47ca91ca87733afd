// End-to-end tests of the explore tools in the web build: live what-if (with the time from a slider move to
// the repaint), the 1-D sweep checked against `jacscope forward`/`jacobian` at the same points, global
// sensitivity and sample differences over a batch, and the derivative check read off the screen.
// Run: node test/e2e/run.mjs
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveStatic } from './server.mjs';
import {
  withApp,
  dropFiles,
  launchBrowser,
  npyBytes,
  openApp,
  outDir,
  parseCsv,
  parseNpy,
  percentiles,
  relativeError,
  runCli,
  saveDownload,
  deepDir,
  deepFile,
  seedDir,
  seedFile,
  waitForResult,
  webDist,
} from './helpers.mjs';

let server;
let browser;
const timings = {};

before(async () => {
  server = await serveStatic(webDist);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (Object.keys(timings).length)
    await writeFile(resolve(outDir, 'e2e-timing-explore.json'), JSON.stringify(timings, null, 2) + '\n');
});

/** Opens the app and loads the seed fixture (model.pt, x, p). */
async function openWithSeed() {
  const app = await openApp(browser, server.url);
  await dropFiles(app.page, await Promise.all(['model.pt', 'x.npy', 'p.npy'].map(seedFile)));
  await waitForResult(app.page, 2);
  return app;
}

/** Opens the app and loads the deep fixture's batch of four (config.json says GELU). */
async function openWithDeepBatch4() {
  const app = await openApp(browser, server.url);
  const names = ['model.pt', 'config.json', 'x4.npy', 'p4.npy'];
  await dropFiles(app.page, await Promise.all(names.map(deepFile)));
  await waitForResult(app.page, 2);
  return app;
}

async function whatIfIdle(page) {
  await page.waitForSelector('[data-testid="what-if"][data-busy="no"]');
}

/** A J slice CSV (rows t, columns o) as [T][O] numbers. */
function sliceRows(text) {
  const { header, rows } = parseCsv(text);
  assert.equal(header[0], 't (step)');
  return rows.map((r) => r.slice(1).map(Number));
}

describe('jacscope explore tools (web build)', () => {
  test('1. live what-if: sliders recompute y and J in the worker, the views repaint, stale moves are dropped', async () => {
    await withApp(openWithSeed(), async ({ page }) => {
      const panel = page.getByTestId('what-if');
      await panel.waitFor();
      // One slider per p-feature, named; one sample has no spread, and the panel says what range it uses.
      assert.equal(await page.locator('[data-testid^="whatif-slider-"]').count(), 14);
      assert.match(await panel.textContent(), /p0.*p13/s);
      assert.match(
        await page.getByTestId('whatif-ranges').textContent(),
        /One sample.*p ± 3·max\(1, \|p\|\)/,
      );

      // Time from a slider's input event to the heatmap drawn with the recomputed J, and to the next frame.
      const measure = (k, frac) =>
        page.evaluate(
          async ([k, frac]) => {
            const slider = document.querySelector(`[data-testid="whatif-slider-${k}"]`);
            const panel = document.querySelector('[data-testid="what-if"]');
            const heat = document.querySelector('[data-testid="heatmap-canvas"]');
            const shown0 = Number(panel.dataset.shown);
            const value = Number(slider.min) + frac * (Number(slider.max) - Number(slider.min));
            const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
            let t0 = 0;
            let drawn = -1;
            const repainted = new Promise((ok) => {
              const mo = new MutationObserver(() => {
                if (Number(panel.dataset.shown) > shown0) {
                  drawn = performance.now() - t0;
                  mo.disconnect();
                  ok();
                }
              });
              mo.observe(heat, { attributes: true, attributeFilter: ['data-paint-seq'] });
            });
            t0 = performance.now();
            setValue.call(slider, String(value));
            slider.dispatchEvent(new Event('input', { bubbles: true }));
            await repainted;
            await new Promise((ok) => requestAnimationFrame(() => ok()));
            return { drawn, frame: performance.now() - t0 };
          },
          [k, frac],
        );
      const moves = [];
      for (let i = 0; i < 60; i++) {
        moves.push(await measure(i % 14, 0.15 + 0.7 * (((i * 7) % 13) / 12)));
        await whatIfIdle(page);
      }
      // The first few moves warm the worker's JIT; the figure is over the rest.
      const steady = moves.slice(10);
      timings.whatIfInputToHeatmapDrawnMs = percentiles(steady.map((m) => m.drawn));
      timings.whatIfInputToNextFrameMs = percentiles(steady.map((m) => m.frame));
      console.log(
        `# what-if input → repaint (seed model, CPU backend, ${steady.length} moves): ` +
          `drawn p50 ${timings.whatIfInputToHeatmapDrawnMs.p50} ms, p95 ${timings.whatIfInputToHeatmapDrawnMs.p95} ms; ` +
          `next frame p50 ${timings.whatIfInputToNextFrameMs.p50} ms, p95 ${timings.whatIfInputToNextFrameMs.p95} ms`,
      );
      assert.equal(await page.locator('.heatmap').getAttribute('data-display'), 'whatif');

      // A burst of 25 moves in one go: the worker computes the first and the newest, not all of them.
      const burst = await page.evaluate(async () => {
        const slider = document.querySelector('[data-testid="whatif-slider-5"]');
        const panel = document.querySelector('[data-testid="what-if"]');
        const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const sent0 = Number(panel.dataset.sent);
        const lo = Number(slider.min);
        const hi = Number(slider.max);
        for (let i = 1; i <= 25; i++) {
          setValue.call(slider, String(lo + (i / 26) * (hi - lo)));
          slider.dispatchEvent(new Event('input', { bubbles: true }));
        }
        return { sent0, last: Number(slider.value) };
      });
      await whatIfIdle(page);
      const sent = Number(await panel.getAttribute('data-sent')) - burst.sent0;
      console.log(`# a burst of 25 slider moves sent ${sent} requests to the worker`);
      assert.ok(sent >= 1 && sent <= 3, `${sent} requests for 25 moves`);

      // Exact entry in the numeric field, then the shown slice against the real CLI at the same p.
      await page.getByTestId('whatif-number-3').fill('1.25');
      await page.getByTestId('whatif-number-3').press('Enter');
      await whatIfIdle(page);
      await page.waitForFunction(
        () => document.querySelector('[data-testid="whatif-number-3"]').value === '1.25',
      );
      // The p of the what-if on screen, as the panel states it exactly.
      const p = Float64Array.from((await panel.getAttribute('data-shown-p')).split(',').map(Number));
      assert.equal(p.length, 14);
      assert.equal(p[3], 1.25);
      assert.equal(p[5], burst.last);
      await page.getByTestId('select-k').selectOption('3');
      const slice = await saveDownload(page, () => page.getByTestId('export-slice-csv').click());
      assert.equal(slice.name, 'J_whatif_k3-p3_t-by-o.csv');
      const pPath = resolve(outDir, 'whatif-p.npy');
      const jPath = resolve(outDir, 'whatif-J-cli.npy');
      await writeFile(pPath, npyBytes([1, 14], p));
      await runCli([
        'jacobian',
        '--model',
        resolve(seedDir, 'model.pt'),
        '--x',
        resolve(seedDir, 'x.npy'),
        '--p',
        pPath,
        '--out',
        jPath,
        '--dtype',
        'float64',
      ]);
      const Jcli = parseNpy(await readFile(jPath));
      const rows = sliceRows(await readFile(slice.path, 'utf8'));
      const got = [];
      const want = [];
      for (let t = 0; t < 601; t++)
        for (let o = 0; o < 15; o++) {
          got.push(rows[t][o]);
          want.push(Jcli.data[(t * 15 + o) * 14 + 3]);
        }
      const rel = relativeError(got, want);
      console.log(
        `# what-if slice vs jacscope jacobian at the same p: relative error ${rel.toExponential(2)}`,
      );
      assert.ok(rel <= 1e-6, `relative error ${rel}`);
      // … and it is not the loaded J.
      const ref = parseNpy(await readFile(resolve(seedDir, 'jacobian_f64.npy')));
      assert.ok(
        relativeError(
          got,
          want.map((_, i) => ref.data[i * 14 + 3]),
        ) > 1e-3,
      );

      await page.screenshot({ path: resolve(outDir, 'e2e-explore-1-whatif.png'), fullPage: true });

      // Reset: back to the loaded sample.
      await page.getByTestId('whatif-reset').click();
      await page.waitForSelector('.heatmap[data-display="data"]');
      assert.equal(await panel.getAttribute('data-active'), 'no');
    });
  });

  test('2. a sweep of one parameter, exported, matches `jacscope forward` and `jacobian` at the same points', async () => {
    await withApp(openWithSeed(), async ({ page }) => {
      await page.getByTestId('tab-sweep').click();
      await page.getByTestId('sweep-k').selectOption('3');
      await page.getByTestId('sweep-lo').fill('-1.5');
      await page.getByTestId('sweep-lo').press('Enter');
      await page.getByTestId('sweep-hi').fill('2.5');
      await page.getByTestId('sweep-hi').press('Enter');
      assert.equal(await page.getByTestId('sweep-n').inputValue(), '50');
      await page.getByTestId('sweep-run').click();
      await page.waitForSelector('[data-testid="sweep-view"][data-status="done"]', { timeout: 60_000 });
      assert.match(await page.getByTestId('sweep-done').textContent(), /p3 over -1\.5 … 2\.5, 50 points/);
      await page.getByTestId('sweep-o').selectOption('2');
      await page.getByTestId('sweep-j').selectOption('3');
      await page.waitForSelector('[data-testid="sweep-view"][data-o="2"][data-j="3"]');
      await page.screenshot({ path: resolve(outDir, 'e2e-explore-2-sweep.png'), fullPage: true });

      const yCsv = await saveDownload(page, () => page.getByTestId('sweep-export-y-csv').click());
      assert.equal(yCsv.name, 'sweep_k3-p3_y_o2-y2.csv');
      const jCsv = await saveDownload(page, () => page.getByTestId('sweep-export-J-csv').click());
      assert.equal(jCsv.name, 'sweep_k3-p3_J_o2-y2_k3-p3.csv');
      const yAll = await saveDownload(page, () => page.getByTestId('sweep-export-all-y').click());
      const ys = parseCsv(await readFile(yCsv.path, 'utf8'));
      const js = parseCsv(await readFile(jCsv.path, 'utf8'));
      assert.equal(ys.header[0], 'p3');
      assert.equal(ys.header.length, 1 + 601);
      assert.equal(ys.rows.length, 50);
      const values = ys.rows.map((r) => Number(r[0]));
      assert.equal(values[0], -1.5);
      assert.equal(values[49], 2.5);

      // The same points through the command line: x repeated N times, p with p_3 set to each value.
      const x = parseNpy(await readFile(resolve(seedDir, 'x.npy')));
      const p = parseNpy(await readFile(resolve(seedDir, 'p.npy')));
      const N = values.length;
      const xs = new Float64Array(N * x.data.length);
      const ps = new Float64Array(N * 14);
      for (let n = 0; n < N; n++) {
        xs.set(x.data, n * x.data.length);
        ps.set(p.data, n * 14);
        ps[n * 14 + 3] = values[n];
      }
      const xPath = resolve(outDir, 'sweep-x.npy');
      const pPath = resolve(outDir, 'sweep-p.npy');
      await writeFile(xPath, npyBytes([N, 601, 20], xs));
      await writeFile(pPath, npyBytes([N, 14], ps));
      const yPath = resolve(outDir, 'sweep-y-cli.npy');
      const JPath = resolve(outDir, 'sweep-J-cli.npy');
      const common = [
        '--model',
        resolve(seedDir, 'model.pt'),
        '--x',
        xPath,
        '--p',
        pPath,
        '--dtype',
        'float64',
      ];
      await runCli(['forward', ...common, '--out', yPath]);
      await runCli(['jacobian', ...common, '--out', JPath]);
      const Y = parseNpy(await readFile(yPath));
      const Jc = parseNpy(await readFile(JPath));
      assert.deepEqual(Y.shape, [N, 601, 15]);
      const gotY = [];
      const wantY = [];
      const gotJ = [];
      const wantJ = [];
      for (let n = 0; n < N; n++)
        for (let t = 0; t < 601; t++) {
          gotY.push(Number(ys.rows[n][1 + t]));
          wantY.push(Y.data[(n * 601 + t) * 15 + 2]);
          gotJ.push(Number(js.rows[n][1 + t]));
          wantJ.push(Jc.data[((n * 601 + t) * 15 + 2) * 14 + 3]);
        }
      const relY = relativeError(gotY, wantY);
      const relJ = relativeError(gotJ, wantJ);
      const all = parseNpy(await readFile(yAll.path));
      assert.deepEqual(all.shape, [N, 601, 15]);
      const relAll = relativeError(all.data, Y.data);
      console.log(
        `# sweep (N=${N}) vs jacscope forward/jacobian: y[:,:,2] ${relY.toExponential(2)}, all y ${relAll.toExponential(2)}, ` +
          `J[:,:,2,3] ${relJ.toExponential(2)} (relative)`,
      );
      assert.ok(relY <= 1e-6 && relAll <= 1e-6 && relJ <= 1e-6);
    });
  });

  test('3. global sensitivity over a batch, and J[b1] − J[b2] in the Jacobian views', async () => {
    await withApp(openWithDeepBatch4(), async ({ page }) => {
      const ref = parseNpy(await readFile(resolve(deepDir, 'jacobian4_f64.npy')));
      const p4 = parseNpy(await readFile(resolve(deepDir, 'p4.npy')));
      const y4 = parseNpy(await readFile(resolve(deepDir, 'y4_f64.npy')));
      const [B, T, O, P] = ref.shape;
      const nu = new Float64Array(O * P);
      for (let b = 0; b < B; b++)
        for (let t = 0; t < T; t++)
          for (let i = 0; i < O * P; i++) nu[i] += ref.data[(b * T + t) * O * P + i] ** 2 / (B * T);
      const variance = (get, n) => {
        let m = 0;
        for (let i = 0; i < n; i++) m += get(i) / n;
        let v = 0;
        for (let i = 0; i < n; i++) v += (get(i) - m) ** 2 / n;
        return v;
      };
      const index = new Float64Array(O * P);
      for (let o = 0; o < O; o++) {
        const vy = variance((i) => y4.data[i * O + o], B * T);
        for (let k = 0; k < P; k++)
          index[o * P + k] = (nu[o * P + k] * variance((b) => p4.data[b * P + k], B)) / vy;
      }

      await page.getByTestId('tab-sensitivity').click();
      await page.waitForSelector('[data-testid="gsa-view"][data-ready="yes"]');
      await page.getByTestId('gsa-matrix-canvas').waitFor();
      await page.screenshot({ path: resolve(outDir, 'e2e-explore-3-sensitivity.png'), fullPage: true });
      const readMatrix = async (file) => {
        const { header, rows } = parseCsv(await readFile(file, 'utf8'));
        assert.deepEqual(header.slice(0, 3), ['o (output)', 'name', 'p0']);
        return rows.flatMap((r) => r.slice(2).map(Number));
      };
      const nuCsv = await saveDownload(page, () => page.getByTestId('gsa-export-csv').click());
      assert.equal(nuCsv.name, 'dgsm_nu.csv');
      const relNu = relativeError(await readMatrix(nuCsv.path), nu);
      // The ranked chart (mean over outputs) starts with the largest mean ν.
      const mean = Array.from(
        { length: P },
        (_, k) => nu.filter((_, i) => i % P === k).reduce((a, v) => a + v) / O,
      );
      const top = mean.indexOf(Math.max(...mean));
      assert.equal(
        await page.locator('[data-testid="gsa-rank"] li').first().getAttribute('data-k'),
        String(top),
      );

      await page.getByTestId('gsa-measure').selectOption('index');
      const idxCsv = await saveDownload(page, () => page.getByTestId('gsa-export-csv').click());
      assert.equal(idxCsv.name, 'dgsm_index.csv');
      const relIdx = relativeError(await readMatrix(idxCsv.path), index);
      console.log(
        `# global sensitivity vs the fixture: ν ${relNu.toExponential(2)}, index ${relIdx.toExponential(2)}`,
      );
      assert.ok(relNu <= 1e-6 && relIdx <= 1e-6);
      await page.getByTestId('gsa-measure').selectOption('elasticity');
      await page.getByTestId('gsa-o').selectOption('2');
      const rank = await saveDownload(page, () => page.getByTestId('gsa-export-rank').click());
      assert.equal(rank.name, 'elasticity_ranked_o2.csv');
      assert.equal(parseCsv(await readFile(rank.path, 'utf8')).rows.length, P);

      // Compare two samples: the heatmap, lines and summary show J[2] − J[0]; the slice export carries it.
      await page.getByTestId('tab-jacobian').click();
      await page.getByTestId('compare-on').check();
      await page.getByTestId('compare-b1').fill('2');
      await page.getByTestId('compare-b2').fill('0');
      await page.waitForSelector('.heatmap[data-display="compare"]');
      await page.getByTestId('select-k').selectOption('5');
      const diff = await saveDownload(page, () => page.getByTestId('export-slice-csv').click());
      assert.equal(diff.name, 'J_b2-minus-b0_k5-p5_t-by-o.csv');
      const rows = sliceRows(await readFile(diff.path, 'utf8'));
      const got = [];
      const want = [];
      const TOP = T * O * P;
      for (let t = 0; t < T; t++)
        for (let o = 0; o < O; o++) {
          got.push(rows[t][o]);
          const i = (t * O + o) * P + 5;
          want.push(ref.data[2 * TOP + i] - ref.data[i]);
        }
      const relDiff = relativeError(got, want);
      console.log(`# J[2] − J[0] slice vs the fixture: relative error ${relDiff.toExponential(2)}`);
      assert.ok(relDiff <= 1e-6);
      await page.screenshot({ path: resolve(outDir, 'e2e-explore-3-compare.png'), fullPage: true });
    });
  });

  test('5. the README picture: a what-if on the built-in demo, dashed curves for the loaded p', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      await page.setViewportSize({ width: 1240, height: 960 });
      // A few steps first, so the worker is warm and the time it shows is the usual one.
      for (const [id, value] of [
        ['whatif-number-3', '1.5'],
        ['whatif-number-9', '-1'],
        ['whatif-number-3', '2'],
        ['whatif-number-9', '-1.5'],
        ['whatif-number-3', '2.5'],
      ]) {
        await page.getByTestId(id).fill(value);
        await page.getByTestId(id).press('Enter');
        await whatIfIdle(page);
      }
      await page.waitForSelector('.heatmap[data-display="whatif"]');
      // The side bar scrolled to the sliders; the summary follows a frame later.
      await page.evaluate(() => {
        const side = document.querySelector('.side');
        side.scrollTop = document.querySelector('[data-testid="what-if"]').offsetTop - side.offsetTop - 8;
      });
      await page.waitForTimeout(300);
      const path = resolve(outDir, 'explore-readme.png');
      await page.screenshot({ path });
      const { size } = await import('node:fs/promises').then((fs) => fs.stat(path));
      console.log(`# README picture: ${path} (${(size / 1024).toFixed(0)} KB)`);
    });
  });

  test('4. "Check derivatives" reports the largest relative error against finite differences (≤ 1e-6)', async () => {
    await withApp(openWithSeed(), async ({ page }) => {
      await page.getByTestId('tab-check').click();
      await page.getByTestId('check-run').click();
      const verdict = page.getByTestId('check-verdict');
      await verdict.waitFor({ timeout: 60_000 });
      const value = Number(await page.getByTestId('check-max-rel').getAttribute('data-value'));
      const text = await verdict.textContent();
      console.log(`# check derivatives on the seed fixture: ${text.replace(/\s+/g, ' ').trim()}`);
      assert.ok(value <= 1e-6, `largest relative error ${value}`);
      assert.equal(await verdict.getAttribute('data-ok'), 'yes');
      assert.match(text, /largest relative error \d\.\d\de-\d+ ≤ 1e-6/);
      assert.match(await page.getByTestId('check-details').textContent(), /56 perturbed forward passes/);
      await page.getByTestId('check-canvas').waitFor();
      await page.screenshot({ path: resolve(outDir, 'e2e-explore-4-check.png'), fullPage: true });

      // At a what-if point the check runs there, and still passes.
      await page.getByTestId('whatif-number-7').fill('0.8');
      await page.getByTestId('whatif-number-7').press('Enter');
      await whatIfIdle(page);
      await page.getByTestId('check-run').click();
      await page.waitForFunction(() =>
        /what-if p/.test(document.querySelector('[data-testid="check-details"]')?.textContent ?? ''),
      );
      assert.ok(Number(await page.getByTestId('check-max-rel').getAttribute('data-value')) <= 1e-6);
    });
  });
});
