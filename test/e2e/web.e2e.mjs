// End-to-end tests of the web build (the same renderer as the desktop app) in Debian Chromium.
// Run: node test/e2e/run.mjs   (builds dist-web, then runs this file with node:test)
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { serveStatic } from './server.mjs';
import {
  withApp,
  dropFiles,
  launchBrowser,
  repeatedSeedBatch,
  openApp,
  outDir,
  parseCsv,
  parseNpy,
  saveDownload,
  seedDir,
  waitForResult,
  waitIdle,
  webDist,
} from './helpers.mjs';

let server;
let browser;
const timings = {};

async function fixture(name) {
  return { name, bytes: await readFile(resolve(seedDir, name)) };
}

before(async () => {
  server = await serveStatic(webDist);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (Object.keys(timings).length) {
    await writeFile(resolve(outDir, 'e2e-timing.json'), JSON.stringify(timings, null, 2) + '\n');
  }
});

describe('jacscope web build', () => {
  test('1. the demo renders a heatmap', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const canvas = page.getByTestId('heatmap-canvas');
      await canvas.waitFor();
      assert.ok(Number(await canvas.getAttribute('data-paint-seq')) >= 1, 'the heatmap was painted');
      assert.equal(await page.getByTestId('model-file').textContent(), 'built-in demo');
      assert.equal(await page.getByTestId('j-shape').textContent(), '[1, 601, 15, 14]');
      // The canvas holds a real picture: many distinct colours, not a blank or uniform fill.
      const colours = await page.evaluate(() => {
        const c = document.querySelector('[data-testid="heatmap-canvas"]');
        const ctx = c.getContext('2d');
        const { data } = ctx.getImageData(0, 0, c.width, c.height);
        const seen = new Set();
        for (let i = 0; i < data.length; i += 4 * 7)
          seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
        return seen.size;
      });
      assert.ok(colours > 50, `the heatmap shows ${colours} distinct colours`);
      assert.match(await page.getByTestId('compute-time').textContent(), /\d+(\.\d+)? m?s/);
      await page.screenshot({ path: resolve(outDir, 'e2e-1-demo.png'), fullPage: true });
    });
  });

  test('2. dropping model.pt, x.npy, p.npy computes J; the exported [T,O] slice matches jacobian_f64.npy', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      // Any order: data first, then the model.
      await dropFiles(page, [await fixture('x.npy'), await fixture('model.pt'), await fixture('p.npy')]);
      await waitForResult(page, 2);
      assert.equal(await page.getByTestId('model-file').textContent(), 'model.pt');
      assert.equal(await page.getByTestId('j-shape').textContent(), '[1, 601, 15, 14]');
      assert.match(await page.getByTestId('param-count').textContent(), /real \+ .* complex/);

      // The visible slice: t horizontally, o vertically, k fixed.
      assert.equal(await page.getByTestId('axis-x').inputValue(), 't');
      assert.equal(await page.getByTestId('axis-y').inputValue(), 'o');
      const k = 5;
      await page.getByTestId('select-k').selectOption(String(k));
      const downloadPromise = page.waitForEvent('download');
      await page.getByTestId('export-slice-csv').click();
      const download = await downloadPromise;
      const name = download.suggestedFilename();
      assert.match(name, /^J_k5-p5_t-by-o\.csv$/);
      const csvPath = resolve(outDir, name);
      await download.saveAs(csvPath);
      const { header, rows } = parseCsv(await readFile(csvPath, 'utf8'));
      assert.equal(header[0], 't (step)');
      assert.deepEqual(
        header.slice(1),
        Array.from({ length: 15 }, (_, o) => `y${o}`),
      );
      assert.equal(rows.length, 601);

      const ref = parseNpy(await readFile(resolve(seedDir, 'jacobian_f64.npy')));
      assert.deepEqual(ref.shape, [1, 601, 15, 14]);
      const [, T, O, P] = ref.shape;
      let maxRef = 0;
      let maxErr = 0;
      for (let t = 0; t < T; t++) {
        assert.equal(Number(rows[t][0]), t);
        for (let o = 0; o < O; o++) {
          const want = ref.data[(t * O + o) * P + k];
          const got = Number(rows[t][1 + o]);
          assert.ok(Number.isFinite(got), `cell t=${t} o=${o} is a number`);
          maxRef = Math.max(maxRef, Math.abs(want));
          maxErr = Math.max(maxErr, Math.abs(got - want));
        }
      }
      const rel = maxErr / maxRef;
      console.log(`# slice k=${k}: max |err| ${maxErr.toExponential(2)}, relative ${rel.toExponential(2)}`);
      assert.ok(rel <= 1e-6, `relative error ${rel} ≤ 1e-6`);
      for (let t = 0; t < T; t++)
        for (let o = 0; o < O; o++) {
          const want = ref.data[(t * O + o) * P + k];
          if (Math.abs(want) > 1e-3 * maxRef)
            assert.ok(Math.abs(Number(rows[t][1 + o]) - want) <= 1e-6 * Math.abs(want), `t=${t} o=${o}`);
        }

      // The whole J as .npy matches too.
      const npyPromise = page.waitForEvent('download');
      await page.getByTestId('export-full-npy').click();
      const npy = await npyPromise;
      const full = parseNpy(await readFile(await npy.path()));
      assert.deepEqual(full.shape, [1, 601, 15, 14]);
      let e = 0;
      for (let i = 0; i < full.data.length; i++) e = Math.max(e, Math.abs(full.data[i] - ref.data[i]));
      assert.ok(e / maxRef <= 1e-6, `full J relative error ${e / maxRef}`);

      // Long-format CSV of the whole J, and the heatmap and plot as PNG.
      const longPromise = page.waitForEvent('download');
      await page.getByTestId('export-full-csv').click();
      const long = (await readFile(await (await longPromise).path(), 'utf8')).split('\n');
      assert.equal(long[0], 'b,t,o,k,value');
      assert.equal(long.length, 1 + 601 * 15 * 14 + 1);
      const [b, t, o, kk, v] = long[1 + (300 * 15 + 7) * 14 + 3].split(',').map(Number);
      assert.deepEqual([b, t, o, kk], [0, 300, 7, 3]);
      assert.ok(Math.abs(v - ref.data[(300 * 15 + 7) * 14 + 3]) <= 1e-6 * maxRef);
      for (const [id, file] of [
        ['export-heatmap-png', 'heatmap.png'],
        ['export-plot-png', 'line-plot.png'],
      ]) {
        const pngPromise = page.waitForEvent('download');
        await page.getByTestId(id).click();
        const png = await pngPromise;
        assert.equal(png.suggestedFilename(), file);
        const bytes = await readFile(await png.path());
        assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
        await png.saveAs(resolve(outDir, `e2e-2-export-${file}`));
      }

      await page.screenshot({ path: resolve(outDir, 'e2e-2-fixture.png'), fullPage: true });
    });
  });

  test('3. a corrupt file shows an error next to the drop and leaves the previous model displayed', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      // Loaded this time through Open… (the browser's file chooser).
      const chooserPromise = page.waitForEvent('filechooser');
      await page.getByTestId('open').click();
      const chooser = await chooserPromise;
      assert.equal(chooser.isMultiple(), true);
      await chooser.setFiles(['model.safetensors', 'x.npy', 'p.npy'].map((n) => resolve(seedDir, n)));
      await waitForResult(page, 2);
      assert.equal(await page.getByTestId('model-file').textContent(), 'model.safetensors');
      const paintsBefore = Number(await page.getByTestId('heatmap-canvas').getAttribute('data-paint-seq'));

      // A truncated checkpoint.
      const pt = await fixture('model.pt');
      const at = { x: 900, y: 520 };
      await dropFiles(page, [{ name: 'model-broken.pt', bytes: pt.bytes.subarray(0, 4000) }], at);
      await waitIdle(page);
      const note = page.getByTestId('drop-note');
      await note.waitFor();
      const text = await note.textContent();
      assert.match(text, /model-broken\.pt/);
      const box = await note.boundingBox();
      assert.ok(
        Math.abs(box.x - at.x) < 450 && Math.abs(box.y - at.y) < 200,
        'the message is next to the drop',
      );
      assert.equal(await page.getByTestId('model-file').textContent(), 'model.safetensors');
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '2');
      assert.ok(
        Number(await page.getByTestId('heatmap-canvas').getAttribute('data-paint-seq')) >= paintsBefore,
      );
      await page.screenshot({ path: resolve(outDir, 'e2e-3-corrupt.png'), fullPage: true });

      // Data that does not fit the model: 4 samples of p for 1 sample of x.
      await dropFiles(page, [await fixture('p4.npy')], { x: 500, y: 300 });
      await waitIdle(page);
      await page
        .getByText(/has 1 sample\(s\) but p4\.npy has 4/)
        .first()
        .waitFor();
      // Garbage with an unknown extension, and an empty .npy.
      await dropFiles(page, [
        { name: 'notes.txt', bytes: Buffer.from('hello') },
        { name: 'empty.npy', bytes: Buffer.alloc(0) },
      ]);
      await waitIdle(page);
      await page
        .getByText(/notes\.txt: not a file jacscope reads/)
        .first()
        .waitFor();
      await page
        .getByText(/empty\.npy/)
        .first()
        .waitFor();
      assert.equal(await page.getByTestId('model-file').textContent(), 'model.safetensors');
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '2');
      await page.screenshot({ path: resolve(outDir, 'e2e-3-misfit.png'), fullPage: true });
    });
  });

  test('4. moving a slider and hovering update the view (time from input to repaint)', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const measureSlider = (target) =>
        page.evaluate(async (value) => {
          const slider = document.querySelector('[data-testid="slider-k"]');
          const canvas = document.querySelector('[data-testid="heatmap-canvas"]');
          const before = Number(canvas.dataset.paintSeq);
          const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
          const t0 = performance.now();
          setValue.call(slider, String(value));
          slider.dispatchEvent(new Event('input', { bubbles: true }));
          // The paint counter changes when the canvas has been drawn (observed as a microtask, not per frame).
          let drawn = -1;
          if (Number(canvas.dataset.paintSeq) > before) drawn = performance.now() - t0;
          else
            await new Promise((ok) => {
              const mo = new MutationObserver(() => {
                if (Number(canvas.dataset.paintSeq) > before) {
                  drawn = performance.now() - t0;
                  mo.disconnect();
                  ok();
                }
              });
              mo.observe(canvas, { attributes: true, attributeFilter: ['data-paint-seq'] });
            });
          await new Promise((ok) => requestAnimationFrame(() => ok()));
          const frame = performance.now() - t0;
          return { drawn, frame, title: document.querySelector('[data-testid="select-k"]').value };
        }, target);

      const slider = [];
      for (let i = 0; i < 14; i++) {
        const r = await measureSlider((i * 5) % 14);
        assert.equal(r.title, String((i * 5) % 14));
        slider.push(r);
      }
      // Hover: a mouse move over a cell until the readout shows that cell's value.
      const measureHover = (fx, fy) =>
        page.evaluate(
          async ([fx, fy]) => {
            const canvas = document.querySelector('[data-testid="heatmap-canvas"]');
            const readout = document.querySelector('[data-testid="hover-readout"]');
            const before = readout.textContent;
            const r = canvas.getBoundingClientRect();
            const t0 = performance.now();
            canvas.dispatchEvent(
              new MouseEvent('mousemove', {
                bubbles: true,
                clientX: r.left + fx * r.width,
                clientY: r.top + fy * r.height,
              }),
            );
            let updated = -1;
            if (readout.textContent !== before) updated = performance.now() - t0;
            else
              await new Promise((ok) => {
                const mo = new MutationObserver(() => {
                  if (readout.textContent !== before) {
                    updated = performance.now() - t0;
                    mo.disconnect();
                    ok();
                  }
                });
                mo.observe(readout, { childList: true, characterData: true, subtree: true });
              });
            await new Promise((ok) => requestAnimationFrame(() => ok()));
            return { updated, frame: performance.now() - t0, text: readout.textContent };
          },
          [fx, fy],
        );
      const hover = [];
      for (let i = 0; i < 10; i++) hover.push(await measureHover(0.3 + 0.04 * i, 0.3 + 0.03 * i));
      assert.match(hover[hover.length - 1].text, /J = -?\d/);

      // Real (trusted) key presses: from the keydown event's timestamp to the canvas being drawn.
      await page.locator('body').click({ position: { x: 5, y: 990 } });
      await page.evaluate(() => {
        const canvas = document.querySelector('[data-testid="heatmap-canvas"]');
        window.__keyTimes = [];
        window.__keyDelays = [];
        window.addEventListener('keydown', (e) => window.__keyTimes.push(e.timeStamp), { capture: true });
        new MutationObserver(() => {
          const t = window.__keyTimes.shift();
          if (t !== undefined) window.__keyDelays.push(performance.now() - t);
        }).observe(canvas, { attributes: true, attributeFilter: ['data-paint-seq'] });
      });
      await page.getByTestId('select-k').selectOption('0');
      await page.locator('body').click({ position: { x: 5, y: 990 } });
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('ArrowRight');
        await page.waitForFunction((n) => window.__keyDelays.length >= n, i + 1);
      }
      assert.equal(await page.getByTestId('select-k').inputValue(), '12');
      const keyDelays = await page.evaluate(() => window.__keyDelays);

      const stats = (xs) => {
        const s = [...xs].sort((a, b) => a - b);
        return { median: +s[s.length >> 1].toFixed(2), max: +s[s.length - 1].toFixed(2), n: s.length };
      };
      timings.sliderToCanvasDrawnMs = stats(slider.map((r) => r.drawn));
      timings.sliderToNextFrameMs = stats(slider.map((r) => r.frame));
      timings.hoverToReadoutMs = stats(hover.map((r) => r.updated));
      timings.hoverToNextFrameMs = stats(hover.map((r) => r.frame));
      timings.keyArrowToCanvasDrawnMs = stats(keyDelays);
      console.log(`# input → repaint: ${JSON.stringify(timings)}`);
      assert.ok(timings.sliderToCanvasDrawnMs.median < 100, 'a slider move repaints within 100 ms');

      // Keyboard: → steps the fixed parameter axis k.
      const k0 = Number(await page.getByTestId('select-k').inputValue());
      await page.locator('body').click({ position: { x: 5, y: 990 } });
      await page.keyboard.press('ArrowRight');
      assert.equal(Number(await page.getByTestId('select-k').inputValue()), Math.min(13, k0 + 1));

      // A real pointer hover shows the tooltip with indices, names and the exact value.
      const box = await page.getByTestId('heatmap-canvas').boundingBox();
      await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.5);
      const tip = page.getByTestId('heatmap-tooltip');
      await tip.waitFor();
      assert.match(await tip.textContent(), /t \(step\): \d+.*o \(output\): \d+ · y\d+.*J = /);
      await page.screenshot({ path: resolve(outDir, 'e2e-4-hover.png'), fullPage: true });

      // A fixed colour range: the picture is redrawn with the given limit on the legend.
      const paints = Number(await page.getByTestId('heatmap-canvas').getAttribute('data-paint-seq'));
      await page.getByTestId('scale-mode').selectOption('fixed');
      await page.getByTestId('scale-limit').fill('0.01');
      await page.getByTestId('scale-limit').press('Enter');
      await page.waitForFunction(
        (n) => Number(document.querySelector('[data-testid="heatmap-canvas"]').dataset.paintSeq) >= n + 2,
        paints,
      );
      await page.screenshot({ path: resolve(outDir, 'e2e-4-fixed-scale.png') });
      await page.getByTestId('scale-mode').selectOption('slice');

      // Switching axes: P against T with o fixed.
      await page.getByTestId('axis-y').selectOption('k');
      await page.getByTestId('select-o').waitFor();
      await page.screenshot({ path: resolve(outDir, 'e2e-4-t-by-k.png') });
    });
  });

  test('5. a long batch shows progress, keeps the UI responsive and can be cancelled', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      // 320 samples: the batch-of-4 fixture inputs repeated, so the computation takes seconds even
      // with the WebAssembly kernels on helper threads (160 took about a second on two threads, and
      // the cancel below sometimes came after the end).
      const { B, x, p } = await repeatedSeedBatch(80, 'big');
      await dropFiles(page, [x, p]);
      const job = page.getByTestId('job');
      await page.waitForSelector('[data-testid="job"] progress', { timeout: 20_000 });
      await page.waitForFunction(
        (total) =>
          new RegExp(`\\d+/${total} samples`).test(
            document.querySelector('[data-testid="job"]')?.textContent ?? '',
          ),
        B,
      );
      await page.screenshot({ path: resolve(outDir, 'e2e-5-progress.png'), fullPage: true });

      // The UI thread stays free while the worker computes: a slider move still repaints at once.
      const busyRepaint = await page.evaluate(async () => {
        const slider = document.querySelector('[data-testid="slider-k"]');
        const canvas = document.querySelector('[data-testid="heatmap-canvas"]');
        const before = Number(canvas.dataset.paintSeq);
        const setValue = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
        const t0 = performance.now();
        setValue.call(slider, String((Number(slider.value) + 1) % 14));
        slider.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((ok) => {
          const check = () => (Number(canvas.dataset.paintSeq) > before ? ok() : setTimeout(check, 0));
          check();
        });
        return performance.now() - t0;
      });
      timings.sliderRepaintWhileComputingMs = +busyRepaint.toFixed(2);
      console.log(`# slider repaint while the worker computes: ${busyRepaint.toFixed(1)} ms`);
      assert.ok(busyRepaint < 250, 'the UI thread is not blocked by the computation');

      await page.getByTestId('cancel').click();
      await waitIdle(page);
      await page
        .getByText(/computation cancelled/)
        .first()
        .waitFor();
      assert.equal(await job.count(), 0);
      assert.equal(await page.locator('.app').getAttribute('data-result-seq'), '1');
      assert.equal(await page.getByTestId('model-file').textContent(), 'built-in demo');
      await page.screenshot({ path: resolve(outDir, 'e2e-5-cancelled.png'), fullPage: true });
    });
  });

  test('6. CSV data gives the feature names to the selectors, the hover and the exports', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const x = parseNpy(await readFile(resolve(seedDir, 'x.npy')));
      const p = parseNpy(await readFile(resolve(seedDir, 'p.npy')));
      const [, T, Xf] = x.shape;
      const P = p.shape[1];
      const xNames = Array.from({ length: Xf }, (_, i) => `forcing_${i}`);
      const pNames = Array.from({ length: P }, (_, i) => `theta_${i}`);
      let xCsv = xNames.join(',') + '\n';
      for (let t = 0; t < T; t++) xCsv += Array.from(x.data.subarray(t * Xf, (t + 1) * Xf)).join(',') + '\n';
      const pCsv = pNames.join(',') + '\n' + Array.from(p.data).join(',') + '\n';
      await dropFiles(page, [
        await fixture('model.pt'),
        { name: 'x.csv', bytes: Buffer.from(xCsv) },
        { name: 'p.csv', bytes: Buffer.from(pCsv) },
      ]);
      await waitForResult(page, 2);
      await page.getByTestId('select-k').selectOption('4');
      assert.match(await page.getByTestId('select-k').locator('option:checked').textContent(), /4 · theta_4/);
      await page.getByTestId('data-panel').getByText('p features (14)').click();
      await page.getByText(/theta_0, theta_1/).waitFor();

      // The slice with k on the rows: the name column carries the CSV header's names.
      await page.getByTestId('axis-x').selectOption('k');
      const dl = page.waitForEvent('download');
      await page.getByTestId('export-slice-csv').click();
      const d = await dl;
      assert.match(d.suggestedFilename(), /^J_t0_k-by-o\.csv$/);
      const { header, rows } = parseCsv(await readFile(await d.path(), 'utf8'));
      assert.deepEqual(header.slice(0, 3), ['k (parameter)', 'name', 'y0']);
      assert.deepEqual(
        rows.map((r) => r[1]),
        pNames,
      );
      const ref = parseNpy(await readFile(resolve(seedDir, 'jacobian_f64.npy')));
      // t = 0 is fixed: J[0,0,o,k]
      for (let k = 0; k < P; k++)
        for (let o = 0; o < 15; o++) {
          const want = ref.data[o * P + k];
          assert.ok(Math.abs(Number(rows[k][2 + o]) - want) <= 1e-9 * Math.max(1e-3, Math.abs(want)));
        }
      const box = await page.getByTestId('heatmap-canvas').boundingBox();
      await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5);
      assert.match(await page.getByTestId('heatmap-tooltip').textContent(), /theta_\d+/);
      await page.screenshot({ path: resolve(outDir, 'e2e-6-csv-names.png'), fullPage: true });
    });
  });
  test('7. the data menu exports y and p (names included) through the download path', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const p = parseNpy(await readFile(resolve(seedDir, 'p.npy')));
      const [B, P] = p.shape;
      const pNames = Array.from({ length: P }, (_, i) => `theta_${i} [1/s]`);
      let pCsv = pNames.join(',') + '\n';
      for (let b = 0; b < B; b++) pCsv += Array.from(p.data.subarray(b * P, (b + 1) * P)).join(',') + '\n';
      await dropFiles(page, [
        await fixture('model.pt'),
        await fixture('x.npy'),
        { name: 'p.csv', bytes: Buffer.from(pCsv) },
      ]);
      await waitForResult(page, 2);

      // Keyboard: Enter opens the menu, Escape closes it and gives the focus back.
      const toggle = page.getByTestId('export-data');
      await toggle.focus();
      await page.keyboard.press('Enter');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      await page.getByTestId('export-y-sample-csv').waitFor();
      await page.keyboard.press('Escape');
      assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
      assert.equal(await page.getByTestId('export-y-sample-csv').count(), 0);
      assert.equal(await toggle.evaluate((el) => el === document.activeElement), true);

      await toggle.click();
      await page.getByTestId('export-y-sample-csv').waitFor();
      const box = await page.locator('.toolbar').boundingBox();
      await page.screenshot({
        path: resolve(outDir, 'e2e-7-data-export.png'),
        clip: { x: 0, y: 0, width: box.width, height: box.height + 130 },
      });

      const yDl = page.waitForEvent('download');
      await page.getByTestId('export-y-sample-csv').click();
      const yd = await yDl;
      assert.equal(yd.suggestedFilename(), 'y_b0.csv');
      const yCsv = parseCsv(await readFile(await yd.path(), 'utf8'));
      const ref = parseNpy(await readFile(resolve(seedDir, 'y_f64.npy')));
      const [, T, O] = ref.shape;
      assert.equal(yCsv.header[0], 't (step)');
      assert.equal(yCsv.header.length, 1 + O);
      assert.equal(yCsv.rows.length, T);
      let maxRef = 0;
      for (const v of ref.data.subarray(0, T * O)) maxRef = Math.max(maxRef, Math.abs(v));
      for (let t = 0; t < T; t++) {
        assert.equal(Number(yCsv.rows[t][0]), t);
        for (let o = 0; o < O; o++) {
          const want = ref.data[t * O + o];
          const got = Number(yCsv.rows[t][1 + o]);
          assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(Math.abs(want), 1e-3 * maxRef), `y[${t},${o}]`);
        }
      }

      await toggle.click();
      const pDl = page.waitForEvent('download');
      await page.getByTestId('export-p-csv').click();
      const pd = await pDl;
      assert.equal(pd.suggestedFilename(), 'p.csv');
      const back = parseCsv(await readFile(await pd.path(), 'utf8'));
      assert.deepEqual(back.header, ['batch', ...pNames]);
      assert.equal(back.rows.length, B);
      for (let b = 0; b < B; b++) {
        assert.equal(Number(back.rows[b][0]), b);
        for (let k = 0; k < P; k++) assert.equal(Number(back.rows[b][1 + k]), p.data[b * P + k]);
      }
    });
  });

  test('8. a long CPU batch runs on helper threads too, and gives the same J as one thread', async () => {
    await withApp(openApp(browser, server.url), async ({ page }) => {
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      const helpers = [];
      page.on('worker', (w) => w.url().includes('cpu-helper') && helpers.push(w.url()));
      // 256 samples: the batch of four, 64 times (a few seconds on one thread: worth the helpers).
      const { B, x, p } = await repeatedSeedBatch(64, 'b256');
      await dropFiles(page, [await fixture('model.pt'), x, p]);
      await waitForResult(page, 2, 180_000);
      const backend = await page.getByTestId('backend').textContent();
      const time = await page.getByTestId('compute-time').textContent();
      console.log(
        `# ${B} samples on ${backend}: ${time}; ${cores} cores, helper threads started: ${helpers.length}`,
      );
      if (cores > 1) {
        assert.match(backend, new RegExp(`float64, ${Math.min(16, cores)} threads\\)$`));
        assert.equal(helpers.length, Math.min(16, cores) - 1, 'a helper per core beside the engine worker');
      }
      // The last sample is the seed's own (x.npy, p.npy): its J slice must match PyTorch's to float64 precision.
      await page.getByTestId('slider-b').fill(String(B - 1));
      await page.getByTestId('select-k').selectOption('5');
      const { name, path } = await saveDownload(page, () => page.getByTestId('export-slice-csv').click());
      assert.equal(name, 'J_b255_k5-p5_t-by-o.csv');
      const { rows } = parseCsv(await readFile(path, 'utf8'));
      const ref = parseNpy(await readFile(resolve(seedDir, 'jacobian_f64.npy')));
      const [, T, O, P] = ref.shape;
      assert.equal(rows.length, T);
      let maxRef = 0;
      let maxErr = 0;
      for (let t = 0; t < T; t++)
        for (let o = 0; o < O; o++) {
          const want = ref.data[(t * O + o) * P + 5];
          maxRef = Math.max(maxRef, Math.abs(want));
          maxErr = Math.max(maxErr, Math.abs(Number(rows[t][1 + o]) - want));
        }
      assert.ok(maxErr / maxRef <= 1e-10, `sample ${B - 1}, k=5: relative error ${maxErr / maxRef}`);
    });
  });
});
