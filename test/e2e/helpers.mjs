// Shared helpers for the end-to-end tests: paths, the browser, drops built from bytes, .npy/.csv parsing.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The committed PyTorch reference fixtures (test/fixtures/README.md). */
export const fixturesDir = resolve(repoRoot, 'test/fixtures/fno');
export const seedDir = resolve(fixturesDir, 'seed-fno1d');
/** The deep case (3 layers, GELU): its batch of four has float64 references; the seed's has none. */
export const deepDir = resolve(fixturesDir, 'deep-fno1d');
export const webDist = resolve(repoRoot, 'dist-web');
export const outDir = resolve(repoRoot, 'test-output');

/**
 * Copies a screenshot from test-output into docs/ when JACSCOPE_UPDATE_DOCS=1, so that a test run
 * leaves the committed pictures alone unless asked to refresh them.
 */
export async function updateDocsPicture(name, docsName) {
  if (process.env.JACSCOPE_UPDATE_DOCS !== '1') return;
  const { copyFile } = await import('node:fs/promises');
  await copyFile(resolve(outDir, name), resolve(repoRoot, 'docs', docsName));
}

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (set CHROMIUM_PATH)`);
  await mkdir(outDir, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A page that records console errors, page errors and unhandled rejections; `problems()` lists them.
 * `deviceScaleFactor` 2 makes sharper screenshots (for the docs).
 */
export async function openApp(browser, url, { deviceScaleFactor = 1 } = {}) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    deviceScaleFactor,
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.addInitScript(() => {
    window.addEventListener('unhandledrejection', (e) => console.error(`unhandled rejection: ${e.reason}`));
  });
  await page.goto(url);
  await waitForResult(page, 1);
  return { page, context, problems: () => problems };
}

/**
 * Runs `body` on the app `opening` resolves to, then checks that the page reported no errors; the
 * browser context is closed whatever happens.
 */
export async function withApp(opening, body) {
  const app = await opening;
  try {
    await body(app);
    assert.deepEqual(app.problems(), []);
  } finally {
    await app.context.close();
  }
}

/**
 * The seed fixture's batch of four (x4.npy, p4.npy) repeated `reps` times, as .npy files named
 * `${stem}-x.npy` and `${stem}-p.npy`: a batch long enough to take seconds, whose sample b is the
 * fixture's sample b % 4, except the last, which is the seed's own sample (x.npy, p.npy), so that
 * it can be checked against jacobian_f64.npy.
 */
export async function repeatedSeedBatch(reps, stem) {
  const tile = (a, last) => {
    const out = new Float64Array(a.data.length * reps);
    for (let r = 0; r < reps; r++) out.set(a.data, r * a.data.length);
    out.set(last.data, out.length - last.data.length);
    return out;
  };
  const x4 = parseNpy(await readFile(resolve(seedDir, 'x4.npy')));
  const p4 = parseNpy(await readFile(resolve(seedDir, 'p4.npy')));
  const x1 = parseNpy(await readFile(resolve(seedDir, 'x.npy')));
  const p1 = parseNpy(await readFile(resolve(seedDir, 'p.npy')));
  const B = x4.shape[0] * reps;
  return {
    B,
    x: { name: `${stem}-x.npy`, bytes: npyBytes([B, ...x4.shape.slice(1)], tile(x4, x1)) },
    p: { name: `${stem}-p.npy`, bytes: npyBytes([B, p4.shape[1]], tile(p4, p1)) },
  };
}

/** Waits until the app shows result number `seq` (the demo is 1) and nothing is running. */
export async function waitForResult(page, seq, timeout = 60_000) {
  await page.waitForSelector(`.app[data-result-seq="${seq}"][data-busy="no"]`, { timeout });
}

export async function waitIdle(page, timeout = 60_000) {
  await page.waitForSelector('.app[data-busy="no"]', { timeout });
}

/**
 * Drops files on the window as a user would: a DataTransfer built in the page from the bytes, dispatched as
 * dragenter, dragover and drop at (x, y).
 */
export async function dropFiles(page, files, at = { x: 700, y: 300 }) {
  const payload = files.map((f) => ({ name: f.name, b64: Buffer.from(f.bytes).toString('base64') }));
  const dt = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bin = atob(f.b64);
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      dt.items.add(new File([bytes], f.name));
    }
    return dt;
  }, payload);
  for (const type of ['dragenter', 'dragover', 'drop']) {
    await page.evaluate(
      ([dataTransfer, type, x, y]) => {
        window.dispatchEvent(
          new DragEvent(type, { dataTransfer, clientX: x, clientY: y, bubbles: true, cancelable: true }),
        );
      },
      [dt, type, at.x, at.y],
    );
  }
  await dt.dispose();
}

/** Parses a little-endian float32/float64 C-order .npy (what the fixtures and the app's exports are). */
export function parseNpy(buf) {
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not an .npy file');
  const major = bytes[6];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/
    .exec(header)[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (/True/.test(/'fortran_order':\s*(\w+)/.exec(header)[1])) throw new Error('Fortran order not handled');
  const n = shape.reduce((a, b) => a * b, 1);
  const off = start + hlen;
  const data = new Float64Array(n);
  if (descr === '<f8') for (let i = 0; i < n; i++) data[i] = dv.getFloat64(off + 8 * i, true);
  else if (descr === '<f4') for (let i = 0; i < n; i++) data[i] = dv.getFloat32(off + 4 * i, true);
  else throw new Error(`dtype ${descr} not handled`);
  return { shape, data };
}

/** Parses simple CSV (no quoted commas in numbers): header + rows of cells. */
export function parseCsv(text) {
  const lines = text.split('\n').filter((l) => l.length > 0);
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

/** A float64 C-order .npy file (version 1.0) for the given shape and values. */
export function npyBytes(shape, data) {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const dict = `{'descr': '<f8', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const out = Buffer.alloc(total + data.length * 8, 0x20);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  out.writeUInt16LE(total - 10, 8);
  out.write(dict, 10, 'latin1');
  out[total - 1] = 0x0a;
  for (let i = 0; i < data.length; i++) out.writeDoubleLE(data[i], total + 8 * i);
  return out;
}

/** A file of the seed fixture, as a drop payload. */
export async function seedFile(name) {
  return { name, bytes: await readFile(resolve(seedDir, name)) };
}

/** A file of the deep fixture, as a drop payload. */
export async function deepFile(name) {
  return { name, bytes: await readFile(resolve(deepDir, name)) };
}

/** Percentiles (nearest rank) of a list of numbers, rounded to 0.01. */
export function percentiles(xs, ps = [50, 95]) {
  const s = [...xs].sort((a, b) => a - b);
  const out = { n: s.length, max: +s[s.length - 1].toFixed(2) };
  for (const p of ps)
    out[`p${p}`] = +s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)].toFixed(2);
  return out;
}

/** Saves a download under test-output and returns its path. */
export async function saveDownload(page, click) {
  const pending = page.waitForEvent('download');
  await click();
  const d = await pending;
  const path = resolve(outDir, d.suggestedFilename());
  await d.saveAs(path);
  return { name: d.suggestedFilename(), path };
}

/** Runs the real command line (`node bin/jacscope.mjs …`) on the CPU; throws with its stderr on failure. */
export async function runCli(args) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(
    process.execPath,
    [resolve(repoRoot, 'bin/jacscope.mjs'), ...args, '--backend', 'cpu'],
    {
      cwd: repoRoot,
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`jacscope ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** max|a − ref| / max|ref| */
export function relativeError(a, ref) {
  let e = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    e = Math.max(e, Math.abs(a[i] - ref[i]));
    m = Math.max(m, Math.abs(ref[i]));
  }
  return e / m;
}
